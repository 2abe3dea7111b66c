from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

from lms.forms import Form
from lms.models import Verdict

FEEDBACK_MAX = 5000


def _verdict_choices() -> list[SelectChoice]:
    return [
        SelectChoice(Verdict.APPROVED.value, _l("Approved")),
        SelectChoice(Verdict.NEEDS_REVISION.value, _l("Needs revision")),
    ]


class AssessmentForm(Form):
    verdict = RadioField(
        _l("Verdict"),
        choices=_verdict_choices(),
        validators=[InputRequired(_l("Choose a verdict."))],
    )
    feedback = TextAreaField(
        _l("Feedback for the participant"),
        validators=[Length(max=FEEDBACK_MAX)],
        filters=[lambda value: value.strip() if value else value],
        render_kw={"rows": 6},
    )
    submit = SubmitField(_l("Save assessment"))

    @property
    def verdict_value(self) -> Verdict:
        return Verdict(self.verdict.data)

    def validate_feedback(self, field: TextAreaField) -> None:
        if self.verdict.data == Verdict.NEEDS_REVISION.value and not field.data:
            raise ValidationError(_l("Write what the participant must improve."))


class CorrectionForm(AssessmentForm):
    """A new verdict on work already assessed; the feedback explains the correction."""

    feedback = TextAreaField(
        _l("Why are you correcting the verdict?"),
        validators=[Length(max=FEEDBACK_MAX)],
        filters=[lambda value: value.strip() if value else value],
        render_kw={"rows": 5},
    )
    submit = SubmitField(_l("Save correction"))

    def validate_feedback(self, field: TextAreaField) -> None:
        if not field.data:
            raise ValidationError(_l("Explain the correction to the participant."))
