from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, RadioField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from lms.forms import Form
from lms.services.accounts import password_problem


class LoginForm(Form):
    email = EmailField(
        _l("E-mail address"),
        validators=[
            DataRequired(_l("Fill in your e-mail address.")),
            Email(_l("This is not a valid e-mail address.")),
            Length(max=254),
        ],
        filters=[lambda value: value.strip() if value else value],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Fill in your password."))],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Stay logged in on this device"))
    submit = SubmitField(_l("Log in"))


class ForgotPasswordForm(Form):
    email = EmailField(
        _l("E-mail address"),
        validators=[
            DataRequired(_l("Fill in your e-mail address.")),
            Email(_l("This is not a valid e-mail address.")),
            Length(max=254),
        ],
        filters=[lambda value: value.strip() if value else value],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    submit = SubmitField(_l("Send me a link"))


class SetPasswordForm(Form):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Choose a password."))],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[
            DataRequired(_l("Repeat the password.")),
            EqualTo("password", _l("The two passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Save password"))

    def validate_password(self, field: PasswordField) -> None:
        problem = password_problem(field.data or "")
        if problem:
            raise ValidationError(problem)


class EmptyForm(Form):
    """A form with only the CSRF token, for buttons that change state (logout, language)."""


class ChangePasswordForm(Form):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Fill in your current password."))],
        render_kw={"autocomplete": "current-password"},
    )
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Choose a password."))],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[
            DataRequired(_l("Repeat the password.")),
            EqualTo("password", _l("The two passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Change password"))

    def validate_password(self, field: PasswordField) -> None:
        problem = password_problem(field.data or "")
        if problem:
            raise ValidationError(problem)


class MailPreferenceForm(Form):
    """How reminders that are not urgent come by mail: at once, or once a week in one overview."""

    mail_preference = RadioField(
        _l("Reminders by mail"),
        choices=[
            SelectChoice("immediate", _l("At once (in working hours)")),
            SelectChoice("weekly_digest", _l("Once a week, in one overview on Monday morning")),
        ],
        validators=[DataRequired(_l("Choose how you want to get reminders."))],
    )
    save = SubmitField(_l("Save choice"))
