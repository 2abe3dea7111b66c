"""Calendar feeds: a person's private, revocable link to their programme year as an iCalendar feed
(``/calendar/<secret>.ics``), for the calendar app on their phone. Only a hash of the secret is
stored; the link is shown once, when it is made."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms import clock
from lms.extensions import db
from lms.models.base import UTCDateTime, created_at_column

if TYPE_CHECKING:
    from lms.models.people import User


class CalendarFeed(db.Model):
    """One link per row; a person has at most one that is not revoked (making a new one revokes the
    old one). A phone calendar fetches the feed without logging in: the secret in the URL is the key."""

    __tablename__ = "calendar_feeds"
    __table_args__ = (
        sa.Index(
            "uq_calendar_feeds_one_active_per_user",
            "user_id",
            unique=True,
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        ),
        sa.CheckConstraint(
            "revoked_at IS NULL OR revoked_at >= created_at", name="revoked_after_creation"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = created_at_column()
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<CalendarFeed {self.id} of user {self.user_id}>"

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User) -> tuple[CalendarFeed, str]:
        """A new feed row and the secret for its URL; the secret itself is never stored."""
        secret = secrets.token_urlsafe(32)
        return cls(user=user, token_hash=cls.hash_secret(secret), created_at=clock.now()), secret

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
