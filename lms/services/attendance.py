"""Attendance on the training days: which days are training days, recording who was there, and the
figures per participant.

A cohort spends its training weekday(s) (``Cohort.training_weekdays``) with the trainer. The trainer
records one session per training day for the whole group: each participant present, late, or absent
with a reason (sick, authorised, unauthorised), with an optional short note. Recording a session
again updates it (and leaves an audit record of what changed); two trainers saving the same day at
the same moment both succeed, one after the other, with one session and one record per participant.
Recording a day marks the reminder that it was not recorded yet (``attendance_unrecorded``) as read.

Every recording rewrites the progress summaries of the participants whose marks changed: the
attendance figures of dashboards and reports are read from there (``lms.services.progress``).

Functions flush, never commit: the route commits once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from lms.extensions import db
from lms.holidays import is_public_holiday
from lms.models import (
    AbsenceReason,
    AttendanceRecord,
    AttendanceSession,
    AttendanceStatus,
    CalendarClosure,
    Cohort,
    Enrolment,
    EnrolmentStatus,
    TrainingDayMove,
    User,
)
from lms.services import audit, characters, notifications, progress
from lms.services.enrolment import lock_cohort
from lms.services.reminders import ATTENDANCE_UNRECORDED

MAX_NOTE_LENGTH = 200


class AttendanceError(ValueError):
    """A recording the rules refuse. ``enrolment_id`` names the row the message belongs to."""

    def __init__(self, message: str, enrolment_id: int | None = None) -> None:
        super().__init__(message)
        self.enrolment_id = enrolment_id


# --- training dates ---------------------------------------------------------------------------


def runs_on(cohort: Cohort, day: date) -> bool:
    """Whether the programme runs in the week of ``day`` for ``cohort`` and ``day`` is no public
    holiday: not in a week the school calendar closes (``Cohort.in_holiday``). A closed day inside a
    week that counts, and a moved training day, are ``Schedule``'s to say."""
    return not cohort.in_holiday(day) and not is_public_holiday(day)


@dataclass(frozen=True)
class Schedule:
    """Which days a cohort trains on: its training weekdays from its start to its end, less the days
    the programme does not run (``runs_on``) and the days a closure covers (a closed day of the
    school year, the cohort's exception of a day or two inside a week that still counts), with its
    moved training days (``TrainingDayMove``) applied. The one place that says which days are
    training days."""

    cohort: Cohort
    closed: tuple[tuple[date, date], ...]
    moves: tuple[TrainingDayMove, ...]

    # Asked for every day of a year: made once (a frozen dataclass still has its __dict__).
    @cached_property
    def moved_from(self) -> dict[date, TrainingDayMove]:
        return {move.moved_from: move for move in self.moves}

    @cached_property
    def moved_to(self) -> dict[date, TrainingDayMove]:
        return {move.moved_to: move for move in self.moves}

    def is_open(self, day: date) -> bool:
        """A working day on which the programme runs: a day a training day could be held."""
        return (
            self.cohort.start_date <= day <= self.cohort.end_date
            and day.weekday() < 5
            and runs_on(self.cohort, day)
            and not any(first <= day <= last for first, last in self.closed)
        )

    def is_regular(self, day: date) -> bool:
        """One of the cohort's training weekdays on which the programme runs (moved or not)."""
        return day.weekday() in self.cohort.training_weekdays and self.is_open(day)

    def is_training_date(self, day: date) -> bool:
        if day in self.moved_to:
            return True
        return day not in self.moved_from and self.is_regular(day)

    def next_date(self, after: date) -> date | None:
        """The first training date after ``after`` (for "the next training day is ..."), or None."""
        day = after + timedelta(days=1)
        while day <= self.cohort.end_date:
            if self.is_training_date(day):
                return day
            day += timedelta(days=1)
        return None

    def dates(self, until: date, since: date | None = None) -> list[date]:
        """The training dates from ``since`` (the start) to ``until`` (the end at the latest)."""
        day = max(since or self.cohort.start_date, self.cohort.start_date)
        last = min(until, self.cohort.end_date)
        found = []
        while day <= last:
            if self.is_training_date(day):
                found.append(day)
            day += timedelta(days=1)
        return found


