"""Throttle counters: attempts per account or address in a time window, in the database so every
worker and every node counts together (lms/services/login_throttle.py holds the rules)."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lms.extensions import db
from lms.models.base import UTCDateTime, enum_column


class ThrottleScope(enum.StrEnum):
    LOGIN_ACCOUNT = "login_account"
    LOGIN_ADDRESS = "login_address"
    PASSWORD_RESET_ADDRESS = "password_reset_address"  # nosec B105 - a scope name, not a secret


class ThrottleCounter(db.Model):
    """One counter per (scope, key). The key (an e-mail address or an IP address) is stored only as a
    keyed hash. A counter whose window has ended starts again at its next attempt; ended counters are
    pruned as new attempts are counted."""

    __tablename__ = "throttle_counters"
    __table_args__ = (sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),)

    scope: Mapped[ThrottleScope] = mapped_column(
        enum_column(ThrottleScope, "throttle_scope"), primary_key=True
    )
    key_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    attempts: Mapped[int]
    window_ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    def __repr__(self) -> str:
        return f"<ThrottleCounter {self.scope.value} {self.key_hash[:8]}… {self.attempts}>"
