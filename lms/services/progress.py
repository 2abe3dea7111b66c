"""Progress, one truth: every page, report, reminder and the certificate check count through here.

The rules compute an enrolment's figures from the raw rows (``compute_figures``: submissions, the
sign-off ledger along transfer chains, hours, attempts, certificates). Pages do not run them: every
writing service calls ``refresh_summaries`` last, in its own transaction, which stores the figures in
one ``ProgressSummary`` row per enrolment. The read functions turn those rows into what pages show on
a given day, in one statement for any list of enrolments:

- ``enrolment_progress``: everything (``Progress``): assignments, technical competencies and
  21st-century skills signed off of required, overdue items, the expected progress for this week,
  whether the participant is behind, hours, last activity, and whether the certificate is due;
- ``assignment_progress``, ``assignment_standing``, ``hours_progress``, ``last_activity``: parts of it.

What depends on today's date (overdue, behind, inactive, the week) is derived when reading, from the
dates stored in the summary; ``overdue_on``, ``behind_on``, ``inactive_on`` and ``at_risk_on`` say the
same in SQL for lists that filter or count across many enrolments. ``verify_summaries`` recomputes
every row from the raw rows and compares.

Pages that show many cohorts at once read one ``CohortSummary`` row per cohort instead of every
enrolment: ``refresh_summaries`` rewrites the rows of the cohorts it touched, in the same
transaction, from the enrolment rows and their summaries (``cohort_totals``); ``RiskStarts`` and
``days_through`` count the risk conditions above from those rows on any day.
"""

from __future__ import annotations

import enum
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from lms import clock
from lms.extensions import db
from lms.models import (
    Assignment,
    Attempt,
    AttendanceRecord,
    AttendanceStatus,
    Certificate,
    ChecklistGroup,
    ChecklistItem,
    ChecklistKind,
    Cohort,
    CohortSummary,
    Enrolment,
    EnrolmentStatus,
    HoursStatus,
    IntakeType,
    Programme,
    ProgressSummary,
    Submission,
    SubmissionStatus,
    WorkplaceHours,
    assignment_competencies,
)
from lms.services import signoff

# A submission in one of these states no longer counts as overdue: the participant has done their part.
HANDED_IN = {SubmissionStatus.SUBMITTED, SubmissionStatus.APPROVED}

INACTIVE_AFTER_DAYS = 14  # no work saved, handed in or hours logged for this long: "inactive"


@dataclass(frozen=True)
class AssignmentProgress:
    total: int = 0
    approved: int = 0
    submitted: int = 0  # waiting for a trainer's assessment
    needs_revision: int = 0
    draft: int = 0
    overdue: int = 0

    @property
    def percent_approved(self) -> int:
        return round(100 * self.approved / self.total) if self.total else 0


@dataclass(frozen=True)
class ItemProgress:
    """Checklist items of one kind: how many are signed off at (or above) their required level, of all
    the items of that kind (every item has a required level, so every item is required)."""

    signed: int = 0
    required: int = 0

    @property
    def percent(self) -> int:
        return round(100 * self.signed / self.required) if self.required else 0

    @property
    def complete(self) -> bool:
        return self.signed == self.required


@dataclass(frozen=True)
class HoursProgress:
    """Workplace (BPV) hours of one enrolment against the programme's target.

    ``approved`` counts toward the target; ``waiting`` is logged but not approved yet. ``expected`` is
    the share of the target that should be reached by the end of this week of the programme (an even
    spread over the programme's weeks).
    """

    target: int
    approved: float
    waiting: float
    learning: float  # approved hours of which spent learning
    expected: float

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.approved / self.target)) if self.target else 0

    @property
    def expected_percent(self) -> int:
        return min(100, round(100 * self.expected / self.target)) if self.target else 0

    @property
    def behind(self) -> bool:
        return self.approved + self.waiting < self.expected


def attendance_percent(attended: int, recorded: int) -> int | None:
    """Training days attended (present or late) of those recorded, rounded; None while nothing is
    recorded (no figure rather than 0 %). The one rule for every attendance percentage."""
    return round(100 * attended / recorded) if recorded else None


@dataclass(frozen=True)
class AttendanceProgress:
    """Attendance on the training days of one enrolment, and the supervised training hours it adds up
    to against the programme's target.

    ``percent`` is attended (present or late) of the days recorded; a late arrival counts as attending
    (the attendance pages show how many were late). Each attended day counts the programme's
    ``training_day_hours`` toward ``target`` (``Programme.training_hours_target``); training days
    not recorded yet count for neither."""

    recorded: int = 0
    attended: int = 0
    day_hours: float = 0.0
    target: int = 0

    @property
    def percent(self) -> int | None:
        return attendance_percent(self.attended, self.recorded)

    @property
    def hours(self) -> float:
        return round(self.attended * self.day_hours, 1)

    @property
    def hours_percent(self) -> int:
        return min(100, round(100 * self.hours / self.target)) if self.target else 0


@dataclass(frozen=True)
class AssignmentStanding:
    """Where one enrolment stands with its assignments on one day."""

    assignments: AssignmentProgress
    week: int
    expected_assignments: int
    last_active_on: date
    # From this day nothing was done for INACTIVE_AFTER_DAYS days, the days of holiday weeks not
    # counted (the summary's inactive_from).
    inactive_from: date = date.max

    @property
    def behind(self) -> bool:
        return self.assignments.approved + self.assignments.submitted < self.expected_assignments


