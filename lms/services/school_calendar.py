"""The school calendar: which weeks of the year a cohort's programme counts.

A school year's holidays (region Zuid) and the programme's own closed days come from a file in
``curriculum/calendar/``, validated and loaded like the curriculum (``lms calendar load``). A cohort
may have its own exceptions (a company shutdown week), added by the coordinator. Public holidays come
from ``lms.holidays``, the one place that knows them.

Programme week N is the cohort's Nth *teaching* week: a week counts unless every working day in it
(Monday to Friday) is closed. The first day of each counted week is stored on the cohort
(``Cohort.teaching_weeks``), so due dates, "week X of 40", the end date and everything computed from
them follow the calendar without asking the database again. When the calendar changes, ``lms calendar
apply`` lists (``--dry-run``) and then makes the changes for the cohorts still running.

Functions flush, never commit: the caller commits once.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Literal

import sqlalchemy as sa
from flask_babel import gettext as _
from pydantic import Field, StringConstraints, ValidationError

from lms.dates import short_date
from lms.extensions import db
from lms.holidays import is_public_holiday
from lms.i18n import day_with_weekday
from lms.models import (
    Assignment,
    CalendarClosure,
    ClosureKind,
    Cohort,
    Enrolment,
    Period,
    Programme,
    SchoolCalendar,
    TrainingDayMove,
    User,
)
from lms.models.calendar import SCHOOL_HOLIDAYS
from lms.models.cohorts import format_weeks
from lms.services import audit, characters, progress
from lms.services.curriculum import (
    Description,
    Problem,
    ShortTitle,
    Spec,
    _from_pydantic,
    _parse_yaml,
    _read_text,
    duplicate_key_problems,
    format_problems,
)

CALENDAR_DIR = Path(__file__).resolve().parent.parent.parent / "curriculum" / "calendar"
WORKING_DAYS = 5  # Monday to Friday
# A cohort's own exception is a few days or weeks (a shutdown), not a second summer.
MAX_EXCEPTION_DAYS = 6 * 7
CLOSURE_NAME_LENGTH = 120


class CalendarError(ValueError):
    """A calendar file or a cohort exception that cannot be taken; the message says why."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# --- the file's shape -------------------------------------------------------------------------


class HolidaySpec(Spec):
    # Lax here only, so that the YAML string "autumn" becomes the enum.
    kind: Annotated[ClosureKind, Field(strict=False)]
    name: ShortTitle
    first_day: date
    last_day: date


class ClosedDaySpec(Spec):
    name: ShortTitle
    first_day: date
    last_day: date


class CalendarSpec(Spec):
    school_year: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{4}$")]
    region: Literal["zuid"]
    source: Annotated[Description, StringConstraints(min_length=1)]
    holidays: Annotated[list[HolidaySpec], Field(min_length=1)]
    closed_days: list[ClosedDaySpec] = []

    @property
    def first_year(self) -> int:
        return int(self.school_year[:4])

    @property
    def first_day(self) -> date:
        return date(self.first_year, 8, 1)

    @property
    def last_day(self) -> date:
        """The end of its summer holiday (the school year ends with it)."""
        return max(holiday.last_day for holiday in self.holidays)


def read_calendar(path: Path) -> CalendarSpec:
    """Parse and validate a calendar file; raise CalendarError listing every problem."""
    path = Path(path)
    try:
        text = _read_text(path)
        root, data = _parse_yaml(path, text)
    except ValueError as error:  # the curriculum's reader says what is wrong with the file
        raise CalendarError(str(error)) from None
    problems = list(duplicate_key_problems(root))
    spec = None
    if data is None:
        problems.append(Problem((), "the file is empty"))
    else:
        try:
            spec = CalendarSpec.model_validate(data)
        except ValidationError as error:
            problems += [_from_pydantic(detail) for detail in error.errors(include_url=False)]
    if spec is not None:
        problems += calendar_problems(spec)
    if problems:
        raise CalendarError(format_problems(path, problems, root))
    assert spec is not None
    return spec


