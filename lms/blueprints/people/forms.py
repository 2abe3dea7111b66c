"""Forms of the address book. The rules themselves live in ``lms.services.people``; the forms check
what they can per field, so every mistake shows at once, next to its field, with what was typed kept."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import lazy_gettext as _l
from wtforms import DateField, EmailField, Field, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from lms.forms import Form, name_shown_to_others
from lms.i18n import label
from lms.models import Region
from lms.services import people


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _check(problem: Callable[[str], str | None]) -> Callable[[Form, Field], None]:
    """A WTForms validator from a service function that says what is wrong with a value."""

    def validator(form: Form, field: Field) -> None:
        message = problem(field.data or "")
        if message:
            raise ValidationError(message)

    return validator


class EmployerForm(Form):
    name = StringField(
        _l("Company name"),
        validators=[
            DataRequired(_l("Fill in the name of the company.")),
            Length(max=160),
            name_shown_to_others,
        ],
        filters=[_strip],
        render_kw={"autocomplete": "organization"},
    )
    kvk_number = StringField(
        _l("KvK number"),
        validators=[DataRequired(_l("Fill in the KvK number.")), _check(people.kvk_problem)],
        filters=[_strip],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    street = StringField(
        _l("Street and house number"),
        validators=[Optional(), Length(max=160), _check(people.street_problem)],
        filters=[_strip],
        render_kw={"autocomplete": "street-address"},
    )
    postcode = StringField(
        _l("Postcode"),
        validators=[Optional(), _check(people.postcode_problem)],
        filters=[_strip],
        render_kw={"autocomplete": "postal-code", "autocapitalize": "characters"},
    )
    city = StringField(
        _l("City"),
        validators=[Optional(), Length(max=80)],
        filters=[_strip],
        render_kw={"autocomplete": "address-level2"},
    )
    region = SelectField(_l("Region"), validators=[DataRequired(_l("Choose a region."))])
    recognition_number = StringField(
        _l("Recognition number (learning company)"),
        validators=[Optional(), Length(max=20)],
        filters=[_strip],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    recognition_checked_on = DateField(
        _l("Checked in the SBB register on"), validators=[Optional()]
    )
    submit = SubmitField(_l("Save"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.region.choices = [SelectChoice("", _l("Choose a region"))] + [
            SelectChoice(region.value, label(region)) for region in Region
        ]

    def to_data(self) -> people.EmployerData:
        return people.EmployerData(
            name=self.name.data or "",
            kvk_number=self.kvk_number.data or "",
            region=Region(self.region.data),
            street=self.street.data or "",
            postcode=self.postcode.data or "",
            city=self.city.data or "",
            recognition_number=self.recognition_number.data or "",
            recognition_checked_on=self.recognition_checked_on.data,
        )


class PersonForm(Form):
    first_name = StringField(
        _l("First name"),
        validators=[
            DataRequired(_l("Fill in the first name.")),
            Length(max=80),
            name_shown_to_others,
        ],
        filters=[_strip],
        render_kw={"autocomplete": "off"},
    )
    name_prefix = StringField(
        _l("Tussenvoegsel"),
        validators=[Optional(), Length(max=20), name_shown_to_others],
        filters=[_strip],
        render_kw={"autocomplete": "off"},
    )
    last_name = StringField(
        _l("Last name"),
        validators=[
            DataRequired(_l("Fill in the last name.")),
            Length(max=80),
            name_shown_to_others,
        ],
        filters=[_strip],
        render_kw={"autocomplete": "off"},
    )
    email = EmailField(
        _l("E-mail address"),
        validators=[
            DataRequired(_l("Fill in the e-mail address.")),
            Email(_l("This is not a valid e-mail address.")),
            Length(max=254),
        ],
        filters=[_strip],
        render_kw={"autocomplete": "off"},
    )
    phone = StringField(
        _l("Phone number"),
        validators=[Optional(), Length(max=32), _check(people.phone_problem)],
        filters=[_strip],
        render_kw={"type": "tel", "autocomplete": "off"},
    )
    submit = SubmitField(_l("Save"))

    def to_data(self) -> people.PersonData:
        return people.PersonData(
            first_name=self.first_name.data or "",
            name_prefix=self.name_prefix.data or "",
            last_name=self.last_name.data or "",
            email=self.email.data or "",
            phone=self.phone.data or "",
        )


class ConfirmForm(Form):
    """Only the CSRF token: the confirmation page, with its own button, is the check."""