@dataclass(frozen=True)
class Progress(AssignmentStanding):
    """Everything there is to know about how far one enrolment is, on one day.

    - ``assignments``: approved of total, and the other states (see ``AssignmentProgress``).
    - ``technical`` / ``skills``: the technical competencies and 21st-century skills signed off at their
      required level, of all of them. A sign-off counts along the transfer chain; a revoked one does not.
    - ``items_overdue``: checklist items not yet signed off at their required level although their due
      date has passed. An item is due on the due date of the *last* assignment linked to it (the last
      chance the programme gives to show it); an item no assignment is linked to is due in the
      programme's last week.
    - ``week``: the week of the programme today is in (0 before the start).
    - ``expected_assignments``: how many assignments should be handed in by now, i.e. those whose due
      date (the Friday of their due week) has passed. ``expected_percent`` is that share of the total.
    - ``behind``: fewer assignments handed in (submitted or approved) than expected by now.
    - ``hours``: workplace hours against the target; ``last_active_on``: the day of the latest work.
    - ``attendance``: training days attended of those recorded, and the training hours they add up to.
    - ``certificate_due``: the enrolment is active, every assignment is approved and every checklist item
      is signed off at its required level.
    """

    technical: ItemProgress = ItemProgress()
    skills: ItemProgress = ItemProgress()
    items_overdue: int = 0
    hours: HoursProgress = HoursProgress(0, 0.0, 0.0, 0.0, 0.0)
    attendance: AttendanceProgress = AttendanceProgress()
    certificate_due: bool = False

    @property
    def handed_in(self) -> int:
        return self.assignments.approved + self.assignments.submitted

    @property
    def expected_percent(self) -> int:
        total = self.assignments.total
        return round(100 * self.expected_assignments / total) if total else 0


# --- The rules: an enrolment's figures from the raw rows ---------------------------------------------


@dataclass(frozen=True)
class Figures:
    """What the summary row of one enrolment holds: nothing here depends on today's date."""

    assignments_total: int
    assignments_approved: int
    assignments_submitted: int
    assignments_needs_revision: int
    assignments_draft: int
    due_dates: tuple[date, ...]  # every assignment's, ascending
    open_due_dates: tuple[date, ...]  # of the assignments not handed in, ascending
    technical_signed: int
    technical_required: int
    skills_signed: int
    skills_required: int
    open_item_due_dates: tuple[date, ...]  # of the items not at their required level, ascending
    hours_approved: float
    hours_waiting: float
    hours_learning: float
    attendance_recorded: int  # training days recorded for the enrolment
    attendance_attended: int  # of those, present or late
    last_activity_on: date
    inactive_from: date  # INACTIVE_AFTER_DAYS after last_activity_on, holiday weeks not counted
    work_complete: bool
    valid_certificate_id: int | None
    revoked_certificate_id: int | None

    @property
    def first_open_due_on(self) -> date | None:
        return self.open_due_dates[0] if self.open_due_dates else None

    @property
    def behind_from(self) -> date | None:
        """The first day on which fewer assignments are handed in than expected: the due date of the
        assignment after as many as are handed in (expected on a day = those due before it)."""
        handed_in = self.assignments_approved + self.assignments_submitted
        return self.due_dates[handed_in] if handed_in < len(self.due_dates) else None

    def columns(self) -> dict[str, object]:
        """The summary row's columns."""
        values: dict[str, object] = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in ("due_dates", "open_due_dates", "open_item_due_dates"):
            values[name] = [day.isoformat() for day in values[name]]  # type: ignore[attr-defined]
        values["first_open_due_on"] = self.first_open_due_on
        values["behind_from"] = self.behind_from
        return values

    @classmethod
    def of(cls, summary: ProgressSummary) -> Figures:
        values = {name: getattr(summary, name) for name in _FIGURES}
        for name in ("due_dates", "open_due_dates", "open_item_due_dates"):
            values[name] = tuple(map(date.fromisoformat, values[name]))
        for name in ("hours_approved", "hours_waiting", "hours_learning"):
            values[name] = float(values[name])
        return cls(**values)

    def progress(self, cohort: Cohort, enrolment_status: EnrolmentStatus, today: date) -> Progress:
        """How far the enrolment is on ``today``."""
        programme = cohort.programme
        assignments = AssignmentProgress(
            total=self.assignments_total,
            approved=self.assignments_approved,
            submitted=self.assignments_submitted,
            needs_revision=self.assignments_needs_revision,
            draft=self.assignments_draft,
            overdue=bisect_left(self.open_due_dates, today),
        )
        week = cohort.week_of_programme(today)
        weeks_done = min(max(week - 1, 0), programme.duration_weeks)
        return Progress(
            assignments=assignments,
            week=week,
            expected_assignments=bisect_left(self.due_dates, today),
            last_active_on=self.last_activity_on,
            inactive_from=self.inactive_from,
            technical=ItemProgress(self.technical_signed, self.technical_required),
            skills=ItemProgress(self.skills_signed, self.skills_required),
            items_overdue=bisect_left(self.open_item_due_dates, today),
            hours=HoursProgress(
                target=programme.bpv_hours_target,
                approved=self.hours_approved,
                waiting=self.hours_waiting,
                learning=self.hours_learning,
                expected=round(
                    programme.bpv_hours_target * weeks_done / programme.duration_weeks, 1
                ),
            ),
            attendance=AttendanceProgress(
                recorded=self.attendance_recorded,
                attended=self.attendance_attended,
                day_hours=programme.training_day_hours,
                target=programme.training_hours_target,
            ),
            certificate_due=enrolment_status is EnrolmentStatus.ACTIVE and self.work_complete,
        )


_FIGURES = tuple(f.name for f in fields(Figures))  # read for every summary: looked up once


