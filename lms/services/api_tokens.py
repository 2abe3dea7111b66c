"""Personal access tokens for the JSON API: create, revoke, and find the token a request presents.

A token acts as the user who made it. Functions flush, never commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from lms import clock
from lms.extensions import db
from lms.models import ApiToken, ApiTokenScope, User
from lms.services import audit

# How long a token may live, in days: the coordinator chooses one of these.
VALIDITY_DAYS = (30, 90, 180, 365)
NAME_MAX = 100
# ``last_used_at`` is written at most this often per token, so reading does not write on every call.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiTokenError(ValueError):
    """A token change the rules refuse; the message says why, in the user's language."""


def create_token(
    *, owner: User, name: str, scope: ApiTokenScope, valid_days: int
) -> tuple[ApiToken, str]:
    """A new token for ``owner`` and its secret. Only the secret's hash is kept: show it once."""
    name = name.strip()
    if not name:
        raise ApiTokenError(_("Give the key a name, so you know later what it is for."))
    if len(name) > NAME_MAX:
        raise ApiTokenError(_("The name can be at most %(max)d characters.", max=NAME_MAX))
    if valid_days not in VALIDITY_DAYS:
        raise ApiTokenError(_("Choose how long the key stays valid."))
    token, secret = ApiToken.issue(
        user=owner, name=name, scope=scope, expires_at=clock.now() + timedelta(days=valid_days)
    )
    db.session.add(token)
    db.session.flush()
    audit.record("api_token.create", owner, token, name=name, scope=scope.value)
    return token, secret


def revoke_token(token: ApiToken, *, actor: User) -> None:
    """Stop a token from working, at once and for good."""
    if token.is_revoked:
        raise ApiTokenError(_("This key has already been revoked."))
    token.revoked_at = clock.now()
    token.revoked_by = actor
    db.session.flush()
    audit.record("api_token.revoke", actor, token, name=token.name)


def authenticate(secret: str, at: datetime | None = None) -> ApiToken | None:
    """The usable token with this secret, its owner loaded with it: one statement. None for an
    unknown, expired or revoked token, or one whose owner's account is deactivated. Writes nothing:
    ``note_use`` keeps the time of last use."""
    at = at or clock.now()
    token = db.session.scalar(
        sa.select(ApiToken)
        .where(ApiToken.token_hash == ApiToken.hash_secret(secret))
        .options(joinedload(ApiToken.user))
    )
    if token is None or not token.is_usable(at) or not token.user.is_active:
        return None
    return token


def use_is_news(last_used_at: datetime | None, at: datetime) -> bool:
    """Whether a use at ``at`` is worth writing: the stored last use is at least
    ``LAST_USED_RESOLUTION`` old (or there is none)."""
    return last_used_at is None or at - last_used_at >= LAST_USED_RESOLUTION


def note_use(token_id: int, at: datetime) -> bool:
    """Keep ``at`` as the token's last use, at most once per ``LAST_USED_RESOLUTION``: one UPDATE
    that only changes a row whose last use is older (so two workers never move it back). Flushes,
    never commits; True when the row changed."""
    result = db.session.execute(
        sa.update(ApiToken)
        .where(
            ApiToken.id == token_id,
            sa.or_(
                ApiToken.last_used_at.is_(None),
                ApiToken.last_used_at <= at - LAST_USED_RESOLUTION,
            ),
        )
        .values(last_used_at=at)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
