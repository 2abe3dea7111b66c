"""The school calendar: holidays and closed days that programme weeks skip.

A school year's calendar is loaded from a file in ``curriculum/calendar/`` (``lms calendar load``); a
cohort's own exceptions (a company shutdown week) are closures of that cohort alone, added by the
coordinator, as is a training day held on another day (``TrainingDayMove``). Public holidays are not
stored: ``lms.holidays`` computes them.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models.base import created_at_column, enum_column

if TYPE_CHECKING:
    from lms.models.people import User


class ClosureKind(enum.StrEnum):
    # The school holidays of region Zuid, one of each per school year.
    AUTUMN = "autumn"  # herfstvakantie
    CHRISTMAS = "christmas"  # kerstvakantie
    SPRING = "spring"  # voorjaarsvakantie (in Limburg: the Carnaval week)
    MAY = "may"  # meivakantie
    SUMMER = "summer"  # zomervakantie
    # The programme's own closed days (in the calendar file).
    CLOSED = "closed"
    # A cohort's own exception (added on the cohort page).
    COHORT = "cohort"


SCHOOL_HOLIDAYS = (
    ClosureKind.AUTUMN,
    ClosureKind.CHRISTMAS,
    ClosureKind.SPRING,
    ClosureKind.MAY,
    ClosureKind.SUMMER,
)


class SchoolCalendar(db.Model):
    __tablename__ = "school_calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_year: Mapped[str] = mapped_column(sa.String(9), unique=True)  # "2026-2027"
    first_day: Mapped[date]  # 1 August of its first year
    last_day: Mapped[date]  # 31 July of its second year
    region: Mapped[str] = mapped_column(sa.String(20))
    source: Mapped[str] = mapped_column(sa.Text)  # where the dates come from
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    source_file: Mapped[str] = mapped_column(sa.String(255))
    loaded_at: Mapped[datetime] = created_at_column()

    closures: Mapped[list[CalendarClosure]] = relationship(
        back_populates="calendar",
        cascade="all, delete-orphan",
        order_by="CalendarClosure.first_day",
    )


class CalendarClosure(db.Model):
    """Days on which the programme does not run: of a school year (holiday, closed day) or of one
    cohort (its exception). A programme week whose working days are all closed is not counted."""

    __tablename__ = "calendar_closures"
    __table_args__ = (
        sa.CheckConstraint("first_day <= last_day", name="days_ordered"),
        sa.CheckConstraint(
            "(calendar_id IS NULL) <> (cohort_id IS NULL)", name="of_a_calendar_or_a_cohort"
        ),
        sa.Index("ix_calendar_closures_days", "first_day", "last_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("school_calendars.id", ondelete="CASCADE"), index=True
    )
    cohort_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("cohorts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ClosureKind] = mapped_column(enum_column(ClosureKind, "closure_kind"))
    name: Mapped[str] = mapped_column(sa.String(120))
    first_day: Mapped[date]
    last_day: Mapped[date]
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = created_at_column()

    calendar: Mapped[SchoolCalendar | None] = relationship(back_populates="closures")
    created_by: Mapped[User | None] = relationship()

    def covers(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day


class TrainingDayMove(db.Model):
    """One training day of a cohort held on another day (a changed training day): the group is with
    the trainer on ``moved_to`` instead of ``moved_from``. Its weeks do not change: the day moves,
    the programme does not pause (``lms.services.attendance.Schedule``)."""

    __tablename__ = "training_day_moves"
    __table_args__ = (
        sa.UniqueConstraint("cohort_id", "moved_from"),
        sa.UniqueConstraint("cohort_id", "moved_to"),
        sa.CheckConstraint("moved_from <> moved_to", name="moved_elsewhere"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cohorts.id", ondelete="CASCADE"), index=True
    )
    moved_from: Mapped[date]
    moved_to: Mapped[date]
    reason: Mapped[str] = mapped_column(sa.String(120))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = created_at_column()

    created_by: Mapped[User | None] = relationship()