def compute_figures(enrolments: Sequence[Enrolment]) -> dict[int, Figures]:
    """The figures per enrolment id, from the raw rows: eleven queries however many enrolments."""
    if not enrolments:
        return {}
    facts = AssignmentFacts.load(enrolments)
    programme_ids = {cohort.programme_id for cohort in facts.cohorts.values()}
    items_by_programme: dict[int, list[tuple[int, ChecklistKind, int]]] = defaultdict(list)
    for item_id, programme_id, kind, required_level in db.session.execute(
        sa.select(
            ChecklistItem.id,
            ChecklistItem.programme_id,
            ChecklistGroup.kind,
            ChecklistItem.required_level,
        )
        .join(ChecklistItem.group)
        .where(ChecklistItem.programme_id.in_(programme_ids))
    ):
        items_by_programme[programme_id].append((item_id, kind, required_level))
    item_due_weeks: dict[int, int] = dict(
        db.session.execute(
            sa.select(assignment_competencies.c.checklist_item_id, sa.func.max(Assignment.due_week))
            .join(Assignment, Assignment.id == assignment_competencies.c.assignment_id)
            .where(Assignment.programme_id.in_(programme_ids))
            .group_by(assignment_competencies.c.checklist_item_id)
        ).all()
    )
    levels = signoff.current_levels(enrolments)
    hours = _hours_sums(enrolments)
    attendance = _attendance_counts(enrolments)
    activity = _last_activity(enrolments)
    valid, revoked = _certificates(enrolments)

    result = {}
    for enrolment in enrolments:
        cohort = facts.cohorts[enrolment.cohort_id]
        counts = facts.count(enrolment)
        reached = levels[enrolment.id]
        signed = {ChecklistKind.TECHNICAL: 0, ChecklistKind.SKILL21: 0}
        required = {ChecklistKind.TECHNICAL: 0, ChecklistKind.SKILL21: 0}
        open_items = []
        for item_id, kind, required_level in items_by_programme[cohort.programme_id]:
            required[kind] += 1
            if reached.get(item_id, 0) >= required_level:
                signed[kind] += 1
            else:
                due_week = item_due_weeks.get(item_id, cohort.programme.duration_weeks)
                open_items.append(facts.due_date(cohort, due_week))
        approved, waiting = hours[enrolment.id]
        complete = (
            counts.total > 0
            and counts.approved == counts.total
            and signed[ChecklistKind.TECHNICAL] == required[ChecklistKind.TECHNICAL]
            and signed[ChecklistKind.SKILL21] == required[ChecklistKind.SKILL21]
        )
        result[enrolment.id] = Figures(
            assignments_total=counts.total,
            assignments_approved=counts.approved,
            assignments_submitted=counts.submitted,
            assignments_needs_revision=counts.needs_revision,
            assignments_draft=counts.draft,
            due_dates=tuple(sorted(facts.due_dates(cohort))),
            open_due_dates=tuple(sorted(facts.open_due_dates(enrolment))),
            technical_signed=signed[ChecklistKind.TECHNICAL],
            technical_required=required[ChecklistKind.TECHNICAL],
            skills_signed=signed[ChecklistKind.SKILL21],
            skills_required=required[ChecklistKind.SKILL21],
            open_item_due_dates=tuple(sorted(open_items)),
            hours_approved=approved[0],
            hours_waiting=waiting[0],
            hours_learning=approved[1],
            attendance_recorded=attendance[enrolment.id][0],
            attendance_attended=attendance[enrolment.id][1],
            last_activity_on=activity[enrolment.id],
            inactive_from=cohort.quiet_until(activity[enrolment.id], INACTIVE_AFTER_DAYS),
            work_complete=complete,
            valid_certificate_id=valid.get(enrolment.id),
            revoked_certificate_id=None if enrolment.id in valid else revoked.get(enrolment.id),
        )
    return result


@dataclass
class AssignmentFacts:
    """The cohorts (with their programmes), assignment due weeks and submission states of a list of
    enrolments: three queries."""

    cohorts: dict[int, Cohort]
    due_weeks_by_programme: dict[int, dict[int, int]]
    statuses: dict[int, dict[int, SubmissionStatus]]
    _due_dates: dict[tuple[int, int], date] = field(default_factory=dict)

    def due_date(self, cohort: Cohort, due_week: int) -> date:
        """The due date of ``due_week`` for ``cohort``, remembered: every enrolment of a cohort asks
        the same few dozen questions."""
        key = (cohort.id, due_week)
        day = self._due_dates.get(key)
        if day is None:
            day = self._due_dates[key] = cohort.due_date(due_week)
        return day

    @classmethod
    def load(cls, enrolments: Sequence[Enrolment]) -> AssignmentFacts:
        cohorts = {
            cohort.id: cohort
            for cohort in db.session.scalars(
                sa.select(Cohort)
                .where(Cohort.id.in_({e.cohort_id for e in enrolments}))
                .options(joinedload(Cohort.programme))
            )
        }
        due_weeks_by_programme: dict[int, dict[int, int]] = defaultdict(dict)
        for programme_id, assignment_id, due_week in db.session.execute(
            sa.select(Assignment.programme_id, Assignment.id, Assignment.due_week).where(
                Assignment.programme_id.in_({cohort.programme_id for cohort in cohorts.values()})
            )
        ):
            due_weeks_by_programme[programme_id][assignment_id] = due_week
        statuses: dict[int, dict[int, SubmissionStatus]] = defaultdict(dict)
        for enrolment_id, assignment_id, status in db.session.execute(
            sa.select(Submission.enrolment_id, Submission.assignment_id, Submission.status).where(
                Submission.enrolment_id.in_([enrolment.id for enrolment in enrolments])
            )
        ):
            statuses[enrolment_id][assignment_id] = status
        return cls(cohorts, due_weeks_by_programme, statuses)

    def due_dates(self, cohort: Cohort) -> Iterator[date]:
        for due_week in self.due_weeks_by_programme[cohort.programme_id].values():
            yield self.due_date(cohort, due_week)

    def open_due_dates(self, enrolment: Enrolment) -> Iterator[date]:
        """The due dates of the assignments this enrolment has not handed in."""
        cohort = self.cohorts[enrolment.cohort_id]
        own = self.statuses[enrolment.id]
        for assignment_id, due_week in self.due_weeks_by_programme[cohort.programme_id].items():
            if own.get(assignment_id) not in HANDED_IN:
                yield self.due_date(cohort, due_week)

    def count(self, enrolment: Enrolment) -> AssignmentProgress:
        """Assignments per submission state (``overdue`` is left to the reader: it needs a day)."""
        cohort = self.cohorts[enrolment.cohort_id]
        due_weeks = self.due_weeks_by_programme[cohort.programme_id]
        own = self.statuses[enrolment.id]
        counts: dict[SubmissionStatus, int] = defaultdict(int)
        for assignment_id in due_weeks:
            status = own.get(assignment_id)
            if status is not None:
                counts[status] += 1
        return AssignmentProgress(
            total=len(due_weeks),
            approved=counts[SubmissionStatus.APPROVED],
            submitted=counts[SubmissionStatus.SUBMITTED],
            needs_revision=counts[SubmissionStatus.NEEDS_REVISION],
            draft=counts[SubmissionStatus.DRAFT],
        )


