"""Idempotency keys of the JSON API: a POST sent with ``Idempotency-Key`` claims its key per API
token, together with the change it makes, and keeps the answer it earned for the repeats.

The rules are in ``lms.services.idempotency_keys``; the header in ``lms.blueprints.api.idempotency``.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lms.extensions import db
from lms.models.base import UTCDateTime, created_at_column

# The longest key a client may send (the header's value, printable ASCII).
KEY_MAX_LENGTH = 255


class IdempotencyKey(db.Model):
    """One key of one token: which request claimed it (``request_fingerprint``) and, once it is
    ``completed``, the answer to give every repeat of that request."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        # The same key of another token is another key: a client never meets someone else's answer.
        sa.UniqueConstraint("token_id", "key"),
        sa.CheckConstraint(
            "completed_at IS NULL OR response_status IS NOT NULL", name="completed_has_answer"
        ),
        sa.Index("ix_idempotency_keys_created_at", "created_at"),  # pruning
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(sa.ForeignKey("api_tokens.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(KEY_MAX_LENGTH))
    # SHA-256 of the method, path, query and body: a different request under the same key is refused.
    request_fingerprint: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = created_at_column()
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response_status: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(sa.Text)
    # The headers that belong to the answer (Content-Type, Location), replayed as they were.
    response_headers: Mapped[dict[str, str] | None] = mapped_column(sa.JSON)

    def __repr__(self) -> str:
        return f"<IdempotencyKey {self.key!r} of token {self.token_id}>"

    @property
    def completed(self) -> bool:
        return self.completed_at is not None
