from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from lms.forms import Form

TEXT_MAX = 5000


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class ReviewForm(Form):
    held_on = DateField(
        _l("Date of the conversation"),
        validators=[InputRequired(message=_l("Fill in the date of the conversation."))],
    )
    summary = TextAreaField(
        _l("Summary"),
        validators=[
            DataRequired(message=_l("Write a short summary of the conversation.")),
            Length(max=TEXT_MAX, message=_l("Keep it under %(max)d characters.")),
        ],
        filters=[_strip],
        render_kw={"rows": 6},
    )
    agreements = TextAreaField(
        _l("Agreements"),
        validators=[Length(max=TEXT_MAX, message=_l("Keep it under %(max)d characters."))],
        filters=[_strip],
        render_kw={"rows": 4},
    )
    submit = SubmitField(_l("Save the review"))


class AcknowledgeForm(Form):
    submit = SubmitField(_l("I have read this review"))