def _hours_sums(
    enrolments: Sequence[Enrolment],
) -> dict[int, tuple[tuple[float, float], tuple[float, float]]]:
    """Per enrolment id: (worked, learning) of the approved hours, and of those waiting. One query."""
    sums: dict[int, dict[HoursStatus, tuple[float, float]]] = defaultdict(dict)
    for enrolment_id, status, worked, learning in db.session.execute(
        sa.select(
            WorkplaceHours.enrolment_id,
            WorkplaceHours.status,
            sa.func.coalesce(sa.func.sum(WorkplaceHours.hours_worked), 0),
            sa.func.coalesce(sa.func.sum(WorkplaceHours.hours_learning), 0),
        )
        .where(WorkplaceHours.enrolment_id.in_([e.id for e in enrolments]))
        .group_by(WorkplaceHours.enrolment_id, WorkplaceHours.status)
    ):
        # Rounded as the summary column stores them (one decimal, like every week's entry).
        sums[enrolment_id][status] = (round(float(worked), 1), round(float(learning), 1))
    nothing = (0.0, 0.0)
    return {
        e.id: (
            sums[e.id].get(HoursStatus.APPROVED, nothing),
            sums[e.id].get(HoursStatus.SUBMITTED, nothing),
        )
        for e in enrolments
    }


def _attendance_counts(enrolments: Sequence[Enrolment]) -> dict[int, tuple[int, int]]:
    """Per enrolment id: its training days recorded, and of those attended (present or late, as
    ``AttendanceRecord.attended``). One query."""
    counts: dict[int, tuple[int, int]] = {e.id: (0, 0) for e in enrolments}
    attended = AttendanceRecord.status != AttendanceStatus.ABSENT
    for enrolment_id, recorded, present in db.session.execute(
        sa.select(
            AttendanceRecord.enrolment_id,
            sa.func.count(),
            sa.func.count(sa.case((attended, 1))),
        )
        .where(AttendanceRecord.enrolment_id.in_(list(counts)))
        .group_by(AttendanceRecord.enrolment_id)
    ):
        counts[enrolment_id] = (int(recorded), int(present))
    return counts


def _last_activity(enrolments: Sequence[Enrolment]) -> dict[int, date]:
    """The day each enrolment last showed activity: work saved or handed in, hours logged, or else
    the day of enrolment. Two queries."""
    ids = [e.id for e in enrolments]
    latest: dict[int, datetime] = {}
    rows = list(
        db.session.execute(
            sa.select(
                Submission.enrolment_id,
                sa.func.max(Attempt.created_at),
                sa.func.max(Attempt.submitted_at),
            )
            .join(Attempt, Attempt.submission_id == Submission.id)
            .where(Submission.enrolment_id.in_(ids))
            .group_by(Submission.enrolment_id)
        )
    ) + [
        (enrolment_id, updated, None)
        for enrolment_id, updated in db.session.execute(
            sa.select(WorkplaceHours.enrolment_id, sa.func.max(WorkplaceHours.updated_at))
            .where(WorkplaceHours.enrolment_id.in_(ids))
            .group_by(WorkplaceHours.enrolment_id)
        )
    ]
    for enrolment_id, *moments in rows:
        for moment in moments:
            if moment is None:
                continue
            moment = _aware(moment)
            if enrolment_id not in latest or moment > latest[enrolment_id]:
                latest[enrolment_id] = moment
    result = {}
    for enrolment in enrolments:
        moment = latest.get(enrolment.id)
        day = moment.astimezone(clock.LOCAL_TZ).date() if moment else enrolment.enrolled_on
        result[enrolment.id] = max(day, enrolment.enrolled_on)
    return result


