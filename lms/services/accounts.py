"""Accounts: creating users, checking a login, and one-time links to set a password.

Functions flush, never commit: the route or command that calls them commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms import clock
from lms.extensions import db
from lms.models import AccountToken, Employer, OutboxMessage, Role, TokenPurpose, User
from lms.services import audit, characters, login_sessions

MIN_PASSWORD_LENGTH = 10
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common_passwords.txt"
# At most this many reset mails per account per hour; more requests are answered the same, silently.
MAX_RESET_MAILS_PER_HOUR = 3


class AccountError(ValueError):
    """A request about an account that cannot be carried out; the message says why."""


class LoginFailure(Enum):
    BAD_CREDENTIALS = "bad_credentials"
    INACTIVE = "inactive"


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    failure: LoginFailure | None = None


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of passwords that are too common to allow (lower case)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
    )


def password_problem(password: str) -> str | None:
    """Why a password is not acceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _(
            "The password must be at least %(count)d characters long.", count=MIN_PASSWORD_LENGTH
        )
    if password.strip().lower() in common_passwords() or len(set(password)) < 3:
        return _("This password is too common and easy to guess. Choose another one.")
    return None


def set_password(user: User, password: str) -> None:
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    user.set_password(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def create_user(
    *,
    email: str,
    first_name: str,
    last_name: str,
    role: Role,
    name_prefix: str = "",
    password: str | None = None,
    employer: Employer | None = None,
    locale: str | None = None,
    actor: User | None = None,
) -> User:
    for name in (first_name, name_prefix, last_name):
        problem = characters.name_problem(name)
        if problem:
            raise AccountError(problem)
    email = normalise_email(email)
    if find_user_by_email(email) is not None:
        raise AccountError(_("A user with e-mail address %(email)s already exists.", email=email))
    if (role is Role.EMPLOYER) != (employer is not None):
        raise AccountError(
            _("An employer contact belongs to exactly one employer; other roles to none.")
        )
    user = User(
        email=email,
        first_name=first_name.strip(),
        name_prefix=name_prefix.strip(),
        last_name=last_name.strip(),
        role=role,
        employer=employer,
        locale=locale,
    )
    if password is not None:
        set_password(user, password)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", actor, user, role=role.value)
    return user


def authenticate(email: str, password: str) -> LoginResult:
    """Check a login. The same answer for an unknown address and a wrong password."""
    user = find_user_by_email(email)
    if user is None or not user.check_password(password):
        return LoginResult(None, LoginFailure.BAD_CREDENTIALS)
    if not user.is_active:
        return LoginResult(None, LoginFailure.INACTIVE)
    return LoginResult(user)


def record_login(user: User, ip_address: str = "") -> None:
    user.last_login_at = clock.now()
    audit.record("user.login", user, user, ip_address=ip_address)


def choose_language(user: User, locale: str) -> None:
    """The person chose ``locale`` with the language switch (a language the interface has)."""
    if locale in current_app.config["LANGUAGES"]:
        user.locale = locale


def adopt_language(user: User, chosen: object) -> None:
    """At login (or on setting a password): a language chosen on this device before, if the account
    has none yet. A choice on the account wins: a shared device may hold someone else's."""
    if user.locale is None and isinstance(chosen, str):
        choose_language(user, chosen)


def create_invitation(user: User, actor: User | None = None) -> str:
    """A one-time "set your password" secret for ``user``; earlier unused invitations stop working."""
    return _new_invitation(user, actor)[1]


def _new_invitation(user: User, actor: User | None) -> tuple[AccountToken, str]:
    _expire_open_tokens(user, TokenPurpose.INVITATION)
    hours = current_app.config["INVITATION_TOKEN_HOURS"]
    token, secret = AccountToken.issue(user, TokenPurpose.INVITATION, timedelta(hours=hours))
    db.session.add(token)
    db.session.flush()
    audit.record("user.invite", actor, user)
    return token, secret


def send_invitation(user: User, actor: User | None = None) -> str:
    """Invite ``user`` by mail (through the outbox) to set a password; returns the link."""
    from lms.services.mail import external_url, queue_mail

    token, secret = _new_invitation(user, actor)
    link = external_url("auth.set_password", token=secret)
    queue_mail(
        user,
        "invitation",
        _l("Your account for Vakkracht MKB"),
        link=link,
        expires_at=token.expires_at,
    )
    return link


def request_password_reset(email: str, ip_address: str = "") -> OutboxMessage | None:
    """Mail a one-time link to choose a new password, if ``email`` belongs to an active account.

    The caller answers the same whatever happens, so nobody learns which addresses have an account.
    Earlier unused reset links stop working; at most MAX_RESET_MAILS_PER_HOUR mails an hour.
    """
    from lms.services.mail import external_url, queue_mail

    user = find_user_by_email(email)
    if user is None or not user.is_active:
        return None
    recent = db.session.scalar(
        sa.select(sa.func.count(AccountToken.id)).where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == TokenPurpose.PASSWORD_RESET,
            AccountToken.created_at > clock.now() - timedelta(hours=1),
        )
    )
    if recent >= MAX_RESET_MAILS_PER_HOUR:
        return None
    _expire_open_tokens(user, TokenPurpose.PASSWORD_RESET)
    hours = current_app.config["PASSWORD_RESET_TOKEN_HOURS"]
    token, secret = AccountToken.issue(user, TokenPurpose.PASSWORD_RESET, timedelta(hours=hours))
    db.session.add(token)
    db.session.flush()
    audit.record("user.password_reset_request", None, user, ip_address=ip_address)
    return queue_mail(
        user,
        "password_reset",
        _l("A new password for Vakkracht MKB"),
        link=external_url("auth.set_password", token=secret),
        expires_at=token.expires_at,
    )


def find_usable_token(secret: str) -> AccountToken | None:
    token = db.session.scalar(
        sa.select(AccountToken).where(AccountToken.token_hash == AccountToken.hash_token(secret))
    )
    if token is None or not token.is_usable() or not token.user.is_active:
        return None
    return token


def set_password_with_token(secret: str, password: str) -> User:
    token = find_usable_token(secret)
    if token is None:
        raise AccountError(_("This link is no longer valid. Ask the coordinator for a new one."))
    set_password(token.user, password)
    token.used_at = clock.now()
    # Every session the user had before ends.
    login_sessions.end_all(token.user, at=token.used_at)
    audit.record("user.password_set", token.user, token.user, purpose=token.purpose.value)
    return token.user


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Change a password the user knows; every session of theirs ends (the caller starts a new one
    for the device the change was made on)."""
    if not user.check_password(current_password):
        raise AccountError(_("Your current password is not correct."))
    set_password(user, new_password)
    login_sessions.end_all(user, at=clock.now())
    audit.record("user.password_change", user, user)


def _expire_open_tokens(user: User, purpose: TokenPurpose) -> None:
    now = clock.now()
    open_tokens = db.session.scalars(
        sa.select(AccountToken).where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > now,
        )
    )
    for token in open_tokens:
        token.expires_at = now
