from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, ValidationError

from lms.forms import Form
from lms.models.hours import MAX_HOURS_PER_WEEK

REMARK_MAX = 1000


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class HoursField(StringField):
    """A number of hours as people type it: "32", "7,5" or "7.5"."""

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata(valuelist)
        self.number: float | None = None
        text = (self.data or "").strip().replace(",", ".")
        if not text:
            return
        try:
            self.number = float(text)
        except ValueError:
            self.number = None


def _hours_valid(form: Form, field: HoursField) -> None:
    number = getattr(field, "number", None)
    if number is None or not 0 <= number <= MAX_HOURS_PER_WEEK:
        raise ValidationError(
            _l("Fill in a number of hours from 0 to %(max)d.", max=MAX_HOURS_PER_WEEK)
        )


class HoursForm(Form):
    week_start = DateField(
        _l("Week (any day of the week)"),
        validators=[InputRequired(message=_l("Choose the week."))],
    )
    hours_worked = HoursField(
        _l("Hours worked at the workplace"),
        validators=[InputRequired(message=_l("Fill in the hours you worked.")), _hours_valid],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    hours_learning = HoursField(
        _l("Of which learning hours"),
        validators=[
            InputRequired(message=_l("Fill in the learning hours (0 if none).")),
            _hours_valid,
        ],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    note = TextAreaField(
        _l("Note (optional)"),
        validators=[Length(max=REMARK_MAX, message=_l("Keep the note under %(max)d characters."))],
        filters=[_strip],
        render_kw={"rows": 3},
    )
    submit = SubmitField(_l("Send to my employer for approval"))

    def validate_hours_learning(self, field: HoursField) -> None:
        worked = getattr(self.hours_worked, "number", None)
        learning = getattr(field, "number", None)
        if worked is not None and learning is not None and learning > worked:
            raise ValidationError(
                _l("Learning hours are part of the hours worked: they cannot be more.")
            )


class DecisionForm(Form):
    remark = TextAreaField(
        _l("Remark (needed when you send the hours back)"),
        validators=[
            Length(max=REMARK_MAX, message=_l("Keep the remark under %(max)d characters."))
        ],
        filters=[_strip],
        render_kw={"rows": 3},
    )
    approve = SubmitField(_l("Approve"))
    send_back = SubmitField(_l("Send back"))


class WeeksField(SelectMultipleField):
    """Week ids as ticked checkboxes; which weeks the contact may approve is the service's check."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, coerce=int, validate_choice=False, **kwargs)


class ApproveWeeksForm(Form):
    """Several weeks approved with one button. "Select all" works without JavaScript too: it stands
    for every week the page showed (``shown``), not for weeks logged since."""

    weeks = WeeksField(_l("Weeks to approve"))
    shown = WeeksField()
    select_all = BooleanField(_l("Select all"))
    submit = SubmitField(_l("Approve the chosen weeks"))

    def chosen(self) -> list[int]:
        ids = set(self.weeks.data or [])
        if self.select_all.data:
            ids.update(self.shown.data or [])
        return sorted(ids)
