"""The sign-off ledger: append-only, hash-chained records of checklist items signed off.

A sign-off is never updated or deleted. Revoking one adds a record of kind "revocation" that points at it.
Every record's hash covers its own content and the previous record's hash, so a changed row breaks the
chain from that row on.
"""

from __future__ import annotations

import enum
import hashlib
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models.base import UTCDateTime, created_at_column, enum_column

if TYPE_CHECKING:
    from lms.models.cohorts import Enrolment
    from lms.models.curriculum import ChecklistItem
    from lms.models.people import User
    from lms.models.portfolio import Submission

GENESIS_HASH = "0" * 64

signoff_evidence = sa.Table(
    "signoff_evidence",
    db.metadata,
    sa.Column("signoff_id", sa.ForeignKey("signoffs.id", ondelete="RESTRICT"), primary_key=True),
    sa.Column(
        "submission_id", sa.ForeignKey("submissions.id", ondelete="RESTRICT"), primary_key=True
    ),
)


class SignOffKind(enum.StrEnum):
    SIGN_OFF = "sign_off"
    REVOCATION = "revocation"


class SignOff(db.Model):
    __tablename__ = "signoffs"
    __table_args__ = (
        sa.CheckConstraint("level BETWEEN 1 AND 4", name="level_range"),
        sa.CheckConstraint(
            "(kind = 'revocation' AND revokes_id IS NOT NULL)"
            " OR (kind = 'sign_off' AND revokes_id IS NULL)",
            name="revocation_points_back",
        ),
        sa.CheckConstraint("sequence > 0", name="sequence_positive"),
        sa.Index("ix_signoffs_enrolment_item", "enrolment_id", "checklist_item_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The position in the ledger; unique so two writers cannot both append after the same record.
    sequence: Mapped[int] = mapped_column(unique=True)
    kind: Mapped[SignOffKind] = mapped_column(enum_column(SignOffKind, "signoff_kind"))
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolments.id", ondelete="RESTRICT"))
    checklist_item_id: Mapped[int] = mapped_column(
        sa.ForeignKey("checklist_items.id", ondelete="RESTRICT"), index=True
    )
    level: Mapped[int]
    note: Mapped[str] = mapped_column(sa.Text, default="")
    revokes_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("signoffs.id", ondelete="RESTRICT"), unique=True
    )
    signed_by_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    previous_hash: Mapped[str] = mapped_column(sa.String(64))
    record_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)

    enrolment: Mapped[Enrolment] = relationship()
    checklist_item: Mapped[ChecklistItem] = relationship()
    signed_by: Mapped[User] = relationship()
    revokes: Mapped[SignOff | None] = relationship(remote_side=[id])
    evidence: Mapped[list[Submission]] = relationship(secondary=signoff_evidence)

    def content(self) -> dict[str, object]:
        """What the hash covers: every fact of the record, in a fixed form."""
        return {
            "sequence": self.sequence,
            "kind": SignOffKind(self.kind).value,
            "enrolment_id": self.enrolment_id,
            "checklist_item_id": self.checklist_item_id,
            "level": self.level,
            "note": self.note,
            "revokes_id": self.revokes_id,
            "signed_by_id": self.signed_by_id,
            # In UTC, as stored and read back: a moment given in another zone hashes the same.
            "signed_at": self.signed_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "evidence": sorted(self.evidence_submission_ids()),
            "previous_hash": self.previous_hash,
        }

    def evidence_submission_ids(self) -> list[int]:
        return [submission.id for submission in self.evidence]

    def compute_hash(self) -> str:
        payload = json.dumps(self.content(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()


class LedgerCheckpoint(db.Model):
    """A signed statement of the ledger's head: how many records it had and the hash of the last one.

    Kept outside the ``signoffs`` table and signed with the application's Ed25519 key (the badge key), so
    rewriting records and recomputing every later hash, or deleting the last records, no longer goes
    unnoticed: the head no longer matches what was signed. The head is referred to by value, not by a
    foreign key, so a deleted record is reported rather than protected.
    """

    __tablename__ = "ledger_checkpoints"
    __table_args__ = (sa.CheckConstraint("record_count >= 0", name="record_count_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    record_count: Mapped[int]
    # The id of the record at position ``record_count`` (none while the ledger is empty).
    head_id: Mapped[int | None]
    head_hash: Mapped[str] = mapped_column(sa.String(64))
    key_id: Mapped[str] = mapped_column(sa.String(255))  # the did:web verification method (kid)
    # A compact JWS (EdDSA) whose payload holds the facts above and the issuer's identity.
    signature: Mapped[str] = mapped_column(sa.Text)


class WorkplaceObservation(db.Model):
    """An employer contact's note on a checklist item: what they saw at work. Not a sign-off."""

    __tablename__ = "workplace_observations"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("enrolments.id", ondelete="RESTRICT"), index=True
    )
    checklist_item_id: Mapped[int] = mapped_column(
        sa.ForeignKey("checklist_items.id", ondelete="RESTRICT")
    )
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    note: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = created_at_column()

    enrolment: Mapped[Enrolment] = relationship()
    checklist_item: Mapped[ChecklistItem] = relationship()
    author: Mapped[User] = relationship()