def schedules_of(cohorts: Sequence[Cohort]) -> dict[int, Schedule]:
    """The ``Schedule`` of each cohort (by id), in two statements however many cohorts: the school
    years' closures over all their years with their own exceptions, and their moved training days."""
    if not cohorts:
        return {}
    ids = [cohort.id for cohort in cohorts]
    closures = db.session.scalars(
        sa.select(CalendarClosure).where(
            sa.or_(
                sa.and_(
                    CalendarClosure.calendar_id.is_not(None),
                    CalendarClosure.first_day <= max(c.end_date for c in cohorts),
                    CalendarClosure.last_day >= min(c.start_date for c in cohorts),
                ),
                CalendarClosure.cohort_id.in_(ids),
            )
        )
    ).all()
    moves = _moves_of(ids)
    return {
        cohort.id: Schedule(
            cohort,
            tuple(
                (closure.first_day, closure.last_day)
                for closure in closures
                if closure.cohort_id == cohort.id
                or (
                    closure.cohort_id is None
                    and closure.first_day <= cohort.end_date
                    and closure.last_day >= cohort.start_date
                )
            ),
            tuple(move for move in moves if move.cohort_id == cohort.id),
        )
        for cohort in cohorts
    }


def schedule_of(cohort: Cohort, closures: Sequence[CalendarClosure] | None = None) -> Schedule:
    """The cohort's ``Schedule``: two statements (its closures, its moved training days), one when
    the caller read the closures already (``closures_between`` the cohort's start and end)."""
    if closures is None:
        return schedules_of([cohort])[cohort.id]
    return Schedule(
        cohort,
        tuple((closure.first_day, closure.last_day) for closure in closures),
        tuple(_moves_of([cohort.id])),
    )


def _moves_of(cohort_ids: Sequence[int]) -> Sequence[TrainingDayMove]:
    return db.session.scalars(
        sa.select(TrainingDayMove)
        .where(TrainingDayMove.cohort_id.in_(cohort_ids))
        .order_by(TrainingDayMove.moved_from)
    ).all()


def training_dates(cohort: Cohort, until: date) -> list[date]:
    """The training dates of ``cohort`` from its start to ``until`` (its end at the latest), oldest
    first (``Schedule``)."""
    return schedule_of(cohort).dates(until)


def is_training_date(cohort: Cohort, day: date) -> bool:
    return schedule_of(cohort).is_training_date(day)


def date_problem(cohort: Cohort, day: date, today: date) -> str | None:
    """Why attendance cannot be recorded for ``cohort`` on ``day``, or None."""
    if day > today:
        return _(
            "%(date)s is still to come: attendance is recorded on the training day or after it.",
            date=_date_text(day),
        )
    if not is_training_date(cohort, day):
        return _(
            "%(date)s is not a training day of %(cohort)s. Choose one of the dates in the list.",
            date=_date_text(day),
            cohort=cohort.name,
        )
    return None


def _date_text(day: date) -> str:
    from lms.i18n import day_with_weekday

    return day_with_weekday(day)


# --- recording --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    """What the trainer chose for one participant."""

    status: AttendanceStatus
    reason: AbsenceReason | None = None
    note: str = ""


def roster(cohort: Cohort, day: date, session: AttendanceSession | None = None) -> list[Enrolment]:
    """The participants of a session: everyone in the group on ``day`` (enrolled on or before it, not
    left before it), and whoever already has a record in ``session``; in name order."""
    recorded = [record.enrolment_id for record in session.records] if session else []
    in_group = sa.and_(
        Enrolment.enrolled_on <= day,
        sa.or_(Enrolment.ended_on.is_(None), Enrolment.ended_on > day),
    )
    enrolments = db.session.scalars(
        sa.select(Enrolment)
        .where(
            Enrolment.cohort_id == cohort.id,
            sa.or_(in_group, Enrolment.id.in_(recorded)) if recorded else in_group,
        )
        .options(joinedload(Enrolment.participant), joinedload(Enrolment.employer))
    ).all()
    return sorted(enrolments, key=lambda e: (e.participant.sort_key, e.id))


def participants_of(cohort: Cohort) -> list[Enrolment]:
    """The participants whose attendance the cohort's page shows: its active enrolments and every
    enrolment with a record in it (someone who left, a finished year); in name order."""
    has_records = (
        sa.select(AttendanceRecord.id).where(AttendanceRecord.enrolment_id == Enrolment.id).exists()
    )
    enrolments = db.session.scalars(
        sa.select(Enrolment)
        .where(
            Enrolment.cohort_id == cohort.id,
            sa.or_(Enrolment.status == EnrolmentStatus.ACTIVE, has_records),
        )
        .options(joinedload(Enrolment.participant), joinedload(Enrolment.employer))
    ).all()
    return sorted(enrolments, key=lambda e: (e.participant.sort_key, e.id))


