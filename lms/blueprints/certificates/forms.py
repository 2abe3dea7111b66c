"""Forms of the certificate pages. The rules (who, when, what reason) live in
``lms.services.certificates``."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from lms.forms import Form
from lms.services.certificates import REASON_MAX


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class EmptyForm(Form):
    """Only the CSRF token, for a button that changes state (issue, issue all)."""


class RevokeForm(Form):
    reason = TextAreaField(
        _l("Reason"),
        validators=[
            DataRequired(_l("Give a reason.")),
            Length(max=REASON_MAX, message=_l("Keep the reason under %(max)d characters.")),
        ],
        filters=[strip],
    )
    confirm = BooleanField(
        _l("Yes, revoke this certificate"),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )
    submit = SubmitField(_l("Revoke certificate"))


class ReissueForm(Form):
    reason = TextAreaField(
        _l("Reason"),
        validators=[
            DataRequired(_l("Give a reason.")),
            Length(max=REASON_MAX, message=_l("Keep the reason under %(max)d characters.")),
        ],
        filters=[strip],
    )
    confirm = BooleanField(
        _l("Yes, replace this certificate by a new one"),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )
    submit = SubmitField(_l("Reissue certificate"))
