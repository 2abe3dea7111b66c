"""Login sessions: every login is a row, so logging out ends the session on the server and a copied
cookie stops working.

Flask-Login keeps the session's token (a random secret; only its SHA-256 is stored) in the session
cookie and, with "stay logged in on this device", in the remember cookie; the user loader
(``lms.permissions``) accepts a token only through ``load``. A session ends when the person logs out
(here, on another device or everywhere), when their password changes or is set through a link, and
when the account is deactivated; erasure deletes the rows. A session also runs out: at the latest
``REMEMBER_COOKIE_DURATION`` (30 days) after the login, and without "remember" after
``LOGIN_SESSION_IDLE_MINUTES`` unused. ``prune`` deletes rows that have been over for a while.

Functions take ``at`` (now) explicitly and flush, never commit.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from lms.extensions import db
from lms.models import LoginSession, User
from lms.services import audit

# last_seen_at (and the idle deadline) is written at most this often per session.
SEEN_RESOLUTION = timedelta(minutes=5)
# Rows that are over (ended or run out) are kept this long, then pruned.
KEEP_AFTER_END = timedelta(days=7)
TOKEN_MAX_LENGTH = 100  # ours are 43 characters; anything much longer is not one of ours

# (marker in the User-Agent, name shown), first match wins: Edge, Opera and Samsung's browser also
# call themselves Chrome and Safari, and every browser on an iPhone calls itself Safari.
BROWSERS = (
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
PLATFORMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
)


def max_age() -> timedelta:
    duration: timedelta = current_app.config["REMEMBER_COOKIE_DURATION"]
    return duration


def idle_limit() -> timedelta:
    return timedelta(minutes=current_app.config["LOGIN_SESSION_IDLE_MINUTES"])


def describe_device(user_agent: str) -> tuple[str, str]:
    """(browser, platform) named from a fixed list, "" for what is not recognised. The User-Agent is
    whatever the browser says: good enough to tell your own devices apart, never proof of anything."""
    text = user_agent[:512]
    browser = next((name for marker, name in BROWSERS if marker in text), "")
    platform = next((name for marker, name in PLATFORMS if marker in text), "")
    return browser, platform


def device_label(login_session: LoginSession) -> str:
    """The device in words ("Chrome op Android") for the account page."""
    browser, platform = login_session.browser, login_session.platform
    if browser and platform:
        return _("%(browser)s on %(platform)s", browser=browser, platform=platform)
    if browser or platform:
        return browser or platform
    return _("Unknown device")


def _attach(user: User, login_session: LoginSession, token: str) -> User:
    user.login_session = login_session
    user.login_token = token
    return user


def start(
    user: User, *, remember: bool, ip_address: str, user_agent: str, at: datetime
) -> LoginSession:
    """A new session for ``user`` on this device; ``user.get_id()`` gives its token to Flask-Login."""
    token = secrets.token_urlsafe(32)
    browser, platform = describe_device(user_agent)
    login_session = LoginSession(
        user=user,
        token_hash=LoginSession.hash_token(token),
        remember=remember,
        created_at=at,
        last_seen_at=at,
        expires_at=_deadline(at, created_at=at, remember=remember),
        ip_address=ip_address[:45],
        browser=browser,
        platform=platform,
    )
    db.session.add(login_session)
    db.session.flush()
    _attach(user, login_session, token)
    return login_session


def _deadline(at: datetime, *, created_at: datetime, remember: bool) -> datetime:
    latest = created_at + max_age()
    return latest if remember else min(latest, at + idle_limit())


def load(token: object, *, at: datetime) -> User | None:
    """The person a session token belongs to, or None when the session is unknown, has ended or run
    out, or the account is no longer active."""
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    login_session = db.session.scalar(
        sa.select(LoginSession)
        .options(joinedload(LoginSession.user))
        .where(LoginSession.token_hash == LoginSession.hash_token(token))
    )
    if login_session is None or not login_session.is_valid(at):
        return None
    if not login_session.user.is_active:
        return None
    return _attach(login_session.user, login_session, token)


def touch(login_session: LoginSession, *, at: datetime, ip_address: str) -> bool:
    """Note that the session is in use (and, without "remember", push its idle deadline on); at
    most every SEEN_RESOLUTION. True when the row changed."""
    if at - login_session.last_seen_at < SEEN_RESOLUTION:
        return False
    login_session.last_seen_at = at
    login_session.ip_address = ip_address[:45]
    login_session.expires_at = _deadline(
        at, created_at=login_session.created_at, remember=login_session.remember
    )
    db.session.flush()
    return True


def log_out(login_session: LoginSession, *, at: datetime, ip_address: str = "") -> None:
    """The person logs out on this device. Again changes nothing."""
    if login_session.end(at):
        db.session.flush()
        audit.record("user.logout", login_session.user, login_session.user, ip_address=ip_address)


def find_own(user: User, session_id: int) -> LoginSession | None:
    """One of ``user``'s own sessions (ended or not); None for someone else's or an unknown one."""
    return db.session.scalar(
        sa.select(LoginSession).where(
            LoginSession.id == session_id, LoginSession.user_id == user.id
        )
    )


def log_out_device(login_session: LoginSession, *, at: datetime, ip_address: str = "") -> None:
    """The person logs out another device of theirs from the account page. Again changes nothing."""
    if login_session.end(at):
        db.session.flush()
        audit.record(
            "user.session_end",
            login_session.user,
            login_session.user,
            ip_address=ip_address,
            session_id=login_session.id,
        )


def log_out_everywhere(user: User, *, at: datetime, ip_address: str = "") -> int:
    """The person logs out on every device, this one too. Returns how many sessions ended."""
    ended = end_all(user, at=at)
    audit.record("user.logout_everywhere", user, user, ip_address=ip_address, sessions=ended)
    return ended


def end_all(user: User, *, at: datetime) -> int:
    """End every open session of ``user`` (password change, password set by link, deactivation);
    returns how many ended."""
    open_sessions = db.session.scalars(
        sa.select(LoginSession).where(
            LoginSession.user_id == user.id, LoginSession.ended_at.is_(None)
        )
    ).all()
    for login_session in open_sessions:
        login_session.end(at)
    db.session.flush()
    return len(open_sessions)


def active(user: User, *, at: datetime) -> list[LoginSession]:
    """``user``'s sessions that still work, most recently used first."""
    return list(
        db.session.scalars(
            sa.select(LoginSession)
            .where(
                LoginSession.user_id == user.id,
                LoginSession.ended_at.is_(None),
                LoginSession.expires_at > at,
            )
            .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())
        )
    )


def prune(at: datetime) -> int:
    """Delete sessions that ended or ran out more than KEEP_AFTER_END ago; returns how many."""
    cutoff = at - KEEP_AFTER_END
    result = db.session.execute(
        sa.delete(LoginSession)
        .where(sa.or_(LoginSession.ended_at < cutoff, LoginSession.expires_at < cutoff))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
