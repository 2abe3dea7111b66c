"""Personal access tokens for the JSON API: only a hash of the secret is stored; the secret is shown once."""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms import clock
from lms.extensions import db
from lms.models.base import UTCDateTime, created_at_column, enum_column

if TYPE_CHECKING:
    from lms.models.people import User

# Every secret starts with this, so a leaked token is easy to recognise (and to search for in code).
TOKEN_PREFIX = "vkapi_"  # nosec B105 - a public prefix that marks API keys, not a secret


class ApiTokenScope(enum.StrEnum):
    READ = "read"
    READ_WRITE = "read_write"


class ApiToken(db.Model):
    """A token acts as the user who made it (``user``), with that user's permissions, limited by
    ``scope``: a read token can only read."""

    __tablename__ = "api_tokens"
    __table_args__ = (sa.CheckConstraint("created_at < expires_at", name="expires_after_creation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    scope: Mapped[ApiTokenScope] = mapped_column(enum_column(ApiTokenScope, "api_token_scope"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The first characters of the secret, to recognise a token in the list; not enough to use it.
    hint: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    def __repr__(self) -> str:
        return f"<ApiToken {self.hint}… of user {self.user_id}>"

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @classmethod
    def issue(
        cls, *, user: User, name: str, scope: ApiTokenScope, expires_at: datetime
    ) -> tuple[ApiToken, str]:
        """A new token row and its secret; the secret itself is never stored."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls(
            user=user,
            name=name,
            scope=scope,
            token_hash=cls.hash_secret(secret),
            hint=secret[: len(TOKEN_PREFIX) + 4],
            created_at=clock.now(),
            expires_at=expires_at,
        )
        return token, secret

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, at: datetime | None = None) -> bool:
        return (at or clock.now()) >= self.expires_at

    def is_usable(self, at: datetime | None = None) -> bool:
        return not self.is_revoked and not self.is_expired(at)

    @property
    def can_write(self) -> bool:
        return self.scope is ApiTokenScope.READ_WRITE
