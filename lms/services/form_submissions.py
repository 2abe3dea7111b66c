"""Single-use submission tokens: the rules behind "a form sent twice changes the data once".

Every rendered form carries a fresh random token (``lms.forms.SubmissionTokenField``). Sending the form
claims the token by inserting its row in the request's own transaction (flush, never commit): the
view's commit commits the claim together with the change, and a view that does not commit (the form
shown again with its errors, a refusal after a rollback) leaves no claim, so sending again is handled
as a first send. A second send of the same token waits at the unique key until the first transaction
ends (PostgreSQL waits at the index, SQLite at its single writer lock) and then finds the claim.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from lms.extensions import db
from lms.models import FormSubmission

# Long enough for any double click, back button or resend of a page left open; a token older than
# this is forgotten and a send of it is handled as a first send.
KEEP_FOR = timedelta(days=14)
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{32,64}")


def usable_token(value: str | None) -> str | None:
    """The posted token if it looks like one the application made, else nothing (handled as a form
    without a token, as today)."""
    return value if value and TOKEN_PATTERN.fullmatch(value) else None


def claim(token: str, *, user_id: int | None, endpoint: str, at: datetime) -> FormSubmission:
    """Insert the claim of ``token`` (flush). Raises ``sqlalchemy.exc.IntegrityError`` when the token
    was claimed by a transaction that committed: the caller rolls back and answers as the first did."""
    submission = FormSubmission(
        token_hash=FormSubmission.hash_token(token),
        user_id=user_id,
        endpoint=endpoint[:120],
        created_at=at,
        messages=[],
    )
    db.session.add(submission)
    db.session.flush()
    return submission


def find(token: str) -> FormSubmission | None:
    return db.session.scalar(
        sa.select(FormSubmission).where(
            FormSubmission.token_hash == FormSubmission.hash_token(token)
        )
    )


def record_answer(
    submission_id: int,
    *,
    status_code: int,
    location: str | None,
    messages: list[Any],
    at: datetime,
) -> None:
    """Remember the first send's answer for the repeats (flush)."""
    db.session.execute(
        sa.update(FormSubmission)
        .where(FormSubmission.id == submission_id, FormSubmission.answered_at.is_(None))
        .values(
            answered_at=at,
            status_code=status_code,
            location=location[:2000] if location else None,
            messages=messages,
        )
        .execution_options(synchronize_session=False)
    )


def prune(at: datetime) -> int:
    """Forget the claims older than KEEP_FOR; returns how many."""
    result = db.session.execute(
        sa.delete(FormSubmission)
        .where(FormSubmission.created_at < at - KEEP_FOR)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
