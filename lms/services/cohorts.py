"""Cohorts: forming, changing, closing and reopening a group, and the dates of its year.

Functions flush, never commit: the route or command that calls them commits once. Each change is
recorded as an audit event.

The dates follow one rule, the one ``Cohort.due_date`` uses: week 1 starts on the start date (a Monday),
the weeks the school calendar closes are skipped (``lms.services.school_calendar``), and a week's work
is due on its Friday. So a cohort ends on the Friday of the programme's last week.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from lms.extensions import db
from lms.models import Cohort, Enrolment, Programme, Region, Role, User
from lms.models.cohorts import DEFAULT_CAPACITY, TRAINING_WEEKDAYS, format_weeks, weekday_bits
from lms.services import audit, characters, progress, school_calendar
from lms.services.enrolment import lock_cohort, seats_taken

# Groups of at most twelve (the programme's design); the coordinator may set fewer seats.
MAX_CAPACITY = DEFAULT_CAPACITY
MONDAY = 0


class CohortError(ValueError):
    """A cohort change that the rules refuse. ``field`` names the form field the message belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class CalendarDates:
    teaching_weeks: str  # for Cohort.teaching_weeks
    end_date: date


def calendar_dates(
    programme: Programme, start_date: date, cohort_id: int | None = None
) -> CalendarDates:
    """A cohort's programme weeks and end date by the loaded school calendar (and, for an existing
    cohort, its own exceptions)."""
    weeks = school_calendar.plan_weeks(start_date, programme.duration_weeks, cohort_id)
    return CalendarDates(format_weeks(weeks), school_calendar.end_date_of(weeks))


def end_date_for(programme: Programme, start_date: date) -> date:
    """The last day of a new cohort: the Friday of the programme's last week."""
    return calendar_dates(programme, start_date).end_date


def create_cohort(
    *,
    name: str,
    region: Region,
    programme: Programme,
    start_date: date,
    trainers: Sequence[User],
    actor: User,
    capacity: int = DEFAULT_CAPACITY,
    training_weekdays: Sequence[int] | None = None,
) -> Cohort:
    """A new, open cohort pinned to ``programme`` for its whole life. Its training day(s) default to
    the weekday of the start date."""
    name = name.strip()
    _check_name(name)
    _check_start_date(start_date)
    if training_weekdays is None:
        training_weekdays = [start_date.weekday()]
    _check_training_weekdays(training_weekdays)
    _check_capacity(capacity)
    _check_trainers(trainers)
    dates = calendar_dates(programme, start_date)
    cohort = Cohort(
        name=name,
        region=region,
        programme=programme,
        start_date=start_date,
        end_date=dates.end_date,
        teaching_weeks=dates.teaching_weeks,
        capacity=capacity,
        training_days=weekday_bits(training_weekdays),
        trainers=list(trainers),
    )
    db.session.add(cohort)
    db.session.flush()
    audit.record(
        "cohort.create",
        actor,
        cohort,
        name=cohort.name,
        region=region.value,
        programme=f"{programme.code} v{programme.version}",
        start_date=start_date.isoformat(),
        end_date=cohort.end_date.isoformat(),
        capacity=capacity,
        training_weekdays=sorted(set(training_weekdays)),
        trainers=[trainer.email for trainer in trainers],
    )
    return cohort


