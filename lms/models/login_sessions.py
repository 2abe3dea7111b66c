"""Login sessions: one row per login on one device, so that logging out ends the session on the server.

The rules (how long a session lives, what ends it) are in ``lms.services.login_sessions``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models.base import UTCDateTime, created_at_column

if TYPE_CHECKING:
    from lms.models.people import User


class LoginSession(db.Model):
    """A login on one device. The browser holds the token (a random secret) in its session cookie and,
    with "stay logged in on this device", in the remember cookie; only the token's SHA-256 is stored."""

    __tablename__ = "login_sessions"
    __table_args__ = (
        sa.CheckConstraint("created_at <= expires_at", name="expires_after_creation"),
        sa.Index("ix_login_sessions_expires_at", "expires_at"),
        sa.Index("ix_login_sessions_ended_at", "ended_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    remember: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = created_at_column()
    # Written at most every few minutes, not on every request.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Without "remember", pushed forward while the session is used (idle time); never past the
    # session's maximum age.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ip_address: Mapped[str] = mapped_column(sa.String(45), default="")
    # Names from a fixed list (lms.services.login_sessions.describe_device), never the User-Agent's
    # own text; "" when not recognised. For showing the person their devices, never trusted.
    browser: Mapped[str] = mapped_column(sa.String(40), default="")
    platform: Mapped[str] = mapped_column(sa.String(40), default="")
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<LoginSession {self.id} of user {self.user_id}>"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def is_valid(self, at: datetime) -> bool:
        return self.ended_at is None and at < self.expires_at

    def end(self, at: datetime) -> bool:
        """End the session; False when it had ended already (ending twice changes nothing)."""
        if self.ended_at is not None:
            return False
        self.ended_at = at
        return True