def session_on(cohort: Cohort, day: date) -> AttendanceSession | None:
    """The recorded session of ``cohort`` on ``day``, with its records and who recorded it."""
    return db.session.scalar(
        sa.select(AttendanceSession)
        .where(AttendanceSession.cohort_id == cohort.id, AttendanceSession.held_on == day)
        .options(
            selectinload(AttendanceSession.records),
            joinedload(AttendanceSession.recorded_by),
            joinedload(AttendanceSession.updated_by),
        )
        .execution_options(populate_existing=True)
    )


def mark_problem(mark: Mark) -> str | None:
    if mark.status is AttendanceStatus.ABSENT and mark.reason is None:
        return _("Choose why the participant was absent.")
    if mark.status is not AttendanceStatus.ABSENT and mark.reason is not None:
        return _("A reason is only given for an absence.")
    if len(mark.note) > MAX_NOTE_LENGTH:
        return _("Keep the note to %(max)d characters.", max=MAX_NOTE_LENGTH)
    if characters.has_control_characters(mark.note):
        return characters.control_character_message()
    return None


@dataclass
class Recorded:
    session: AttendanceSession
    created: bool
    # {enrolment id: [old, new]} as "status" or "absent:reason" text, with the note when it changed.
    changes: dict[str, list[str]] = field(default_factory=dict)


def _mark_text(status: AttendanceStatus, reason: AbsenceReason | None, note: str) -> str:
    text = f"{status.value}:{reason.value}" if reason else status.value
    return f"{text} ({note})" if note else text


def record_attendance(
    cohort: Cohort,
    day: date,
    marks: Mapping[int, Mark],
    *,
    actor: User,
    at: datetime,
    today: date,
) -> Recorded:
    """Record (or record again) the session of ``cohort`` on ``day``: ``marks`` holds one mark per
    participant of its roster (by enrolment id). Recording again changes only what differs and
    writes an audit record ``attendance.update`` with the changes; the same marks again change
    nothing. The cohort row is locked first, so a second trainer saving the same day at the same
    moment waits, then finds the session and updates it: never a second session or record."""
    problem = date_problem(cohort, day, today)
    if problem:
        raise AttendanceError(problem)
    for enrolment_id, mark in marks.items():
        problem = mark_problem(mark)
        if problem:
            raise AttendanceError(problem, enrolment_id)
    lock_cohort(cohort.id)
    session = session_on(cohort, day)
    expected = {enrolment.id for enrolment in roster(cohort, day, session)}
    if set(marks) - expected:
        raise AttendanceError(_("This participant is not in the group on this day."))
    missing = sorted(expected - set(marks))
    if missing:
        raise AttendanceError(
            _("Choose present, late or absent for every participant."), missing[0]
        )
    notes = {enrolment_id: mark.note.strip() for enrolment_id, mark in marks.items()}
    if session is None:
        session = AttendanceSession(
            cohort_id=cohort.id, held_on=day, recorded_by=actor, recorded_at=at
        )
        session.records = [
            AttendanceRecord(
                enrolment_id=enrolment_id,
                status=mark.status,
                reason=mark.reason,
                note=notes[enrolment_id],
            )
            for enrolment_id, mark in sorted(marks.items())
        ]
        db.session.add(session)
        db.session.flush()
        progress.refresh_summaries(marks)
        # The reminder that this day was not recorded yet is done with.
        notifications.handled(
            notifications.attendance_subject(cohort.id, day), {ATTENDANCE_UNRECORDED}, at=at
        )
        return Recorded(session, created=True)

    existing = {record.enrolment_id: record for record in session.records}
    changes: dict[str, list[str]] = {}
    for enrolment_id, mark in sorted(marks.items()):
        record = existing.get(enrolment_id)
        new = _mark_text(mark.status, mark.reason, notes[enrolment_id])
        if record is None:
            session.records.append(
                AttendanceRecord(
                    enrolment_id=enrolment_id,
                    status=mark.status,
                    reason=mark.reason,
                    note=notes[enrolment_id],
                )
            )
            changes[str(enrolment_id)] = ["", new]
            continue
        old = _mark_text(record.status, record.reason, record.note)
        if old != new:
            record.status, record.reason, record.note = (
                mark.status,
                mark.reason,
                notes[enrolment_id],
            )
            changes[str(enrolment_id)] = [old, new]
    if changes:
        session.updated_by = actor
        session.updated_at = at
        db.session.flush()
        audit.record(
            "attendance.update",
            actor,
            session,
            cohort=cohort.name,
            held_on=day.isoformat(),
            changes=changes,
        )
        progress.refresh_summaries(int(enrolment_id) for enrolment_id in changes)
    return Recorded(session, created=False, changes=changes)