def update_cohort(
    cohort: Cohort,
    *,
    name: str,
    region: Region,
    start_date: date,
    capacity: int,
    trainers: Sequence[User],
    actor: User,
    training_weekdays: Sequence[int] | None = None,
) -> dict[str, list[object]]:
    """Change a cohort's name, region, start date (the end date follows), capacity, trainers and
    training day(s) (None: unchanged). Attendance recorded on a day that is no longer a training day
    stays recorded.

    The programme version stays pinned. The capacity never drops below the seats already taken; the
    cohort row is locked while counting, so an enrolment at the same moment cannot slip past.
    Returns what changed, as {field: [old, new]} (empty when nothing did).
    """
    name = name.strip()
    _check_name(name, ignore=cohort)
    _check_start_date(start_date)
    _check_capacity(capacity)
    _check_trainers(trainers)
    if training_weekdays is None:
        training_weekdays = cohort.training_weekdays
    _check_training_weekdays(training_weekdays)
    cohort = lock_cohort(cohort.id)
    taken = seats_taken(cohort)
    if capacity < taken:
        raise CohortError(
            _(
                "%(taken)d seats are taken, so the capacity cannot be lower than %(taken)d.",
                taken=taken,
            ),
            field="capacity",
        )
    dates = calendar_dates(cohort.programme, start_date, cohort.id)
    new_values: dict[str, object] = {
        "name": name,
        "region": region.value,
        "start_date": start_date.isoformat(),
        "end_date": dates.end_date.isoformat(),
        "capacity": capacity,
        "trainers": sorted(trainer.email for trainer in trainers),
        "training_weekdays": sorted(set(training_weekdays)),
    }
    old_values: dict[str, object] = {
        "name": cohort.name,
        "region": Region(cohort.region).value,
        "start_date": cohort.start_date.isoformat(),
        "end_date": cohort.end_date.isoformat(),
        "capacity": cohort.capacity,
        "trainers": sorted(trainer.email for trainer in cohort.trainers),
        "training_weekdays": list(cohort.training_weekdays),
    }
    changes = {
        key: [old_values[key], new_values[key]]
        for key in new_values
        if old_values[key] != new_values[key]
    }
    if not changes:
        return changes
    cohort.name = name
    cohort.region = region
    cohort.start_date = start_date
    cohort.end_date = dates.end_date
    cohort.teaching_weeks = dates.teaching_weeks
    cohort.capacity = capacity
    cohort.trainers = list(trainers)
    cohort.training_days = weekday_bits(training_weekdays)
    db.session.flush()
    audit.record("cohort.update", actor, cohort, changes=changes)
    if "start_date" in changes or "end_date" in changes:  # every due date moves with it
        progress.refresh_summaries(
            db.session.scalars(sa.select(Enrolment.id).where(Enrolment.cohort_id == cohort.id))
        )
    return changes


def close_cohort(cohort: Cohort, *, actor: User, now: datetime) -> None:
    """Close a cohort: it takes no more enrolments and leaves the trainers' list of active cohorts.
    Enrolments stay as they are."""
    if cohort.is_closed:
        raise CohortError(_("Cohort %(name)s is already closed.", name=cohort.name))
    cohort.closed_at = now
    db.session.flush()
    audit.record(
        "cohort.close", actor, cohort, name=cohort.name, active_enrolments=seats_taken(cohort)
    )


def reopen_cohort(cohort: Cohort, *, actor: User) -> None:
    """Open a closed cohort again, for enrolments and on the trainers' lists."""
    if not cohort.is_closed:
        raise CohortError(_("Cohort %(name)s is open already.", name=cohort.name))
    cohort.closed_at = None
    db.session.flush()
    audit.record("cohort.reopen", actor, cohort, name=cohort.name)


def _check_name(name: str, ignore: Cohort | None = None) -> None:
    if not name:
        raise CohortError(_("Give the cohort a name."), field="name")
    problem = characters.name_problem(name)
    if problem:
        raise CohortError(problem, field="name")
    query = sa.select(Cohort.id).where(sa.func.lower(Cohort.name) == name.lower())
    if ignore is not None:
        query = query.where(Cohort.id != ignore.id)
    if db.session.scalar(query) is not None:
        raise CohortError(
            _("There is already a cohort called %(name)s. Choose another name.", name=name),
            field="name",
        )


def start_date_problem(start_date: date) -> str | None:
    """Why ``start_date`` cannot start a cohort, or None. Week 1 starts on it, so it is a Monday."""
    if start_date.weekday() != MONDAY:
        return _("Choose a Monday: week 1 of the programme starts on the start date.")
    return None


def _check_start_date(start_date: date) -> None:
    problem = start_date_problem(start_date)
    if problem:
        raise CohortError(problem, field="start_date")


def _check_capacity(capacity: int) -> None:
    if not 1 <= capacity <= MAX_CAPACITY:
        raise CohortError(
            _("The capacity is at least 1 and at most %(max)d seats.", max=MAX_CAPACITY),
            field="capacity",
        )


def _check_training_weekdays(weekdays: Sequence[int]) -> None:
    if not weekdays:
        raise CohortError(_("Choose at least one training day."), field="training_days")
    if any(weekday not in TRAINING_WEEKDAYS for weekday in weekdays):
        raise CohortError(_("Training days are from Monday to Friday."), field="training_days")


def _check_trainers(trainers: Sequence[User]) -> None:
    if not trainers:
        raise CohortError(_("Choose at least one trainer."), field="trainers")
    if any(trainer.role is not Role.TRAINER for trainer in trainers):
        raise CohortError(_("Only trainers can be assigned to a cohort."), field="trainers")
