"""Forms of the coordinator's cohort pages. Choices are filled in by the route (they come from the
database); the rules themselves (unique name, capacity, seats) live in the services."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from lms.forms import Form, name_shown_to_others
from lms.i18n import label, weekday_name
from lms.models import IntakeType, Region
from lms.models.cohorts import DEFAULT_CAPACITY, TRAINING_WEEKDAYS
from lms.services.cohorts import MAX_CAPACITY, start_date_problem


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def optional_int(value: Any) -> int | None:
    """For selects with an empty "choose" option: "" becomes None."""
    if value in (None, "", "None"):
        return None
    return int(value)


def region_choices() -> list[SelectChoice]:
    return [SelectChoice(region.value, label(region)) for region in Region]


def intake_choices() -> list[SelectChoice]:
    return [SelectChoice(intake.value, label(intake)) for intake in IntakeType]


class CheckboxListField(SelectMultipleField):
    """Several choices as a list of checkboxes (rendered in a fieldset by the template)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CohortForm(Form):
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(_l("Give the cohort a name.")),
            Length(max=120),
            name_shown_to_others,
        ],
        filters=[strip],
    )
    region = SelectField(_l("Region"), validators=[InputRequired(_l("Choose a region."))])
    start_date = DateField(
        _l("Start date"),
        validators=[InputRequired(_l("Fill in the start date."))],
    )
    capacity = IntegerField(
        _l("Number of seats"),
        default=DEFAULT_CAPACITY,
        validators=[
            InputRequired(_l("Fill in the number of seats.")),
            NumberRange(
                min=1,
                max=MAX_CAPACITY,
                message=_l(
                    "The capacity is at least 1 and at most %(max)d seats.", max=MAX_CAPACITY
                ),
            ),
        ],
    )
    trainers = CheckboxListField(_l("Trainers"), coerce=int)
    training_days = CheckboxListField(_l("Training days"), coerce=int)
    submit = SubmitField(_l("Save"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.region.choices = region_choices()
        self.training_days.choices = [
            SelectChoice(weekday, weekday_name(weekday)) for weekday in TRAINING_WEEKDAYS
        ]

    def validate_training_days(self, field: CheckboxListField) -> None:
        if not field.data:
            raise ValidationError(_l("Choose at least one training day."))

    def validate_start_date(self, field: DateField) -> None:
        problem = start_date_problem(field.data) if field.data else None
        if problem:
            raise ValidationError(problem)

    def validate_trainers(self, field: CheckboxListField) -> None:
        if not field.data:
            raise ValidationError(_l("Choose at least one trainer."))


class NewCohortForm(CohortForm):
    programme = SelectField(
        _l("Programme version"),
        coerce=optional_int,
        validators=[InputRequired(_l("Choose a programme version."))],
    )
    submit = SubmitField(_l("Create cohort"))


class CohortExceptionForm(Form):
    """Days on which one cohort does not run (the company's shutdown week, ...)."""

    name = StringField(
        _l("Reason"),
        validators=[DataRequired(_l("Say why the cohort is closed.")), Length(max=120)],
        filters=[strip],
    )
    first_day = DateField(_l("First day"), validators=[InputRequired(_l("Fill in the first day."))])
    last_day = DateField(_l("Last day"), validators=[InputRequired(_l("Fill in the last day."))])
    submit = SubmitField(_l("Add exception"))


class TrainingDayMoveForm(Form):
    """One training day held on another day; the choices are the cohort's coming training days."""

    moved_from = SelectField(
        _l("Training day"), validators=[InputRequired(_l("Choose the training day that moves."))]
    )
    moved_to = DateField(
        _l("Held on"), validators=[InputRequired(_l("Fill in the day it is held instead."))]
    )
    reason = StringField(
        _l("Reason"),
        validators=[DataRequired(_l("Say why the training day moves.")), Length(max=120)],
        filters=[strip],
    )
    submit = SubmitField(_l("Move training day"))


class ConfirmForm(Form):
    """A required "yes, I mean it" checkbox before closing a cohort."""

    confirm = BooleanField(
        _l("Yes, close this cohort"),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )
    submit = SubmitField(_l("Close cohort"))


class EmptyForm(Form):
    """Only the CSRF token, for a button that changes state (reopen)."""


class EnrolForm(Form):
    EXISTING = "existing"
    NEW = "new"

    person = RadioField(
        _l("Who do you enrol?"),
        choices=[
            SelectChoice(EXISTING, _l("A participant who already has an account")),
            SelectChoice(NEW, _l("A new person")),
        ],
        default=EXISTING,
        validators=[InputRequired(_l("Choose who you enrol."))],
    )
    participant = SelectField(_l("Participant"), coerce=optional_int, validate_choice=False)
    first_name = StringField(
        _l("First name"), validators=[Length(max=80), name_shown_to_others], filters=[strip]
    )
    name_prefix = StringField(
        _l("Name prefix (tussenvoegsel)"),
        validators=[Length(max=20), name_shown_to_others],
        filters=[strip],
    )
    last_name = StringField(
        _l("Last name"), validators=[Length(max=80), name_shown_to_others], filters=[strip]
    )
    email = EmailField(
        _l("E-mail address"),
        validators=[Length(max=254)],
        filters=[strip],
        render_kw={"autocomplete": "off"},
    )
    employer = SelectField(
        _l("Employer"),
        coerce=optional_int,
        validators=[InputRequired(_l("Choose the employer."))],
    )
    intake_type = RadioField(
        _l("Intake"), validators=[InputRequired(_l("Choose how the participant comes in."))]
    )
    enrolled_on = DateField(
        _l("Enrolment date"), validators=[InputRequired(_l("Fill in the enrolment date."))]
    )
    submit = SubmitField(_l("Enrol"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.intake_type.choices = intake_choices()

    def validate_employer(self, field: SelectField) -> None:
        if field.data is None:
            raise ValidationError(_l("Choose the employer."))

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if self.person.data == self.EXISTING:
            allowed = {
                choice.value for choice in self.participant.choices if choice.value is not None
            }
            if self.participant.data is None:
                self.participant.errors.append(_l("Choose a participant."))
                valid = False
            elif self.participant.data not in allowed:
                self.participant.errors.append(
                    _l("Choose a participant from the list; this one cannot be enrolled.")
                )
                valid = False
        elif self.person.data == self.NEW:
            required = (
                (self.first_name, _l("Fill in the first name.")),
                (self.last_name, _l("Fill in the last name.")),
                (self.email, _l("Fill in the e-mail address.")),
            )
            for field, message in required:
                if not field.data:
                    field.errors.append(message)
                    valid = False
            if self.email.data:
                try:
                    Email(_l("This is not a valid e-mail address."))(self, self.email)
                except ValidationError as error:
                    self.email.errors.append(str(error))
                    valid = False
        return valid


class WithdrawForm(Form):
    ended_on = DateField(_l("Date"), validators=[InputRequired(_l("Fill in the date."))])
    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(_l("Give a reason.")), Length(max=2000)],
        filters=[strip],
    )
    confirm = BooleanField(
        _l("Yes, withdraw this participant from the cohort"),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )
    submit = SubmitField(_l("Withdraw"))


class TransferForm(Form):
    to_cohort = SelectField(
        _l("New cohort"),
        coerce=optional_int,
        validators=[InputRequired(_l("Choose the new cohort."))],
    )
    ended_on = DateField(
        _l("Date of the transfer"), validators=[InputRequired(_l("Fill in the date."))]
    )
    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(_l("Give a reason.")), Length(max=2000)],
        filters=[strip],
    )
    employer = SelectField(
        _l("Employer in the new cohort"), coerce=optional_int, validators=[Optional()]
    )
    submit = SubmitField(_l("Transfer"))

    def validate_to_cohort(self, field: SelectField) -> None:
        if field.data is None:
            raise ValidationError(_l("Choose the new cohort."))
