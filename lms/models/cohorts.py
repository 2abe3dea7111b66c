"""Cohorts (groups of twelve per region) and the enrolments of participants in them."""

from __future__ import annotations

import enum
from bisect import bisect_right
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms import clock
from lms.extensions import db
from lms.models.base import Region, UTCDateTime, created_at_column, enum_column

if TYPE_CHECKING:
    from lms.models.curriculum import Programme
    from lms.models.people import Employer, User
    from lms.models.progress import CohortSummary, ProgressSummary

DEFAULT_CAPACITY = 12


TRAINING_WEEKDAYS = range(5)  # Monday (0) to Friday (4)


def weekday_bits(weekdays: Iterable[int]) -> int:
    """Weekdays (0 = Monday ... 4 = Friday) as the bits of ``Cohort.training_days``."""
    bits = 0
    for weekday in weekdays:
        if weekday not in TRAINING_WEEKDAYS:
            raise ValueError(f"not a weekday from Monday to Friday: {weekday}")
        bits |= 1 << weekday
    return bits


def weekdays_of(bits: int) -> tuple[int, ...]:
    return tuple(weekday for weekday in TRAINING_WEEKDAYS if bits & (1 << weekday))


def _start_weekday_bit(context: Any) -> int:
    """The default training day: the weekday of the start date (Monday for a weekend day)."""
    start = context.get_current_parameters().get("start_date")
    weekday = start.weekday() if isinstance(start, date) else 0
    return 1 << (weekday if weekday in TRAINING_WEEKDAYS else 0)


class CohortTrainer(db.Model):
    __tablename__ = "cohort_trainers"

    cohort_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True
    )
    trainer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    assigned_at: Mapped[datetime] = created_at_column()


