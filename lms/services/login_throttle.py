"""The login throttle and the forgot-password limit, counted in the database so that every web worker
and every node counts together (a worker's own memory lets each worker allow the full limit).

Login: failed attempts are counted per account (``LOGIN_LIMIT_PER_ACCOUNT``) and per address
(``LOGIN_LIMIT_PER_ADDRESS``). An attempt claims its place in both counters *before* the password is
checked, in one atomic statement per counter, so workers checking at the same moment can never let
more guesses through than the limit. A claim that is not given back is a failed attempt; a correct
login wipes the account's counter and gives the address's claim back, so a person who logs in
correctly is never slowed down. While either counter is full, even the right password is refused.

Forgot password: every request for a reset link counts against the address
(``PASSWORD_RESET_LIMIT_PER_ADDRESS``).

Keys (e-mail and IP addresses) are stored only as an HMAC with the application's secret key. Functions
flush, never commit; the login route commits the claim before it checks the password.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from limits import parse
from sqlalchemy.dialects import postgresql, sqlite

from lms import clock
from lms.extensions import db
from lms.models import ThrottleCounter, ThrottleScope

COUNTERS: sa.Table = ThrottleCounter.__table__  # type: ignore[assignment]
PRUNE_BATCH = 500  # ended counters removed per counted attempt; more go at the next one

LIMIT_SETTINGS = {
    ThrottleScope.LOGIN_ACCOUNT: "LOGIN_LIMIT_PER_ACCOUNT",
    ThrottleScope.LOGIN_ADDRESS: "LOGIN_LIMIT_PER_ADDRESS",
    ThrottleScope.PASSWORD_RESET_ADDRESS: "PASSWORD_RESET_LIMIT_PER_ADDRESS",
}


@dataclass(frozen=True)
class Claim:
    """One attempt's place in one counter (in the window that ends at ``window_ends_at``)."""

    scope: ThrottleScope
    key_hash: str
    window_ends_at: datetime


@dataclass(frozen=True)
class LoginClaim:
    account: Claim
    address: Claim


def key_hash(key: str) -> str:
    """The stored form of a key: a keyed hash, so the table holds no e-mail or IP address."""
    secret = current_app.secret_key or ""
    secret_bytes = secret if isinstance(secret, bytes) else secret.encode()
    return hmac.new(secret_bytes, key.encode(), hashlib.sha256).hexdigest()


def account_key(email: str) -> str:
    return key_hash(email.strip().lower())


def limit_of(scope: ThrottleScope) -> tuple[int, timedelta]:
    """(attempts allowed, window) from the setting, e.g. "5 per 15 minutes"."""
    item = parse(current_app.config[LIMIT_SETTINGS[scope]])
    return item.amount, timedelta(seconds=item.get_expiry())


def claim_login(email: str, address: str, at: datetime | None = None) -> LoginClaim | None:
    """Claim a login attempt for the account and for the address, or None (nothing counted) while
    either is over its limit."""
    at = at or clock.now()
    account = _claim(ThrottleScope.LOGIN_ACCOUNT, account_key(email), at)
    if account is None:
        return None
    address_claim = _claim(ThrottleScope.LOGIN_ADDRESS, key_hash(address), at)
    if address_claim is None:
        _give_back(account)
        return None
    prune_expired(at)
    return LoginClaim(account=account, address=address_claim)


def login_succeeded(claim: LoginClaim) -> None:
    """The right password: the account starts again at zero; the address keeps only its failures."""
    db.session.execute(
        sa.delete(COUNTERS).where(
            COUNTERS.c.scope == claim.account.scope,
            COUNTERS.c.key_hash == claim.account.key_hash,
        )
    )
    _give_back(claim.address)


def claim_password_reset(address: str, at: datetime | None = None) -> bool:
    """Count a request for a reset link from ``address``; False (not counted) when over the limit."""
    at = at or clock.now()
    claim = _claim(ThrottleScope.PASSWORD_RESET_ADDRESS, key_hash(address), at)
    prune_expired(at)
    return claim is not None


def attempts_counted(scope: ThrottleScope, key: str, at: datetime | None = None) -> int:
    """How many attempts count against ``key`` (already normalised) right now."""
    at = at or clock.now()
    counted = db.session.scalar(
        sa.select(COUNTERS.c.attempts).where(
            COUNTERS.c.scope == scope,
            COUNTERS.c.key_hash == key_hash(key),
            COUNTERS.c.window_ends_at > at,
        )
    )
    return counted or 0


def prune_expired(at: datetime) -> int:
    """Remove counters whose window has ended. Rows another transaction holds are skipped (they are
    in use, and waiting for them could deadlock); they go at a later attempt."""
    ended = (
        sa.select(COUNTERS.c.scope, COUNTERS.c.key_hash)
        .where(COUNTERS.c.window_ends_at <= at)
        .limit(PRUNE_BATCH)
        .with_for_update(skip_locked=True)
    )
    result = db.session.execute(
        sa.delete(COUNTERS).where(sa.tuple_(COUNTERS.c.scope, COUNTERS.c.key_hash).in_(ended))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _claim(scope: ThrottleScope, hashed: str, at: datetime) -> Claim | None:
    """Add one attempt to the counter in a single INSERT ... ON CONFLICT DO UPDATE ... RETURNING:
    the database counts every worker's claims one after another. A counter whose window has ended
    starts again at 1; a full counter is left alone and nothing is returned."""
    allowed, window = limit_of(scope)
    insert = _insert_for_dialect()(COUNTERS).values(
        scope=scope, key_hash=hashed, attempts=1, window_ends_at=at + window
    )
    ended = COUNTERS.c.window_ends_at <= at
    statement = insert.on_conflict_do_update(
        index_elements=[COUNTERS.c.scope, COUNTERS.c.key_hash],
        set_={
            "attempts": sa.case((ended, 1), else_=COUNTERS.c.attempts + 1),
            "window_ends_at": sa.case(
                (ended, insert.excluded.window_ends_at), else_=COUNTERS.c.window_ends_at
            ),
        },
        where=sa.or_(ended, COUNTERS.c.attempts < allowed),
    ).returning(COUNTERS.c.window_ends_at)
    window_ends_at = db.session.execute(statement).scalar_one_or_none()
    if window_ends_at is None:
        return None
    return Claim(scope=scope, key_hash=hashed, window_ends_at=window_ends_at)


def _give_back(claim: Claim) -> None:
    """Undo one claim, if its window is still the one it was counted in."""
    db.session.execute(
        sa.update(COUNTERS)
        .where(
            COUNTERS.c.scope == claim.scope,
            COUNTERS.c.key_hash == claim.key_hash,
            COUNTERS.c.window_ends_at == claim.window_ends_at,
            COUNTERS.c.attempts > 0,
        )
        .values(attempts=COUNTERS.c.attempts - 1)
    )


def _insert_for_dialect():  # type: ignore[no-untyped-def]
    """SQLite and PostgreSQL both have INSERT ... ON CONFLICT DO UPDATE ... RETURNING."""
    return postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
