"""Workplace hours (BPV-uren): the participant logs per week the hours worked at the workplace and,
of those, the hours spent learning; the employer's contact approves them."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms import clock
from lms.extensions import db
from lms.models.base import InvalidTransition, UTCDateTime, created_at_column, enum_column

if TYPE_CHECKING:
    from lms.models.cohorts import Enrolment
    from lms.models.people import User

MAX_HOURS_PER_WEEK = 60  # the Arbeidstijdenwet's weekly maximum


class HoursStatus(enum.StrEnum):
    SUBMITTED = "submitted"  # waits for the employer's contact
    APPROVED = "approved"
    RETURNED = "returned"  # sent back with a remark; the participant corrects and submits again


class WorkplaceHours(db.Model):
    __tablename__ = "workplace_hours"
    __table_args__ = (
        sa.UniqueConstraint("enrolment_id", "week_start"),
        sa.CheckConstraint(
            f"hours_worked >= 0 AND hours_worked <= {MAX_HOURS_PER_WEEK}", name="hours_worked_range"
        ),
        sa.CheckConstraint(
            "hours_learning >= 0 AND hours_learning <= hours_worked", name="hours_learning_range"
        ),
        sa.CheckConstraint(
            "(status = 'approved' AND approved_at IS NOT NULL AND approved_by_id IS NOT NULL)"
            " OR (status <> 'approved' AND approved_at IS NULL AND approved_by_id IS NULL)",
            name="approval_matches_status",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("enrolments.id", ondelete="RESTRICT"), index=True
    )
    week_start: Mapped[date]  # the Monday of the week
    hours_worked: Mapped[float] = mapped_column(sa.Numeric(4, 1, asdecimal=False))
    hours_learning: Mapped[float] = mapped_column(sa.Numeric(4, 1, asdecimal=False), default=0)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[HoursStatus] = mapped_column(
        enum_column(HoursStatus, "hours_status"), default=HoursStatus.SUBMITTED, index=True
    )
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=clock.now, onupdate=clock.now
    )
    approved_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The contact's remark when sending the week back (or with the approval).
    employer_remark: Mapped[str] = mapped_column(sa.Text, default="")

    enrolment: Mapped[Enrolment] = relationship()
    approved_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<WorkplaceHours enrolment {self.enrolment_id} week {self.week_start}>"

    @property
    def is_approved(self) -> bool:
        return self.status is HoursStatus.APPROVED

    def approve(self, by: User, at: datetime, remark: str = "") -> None:
        if self.status is not HoursStatus.SUBMITTED:
            raise InvalidTransition(f"hours in status {self.status} cannot be approved")
        self.status = HoursStatus.APPROVED
        self.approved_by = by
        self.approved_at = at
        self.employer_remark = remark

    def send_back(self, remark: str) -> None:
        if self.status is not HoursStatus.SUBMITTED:
            raise InvalidTransition(f"hours in status {self.status} cannot be sent back")
        self.status = HoursStatus.RETURNED
        self.employer_remark = remark

    def resubmit(self) -> None:
        """A changed week goes back to the contact; an approved week is final."""
        if self.status is HoursStatus.APPROVED:
            raise InvalidTransition("approved hours cannot be changed")
        self.status = HoursStatus.SUBMITTED