def calendar_problems(spec: CalendarSpec) -> list[Problem]:
    """The rules pydantic's field checks cannot see."""
    problems = []
    year = spec.first_year
    if int(spec.school_year[5:]) != year + 1:
        problems.append(Problem(("school_year",), "write two years in a row, e.g. 2026-2027"))
    earliest, latest = date(year, 8, 1), date(year + 1, 9, 30)
    kinds: dict[ClosureKind, int] = {}
    for index, holiday in enumerate(spec.holidays):
        loc = ("holidays", index)
        if holiday.kind not in SCHOOL_HOLIDAYS:
            problems.append(
                Problem(
                    (*loc, "kind"),
                    "a school holiday is one of: " + ", ".join(k.value for k in SCHOOL_HOLIDAYS),
                )
            )
        kinds[holiday.kind] = kinds.get(holiday.kind, 0) + 1
        problems += _range_problems(loc, holiday.first_day, holiday.last_day, earliest, latest)
    for kind in SCHOOL_HOLIDAYS:
        if kinds.get(kind, 0) != 1:
            problems.append(
                Problem(
                    ("holidays",),
                    f"list the {kind.value} holiday once (found {kinds.get(kind, 0)})",
                )
            )
    for index, closed in enumerate(spec.closed_days):
        problems += _range_problems(
            ("closed_days", index), closed.first_day, closed.last_day, earliest, latest
        )
    return problems


def _range_problems(
    loc: tuple[str | int, ...], first: date, last: date, earliest: date, latest: date
) -> list[Problem]:
    if first > last:
        return [Problem((*loc, "last_day"), "the last day comes before the first day")]
    if first < earliest or last > latest:
        return [
            Problem(
                (*loc, "first_day"),
                f"outside the school year ({earliest.isoformat()} to {latest.isoformat()})",
            )
        ]
    return []


# --- loading --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarLoad:
    spec: CalendarSpec
    action: str  # "loaded", "replaced", "unchanged"

    def describe(self) -> str:
        if self.action == "unchanged":
            return f"unchanged: school year {self.spec.school_year} already loaded"
        return (
            f"{self.action} school year {self.spec.school_year} ({len(self.spec.holidays)} holidays,"
            f" {len(self.spec.closed_days)} closed days); `lms calendar apply --dry-run` shows what"
            " it changes for the cohorts"
        )


