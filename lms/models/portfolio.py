"""The portfolio: a participant's submission per assignment, its attempts, evidence and assessments.

A submission is the participant's work on one assignment. Every time it is handed in, the attempt is
frozen; a "needs revision" verdict opens a new attempt. Assessments are never edited.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms import clock
from lms.extensions import db
from lms.models.base import InvalidTransition, UTCDateTime, created_at_column, enum_column

if TYPE_CHECKING:
    from lms.models.cohorts import Enrolment
    from lms.models.curriculum import Assignment
    from lms.models.people import User


class SubmissionStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    NEEDS_REVISION = "needs_revision"
    APPROVED = "approved"


class Verdict(enum.StrEnum):
    APPROVED = "approved"
    NEEDS_REVISION = "needs_revision"


class Submission(db.Model):
    __tablename__ = "submissions"
    __table_args__ = (sa.UniqueConstraint("enrolment_id", "assignment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolments.id", ondelete="RESTRICT"))
    assignment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assignments.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[SubmissionStatus] = mapped_column(
        enum_column(SubmissionStatus, "submission_status"),
        default=SubmissionStatus.DRAFT,
        index=True,
    )
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=clock.now, onupdate=clock.now
    )
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # latest hand-in
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    enrolment: Mapped[Enrolment] = relationship()
    assignment: Mapped[Assignment] = relationship()
    attempts: Mapped[list[Attempt]] = relationship(
        back_populates="submission", order_by="Attempt.number", cascade="all, delete-orphan"
    )
    workplace_confirmations: Mapped[list[WorkplaceConfirmation]] = relationship(
        back_populates="submission", order_by="WorkplaceConfirmation.confirmed_at"
    )

    def __init__(self, **fields: object) -> None:
        # A new submission is a draft before it is ever flushed, so transitions work at once.
        fields.setdefault("status", SubmissionStatus.DRAFT)
        super().__init__(**fields)

    @property
    def workplace_confirmation(self) -> WorkplaceConfirmation | None:
        """The contact's confirmation that the work was carried out at their workplace."""
        return next((answer for answer in self.workplace_confirmations if answer.carried_out), None)

    @property
    def workplace_denial(self) -> WorkplaceConfirmation | None:
        """The contact's latest word that the work was NOT carried out at their workplace (while
        no confirmation followed it)."""
        if self.workplace_confirmation is not None:
            return None
        denials = [answer for answer in self.workplace_confirmations if not answer.carried_out]
        return denials[-1] if denials else None

    @property
    def workplace_answer_pending(self) -> bool:
        """Handed-in work the contact still has to answer for: neither confirmed nor denied since
        the latest hand-in (a revision handed in after a denial is asked about again)."""
        if self.submitted_at is None or self.workplace_confirmation is not None:
            return False
        denial = self.workplace_denial
        return denial is None or denial.confirmed_at < self.submitted_at

    @property
    def current_attempt(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def open_attempt(self) -> Attempt | None:
        """The attempt the participant may still change: a draft, or a revision not yet handed in."""
        attempt = self.current_attempt
        if self.status in (SubmissionStatus.DRAFT, SubmissionStatus.NEEDS_REVISION) and (
            attempt is not None and attempt.submitted_at is None
        ):
            return attempt
        return None

    def start_revision(self, at: datetime) -> Attempt:
        """After "needs revision": open the next attempt, starting from the last one's reflection."""
        previous = self.current_attempt
        if self.status is not SubmissionStatus.NEEDS_REVISION:
            raise InvalidTransition(f"cannot revise a submission that is {self.status.value}")
        if previous is None or previous.submitted_at is None:
            raise InvalidTransition("a new attempt is already open")
        attempt = Attempt(
            number=previous.number + 1,
            what_i_did=previous.what_i_did,
            what_went_well=previous.what_went_well,
            what_i_learned=previous.what_i_learned,
            created_at=at,
        )
        self.attempts.append(attempt)
        return attempt

    def submit(self, at: datetime) -> Attempt:
        """Hand in the current draft attempt."""
        if self.status not in (SubmissionStatus.DRAFT, SubmissionStatus.NEEDS_REVISION):
            raise InvalidTransition(f"cannot submit a submission that is {self.status.value}")
        attempt = self.current_attempt
        if attempt is None or attempt.submitted_at is not None:
            raise InvalidTransition("there is no open attempt to submit")
        attempt.submitted_at = at
        self.status = SubmissionStatus.SUBMITTED
        self.submitted_at = at
        return attempt

    def record_verdict(self, verdict: Verdict, at: datetime) -> None:
        if self.status is not SubmissionStatus.SUBMITTED:
            raise InvalidTransition(f"cannot assess a submission that is {self.status.value}")
        if verdict is Verdict.APPROVED:
            self.status = SubmissionStatus.APPROVED
            self.approved_at = at
        else:
            self.status = SubmissionStatus.NEEDS_REVISION

    def correctable_attempt(self) -> Attempt | None:
        """The attempt whose verdict may still be corrected: the latest assessed one, as long as no newer
        attempt has been handed in."""
        if self.status not in (SubmissionStatus.APPROVED, SubmissionStatus.NEEDS_REVISION):
            return None
        for attempt in reversed(self.attempts):
            if attempt.submitted_at is not None:  # skip a new draft; stop at the latest hand-in
                return attempt if attempt.assessments else None
        return None

    def correct_verdict(self, verdict: Verdict, at: datetime) -> Attempt:
        """Move to the corrected verdict; returns the attempt the correcting assessment belongs to.

        Approving is refused once the participant has started a new attempt: that one is assessed when
        it is handed in.
        """
        attempt = self.correctable_attempt()
        if attempt is None:
            raise InvalidTransition(
                f"no verdict to correct on a submission that is {self.status.value}"
            )
        if verdict is Verdict.APPROVED:
            if attempt is not self.current_attempt:
                raise InvalidTransition("a new attempt has been started since the verdict")
            if self.status is not SubmissionStatus.APPROVED:
                self.approved_at = at
            self.status = SubmissionStatus.APPROVED
        else:
            self.status = SubmissionStatus.NEEDS_REVISION
            self.approved_at = None
        return attempt


class Attempt(db.Model):
    __tablename__ = "attempts"
    __table_args__ = (
        sa.UniqueConstraint("submission_id", "number"),
        sa.CheckConstraint("number > 0", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(sa.ForeignKey("submissions.id", ondelete="CASCADE"))
    number: Mapped[int]
    # The three reflection questions: what did you do, what went well, what did you learn.
    what_i_did: Mapped[str] = mapped_column(sa.Text, default="")
    what_went_well: Mapped[str] = mapped_column(sa.Text, default="")
    what_i_learned: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = created_at_column()
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    submission: Mapped[Submission] = relationship(back_populates="attempts")
    evidence_files: Mapped[list[EvidenceFile]] = relationship(
        back_populates="attempt", order_by="EvidenceFile.id", cascade="all, delete-orphan"
    )
    assessments: Mapped[list[Assessment]] = relationship(
        back_populates="attempt", order_by="Assessment.created_at"
    )


class EvidenceKind(enum.StrEnum):
    PHOTO = "photo"
    PDF = "pdf"
    VIDEO = "video"


class EvidenceFile(db.Model):
    """A file stored through lms.storage; the row points at it by key and records its hash."""

    __tablename__ = "evidence_files"
    __table_args__ = (sa.CheckConstraint("size_bytes >= 0", name="size_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        sa.ForeignKey("attempts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[EvidenceKind] = mapped_column(enum_column(EvidenceKind, "evidence_kind"))
    storage_key: Mapped[str] = mapped_column(sa.String(255), unique=True)
    original_name: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    width: Mapped[int | None]
    height: Mapped[int | None]
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    uploaded_at: Mapped[datetime] = created_at_column()

    attempt: Mapped[Attempt] = relationship(back_populates="evidence_files")
    uploaded_by: Mapped[User] = relationship()


class Assessment(db.Model):
    """A trainer's verdict on one attempt. Append-only."""

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        sa.ForeignKey("attempts.id", ondelete="RESTRICT"), index=True
    )
    assessor_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    verdict: Mapped[Verdict] = mapped_column(enum_column(Verdict, "assessment_verdict"))
    feedback: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = created_at_column()

    attempt: Mapped[Attempt] = relationship(back_populates="assessments")
    assessor: Mapped[User] = relationship()


class WorkplaceConfirmation(db.Model):
    """The employer contact confirms the assignment was carried out at their workplace, or says that
    it was not (``carried_out`` false, with a remark that says why)."""

    __tablename__ = "workplace_confirmations"
    __table_args__ = (
        sa.CheckConstraint("carried_out OR remark <> ''", name="not_carried_out_has_remark"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    attempt_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("attempts.id", ondelete="SET NULL")
    )
    confirmed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    remark: Mapped[str] = mapped_column(sa.Text, default="")
    confirmed_at: Mapped[datetime] = created_at_column()
    carried_out: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    submission: Mapped[Submission] = relationship(back_populates="workplace_confirmations")
    confirmed_by: Mapped[User] = relationship()
