"""Forms of the coordinator's API key pages."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from lms.forms import Form
from lms.models import ApiTokenScope
from lms.services.api_tokens import NAME_MAX, VALIDITY_DAYS


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class ApiTokenForm(Form):
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(_l("Give the key a name, so you know later what it is for.")),
            Length(max=NAME_MAX),
        ],
        filters=[strip],
        render_kw={"autocomplete": "off"},
    )
    scope = RadioField(
        _l("Access"),
        choices=[
            SelectChoice(ApiTokenScope.READ.value, _l("Read only")),
            SelectChoice(
                ApiTokenScope.READ_WRITE.value, _l("Read and write (may also enrol participants)")
            ),
        ],
        default=ApiTokenScope.READ.value,
        validators=[InputRequired(_l("Choose what the key may do."))],
    )
    valid_days = SelectField(
        _l("Valid for"),
        coerce=int,
        default=90,
        validators=[InputRequired(_l("Choose how long the key stays valid."))],
    )
    submit = SubmitField(_l("Make key"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.valid_days.choices = [
            SelectChoice(days, _l("%(num)d days", num=days)) for days in VALIDITY_DAYS
        ]


class ConfirmForm(Form):
    """Only the CSRF token: the confirmation page, with its own button, is the check."""
