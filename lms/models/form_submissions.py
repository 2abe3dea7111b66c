"""Form submissions: one row per rendered form that was sent, so a second send of the same form (a
double click, two connections, the back button) changes nothing and gets the first send's answer.

The rules are in ``lms.services.form_submissions``; the request hooks in ``lms.idempotent_forms``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lms.extensions import db
from lms.models.base import UTCDateTime, created_at_column


class FormSubmission(db.Model):
    """The claim of one form's single-use submission token (only its SHA-256 is stored), committed
    together with the change the form made, and the answer the first send got."""

    __tablename__ = "form_submissions"
    __table_args__ = (sa.Index("ix_form_submissions_created_at", "created_at"),)  # pruning

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # Nobody for the forms of visitors who are not logged in (forgotten password, a mailed link).
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    endpoint: Mapped[str] = mapped_column(sa.String(120))
    created_at: Mapped[datetime] = created_at_column()
    # The first answer, written right after it was given (empty until then).
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status_code: Mapped[int | None]
    location: Mapped[str | None] = mapped_column(sa.String(2000))
    # The messages the first answer flashed: [[category, text], ...].
    messages: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)

    def __repr__(self) -> str:
        return f"<FormSubmission {self.id} {self.endpoint}>"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()