class Cohort(db.Model):
    __tablename__ = "cohorts"
    __table_args__ = (
        sa.CheckConstraint("capacity > 0", name="capacity_positive"),
        sa.CheckConstraint("start_date < end_date", name="dates_ordered"),
        sa.CheckConstraint("training_days BETWEEN 1 AND 31", name="training_days_weekdays"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    region: Mapped[Region] = mapped_column(enum_column(Region, "cohort_region"), index=True)
    # Pinned for the cohort's whole life: a new curriculum version never changes a running cohort.
    programme_id: Mapped[int] = mapped_column(
        sa.ForeignKey("programmes.id", ondelete="RESTRICT"), index=True
    )
    start_date: Mapped[date]
    end_date: Mapped[date]
    # The first day (a Monday) of each programme week, ISO dates separated by spaces: the weeks of the
    # school calendar that are not holidays (lms.services.school_calendar). Empty: every week from
    # the start date on, one after the other.
    teaching_weeks: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # The weekdays on which the group spends the day with the trainer, as bits (Monday = 1, Tuesday =
    # 2, Wednesday = 4, ...; Monday to Friday only): see ``training_weekdays``. By default the
    # weekday of the start date.
    training_days: Mapped[int] = mapped_column(sa.SmallInteger, default=_start_weekday_bit)
    capacity: Mapped[int] = mapped_column(default=DEFAULT_CAPACITY)
    created_at: Mapped[datetime] = created_at_column()
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    programme: Mapped[Programme] = relationship()
    trainers: Mapped[list[User]] = relationship(
        secondary="cohort_trainers", back_populates="trained_cohorts", order_by="User.sort_key"
    )
    enrolments: Mapped[list[Enrolment]] = relationship(back_populates="cohort")
    # The enrolments counted (the progress read model's row, written only by
    # lms.services.progress), to load with the cohorts of a page that shows many.
    summary: Mapped[CohortSummary | None] = relationship(viewonly=True)

    def __repr__(self) -> str:
        return f"<Cohort {self.name}>"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def training_weekdays(self) -> tuple[int, ...]:
        """The training weekdays, 0 (Monday) to 4 (Friday), in order."""
        return weekdays_of(self.training_days)

    @training_weekdays.setter
    def training_weekdays(self, weekdays: Iterable[int]) -> None:
        self.training_days = weekday_bits(weekdays)

    def week_start(self, week: int) -> date:
        """The Monday of programme week ``week`` (week 1 starts on the start date); a week past the
        stored ones follows the last one directly."""
        weeks = _parse_weeks(self.teaching_weeks)
        if not weeks:
            return self.start_date + timedelta(weeks=week - 1)
        if week <= len(weeks):
            return weeks[max(week, 1) - 1]
        return weeks[-1] + timedelta(weeks=week - len(weeks))

    def due_date(self, due_week: int) -> date:
        """The Friday of the given week of the programme."""
        return self.week_start(due_week) + timedelta(days=4)

    def week_of_programme(self, on: date) -> int:
        """1 in the first week, ... ; 0 before the start. In a holiday week, the week before it:
        the count pauses."""
        if on < self.start_date:
            return 0
        weeks = _parse_weeks(self.teaching_weeks)
        if not weeks:
            return (on - self.start_date).days // 7 + 1
        counted = bisect_right(weeks, on)
        if counted == len(weeks) and on > weeks[-1] + timedelta(days=6):
            return counted + (on - weeks[-1]).days // 7  # after the end, as before the calendar
        return counted

    def holiday_weeks(self) -> frozenset[date]:
        """The Mondays of the weeks between the start and the last programme week that the programme
        skips (holidays, closed weeks)."""
        return _holiday_weeks(self.start_date, self.teaching_weeks)

    def quiet_days(self, since: date, until: date) -> int:
        """The days after ``since`` up to ``until`` that count for inactivity: every day but those of
        the weeks the programme skips (nobody is expected to work on the programme in a holiday)."""
        if until <= since:
            return 0
        days = (until - since).days
        for monday in self.holiday_weeks():
            first, last = (
                max(monday, since + timedelta(days=1)),
                min(monday + timedelta(days=6), until),
            )
            if first <= last:
                days -= (last - first).days + 1
        return days

    def quiet_until(self, since: date, days: int) -> date:
        """The first day on which ``quiet_days(since, day)`` reaches ``days``."""
        day = since + timedelta(days=days)
        while (short := days - self.quiet_days(since, day)) > 0:
            day += timedelta(days=short)
        return day

    def in_holiday(self, on: date) -> bool:
        """Whether ``on`` falls in a week the programme skips, between its start and its end."""
        if not self.start_date <= on <= self.end_date or not self.teaching_weeks:
            return False
        monday = on - timedelta(days=on.weekday())
        return monday not in _parse_weeks(self.teaching_weeks)


@lru_cache(maxsize=4096)
def _parse_weeks(text: str) -> tuple[date, ...]:
    """``Cohort.teaching_weeks`` as dates (cached: pages ask for many due dates of few cohorts)."""
    return tuple(date.fromisoformat(day) for day in text.split())


@lru_cache(maxsize=1024)
def _holiday_weeks(start: date, text: str) -> frozenset[date]:
    weeks = _parse_weeks(text)
    if not weeks:
        return frozenset()
    counted = set(weeks)
    span = (weeks[-1] - start).days // 7 + 1
    return frozenset(
        monday
        for monday in (start + timedelta(weeks=n) for n in range(span))
        if monday not in counted
    )


def format_weeks(weeks: tuple[date, ...] | list[date]) -> str:
    return " ".join(day.isoformat() for day in weeks)


class IntakeType(enum.StrEnum):
    SIDE_ENTRANT = "side_entrant"  # zij-instromer
    EMPLOYED = "employed"  # already working at the SME


class EnrolmentStatus(enum.StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"
    TRANSFERRED = "transferred"


class Enrolment(db.Model):
    __tablename__ = "enrolments"
    # No unique (cohort, participant): a transfer back into a cohort the participant left starts a new
    # enrolment there (see ``lms.services.enrolment``); the ended one stays as history.
    __table_args__ = (
        # A participant is never in two active enrolments at once.
        sa.Index(
            "uq_enrolments_one_active_per_participant",
            "participant_id",
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        ),
        sa.CheckConstraint(
            "(status = 'active' AND ended_on IS NULL)"
            " OR (status <> 'active' AND ended_on IS NOT NULL)",
            name="ended_on_matches_status",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cohorts.id", ondelete="RESTRICT"), index=True
    )
    # Indexed on its own: the partial index covers active enrolments only, but progress reads every
    # enrolment of a participant (transfer chains).
    participant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    employer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("employers.id", ondelete="RESTRICT"), index=True
    )
    intake_type: Mapped[IntakeType] = mapped_column(enum_column(IntakeType, "intake_type"))
    status: Mapped[EnrolmentStatus] = mapped_column(
        enum_column(EnrolmentStatus, "enrolment_status"), default=EnrolmentStatus.ACTIVE
    )
    enrolled_on: Mapped[date]
    ended_on: Mapped[date | None]
    end_reason: Mapped[str] = mapped_column(sa.Text, default="")
    # A transfer ends this enrolment and starts one in the other cohort that points back here.
    transferred_from_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("enrolments.id", ondelete="RESTRICT"), unique=True
    )
    created_at: Mapped[datetime] = created_at_column()
    # When the enrolment row itself last changed (status, employer, ...); the API's "updated since".
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=clock.now, onupdate=clock.now, index=True
    )

    cohort: Mapped[Cohort] = relationship(back_populates="enrolments")
    participant: Mapped[User] = relationship(
        back_populates="enrolments", foreign_keys=[participant_id]
    )
    employer: Mapped[Employer] = relationship()
    transferred_from: Mapped[Enrolment | None] = relationship(remote_side=[id])
    # The progress read model's row, to load with the enrolment on a page of one person (written
    # only by lms.services.progress).
    summary: Mapped[ProgressSummary | None] = relationship(viewonly=True)

    def __repr__(self) -> str:
        return f"<Enrolment {self.participant_id} in {self.cohort_id} ({self.status.value})>"

    @property
    def is_active(self) -> bool:
        return self.status is EnrolmentStatus.ACTIVE
