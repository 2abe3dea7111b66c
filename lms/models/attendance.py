"""Attendance on the training days: one session per cohort and date, one record per participant."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models.base import UTCDateTime, created_at_column, enum_column

if TYPE_CHECKING:
    from lms.models.cohorts import Cohort, Enrolment
    from lms.models.people import User


class AttendanceStatus(enum.StrEnum):
    PRESENT = "present"  # aanwezig
    LATE = "late"  # te laat (counts as attended)
    ABSENT = "absent"  # afwezig, always with a reason


class AbsenceReason(enum.StrEnum):
    SICK = "sick"  # ziek
    AUTHORISED = "authorised"  # geoorloofd
    UNAUTHORISED = "unauthorised"  # ongeoorloofd


class AttendanceSession(db.Model):
    """A training day of a cohort whose attendance has been recorded (recording it again updates it)."""

    __tablename__ = "attendance_sessions"
    __table_args__ = (sa.UniqueConstraint("cohort_id", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohorts.id", ondelete="CASCADE"))
    held_on: Mapped[date]
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    recorded_at: Mapped[datetime] = created_at_column()
    # The last time it was recorded again (None: never changed since).
    updated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    cohort: Mapped[Cohort] = relationship()
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    records: Mapped[list[AttendanceRecord]] = relationship(
        back_populates="session", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<AttendanceSession {self.cohort_id} {self.held_on}>"


class AttendanceRecord(db.Model):
    __tablename__ = "attendance_records"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "enrolment_id"),
        sa.CheckConstraint(
            "(status = 'absent' AND reason IS NOT NULL) OR (status <> 'absent' AND reason IS NULL)",
            name="reason_when_absent",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("attendance_sessions.id", ondelete="CASCADE")
    )
    enrolment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("enrolments.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[AttendanceStatus] = mapped_column(
        enum_column(AttendanceStatus, "attendance_status")
    )
    reason: Mapped[AbsenceReason | None] = mapped_column(
        enum_column(AbsenceReason, "absence_reason")
    )
    note: Mapped[str] = mapped_column(sa.Text, default="")

    session: Mapped[AttendanceSession] = relationship(back_populates="records")
    enrolment: Mapped[Enrolment] = relationship()

    @property
    def attended(self) -> bool:
        return self.status is not AttendanceStatus.ABSENT
