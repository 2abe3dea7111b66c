"""Column types and helpers shared by every model."""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from lms import clock


class InvalidTransition(Exception):
    """A model was asked to move to a state it may not reach from where it is."""


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns them aware (SQLite forgets the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use lms.clock for aware UTC values")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_column(enum_class: type[enum.Enum], name: str) -> sa.Enum:
    """A VARCHAR holding the enum's values, with a CHECK constraint in the database."""
    return sa.Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum_class),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def created_at_column() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), default=clock.now, nullable=False)


class SingleUseToken:
    """Mixin for a secret mailed as a link (``AccountToken``, ``ActionLink``): only its SHA-256 is
    stored; the row may be used once, before it expires. Its columns come after the model's own."""

    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def with_new_secret(cls, valid_for: timedelta, **fields: Any) -> tuple[Self, str]:
        """A new row (``fields`` plus hash and dates) and the secret for the URL; the secret is not
        stored."""
        secret = secrets.token_urlsafe(32)
        issued_at = clock.now()
        row = cls(
            **fields,
            token_hash=cls.hash_token(secret),
            created_at=issued_at,
            expires_at=issued_at + valid_for,
        )
        return row, secret

    def is_usable(self, at: datetime | None = None) -> bool:
        at = at or clock.now()
        return self.used_at is None and at < self.expires_at


class Region(enum.StrEnum):
    """The three regions of Zuid-Limburg in which groups start."""

    PARKSTAD = "parkstad"
    WESTELIJKE_MIJNSTREEK = "westelijke_mijnstreek"
    MAASTRICHT_HEUVELLAND = "maastricht_heuvelland"

    @property
    def short_code(self) -> str:
        """Two letters, as used in certificate numbers (VK-2027-PK-0007)."""
        return {"parkstad": "PK", "westelijke_mijnstreek": "WM", "maastricht_heuvelland": "MH"}[
            self.value
        ]
