"""People: user accounts with their role, employers (companies) and one-time account tokens."""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from lms import clock
from lms.extensions import db
from lms.models.base import (
    Region,
    SingleUseToken,
    UTCDateTime,
    created_at_column,
    enum_column,
)
from lms.names import person_sort_key

if TYPE_CHECKING:
    from lms.models.cohorts import Cohort, Enrolment
    from lms.models.login_sessions import LoginSession


class Role(enum.StrEnum):
    COORDINATOR = "coordinator"
    TRAINER = "trainer"
    PARTICIPANT = "participant"
    EMPLOYER = "employer"  # a contact person (praktijkopleider) of one employer


class MailPreference(enum.StrEnum):
    """How a user gets non-urgent reminders by mail: at once (in working hours) or in a weekly digest."""

    IMMEDIATE = "immediate"
    WEEKLY_DIGEST = "weekly_digest"


class LoggedInThrough:
    """Not columns: the login session a ``User`` object was logged in or loaded with, and its token
    (set by lms.services.login_sessions). Flask-Login keeps the token in the session and the remember
    cookie, so a cookie names a session the server can end, not the account."""

    login_session: LoginSession | None = None
    login_token: str | None = None


class User(LoggedInThrough, UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        # An employer contact belongs to exactly one company; nobody else belongs to one.
        sa.CheckConstraint(
            "(role = 'employer' AND employer_id IS NOT NULL)"
            " OR (role <> 'employer' AND employer_id IS NULL)",
            name="employer_contact_has_employer",
        ),
        sa.CheckConstraint("locale IN ('nl', 'en')", name="locale"),
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    first_name: Mapped[str] = mapped_column(sa.String(80))
    name_prefix: Mapped[str] = mapped_column(sa.String(20), default="")  # tussenvoegsel: "van der"
    last_name: Mapped[str] = mapped_column(sa.String(80))
    # Lists of people sort on this in SQL (lms/names.py); set whenever a part of the name is.
    sort_key: Mapped[str] = mapped_column(sa.String(255), default="", index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"), index=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    is_active_account: Mapped[bool] = mapped_column("is_active", default=True)
    # The language the person chose with the switch; None: no choice made, so Dutch (lms/i18n.py).
    locale: Mapped[str | None] = mapped_column(sa.String(2))
    phone: Mapped[str] = mapped_column(sa.String(32), default="")
    mail_preference: Mapped[MailPreference] = mapped_column(
        enum_column(MailPreference, "mail_preference"),
        default=MailPreference.IMMEDIATE,
        server_default=MailPreference.IMMEDIATE.value,
    )
    employer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("employers.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = created_at_column()
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    employer: Mapped[Employer | None] = relationship(back_populates="contacts")
    enrolments: Mapped[list[Enrolment]] = relationship(
        back_populates="participant", foreign_keys="Enrolment.participant_id"
    )
    trained_cohorts: Mapped[list[Cohort]] = relationship(
        secondary="cohort_trainers", back_populates="trainers", viewonly=True
    )

    def __repr__(self) -> str:
        return f"<User {self.email} ({self.role.value})>"

    # Flask-Login's UserMixin compares get_id(), which is a session token here: compare accounts.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, User):
            return NotImplemented
        return self is other or (self.id is not None and self.id == other.id)

    __hash__ = object.__hash__

    @property
    def full_name(self) -> str:
        return " ".join(
            part for part in (self.first_name, self.name_prefix, self.last_name) if part
        )

    @validates("first_name", "name_prefix", "last_name")
    def _keep_sort_key(self, key: str, value: str) -> str:
        parts = {
            "first_name": self.first_name,
            "name_prefix": self.name_prefix,
            "last_name": self.last_name,
            key: value,  # the part being set (the others may not be set yet)
        }
        self.sort_key = person_sort_key(
            parts["first_name"] or "", parts["name_prefix"] or "", parts["last_name"] or ""
        )[:255]
        return value

    @property
    def sort_name(self) -> str:
        """Dutch sorting ignores the tussenvoegsel: "Berg, Jan van den"."""
        prefix = f" {self.name_prefix}" if self.name_prefix else ""
        return f"{self.last_name}, {self.first_name}{prefix}"

    # Flask-Login
    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.is_active_account

    def get_id(self) -> str:
        if self.login_token is None:
            raise RuntimeError(
                "log in through lms.services.login_sessions.start, not login_user alone"
            )
        return self.login_token

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    def set_password(self, password: str, method: str = "scrypt") -> None:
        self.password_hash = generate_password_hash(password, method=method)
        self.password_changed_at = clock.now()

    def check_password(self, password: str) -> bool:
        if not self.password_hash:
            return False
        return check_password_hash(self.password_hash, password)


class Employer(db.Model):
    """A company (SME) that employs participants; its contacts are users with the employer role."""

    __tablename__ = "employers"
    __table_args__ = (sa.CheckConstraint("length(kvk_number) = 8", name="kvk_number_length"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(160), index=True)
    kvk_number: Mapped[str] = mapped_column(sa.String(8), unique=True)
    street: Mapped[str] = mapped_column(sa.String(160), default="")
    postcode: Mapped[str] = mapped_column(sa.String(7), default="")
    city: Mapped[str] = mapped_column(sa.String(80), default="")
    region: Mapped[Region] = mapped_column(enum_column(Region, "employer_region"))
    # Its recognition as a learning company (erkend leerbedrijf, SBB): the number and the day the
    # coordinator checked it ("" and None: not recorded yet).
    recognition_number: Mapped[str] = mapped_column(sa.String(12), default="", server_default="")
    recognition_checked_on: Mapped[date | None]
    created_at: Mapped[datetime] = created_at_column()

    contacts: Mapped[list[User]] = relationship(back_populates="employer")

    @property
    def is_recognised(self) -> bool:
        """A recognition number and the day it was checked are recorded."""
        return bool(self.recognition_number) and self.recognition_checked_on is not None

    def __repr__(self) -> str:
        return f"<Employer {self.name} ({self.kvk_number})>"


class TokenPurpose(enum.StrEnum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"  # nosec B105 - an enum value, not a password


class AccountToken(SingleUseToken, db.Model):
    """A one-time link to set a password. Only the token's hash is stored."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(enum_column(TokenPurpose, "token_purpose"))

    user: Mapped[User] = relationship()

    @classmethod
    def issue(
        cls, user: User, purpose: TokenPurpose, valid_for: timedelta
    ) -> tuple[AccountToken, str]:
        """A new token row and the secret for the link; the secret is not stored."""
        return cls.with_new_secret(valid_for, user=user, purpose=purpose)