def content_hash(spec: CalendarSpec) -> str:
    canonical = json.dumps(
        spec.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load_calendar_file(path: Path) -> CalendarLoad:
    """Make the database hold the school year of ``path`` (flush, no commit). Cohorts keep their
    weeks until ``apply_calendar`` moves them."""
    spec = read_calendar(path)
    digest = content_hash(spec)
    calendar = db.session.scalar(
        sa.select(SchoolCalendar).where(SchoolCalendar.school_year == spec.school_year)
    )
    if calendar is not None and calendar.content_hash == digest:
        return CalendarLoad(spec, "unchanged")
    action = "replaced"
    if calendar is None:
        action = "loaded"
        calendar = SchoolCalendar(school_year=spec.school_year)
        db.session.add(calendar)
    calendar.first_day = spec.first_day
    calendar.last_day = spec.last_day
    calendar.region = spec.region
    calendar.source = spec.source
    calendar.content_hash = digest
    calendar.source_file = Path(path).name
    calendar.closures = [
        CalendarClosure(
            kind=holiday.kind,
            name=holiday.name,
            first_day=holiday.first_day,
            last_day=holiday.last_day,
        )
        for holiday in spec.holidays
    ] + [
        CalendarClosure(
            kind=ClosureKind.CLOSED,
            name=closed.name,
            first_day=closed.first_day,
            last_day=closed.last_day,
        )
        for closed in spec.closed_days
    ]
    db.session.flush()
    return CalendarLoad(spec, action)


def load_calendar_files(paths: Iterable[Path]) -> list[CalendarLoad]:
    paths = list(paths)
    loads = [load_calendar_file(path) for path in paths]
    years = [load.spec.school_year for load in loads]
    for year in set(years):
        if years.count(year) > 1:
            raise CalendarError(f"school year {year} is in more than one file")
    return loads


def calendar_files() -> list[Path]:
    return sorted(CALENDAR_DIR.glob("*.y*ml"))


def ensure_loaded() -> None:
    """Load ``curriculum/calendar/`` when no school year is loaded yet (the demo's first run)."""
    if db.session.scalar(sa.select(SchoolCalendar.id).limit(1)) is None:
        load_calendar_files(calendar_files())


# --- counting weeks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    first_day: date
    last_day: date


def closures_between(
    first: date, last: date, cohort_id: int | None = None
) -> list[CalendarClosure]:
    """The school years' closures overlapping ``first``..``last``, and every exception of the cohort."""
    wanted = sa.and_(
        CalendarClosure.calendar_id.is_not(None),
        CalendarClosure.first_day <= last,
        CalendarClosure.last_day >= first,
    )
    if cohort_id is not None:
        wanted = sa.or_(wanted, CalendarClosure.cohort_id == cohort_id)
    return list(
        db.session.scalars(
            sa.select(CalendarClosure)
            .where(wanted)
            .order_by(CalendarClosure.first_day, CalendarClosure.id)
        )
    )


def count_weeks(start: date, weeks: int, closed: Sequence[Span]) -> list[date]:
    """The first day of each of ``weeks`` programme weeks from ``start`` (a Monday): every week whose
    working days are not all closed (by ``closed`` or a public holiday)."""

    def is_closed(day: date) -> bool:
        return is_public_holiday(day) or any(s.first_day <= day <= s.last_day for s in closed)

    counted: list[date] = []
    monday = start
    # However the calendar reads, the programme ends: at most as many weeks skipped as counted.
    for _week in range(2 * weeks + 1):
        if len(counted) == weeks:
            break
        if not all(is_closed(monday + timedelta(days=d)) for d in range(WORKING_DAYS)):
            counted.append(monday)
        monday += timedelta(weeks=1)
    while len(counted) < weeks:
        counted.append(counted[-1] + timedelta(weeks=1) if counted else start)
    return counted


def plan_weeks(start: date, weeks: int, cohort_id: int | None = None) -> list[date]:
    """A cohort's programme weeks from ``start`` by the loaded calendar (and its own exceptions)."""
    horizon = start + timedelta(weeks=2 * weeks + 1)
    closed = [Span(c.first_day, c.last_day) for c in closures_between(start, horizon, cohort_id)]
    return count_weeks(start, weeks, closed)


def end_date_of(weeks: Sequence[date]) -> date:
    """The cohort's last day: the Friday of its last programme week."""
    return weeks[-1] + timedelta(days=4)


def school_years_of(first: date, last: date) -> list[str]:
    """The school years (as "2026-2027") that ``first``..``last`` runs through; a school year here
    starts on 1 August."""
    years = range(_school_year(first), _school_year(last) + 1)
    return [f"{year}-{year + 1}" for year in years]


def _school_year(day: date) -> int:
    return day.year if day.month >= 8 else day.year - 1


def missing_school_years(first: date, last: date) -> list[str]:
    """The school years in ``first``..``last`` whose calendar is not loaded: their holidays count as
    programme weeks until it is (the cohort page warns)."""
    needed = school_years_of(first, last)
    loaded = set(
        db.session.scalars(
            sa.select(SchoolCalendar.school_year).where(SchoolCalendar.school_year.in_(needed))
        )
    )
    return [year for year in needed if year not in loaded]


# --- moving cohorts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MovedDate:
    code: str  # the assignment's code
    before: date
    after: date


@dataclass(frozen=True)
class CohortChange:
    cohort: Cohort
    weeks_before: list[date]
    weeks_after: list[date]
    moved: list[MovedDate]

    @property
    def end_before(self) -> date:
        return end_date_of(self.weeks_before)

    @property
    def end_after(self) -> date:
        return end_date_of(self.weeks_after)

    def describe(self) -> str:
        lines = [
            f"{self.cohort.name}: ends {self.end_before.isoformat()} -> {self.end_after.isoformat()},"
            f" {len(self.moved)} due dates move"
        ]
        lines += [
            f"  {m.code}: {m.before.isoformat()} -> {m.after.isoformat()}" for m in self.moved
        ]
        return "\n".join(lines)


def stored_weeks(cohort: Cohort) -> list[date]:
    weeks = cohort.programme.duration_weeks
    return [cohort.week_start(week) for week in range(1, weeks + 1)]


def change_for(cohort: Cohort) -> CohortChange | None:
    """What the calendar changes for ``cohort`` (None: nothing)."""
    before = stored_weeks(cohort)
    after = plan_weeks(cohort.start_date, cohort.programme.duration_weeks, cohort.id)
    if before == after and cohort.end_date == end_date_of(after):
        return None
    moved = []
    for assignment in cohort.programme.assignments:
        old = before[assignment.due_week - 1] + timedelta(days=4)
        new = after[assignment.due_week - 1] + timedelta(days=4)
        if old != new:
            moved.append(MovedDate(assignment.code, old, new))
    return CohortChange(cohort, before, after, moved)


def pending_changes(today: date) -> tuple[list[CohortChange], int]:
    """The changes for every open cohort that has not ended by ``today``, and how many ended cohorts
    are left as they are (their dates are history: certificates, overdue work)."""
    cohorts = db.session.scalars(
        sa.select(Cohort)
        .where(Cohort.closed_at.is_(None))
        .options(sa.orm.joinedload(Cohort.programme).selectinload(Programme.assignments))
        .order_by(Cohort.start_date, Cohort.name)
    ).unique()
    changes, ended = [], 0
    for cohort in cohorts:
        if cohort.end_date < today:
            ended += 1
            continue
        change = change_for(cohort)
        if change is not None:
            changes.append(change)
    return changes, ended


def apply_change(change: CohortChange, actor: User | None) -> None:
    """Store the cohort's new weeks and end date, with an audit record, and recompute its
    participants' progress (due dates, behind schedule)."""
    cohort = change.cohort
    cohort.teaching_weeks = format_weeks(change.weeks_after)
    cohort.end_date = change.end_after
    db.session.flush()
    audit.record(
        "cohort.calendar",
        actor,
        cohort,
        end_date=[change.end_before.isoformat(), change.end_after.isoformat()],
        moved={m.code: [m.before.isoformat(), m.after.isoformat()] for m in change.moved},
    )
    progress.refresh_summaries(
        db.session.scalars(sa.select(Enrolment.id).where(Enrolment.cohort_id == cohort.id))
    )


# --- a cohort's own exceptions --------------------------------------------------------------------

_SPACES = re.compile(r"\s+")


def add_exception(
    cohort: Cohort, *, name: str, first_day: date, last_day: date, actor: User
) -> CalendarClosure:
    """Close ``first_day``..``last_day`` for this cohort alone (e.g. the company's shutdown week):
    its weeks are counted again, its participants' due dates follow. Adding the same exception twice
    (a double click) returns the first."""
    name = _SPACES.sub(" ", name).strip()
    _check_exception(cohort, name, first_day, last_day)
    existing = db.session.scalar(
        sa.select(CalendarClosure).where(
            CalendarClosure.cohort_id == cohort.id,
            CalendarClosure.first_day == first_day,
            CalendarClosure.last_day == last_day,
        )
    )
    if existing is not None:
        return existing
    closure = CalendarClosure(
        cohort_id=cohort.id,
        kind=ClosureKind.COHORT,
        name=name,
        first_day=first_day,
        last_day=last_day,
        created_by=actor,
    )
    db.session.add(closure)
    db.session.flush()
    audit.record(
        "cohort.exception_add",
        actor,
        cohort,
        name=name,
        first_day=first_day.isoformat(),
        last_day=last_day.isoformat(),
    )
    _recount(cohort, actor)
    return closure


def remove_exception(closure: CalendarClosure, *, actor: User) -> None:
    cohort = db.session.get(Cohort, closure.cohort_id)
    assert cohort is not None
    audit.record(
        "cohort.exception_remove",
        actor,
        cohort,
        name=closure.name,
        first_day=closure.first_day.isoformat(),
        last_day=closure.last_day.isoformat(),
    )
    db.session.delete(closure)
    db.session.flush()
    _recount(cohort, actor)


def _recount(cohort: Cohort, actor: User) -> None:
    change = change_for(cohort)
    if change is not None:
        apply_change(change, actor)


def _check_exception(cohort: Cohort, name: str, first_day: date, last_day: date) -> None:
    if not name:
        raise CalendarError(
            _("Say why the cohort is closed, e.g. the company's shutdown week."), "name"
        )
    problem = characters.text_problem(name)
    if problem:
        raise CalendarError(problem, "name")
    if len(name) > CLOSURE_NAME_LENGTH:
        raise CalendarError(_("Keep it to %(max)d characters.", max=CLOSURE_NAME_LENGTH), "name")
    if last_day < first_day:
        raise CalendarError(_("The last day comes before the first day."), "last_day")
    if (last_day - first_day).days + 1 > MAX_EXCEPTION_DAYS:
        raise CalendarError(
            _("An exception lasts at most %(weeks)d weeks.", weeks=MAX_EXCEPTION_DAYS // 7),
            "last_day",
        )
    if first_day < cohort.start_date or first_day > cohort.end_date:
        raise CalendarError(
            _(
                "Choose a day between the cohort's start (%(start)s) and end (%(end)s).",
                start=short_date(cohort.start_date),
                end=short_date(cohort.end_date),
            ),
            "first_day",
        )


# --- the year as a plan ---------------------------------------------------------------------------

REVIEW_EVERY_WEEKS = (
    12  # lms.services.reviews: a progress review is due twelve weeks after the last
)


class PlanKind(enum.StrEnum):
    START = "start"
    PERIOD = "period"
    CLOSED = "closed"  # a school holiday, a closed day of the programme, the cohort's exception
    MOVED = "moved"  # a training day held on another day (on the day it moved to)
    DUE = "due"  # an assignment's due date
    REVIEW = "review"  # a progress review, by the rhythm of twelve programme weeks
    END = "end"


@dataclass(frozen=True)
class PlanLine:
    kind: PlanKind
    first_day: date
    last_day: date | None  # for what lasts more than a day
    title: str
    week: int | None = None  # the programme week it falls in
    # What the line is about (a period, an assignment, a closure), for whoever needs more than the
    # title: the calendar feed's stable event ids.
    subject: Period | Assignment | CalendarClosure | TrainingDayMove | None = None


def year_plan(
    cohort: Cohort,
    closures: Sequence[CalendarClosure],
    moves: Sequence[TrainingDayMove] = (),
) -> list[PlanLine]:
    """The cohort's year in date order: start, periods, ``closures`` (``closures_between`` the
    cohort's start and end), training days held on another day (``moves``, the cohort's), due
    dates, review moments and end. ``cohort.programme`` with its periods and assignments is read."""
    programme = cohort.programme
    lines = [PlanLine(PlanKind.START, cohort.start_date, None, "", 1)]
    lines += [
        PlanLine(
            PlanKind.PERIOD,
            cohort.week_start(period.start_week),
            cohort.due_date(period.end_week),
            f"{period.code} {period.title}",
            period.start_week,
            period,
        )
        for period in programme.periods
    ]
    lines += [
        PlanLine(PlanKind.CLOSED, c.first_day, c.last_day, c.name, subject=c)
        for c in closures
        if c.first_day <= cohort.end_date and c.last_day >= cohort.start_date
    ]
    lines += [
        PlanLine(
            PlanKind.MOVED,
            move.moved_to,
            None,
            _(
                "instead of %(date)s: %(reason)s",
                date=day_with_weekday(move.moved_from),
                reason=move.reason,
            ),
            cohort.week_of_programme(move.moved_to),
            move,
        )
        for move in moves
    ]
    lines += [
        PlanLine(
            PlanKind.DUE,
            cohort.due_date(assignment.due_week),
            None,
            f"{assignment.code} {assignment.title}",
            assignment.due_week,
            assignment,
        )
        for assignment in programme.assignments
    ]
    lines += [
        PlanLine(PlanKind.REVIEW, cohort.week_start(week), None, "", week)
        for week in range(REVIEW_EVERY_WEEKS, programme.duration_weeks + 1, REVIEW_EVERY_WEEKS)
    ]
    lines.append(PlanLine(PlanKind.END, cohort.end_date, None, "", programme.duration_weeks))
    order = list(PlanKind)
    return sorted(lines, key=lambda line: (line.first_day, order.index(line.kind), line.title))
