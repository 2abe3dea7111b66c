"""Login (throttled), logout, "forgot password", setting a password through a one-time link, and the
account page with the person's logged-in devices."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from lms import clock
from lms.blueprints.auth.forms import (
    ChangePasswordForm,
    EmptyForm,
    ForgotPasswordForm,
    LoginForm,
    MailPreferenceForm,
    SetPasswordForm,
)
from lms.extensions import db
from lms.i18n import keep_in_session
from lms.models import MailPreference, User
from lms.permissions import home_endpoint
from lms.services import accounts, inbox, login_sessions, login_throttle

bp = Blueprint("auth", __name__)


def is_safe_next(target: str | None) -> bool:
    """Only redirect to a path on this site ("/cohorts/3"), never to another host."""
    if not target:
        return False
    parts = urlsplit(target)
    return (
        not parts.scheme
        and not parts.netloc
        and target.startswith("/")
        and not target.startswith("//")
    )


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint(current_user)))
    form = LoginForm()
    if request.method == "GET" and request.args.get("email"):
        form.email.data = request.args["email"]
    if form.validate_on_submit():
        claim = login_throttle.claim_login(form.email.data, request.remote_addr or "")
        db.session.commit()  # every worker sees the claim before the (slow) password check
        if claim is None:
            form.form_errors.append(
                _(
                    "Too many failed attempts to log in. Wait 15 minutes and try again,"
                    " or ask for a new password with the link below."
                )
            )
            return render_template("auth/login.html", form=form), 429
        result = accounts.authenticate(form.email.data, form.password.data)
        if result.user is None:  # the claim stays: a failed attempt
            if result.failure is accounts.LoginFailure.INACTIVE:
                form.form_errors.append(
                    _(
                        "This account has been deactivated. Contact the coordinator if that is a mistake."
                    )
                )
            else:
                form.form_errors.append(_("The e-mail address or password is not correct."))
            return render_template("auth/login.html", form=form), 401
        login_throttle.login_succeeded(claim)
        next_url = request.args.get("next")
        # A fresh session at login, so nothing from before it carries over but the language chosen
        # on the login page, kept on an account that has no choice yet.
        accounts.adopt_language(result.user, session.get("locale"))
        session.clear()
        _log_in(result.user, remember=form.remember.data)
        accounts.record_login(result.user, ip_address=request.remote_addr or "")
        db.session.commit()
        return redirect(next_url if is_safe_next(next_url) else url_for(home_endpoint(result.user)))
    return render_template("auth/login.html", form=form)


def _log_in(user: User, *, remember: bool) -> None:
    """A new login session for this device; Flask-Login keeps its token (and sets the remember
    cookie when asked)."""
    login_sessions.start(
        user,
        remember=remember,
        ip_address=request.remote_addr or "",
        user_agent=request.headers.get("User-Agent", ""),
        at=clock.now(),
    )
    login_user(user, remember=remember)
    keep_in_session(user)


def _forget_this_device() -> None:
    """An empty session, and the remember cookie deleted. logout_user() comes after clear(): it
    leaves the note that tells Flask-Login to delete the cookie, which clear() would erase."""
    session.clear()
    logout_user()


@bp.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    """Ends this device's session on the server too, so a copy of its cookies no longer works.
    Someone already logged out (a second tap) gets the same answer."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    if current_user.is_authenticated:
        login_sessions.log_out(
            current_user.login_session, at=clock.now(), ip_address=request.remote_addr or ""
        )
        db.session.commit()
    _forget_this_device()
    flash(_("You have been logged out."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():  # type: ignore[no-untyped-def]
    """Ask for a link to choose a new password. The answer is the same whether or not the address
    has an account, so this page cannot be used to find out who is registered."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        if not login_throttle.claim_password_reset(request.remote_addr or ""):
            abort(429)
        accounts.request_password_reset(form.email.data, ip_address=request.remote_addr or "")
        db.session.commit()
        flash(
            _(
                "If %(email)s belongs to an account, a link to choose a new password is on its way."
                " It works once, for %(hours)d hours. No mail? Check your spam folder or ask the coordinator.",
                email=form.email.data,
                hours=current_app.config["PASSWORD_RESET_TOKEN_HOURS"],
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):  # type: ignore[no-untyped-def]
    account_token = accounts.find_usable_token(token)
    if account_token is None:
        return render_template("auth/link_invalid.html"), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        user = accounts.set_password_with_token(token, form.password.data)
        accounts.adopt_language(user, session.get("locale"))  # chosen on this page
        db.session.commit()
        _forget_this_device()
        keep_in_session(user)  # the login page that follows is in their language
        flash(_("Your password has been saved. You can now log in."), "success")
        return redirect(url_for("auth.login", email=user.email))
    return render_template("auth/set_password.html", form=form, user=account_token.user)


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():  # type: ignore[no-untyped-def]
    form = ChangePasswordForm()
    if form.validate_on_submit():
        remember = current_user.login_session.remember
        try:
            accounts.change_password(current_user, form.current_password.data, form.password.data)
        except accounts.AccountError as error:
            form.current_password.errors.append(str(error))
        else:
            # Every session ended; this device goes on with a new one (a copied cookie does not).
            _log_in(current_user._get_current_object(), remember=remember)
            db.session.commit()
            flash(
                _("Your password has been changed. You are logged out on other devices."), "success"
            )
            return redirect(url_for("auth.profile"))
    return _profile_page(form, _preference_form())


def _profile_page(
    form: ChangePasswordForm, preference_form: MailPreferenceForm, status: int = 200
) -> tuple[str, int]:
    """The account page, with the devices the person is logged in on."""
    return render_template(
        "auth/profile.html",
        form=form,
        preference_form=preference_form,
        login_sessions=login_sessions.active(current_user, at=clock.now()),
        this_session=current_user.login_session,
        device_label=login_sessions.device_label,
    ), status


def _preference_form(form: MailPreferenceForm | None = None) -> MailPreferenceForm:
    if form is None:
        form = MailPreferenceForm(formdata=None)
        form.mail_preference.data = current_user.mail_preference.value
    return form


@bp.post("/profile/mail-preference")
@login_required
def mail_preference():  # type: ignore[no-untyped-def]
    """Immediate mail or a weekly overview for reminders that are not urgent."""
    form = MailPreferenceForm()
    if form.validate_on_submit():
        inbox.set_mail_preference(current_user, MailPreference(form.mail_preference.data))
        db.session.commit()
        flash(_("Your choice for reminders by mail has been saved."), "success")
        return redirect(url_for("auth.profile") + "#mail-title")
    return _profile_page(ChangePasswordForm(formdata=None), form, 400)


@bp.post("/profile/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int):  # type: ignore[no-untyped-def]
    """Log out one of the person's devices. A device logged out already gets the same answer."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    login_session = login_sessions.find_own(current_user, session_id)
    if login_session is None:
        abort(404)
    if login_session.id == current_user.login_session.id:
        return logout()
    login_sessions.log_out_device(
        login_session, at=clock.now(), ip_address=request.remote_addr or ""
    )
    db.session.commit()
    flash(
        _("%(device)s has been logged out.", device=login_sessions.device_label(login_session)),
        "success",
    )
    return redirect(url_for("auth.profile") + "#sessions-title")


@bp.route("/profile/sessions/end-all", methods=["GET", "POST"])
@login_required
def end_all_sessions():  # type: ignore[no-untyped-def]
    """Log out on every device, this one too, after a confirmation."""
    form = EmptyForm()
    if form.validate_on_submit():
        login_sessions.log_out_everywhere(
            current_user, at=clock.now(), ip_address=request.remote_addr or ""
        )
        db.session.commit()
        _forget_this_device()
        flash(_("You have been logged out on all your devices, this one too."), "success")
        return redirect(url_for("auth.login"))
    return render_template(
        "auth/end_all_sessions.html",
        form=form,
        count=len(login_sessions.active(current_user, at=clock.now())),
    )