# --- figures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """A participant's attendance over the sessions recorded for them.

    ``percent`` is present + late over recorded sessions: arriving late counts as attending (the
    participant took part in the training day); the number of late arrivals is shown beside it, so
    it is not hidden. Training days not recorded yet are not counted at all."""

    present: int = 0
    late: int = 0
    sick: int = 0
    authorised: int = 0
    unauthorised: int = 0

    @property
    def absent(self) -> int:
        return self.sick + self.authorised + self.unauthorised

    @property
    def sessions(self) -> int:
        return self.present + self.late + self.absent

    @property
    def attended(self) -> int:
        return self.present + self.late

    @property
    def percent(self) -> int | None:
        """Attended over recorded (``progress.attendance_percent``)."""
        return progress.attendance_percent(self.attended, self.sessions)


def figures_for(enrolment_ids: Iterable[int]) -> dict[int, Figures]:
    """The figures of each enrolment, in one statement (every id given has an entry)."""
    ids = sorted(set(enrolment_ids))
    counts: dict[int, dict[str, int]] = {enrolment_id: {} for enrolment_id in ids}
    if ids:
        rows = db.session.execute(
            sa.select(
                AttendanceRecord.enrolment_id,
                AttendanceRecord.status,
                AttendanceRecord.reason,
                sa.func.count(),
            )
            .where(AttendanceRecord.enrolment_id.in_(ids))
            .group_by(
                AttendanceRecord.enrolment_id, AttendanceRecord.status, AttendanceRecord.reason
            )
        ).all()
        for enrolment_id, status, reason, count in rows:
            key = reason.value if reason is not None else status.value
            counts[enrolment_id][key] = counts[enrolment_id].get(key, 0) + count
    return {enrolment_id: Figures(**found) for enrolment_id, found in counts.items()}


def records_query(enrolment: Enrolment) -> sa.Select[tuple[AttendanceRecord]]:
    """An enrolment's records, the newest training day first (to page through)."""
    return (
        sa.select(AttendanceRecord)
        .join(AttendanceRecord.session)
        .where(AttendanceRecord.enrolment_id == enrolment.id)
        .options(joinedload(AttendanceRecord.session))
        .order_by(AttendanceSession.held_on.desc(), AttendanceRecord.id.desc())
    )


@dataclass(frozen=True)
class DateLine:
    """One training date of a cohort's list: recorded or not, and if so how many were where."""

    day: date
    recorded: bool
    present: int = 0
    late: int = 0
    absent: int = 0


def date_lines(cohort: Cohort, today: date, schedule: Schedule | None = None) -> list[DateLine]:
    """Every training date of ``cohort`` up to ``today``, the newest first, with the counts of each
    recorded one (one statement). A session on a date that is no longer a training date (the training
    day was changed after it was recorded) stays listed."""
    rows = db.session.execute(
        sa.select(AttendanceSession.held_on, AttendanceRecord.status, sa.func.count())
        .select_from(AttendanceSession)
        .outerjoin(AttendanceRecord, AttendanceRecord.session_id == AttendanceSession.id)
        .where(AttendanceSession.cohort_id == cohort.id)
        .group_by(AttendanceSession.held_on, AttendanceRecord.status)
    ).all()
    counts: dict[date, dict[AttendanceStatus, int]] = {}
    for held_on, status, count in rows:
        found = counts.setdefault(held_on, {})
        if status is not None:
            found[status] = count
    days = set((schedule or schedule_of(cohort)).dates(today)) | set(counts)
    return [
        DateLine(
            day,
            day in counts,
            present=counts.get(day, {}).get(AttendanceStatus.PRESENT, 0),
            late=counts.get(day, {}).get(AttendanceStatus.LATE, 0),
            absent=counts.get(day, {}).get(AttendanceStatus.ABSENT, 0),
        )
        for day in sorted(days, reverse=True)
    ]


def next_training_date(cohort: Cohort, after: date) -> date | None:
    return schedule_of(cohort).next_date(after)


# --- moving a training day ------------------------------------------------------------------------

MAX_REASON_LENGTH = 120