def _aware(moment: datetime) -> datetime:
    """Aggregates bypass the column type: SQLite hands back text or naive values (stored as UTC)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _certificates(enrolments: Sequence[Enrolment]) -> tuple[dict[int, int], dict[int, int]]:
    """Per enrolment id: its valid certificate's id, and its latest revoked certificate's id. One query."""
    valid: dict[int, int] = {}
    revoked: dict[int, int] = {}
    for certificate_id, enrolment_id, revoked_at in db.session.execute(
        sa.select(Certificate.id, Certificate.enrolment_id, Certificate.revoked_at)
        .where(Certificate.enrolment_id.in_([e.id for e in enrolments]))
        .order_by(Certificate.issued_at, Certificate.id)
    ):
        (revoked if revoked_at is not None else valid)[enrolment_id] = certificate_id
    return valid, revoked


# --- Keeping the summaries -------------------------------------------------------------------------

REBUILD_BATCH = 500

# The enrolments whose refresh waits for the end of ``refreshed_once``; None outside it.
_waiting: ContextVar[set[int] | None] = ContextVar("summaries_waiting", default=None)


@contextmanager
def refreshed_once() -> Iterator[None]:
    """Within: ``refresh_summaries`` only notes its enrolments, and they are refreshed once at the end.
    For a bulk load that writes many times for the same people and reads no progress meanwhile (the
    demo's hundreds of sign-offs): one refresh instead of one per write."""
    if _waiting.get() is not None:  # already inside one: the outer one refreshes
        yield
        return
    waiting: set[int] = set()
    token = _waiting.set(waiting)
    try:
        yield
    finally:
        _waiting.reset(token)
    refresh_summaries(waiting)


def refresh_summaries(enrolments: Iterable[Enrolment | int]) -> None:
    """Recompute and store the summaries of these enrolments, and of the other enrolments of the same
    participants (a sign-off counts along the transfer chain). Every writing service calls this last,
    in its own transaction, for the enrolments its write touched.

    On PostgreSQL the summary rows are locked first, so two writes for the same participant at the
    same moment take turns: the second computes after the first committed, and sees its rows. Then
    the cohorts of these enrolments are summed up again (``_refresh_cohorts``, locked the same way:
    two writes for different participants of one cohort take turns there).
    """
    ids = {e if isinstance(e, int) else e.id for e in enrolments}
    if not ids:
        return
    waiting = _waiting.get()
    if waiting is not None:
        waiting |= ids
        return
    db.session.flush()
    family = db.session.scalars(
        sa.select(Enrolment)
        .where(
            Enrolment.participant_id.in_(
                sa.select(Enrolment.participant_id).where(Enrolment.id.in_(ids))
            )
        )
        .order_by(Enrolment.id)
    ).all()
    db.session.execute(
        sa.select(ProgressSummary.enrolment_id)
        .where(ProgressSummary.enrolment_id.in_([e.id for e in family]))
        .order_by(ProgressSummary.enrolment_id)
        .with_for_update()
    ).all()
    _store(compute_figures(family))
    _refresh_cohorts({e.cohort_id for e in family})


def _insert(model: type[ProgressSummary] | type[CohortSummary]):  # type: ignore[no-untyped-def]
    """An INSERT with ON CONFLICT for the database in use (PostgreSQL or SQLite)."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)


def _store(figures: Mapping[int, Figures]) -> None:
    """Insert or update the summary rows (one statement per batch)."""
    _upsert(ProgressSummary, "enrolment_id", figures)


def _upsert(
    model: type[ProgressSummary] | type[CohortSummary],
    key: str,
    rows_by_key: Mapping[int, Figures] | Mapping[int, CohortTotals],
) -> None:
    """Insert or update one summary row per key (one statement), and expire the rows of these keys
    this session loaded before: they are stale now."""
    if not rows_by_key:
        return
    now = clock.now()
    rows = [
        {key: row_key, **values.columns(), "updated_at": now}
        for row_key, values in rows_by_key.items()
    ]
    statement = _insert(model)
    statement = statement.on_conflict_do_update(
        index_elements=[getattr(model, key)],
        set_={name: statement.excluded[name] for name in rows[0] if name != key},
    )
    db.session.execute(statement, rows)
    for loaded in [o for o in db.session.identity_map.values() if isinstance(o, model)]:
        if getattr(loaded, key) in rows_by_key:
            db.session.expire(loaded)


def _in_batches(batch_size: int) -> Iterator[list[Enrolment]]:
    """Every enrolment, in batches by id (keyset: no offset over a growing table)."""
    after = 0
    while True:
        batch = db.session.scalars(
            sa.select(Enrolment)
            .where(Enrolment.id > after)
            .order_by(Enrolment.id)
            .limit(batch_size)
        ).all()
        if not batch:
            return
        yield list(batch)
        after = batch[-1].id


def rebuild_summaries(batch_size: int = REBUILD_BATCH) -> int:
    """Recompute and rewrite every summary; returns how many. Flushes, never commits."""
    count = 0
    for batch in _in_batches(batch_size):
        _store(compute_figures(batch))
        count += len(batch)
    return count


# --- One row per cohort ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortTotals:
    """What the summary row of one cohort holds (see ``CohortSummary``): its enrolments counted, from
    their rows and their stored progress summaries. Lists are space-separated and ascending."""

    active: int = 0
    completed: int = 0
    withdrawn: int = 0
    intake_side_entrant: int = 0
    intake_employed: int = 0
    certificates: int = 0
    summarised: int = 0
    assignments_approved: int = 0
    assignments_total: int = 0
    attendance_recorded: int = 0
    attendance_attended: int = 0
    overdue_from: str = ""
    behind_from: str = ""
    inactive_from: str = ""
    at_risk_from: str = ""
    participant_ids: str = ""
    employer_ids: str = ""

    def columns(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def of(cls, summary: CohortSummary | None) -> CohortTotals:
        """A stored row's totals; no row yet: a cohort without enrolments."""
        if summary is None:
            return cls()
        return cls(**{f.name: getattr(summary, f.name) for f in fields(cls)})


def _days(days: Iterable[date]) -> str:
    return " ".join(sorted(day.isoformat() for day in days))


def _ids(ids: Iterable[int]) -> str:
    return " ".join(str(i) for i in sorted(set(ids)))


def cohort_totals(cohort_ids: Collection[int]) -> dict[int, CohortTotals]:
    """The totals of these cohorts (every one of them, also without enrolments) from the enrolment
    rows and their stored summaries: one query, a row per enrolment of these cohorts."""
    if not cohort_ids:
        return {}
    status: dict[int, dict[EnrolmentStatus, int]] = defaultdict(lambda: defaultdict(int))
    intake: dict[int, dict[IntakeType, int]] = defaultdict(lambda: defaultdict(int))
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # certificates, summarised, ...
    attendance: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # recorded, attended
    starts: dict[int, list[RiskStarts]] = defaultdict(list)
    people: dict[int, tuple[set[int], set[int]]] = defaultdict(lambda: (set(), set()))
    for row in db.session.execute(
        sa.select(
            Enrolment.cohort_id,
            Enrolment.status,
            Enrolment.intake_type,
            Enrolment.participant_id,
            Enrolment.employer_id,
            ProgressSummary.enrolment_id.label("summary"),
            ProgressSummary.assignments_approved,
            ProgressSummary.assignments_total,
            ProgressSummary.attendance_recorded,
            ProgressSummary.attendance_attended,
            ProgressSummary.first_open_due_on,
            ProgressSummary.behind_from,
            ProgressSummary.inactive_from,
            ProgressSummary.valid_certificate_id,
        )
        .outerjoin(ProgressSummary, ProgressSummary.enrolment_id == Enrolment.id)
        .where(Enrolment.cohort_id.in_(cohort_ids))
    ):
        cohort_id = row.cohort_id
        status[cohort_id][row.status] += 1
        figures = sums[cohort_id]
        if row.status is not EnrolmentStatus.TRANSFERRED:
            intake[cohort_id][row.intake_type] += 1
            participants, employers = people[cohort_id]
            participants.add(row.participant_id)
            employers.add(row.employer_id)
            if row.valid_certificate_id is not None:
                figures[0] += 1
        if row.summary is not None:
            attendance[cohort_id][0] += row.attendance_recorded
            attendance[cohort_id][1] += row.attendance_attended
        if row.status is EnrolmentStatus.ACTIVE and row.summary is not None:
            figures[1] += 1
            figures[2] += row.assignments_approved
            figures[3] += row.assignments_total
            starts[cohort_id].append(
                RiskStarts.of(row.first_open_due_on, row.behind_from, row.inactive_from)
            )
    result = {}
    for cohort_id in cohort_ids:
        certificates, summarised, approved, total = sums[cohort_id]
        risk = starts[cohort_id]
        participants, employers = people[cohort_id]
        result[cohort_id] = CohortTotals(
            active=status[cohort_id][EnrolmentStatus.ACTIVE],
            completed=status[cohort_id][EnrolmentStatus.COMPLETED],
            withdrawn=status[cohort_id][EnrolmentStatus.WITHDRAWN],
            intake_side_entrant=intake[cohort_id][IntakeType.SIDE_ENTRANT],
            intake_employed=intake[cohort_id][IntakeType.EMPLOYED],
            certificates=certificates,
            summarised=summarised,
            assignments_approved=approved,
            assignments_total=total,
            attendance_recorded=attendance[cohort_id][0],
            attendance_attended=attendance[cohort_id][1],
            overdue_from=_days(r.overdue for r in risk if r.overdue is not None),
            behind_from=_days(r.behind for r in risk if r.behind is not None),
            inactive_from=_days(r.inactive for r in risk),
            at_risk_from=_days(r.at_risk for r in risk),
            participant_ids=_ids(participants),
            employer_ids=_ids(employers),
        )
    return result


def _refresh_cohorts(cohort_ids: Collection[int]) -> None:
    """Sum up these cohorts again and store their rows. Each row is locked first (made first if it is
    missing), so two writes in one cohort at the same moment take turns, and the second sums up
    after the first committed. Always after the enrolment rows are locked, in the order of the
    cohorts: no two writes wait for each other."""
    if not cohort_ids:
        return
    ordered = sorted(cohort_ids)

    def lock(ids: list[int]) -> set[int]:
        return set(
            db.session.scalars(
                sa.select(CohortSummary.cohort_id)
                .where(CohortSummary.cohort_id.in_(ids))
                .order_by(CohortSummary.cohort_id)
                .with_for_update()
            )
        )

    missing = [cohort_id for cohort_id in ordered if cohort_id not in lock(ordered)]
    if missing:
        now = clock.now()
        db.session.execute(
            _insert(CohortSummary).on_conflict_do_nothing(index_elements=[CohortSummary.cohort_id]),
            [
                {"cohort_id": cohort_id, **CohortTotals().columns(), "updated_at": now}
                for cohort_id in missing
            ],
        )
        lock(missing)
    _store_cohorts(cohort_totals(ordered))


def _store_cohorts(totals: Mapping[int, CohortTotals]) -> None:
    """Insert or update the cohort rows (one statement)."""
    _upsert(CohortSummary, "cohort_id", totals)


def _cohort_batches(batch_size: int) -> Iterator[list[int]]:
    """Every cohort id, in batches (keyset)."""
    after = 0
    while True:
        batch = list(
            db.session.scalars(
                sa.select(Cohort.id).where(Cohort.id > after).order_by(Cohort.id).limit(batch_size)
            )
        )
        if not batch:
            return
        yield batch
        after = batch[-1]


def rebuild_cohort_summaries(batch_size: int = REBUILD_BATCH) -> int:
    """Sum up every cohort again from the stored enrolment rows (run ``rebuild_summaries`` first when
    those are not to be trusted); returns how many. Flushes, never commits."""
    count = 0
    for batch in _cohort_batches(batch_size):
        _store_cohorts(cohort_totals(batch))
        count += len(batch)
    return count


@dataclass(frozen=True)
class CohortSummaryDifference:
    cohort_id: int
    fields: dict[str, tuple[object, object]]  # (stored, summed up again)


@dataclass(frozen=True)
class SummaryDifference:
    enrolment_id: int
    # The figures that differ, each with (stored, recomputed); a missing row lists every figure.
    fields: dict[str, tuple[object, object]]


@dataclass(frozen=True)
class SummaryCheck:
    checked: int  # enrolments
    differences: list[SummaryDifference]
    cohorts_checked: int = 0
    cohort_differences: list[CohortSummaryDifference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences and not self.cohort_differences


def verify_summaries(batch_size: int = REBUILD_BATCH) -> SummaryCheck:
    """Recompute every summary from the raw rows and compare it with the stored one; then sum up every
    cohort again from the stored enrolment rows (just checked) and compare it with its row."""
    checked = 0
    differences = []
    for batch in _in_batches(batch_size):
        stored = {
            summary.enrolment_id: Figures.of(summary)
            for summary in db.session.scalars(
                sa.select(ProgressSummary)
                .where(ProgressSummary.enrolment_id.in_([e.id for e in batch]))
                .execution_options(populate_existing=True)
            )
        }
        for enrolment_id, recomputed in compute_figures(batch).items():
            checked += 1
            kept = stored.get(enrolment_id)
            differing = {
                f.name: (getattr(kept, f.name, None), getattr(recomputed, f.name))
                for f in fields(Figures)
                if kept is None or getattr(kept, f.name) != getattr(recomputed, f.name)
            }
            if differing:
                differences.append(SummaryDifference(enrolment_id, differing))
    cohorts_checked = 0
    cohort_differences = []
    for cohort_batch in _cohort_batches(batch_size):
        kept_rows = {
            summary.cohort_id: CohortTotals.of(summary)
            for summary in db.session.scalars(
                sa.select(CohortSummary)
                .where(CohortSummary.cohort_id.in_(cohort_batch))
                .execution_options(populate_existing=True)
            )
        }
        for cohort_id, summed in cohort_totals(cohort_batch).items():
            cohorts_checked += 1
            kept_totals = kept_rows.get(cohort_id, CohortTotals())
            differing = {
                f.name: (getattr(kept_totals, f.name), getattr(summed, f.name))
                for f in fields(CohortTotals)
                if getattr(kept_totals, f.name) != getattr(summed, f.name)
            }
            if differing:
                cohort_differences.append(CohortSummaryDifference(cohort_id, differing))
    return SummaryCheck(checked, differences, cohorts_checked, cohort_differences)


# --- Reading the summaries -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Stored:
    figures: Figures
    cohort: Cohort

    def progress(self, enrolment_status: EnrolmentStatus, today: date) -> Progress:
        return self.figures.progress(self.cohort, enrolment_status, today)


def _summaries(enrolments: Sequence[Enrolment]) -> dict[Enrolment, _Stored]:
    """The stored figures of these enrolments with their cohorts and programmes: one statement. An
    enrolment without a row yet (made outside the services) is computed from the raw rows."""
    if not enrolments:
        return {}
    rows = db.session.execute(
        sa.select(ProgressSummary, Cohort)
        .join(Enrolment, Enrolment.id == ProgressSummary.enrolment_id)
        .join(Cohort, Cohort.id == Enrolment.cohort_id)
        .where(ProgressSummary.enrolment_id.in_([e.id for e in enrolments]))
        .options(joinedload(Cohort.programme))
        .execution_options(populate_existing=True)
    ).all()
    found = {summary.enrolment_id: _Stored(Figures.of(summary), cohort) for summary, cohort in rows}
    missing = [e for e in enrolments if e.id not in found]
    for enrolment_id, figures in compute_figures(missing).items():
        # compute_figures loaded the cohorts: ``get`` finds them in the session.
        cohort = db.session.get(Cohort, next(e.cohort_id for e in missing if e.id == enrolment_id))
        assert cohort is not None
        found[enrolment_id] = _Stored(figures, cohort)
    return {enrolment: found[enrolment.id] for enrolment in enrolments}


def enrolment_progress(enrolments: Sequence[Enrolment], today: date) -> dict[int, Progress]:
    """The full progress per enrolment id on ``today``: one statement however many enrolments."""
    return {e.id: p for e, p in _read(enrolments, today)}


def loaded_progress(enrolment: Enrolment, today: date) -> Progress:
    """The progress of one enrolment whose summary row was loaded with it (an eager load of
    ``Enrolment.summary`` in the page's own statement, with its cohort and programme): no statement
    of its own. Without a row yet, as ``enrolment_progress``."""
    summary = enrolment.summary
    if summary is None:
        return enrolment_progress([enrolment], today)[enrolment.id]
    return Figures.of(summary).progress(enrolment.cohort, enrolment.status, today)


def assignment_progress(
    enrolments: Sequence[Enrolment], today: date
) -> dict[int, AssignmentProgress]:
    """Assignment counts per enrolment id, with overdue work measured against ``today``."""
    return {e.id: p.assignments for e, p in _read(enrolments, today)}


def assignment_standing(
    enrolments: Sequence[Enrolment], today: date
) -> dict[int, AssignmentStanding]:
    """Assignment counts, week and what is expected by now per enrolment id."""
    return dict(enrolment_progress(enrolments, today))


def hours_progress(enrolments: Sequence[Enrolment], today: date) -> dict[int, HoursProgress]:
    """Hours per enrolment id."""
    return {e.id: p.hours for e, p in _read(enrolments, today)}


def last_activity(enrolments: Sequence[Enrolment]) -> dict[int, date]:
    """The day each enrolment last showed activity: work saved or handed in, hours logged, or else
    the day of enrolment. One statement, for that one column of the summaries (an enrolment without
    a row yet is computed from the raw rows, as in ``enrolment_progress``)."""
    if not enrolments:
        return {}
    stored: dict[int, date] = {
        enrolment_id: day
        for enrolment_id, day in db.session.execute(
            sa.select(ProgressSummary.enrolment_id, ProgressSummary.last_activity_on).where(
                ProgressSummary.enrolment_id.in_([e.id for e in enrolments])
            )
        )
    }
    missing = [e for e in enrolments if e.id not in stored]
    for enrolment_id, figures in compute_figures(missing).items():
        stored[enrolment_id] = figures.last_activity_on
    return {e.id: stored[e.id] for e in enrolments}


def _read(enrolments: Sequence[Enrolment], today: date) -> Iterator[tuple[Enrolment, Progress]]:
    for enrolment, stored in _summaries(enrolments).items():
        yield enrolment, stored.progress(enrolment.status, today)


def expected_curve(programme: Programme) -> list[int]:
    """For each week 1..duration of ``programme``: the percentage of its assignments that should be
    handed in by the end of that week (the same rule as ``Progress.expected_assignments``: an
    assignment is expected once the Friday of its due week has passed). One query, or none when the
    programme's assignments are loaded."""
    due_weeks = [assignment.due_week for assignment in programme.assignments]
    total = len(due_weeks)
    return [
        round(100 * sum(1 for due in due_weeks if due <= week) / total) if total else 0
        for week in range(1, programme.duration_weeks + 1)
    ]


class RiskReason(enum.StrEnum):
    BEHIND = "behind"  # fewer assignments handed in than expected for this week
    OVERDUE = "overdue"  # an assignment past its due date and not handed in
    INACTIVE = "inactive"  # nothing done for INACTIVE_AFTER_DAYS days


def risk_reasons(
    enrolments: Sequence[Enrolment],
    progress: Mapping[int, AssignmentStanding],
    today: date,
) -> dict[int, list[RiskReason]]:
    """Why each active enrolment is at risk (an empty list: not at risk), from its progress. No query."""
    result: dict[int, list[RiskReason]] = {e.id: [] for e in enrolments}
    for enrolment in enrolments:
        if enrolment.status is not EnrolmentStatus.ACTIVE:
            continue
        p = progress[enrolment.id]
        if p.week == 0:  # nothing is expected before the start
            continue
        if p.behind:
            result[enrolment.id].append(RiskReason.BEHIND)
        if p.assignments.overdue:
            result[enrolment.id].append(RiskReason.OVERDUE)
        if p.inactive_from <= today:
            result[enrolment.id].append(RiskReason.INACTIVE)
    return result


# --- The same questions in SQL, for lists across many enrolments ------------------------------------
# Each is a condition on ProgressSummary joined with Enrolment and Cohort, true only for active
# enrolments of cohorts that have started (nothing is expected before the start).


def _started_and_active(today: date) -> sa.ColumnElement[bool]:
    return sa.and_(Enrolment.status == EnrolmentStatus.ACTIVE, Cohort.start_date <= today)


def overdue_on(today: date) -> sa.ColumnElement[bool]:
    """An assignment past its due date and not handed in."""
    return sa.and_(_started_and_active(today), ProgressSummary.first_open_due_on < today)


def behind_on(today: date) -> sa.ColumnElement[bool]:
    """Fewer assignments handed in than expected by ``today``."""
    return sa.and_(_started_and_active(today), ProgressSummary.behind_from < today)


def inactive_on(today: date) -> sa.ColumnElement[bool]:
    """Nothing done for ``INACTIVE_AFTER_DAYS`` days (holiday weeks not counted)."""
    return sa.and_(_started_and_active(today), ProgressSummary.inactive_from <= today)


def at_risk_on(today: date) -> sa.ColumnElement[bool]:
    """Any of the three reasons of ``risk_reasons``."""
    return sa.or_(overdue_on(today), behind_on(today), inactive_on(today))


@dataclass(frozen=True)
class RiskStarts:
    """The first day on which each condition above holds for one active enrolment, its cohort's start
    aside (None: never, while its summary stays as it is): a condition holds on ``today`` exactly
    when its day is on or before ``today`` and the cohort has started. Per cohort, these days are
    kept in its summary row, so a page counts the conditions over many cohorts without reading
    their enrolments (``days_through``)."""

    overdue: date | None  # first_open_due_on < today
    behind: date | None  # behind_from < today
    inactive: date  # inactive_from <= today

    @property
    def at_risk(self) -> date:
        return min(day for day in (self.overdue, self.behind, self.inactive) if day is not None)

    @classmethod
    def of(
        cls, first_open_due_on: date | None, behind_from: date | None, inactive_from: date
    ) -> RiskStarts:
        next_day = timedelta(days=1)
        return cls(
            overdue=first_open_due_on + next_day if first_open_due_on is not None else None,
            behind=behind_from + next_day if behind_from is not None else None,
            inactive=inactive_from,
        )


def counter_through(today: date) -> Callable[[str], int]:
    """A function that tells how many of ``days`` (a cohort summary's list: ISO dates, space-separated,
    ascending) are on or before ``today``: to call for many lists (as many as there are cohorts).
    When all or none of them are, the list is not split."""
    day = today.isoformat()

    def count(days: str) -> int:
        if not days:
            return 0
        if (
            days[-10:] <= day
        ):  # the last one: all of them (ten characters a date, one space between)
            return (len(days) + 1) // 11
        if days[:10] > day:
            return 0
        return bisect_right(days.split(), day)

    return count


def days_through(days: str, today: date) -> int:
    """How many of ``days`` (a cohort summary's list) are on or before ``today``."""
    return counter_through(today)(days)


# --- Per assignment, for the one cohort a report shows ------------------------------------------------


def assignment_states(
    cohort: Cohort, enrolments: Sequence[Enrolment], today: date
) -> dict[int, dict[int, SubmissionStatus | str | None]]:
    """Per enrolment id (of ``enrolments``, all in ``cohort``) and assignment id of the cohort's
    programme: the submission's status, or "overdue" when it is past its due date and not handed
    in, or None (not started, not due yet). One query (the submissions of the cohort's enrolments, by
    join, not by a list of ids), or none when there are no enrolments; the cohort's programme
    assignments are read from the loaded cohort. The same rule as ``AssignmentProgress.overdue``."""
    if not enrolments:
        return {}
    wanted = {enrolment.id for enrolment in enrolments}
    statuses: dict[int, dict[int, SubmissionStatus]] = defaultdict(dict)
    for enrolment_id, assignment_id, status in db.session.execute(
        sa.select(Submission.enrolment_id, Submission.assignment_id, Submission.status)
        .join(Enrolment, Enrolment.id == Submission.enrolment_id)
        .where(Enrolment.cohort_id == cohort.id)
    ):
        if enrolment_id in wanted:
            statuses[enrolment_id][assignment_id] = status
    due_passed = {
        assignment.id: cohort.due_date(assignment.due_week) < today
        for assignment in cohort.programme.assignments
    }
    result: dict[int, dict[int, SubmissionStatus | str | None]] = {}
    for enrolment in enrolments:
        own = statuses[enrolment.id]
        states: dict[int, SubmissionStatus | str | None] = {}
        for assignment_id, passed in due_passed.items():
            status = own.get(assignment_id)
            states[assignment_id] = "overdue" if status not in HANDED_IN and passed else status
        result[enrolment.id] = states
    return result
