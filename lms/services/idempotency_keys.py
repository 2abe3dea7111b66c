"""Idempotency keys of the JSON API: the rules behind "the same POST sent twice changes the data once"
(draft-ietf-httpapi-idempotency-key-header, as Stripe does it). Functions flush, never commit.

A request with a key claims it for its API token with one ``INSERT ... ON CONFLICT`` in the request's
own transaction, before the change: the claim, the change and the stored answer commit together, and
a request that fails rolls its claim back with everything else (the key is free again). A second
request with the same key at the same moment meets the first one's uncommitted claim and waits for it
(PostgreSQL at the unique key, SQLite at its single writer lock; at most ``wait``) until the first
commits; then it finds the stored answer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from lms.extensions import db
from lms.models import IdempotencyKey

# How long a key and its answer are kept; after this the key is free again and its row is pruned.
KEEP_FOR = timedelta(hours=24)
# Expired rows removed per claim (the rest go at the next claims), so no request does a long delete.
PRUNE_BATCH = 100
# PostgreSQL's error for a lock that was not granted within lock_timeout.
LOCK_NOT_AVAILABLE = "55P03"

KEYS: sa.Table = IdempotencyKey.__table__  # type: ignore[assignment]


class KeyInUse(Exception):
    """Another request holds this key and did not finish within the wait."""


def claim(
    *, token_id: int, key: str, fingerprint: str, at: datetime, wait: timedelta
) -> int | None:
    """Claim ``key`` for this request: the new row's id, or None when the key is taken (read it with
    ``find``). A key older than KEEP_FOR is taken over as if it were new. Raises ``KeyInUse`` when the
    request holding the key is still running after ``wait`` (the transaction must be rolled back)."""
    insert_for_dialect = postgresql.insert if _dialect() == "postgresql" else sqlite.insert
    insert = insert_for_dialect(KEYS).values(
        token_id=token_id, key=key, request_fingerprint=fingerprint, created_at=at
    )
    statement = insert.on_conflict_do_update(
        index_elements=[KEYS.c.token_id, KEYS.c.key],
        set_={
            "request_fingerprint": insert.excluded.request_fingerprint,
            "created_at": insert.excluded.created_at,
            "completed_at": sa.null(),
            "response_status": sa.null(),
            "response_body": sa.null(),
            "response_headers": sa.null(),
        },
        where=KEYS.c.created_at <= at - KEEP_FOR,
    ).returning(KEYS.c.id)
    try:
        with _lock_timeout(wait):
            claimed = db.session.execute(statement).scalar_one_or_none()
    except OperationalError as error:
        if _lock_not_granted(error):
            raise KeyInUse from error
        raise
    prune(at)
    return claimed


def find(*, token_id: int, key: str) -> IdempotencyKey | None:
    return db.session.scalar(
        sa.select(IdempotencyKey)
        .where(IdempotencyKey.token_id == token_id, IdempotencyKey.key == key)
        .execution_options(populate_existing=True)
    )


def complete(key_id: int, *, status: int, body: str, headers: dict[str, str], at: datetime) -> None:
    """Keep the answer the claiming request earned, for its repeats (flush)."""
    db.session.execute(
        sa.update(KEYS)
        .where(KEYS.c.id == key_id)
        .values(
            completed_at=at, response_status=status, response_body=body, response_headers=headers
        )
    )


def prune(at: datetime, limit: int | None = PRUNE_BATCH) -> int:
    """Delete keys older than KEEP_FOR (at most ``limit``); returns how many. Rows another
    transaction holds are skipped (it is taking the key over, and waiting could deadlock)."""
    expired = (
        sa.select(KEYS.c.id)
        .where(KEYS.c.created_at <= at - KEEP_FOR)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    result = db.session.execute(sa.delete(KEYS).where(KEYS.c.id.in_(expired)))
    return int(getattr(result, "rowcount", 0) or 0)


def _lock_not_granted(error: OperationalError) -> bool:
    if isinstance(error.orig, sqlite3.OperationalError):
        return getattr(error.orig, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY
    return getattr(error.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE


def _dialect() -> str:
    return db.session.get_bind().dialect.name


@contextmanager
def _lock_timeout(wait: timedelta) -> Iterator[None]:
    """Wait at most ``wait`` for a lock inside the block: PostgreSQL's lock_timeout for this
    transaction, SQLite's busy timeout for this connection (its writer lock); the usual setting
    again afterwards."""
    milliseconds = max(1, int(wait.total_seconds() * 1000))
    if _dialect() == "postgresql":
        db.session.execute(
            sa.select(sa.func.set_config("lock_timeout", str(milliseconds), True))  # SET LOCAL
        )
        yield  # after an error the transaction is rolled back, and SET LOCAL with it
        db.session.execute(sa.text("SET LOCAL lock_timeout TO DEFAULT"))
        return
    connection = db.session.connection()
    usual = connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one()
    connection.exec_driver_sql(f"PRAGMA busy_timeout = {milliseconds:d}")
    try:
        yield
    finally:  # the setting stays with the pooled connection
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(usual):d}")