class MoveError(ValueError):
    """A move the rules refuse; ``field`` names the form field the message belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def movable_training_dates(cohort: Cohort) -> list[date]:
    """The training dates the coordinator can move: on the cohort's own weekdays, not moved yet and
    without recorded attendance (a day that took place stays where it was). A past day counts too:
    the group may have met on another day than planned, and its attendance is recorded there."""
    schedule = schedule_of(cohort)
    held = set(
        db.session.scalars(
            sa.select(AttendanceSession.held_on).where(AttendanceSession.cohort_id == cohort.id)
        )
    )
    return [
        day
        for day in schedule.dates(cohort.end_date)
        if day not in schedule.moved_to and day not in held
    ]


def move_training_day(
    cohort: Cohort, *, moved_from: date, moved_to: date, reason: str, actor: User
) -> TrainingDayMove:
    """Hold the training day ``moved_from`` on ``moved_to`` instead (e.g. the trainer's Tuesday moves
    to Thursday that week). ``moved_from`` must be a training date without recorded attendance;
    ``moved_to`` a working day the programme runs on that is not a training date yet. Moving the same
    day to the same day again (a double click) returns the first move. The cohort is locked first:
    two coordinators at the same moment take turns."""
    reason = " ".join(reason.split())
    if not reason:
        raise MoveError(_("Say why the training day moves."), "reason")
    problem = characters.text_problem(reason)
    if problem:
        raise MoveError(problem, "reason")
    if len(reason) > MAX_REASON_LENGTH:
        raise MoveError(_("Keep it to %(max)d characters.", max=MAX_REASON_LENGTH), "reason")
    lock_cohort(cohort.id)
    schedule = schedule_of(cohort)
    earlier = schedule.moved_from.get(moved_from)
    if earlier is not None:
        if earlier.moved_to == moved_to:
            return earlier
        raise MoveError(
            _(
                "The training day of %(from)s is already held on %(to)s. Undo that move first.",
                **{"from": _date_text(moved_from), "to": _date_text(earlier.moved_to)},
            ),
            "moved_from",
        )
    if not schedule.is_training_date(moved_from):
        raise MoveError(
            _(
                "%(date)s is not a training day of %(cohort)s.",
                date=_date_text(moved_from),
                cohort=cohort.name,
            ),
            "moved_from",
        )
    if _session_held(cohort, moved_from):
        raise MoveError(
            _(
                "Attendance is already recorded for %(date)s: that day took place.",
                date=_date_text(moved_from),
            ),
            "moved_from",
        )
    if moved_to == moved_from or schedule.is_training_date(moved_to):
        raise MoveError(
            _("%(date)s is already a training day. Choose another day.", date=_date_text(moved_to)),
            "moved_to",
        )
    if not schedule.is_open(moved_to):
        raise MoveError(
            _(
                "The programme does not run on %(date)s (a weekend, a holiday or a closed day, or"
                " outside the cohort's year). Choose a working day between %(start)s and %(end)s.",
                date=_date_text(moved_to),
                start=_date_text(cohort.start_date),
                end=_date_text(cohort.end_date),
            ),
            "moved_to",
        )
    move = TrainingDayMove(
        cohort_id=cohort.id,
        moved_from=moved_from,
        moved_to=moved_to,
        reason=reason,
        created_by=actor,
    )
    db.session.add(move)
    db.session.flush()
    audit.record(
        "cohort.training_day_move",
        actor,
        cohort,
        moved_from=moved_from.isoformat(),
        moved_to=moved_to.isoformat(),
        reason=reason,
    )
    return move


def undo_problem(move: TrainingDayMove) -> str | None:
    """Why a move cannot be undone: attendance was recorded on the day it moved to, or another
    training day is held on the day it comes from."""
    cohort = db.session.get(Cohort, move.cohort_id)
    assert cohort is not None
    if _session_held(cohort, move.moved_to):
        return _(
            "Attendance is recorded for %(date)s: the training day took place then, so the move"
            " stays.",
            date=_date_text(move.moved_to),
        )
    taken = db.session.scalar(
        sa.select(TrainingDayMove).where(
            TrainingDayMove.cohort_id == cohort.id, TrainingDayMove.moved_to == move.moved_from
        )
    )
    if taken is not None:
        return _(
            "The training day of %(other)s is held on %(date)s now. Undo that move first.",
            other=_date_text(taken.moved_from),
            date=_date_text(move.moved_from),
        )
    return None


def undo_move(move: TrainingDayMove, *, actor: User) -> None:
    """The training day is held on its own day again (audited)."""
    problem = undo_problem(move)
    if problem:
        raise MoveError(problem)
    cohort = db.session.get(Cohort, move.cohort_id)
    assert cohort is not None
    audit.record(
        "cohort.training_day_move_undo",
        actor,
        cohort,
        moved_from=move.moved_from.isoformat(),
        moved_to=move.moved_to.isoformat(),
        reason=move.reason,
    )
    db.session.delete(move)
    db.session.flush()


def _session_held(cohort: Cohort, day: date) -> bool:
    return (
        db.session.scalar(
            sa.select(AttendanceSession.id).where(
                AttendanceSession.cohort_id == cohort.id, AttendanceSession.held_on == day
            )
        )
        is not None
    )
