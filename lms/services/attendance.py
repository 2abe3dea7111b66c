"""Attendance on the training days: which days are training days, recording who was there, and the
figures per participant.

A cohort spends its training weekday(s) (``Cohort.training_weekdays``) with the trainer. The trainer
records one session per training day for the whole group: each participant present, late, or absent
with a reason (sick, authorised, unauthorised), with an optional short note. Recording a session
again updates it (and leaves an audit record of what changed); two trainers saving the same day at
the same moment both succeed, one after the other, with one session and one record per participant.

Every recording rewrites the progress summaries of the participants whose marks changed: the
attendance figures of dashboards and reports are read from there (``lms.services.progress``).

Functions flush, never commit: the route commits once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

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
    Cohort,
    Enrolment,
    EnrolmentStatus,
    User,
)
from lms.services import audit, characters, progress
from lms.services.enrolment import lock_cohort

MAX_NOTE_LENGTH = 200


class AttendanceError(ValueError):
    """A recording the rules refuse. ``enrolment_id`` names the row the message belongs to."""

    def __init__(self, message: str, enrolment_id: int | None = None) -> None:
        super().__init__(message)
        self.enrolment_id = enrolment_id


# --- training dates ---------------------------------------------------------------------------


def runs_on(cohort: Cohort, day: date) -> bool:
    """Whether the programme runs on ``day`` for ``cohort``: not in a week the school calendar closes
    (``Cohort.in_holiday``) and not a public holiday. The one place that says which days are off."""
    return not cohort.in_holiday(day) and not is_public_holiday(day)


def training_dates(cohort: Cohort, until: date) -> list[date]:
    """The training dates of ``cohort`` from its start to ``until`` (its end at the latest), oldest
    first: its training weekdays, less the days the programme does not run (``runs_on``)."""
    weekdays = set(cohort.training_weekdays)
    last = min(until, cohort.end_date)
    dates = []
    day = cohort.start_date
    while day <= last:
        if day.weekday() in weekdays and runs_on(cohort, day):
            dates.append(day)
        day += timedelta(days=1)
    return dates


def is_training_date(cohort: Cohort, day: date) -> bool:
    return (
        cohort.start_date <= day <= cohort.end_date
        and day.weekday() in cohort.training_weekdays
        and runs_on(cohort, day)
    )


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
        """Attended over recorded, rounded; None when nothing has been recorded."""
        if not self.sessions:
            return None
        return round(100 * self.attended / self.sessions)


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


def date_lines(cohort: Cohort, today: date) -> list[DateLine]:
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
    days = set(training_dates(cohort, today)) | set(counts)
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
    """The first training date after ``after`` (for "the next training day is ..."), or None."""
    day = after + timedelta(days=1)
    while day <= cohort.end_date:
        if is_training_date(cohort, day):
            return day
        day += timedelta(days=1)
    return None
