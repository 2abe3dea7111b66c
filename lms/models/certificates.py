"""Certificates: issued once as a stored PDF, verifiable by an unguessable code, revocable."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models.base import UTCDateTime

if TYPE_CHECKING:
    from lms.models.cohorts import Enrolment
    from lms.models.people import User


class CertificateState(enum.StrEnum):
    """Where one enrolment stands with its certificate, as every page tells it (not stored: derived by
    ``lms.services.certificates.decide_state``)."""

    ACHIEVED = "achieved"  # a valid certificate
    REVOKED = "revoked"  # its certificate was revoked and nothing valid replaced it
    READY = "ready"  # everything done, no certificate yet: the coordinator can issue it
    IN_PROGRESS = "in_progress"  # active, work still open
    ENDED = "ended"  # the enrolment ended without a certificate


class Certificate(db.Model):
    __tablename__ = "certificates"
    __table_args__ = (
        sa.CheckConstraint(
            "(revoked_at IS NULL AND revoked_by_id IS NULL)"
            " OR (revoked_at IS NOT NULL AND revoked_by_id IS NOT NULL)",
            name="revocation_complete",
        ),
        # At most one valid (not revoked) certificate per enrolment: a reissue revokes the old one first.
        sa.Index(
            "uq_certificates_one_valid_per_enrolment",
            "enrolment_id",
            unique=True,
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("enrolments.id", ondelete="RESTRICT"), index=True
    )
    number: Mapped[str] = mapped_column(sa.String(32), unique=True)  # VK-2027-PK-0007
    verification_code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # As printed on the certificate, so verification shows what the holder's paper says, whatever
    # happens to the account later (a corrected name gets a reissue, not a silent change).
    holder_name: Mapped[str] = mapped_column(sa.String(200), default="")
    programme_title: Mapped[str] = mapped_column(sa.String(200), default="")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    issued_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    pdf_storage_key: Mapped[str] = mapped_column(sa.String(255), unique=True)
    pdf_sha256: Mapped[str] = mapped_column(sa.String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    revocation_reason: Mapped[str] = mapped_column(sa.Text, default="")
    # A reissue gets a new number and points at the certificate it replaces.
    replaces_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("certificates.id", ondelete="RESTRICT"), unique=True
    )

    enrolment: Mapped[Enrolment] = relationship()
    issued_by: Mapped[User] = relationship(foreign_keys=[issued_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])
    replaces: Mapped[Certificate | None] = relationship(
        remote_side=[id], back_populates="replaced_by"
    )
    replaced_by: Mapped[Certificate | None] = relationship(back_populates="replaces")

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
