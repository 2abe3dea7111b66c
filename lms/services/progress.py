"""Progress, one truth: every page, report, reminder and the certificate check count through here.

Works on a list of enrolments at once in a constant number of queries, however many there are:

- ``assignment_progress``: assignment counts only (approved of total, waiting, overdue, ...);
- ``enrolment_progress``: everything (``Progress``): assignments, technical competencies and
  21st-century skills signed off of required, overdue items, the expected progress for this week,
  whether the participant is behind, and whether the certificate is due.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from lms import clock
from lms.extensions import db
from lms.models import (
    Assignment,
    Attempt,
    ChecklistGroup,
    ChecklistItem,
    ChecklistKind,
    Cohort,
    Enrolment,
    EnrolmentStatus,
    HoursStatus,
    Programme,
    Submission,
    SubmissionStatus,
    WorkplaceHours,
    assignment_competencies,
)
from lms.services.signoff import current_levels

# A submission in one of these states no longer counts as overdue: the participant has done their part.
HANDED_IN = {SubmissionStatus.SUBMITTED, SubmissionStatus.APPROVED}


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


def assignment_progress(
    enrolments: Sequence[Enrolment], today: date
) -> dict[int, AssignmentProgress]:
    """Assignment counts per enrolment id, with overdue work measured against ``today``. Three queries."""
    if not enrolments:
        return {}
    facts = AssignmentFacts.load(enrolments)
    return {enrolment.id: facts.count(enrolment, today) for enrolment in enrolments}


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
class Progress:
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
    - ``certificate_due``: the enrolment is active, every assignment is approved and every checklist item
      is signed off at its required level.
    """

    assignments: AssignmentProgress
    technical: ItemProgress
    skills: ItemProgress
    items_overdue: int
    week: int
    expected_assignments: int
    behind: bool
    certificate_due: bool

    @property
    def handed_in(self) -> int:
        return self.assignments.approved + self.assignments.submitted

    @property
    def expected_percent(self) -> int:
        total = self.assignments.total
        return round(100 * self.expected_assignments / total) if total else 0


def enrolment_progress(enrolments: Sequence[Enrolment], today: date) -> dict[int, Progress]:
    """The full progress per enrolment id on ``today``, in seven queries however many enrolments."""
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
    levels = current_levels(enrolments)

    result = {}
    for enrolment in enrolments:
        cohort = facts.cohorts[enrolment.cohort_id]
        standing = facts.standing(enrolment, today)
        assignments = standing.assignments
        reached = levels[enrolment.id]
        signed = {ChecklistKind.TECHNICAL: 0, ChecklistKind.SKILL21: 0}
        required = {ChecklistKind.TECHNICAL: 0, ChecklistKind.SKILL21: 0}
        overdue_items = 0
        for item_id, kind, required_level in items_by_programme[cohort.programme_id]:
            required[kind] += 1
            if reached.get(item_id, 0) >= required_level:
                signed[kind] += 1
                continue
            due_week = item_due_weeks.get(item_id, cohort.programme.duration_weeks)
            if facts.due_passed(cohort, due_week, today):
                overdue_items += 1
        technical = ItemProgress(signed[ChecklistKind.TECHNICAL], required[ChecklistKind.TECHNICAL])
        skills = ItemProgress(signed[ChecklistKind.SKILL21], required[ChecklistKind.SKILL21])
        result[enrolment.id] = Progress(
            assignments=assignments,
            technical=technical,
            skills=skills,
            items_overdue=overdue_items,
            week=standing.week,
            expected_assignments=standing.expected_assignments,
            behind=standing.behind,
            certificate_due=(
                enrolment.status is EnrolmentStatus.ACTIVE
                and assignments.total > 0
                and assignments.approved == assignments.total
                and technical.complete
                and skills.complete
            ),
        )
    return result


@dataclass(frozen=True)
class AssignmentStanding:
    """Where one enrolment stands with its assignments on one day: the part of ``Progress`` that needs
    no checklist ledger, for overviews of a whole programme (see ``assignment_standing``)."""

    assignments: AssignmentProgress
    week: int
    expected_assignments: int

    @property
    def behind(self) -> bool:
        return self.assignments.approved + self.assignments.submitted < self.expected_assignments


def assignment_standing(
    enrolments: Sequence[Enrolment], today: date
) -> dict[int, AssignmentStanding]:
    """Assignment counts, week and what is expected by now per enrolment id: three queries, without
    reading the sign-off ledger (most of ``enrolment_progress``'s cost over a whole programme)."""
    if not enrolments:
        return {}
    facts = AssignmentFacts.load(enrolments)
    return {enrolment.id: facts.standing(enrolment, today) for enrolment in enrolments}


@dataclass
class AssignmentFacts:
    """The cohorts (with their programmes), assignment due weeks and submission states of a list of
    enrolments: three queries."""

    cohorts: dict[int, Cohort]
    due_weeks_by_programme: dict[int, dict[int, int]]
    statuses: dict[int, dict[int, SubmissionStatus]]
    _passed: dict[tuple[int, int, date], bool] = field(default_factory=dict)

    def due_passed(self, cohort: Cohort, due_week: int, today: date) -> bool:
        """Has the due date of ``due_week`` passed for ``cohort``? Remembered: every enrolment of a
        cohort asks the same few dozen questions (a tenth of the coordinator dashboard's time)."""
        key = (cohort.id, due_week, today)
        passed = self._passed.get(key)
        if passed is None:
            passed = self._passed[key] = cohort.due_date(due_week) < today
        return passed

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

    def standing(self, enrolment: Enrolment, today: date) -> AssignmentStanding:
        cohort = self.cohorts[enrolment.cohort_id]
        expected = sum(
            1
            for due_week in self.due_weeks_by_programme[cohort.programme_id].values()
            if self.due_passed(cohort, due_week, today)
        )
        return AssignmentStanding(
            self.count(enrolment, today), cohort.week_of_programme(today), expected
        )

    def count(self, enrolment: Enrolment, today: date) -> AssignmentProgress:
        cohort = self.cohorts[enrolment.cohort_id]
        due_weeks = self.due_weeks_by_programme[cohort.programme_id]
        own = self.statuses[enrolment.id]
        counts: dict[object, int] = defaultdict(int)
        for assignment_id, due_week in due_weeks.items():
            status = own.get(assignment_id)
            if status is not None:
                counts[status] += 1
            if status not in HANDED_IN and self.due_passed(cohort, due_week, today):
                counts["overdue"] += 1
        return AssignmentProgress(
            total=len(due_weeks),
            approved=counts[SubmissionStatus.APPROVED],
            submitted=counts[SubmissionStatus.SUBMITTED],
            needs_revision=counts[SubmissionStatus.NEEDS_REVISION],
            draft=counts[SubmissionStatus.DRAFT],
            overdue=counts["overdue"],
        )


# --- Workplace hours, the expected curve and activity: what the dashboards add to the picture ----------

INACTIVE_AFTER_DAYS = 14  # no work saved, handed in or hours logged for this long: "inactive"


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


def hours_progress(enrolments: Sequence[Enrolment], today: date) -> dict[int, HoursProgress]:
    """Hours per enrolment id: two queries however many enrolments."""
    if not enrolments:
        return {}
    cohorts = {
        cohort.id: cohort
        for cohort in db.session.scalars(
            sa.select(Cohort)
            .where(Cohort.id.in_({e.cohort_id for e in enrolments}))
            .options(joinedload(Cohort.programme))
        )
    }
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
        sums[enrolment_id][status] = (float(worked), float(learning))
    result = {}
    for enrolment in enrolments:
        cohort = cohorts[enrolment.cohort_id]
        programme = cohort.programme
        weeks_done = min(max(cohort.week_of_programme(today) - 1, 0), programme.duration_weeks)
        approved = sums[enrolment.id].get(HoursStatus.APPROVED, (0.0, 0.0))
        waiting = sums[enrolment.id].get(HoursStatus.SUBMITTED, (0.0, 0.0))
        result[enrolment.id] = HoursProgress(
            target=programme.bpv_hours_target,
            approved=approved[0],
            waiting=waiting[0],
            learning=approved[1],
            expected=round(programme.bpv_hours_target * weeks_done / programme.duration_weeks, 1),
        )
    return result


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


def last_activity(enrolments: Sequence[Enrolment]) -> dict[int, date]:
    """The day each enrolment last showed activity: work saved or handed in, hours logged, or else
    the day of enrolment. Two queries."""
    if not enrolments:
        return {}
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


class RiskReason(enum.StrEnum):
    BEHIND = "behind"  # fewer assignments handed in than expected for this week
    OVERDUE = "overdue"  # an assignment past its due date and not handed in
    INACTIVE = "inactive"  # nothing done for INACTIVE_AFTER_DAYS days


def risk_reasons(
    enrolments: Sequence[Enrolment],
    progress: Mapping[int, Progress] | Mapping[int, AssignmentStanding],
    today: date,
) -> dict[int, list[RiskReason]]:
    """Why each active enrolment is at risk (an empty list: not at risk), from its progress and its
    last activity. Two queries on top of ``progress``."""
    active = [e for e in enrolments if e.status is EnrolmentStatus.ACTIVE]
    activity = last_activity(active)
    result: dict[int, list[RiskReason]] = {e.id: [] for e in enrolments}
    for enrolment in active:
        p = progress[enrolment.id]
        if p.week == 0:  # nothing is expected before the start
            continue
        if p.behind:
            result[enrolment.id].append(RiskReason.BEHIND)
        if p.assignments.overdue:
            result[enrolment.id].append(RiskReason.OVERDUE)
        if (today - activity[enrolment.id]).days >= INACTIVE_AFTER_DAYS:
            result[enrolment.id].append(RiskReason.INACTIVE)
    return result


def assignment_states(
    enrolments: Sequence[Enrolment], today: date
) -> dict[int, dict[int, SubmissionStatus | str | None]]:
    """Per enrolment id and assignment id: the submission's status, or "overdue" when it is past its
    due date and not handed in, or None (not started, not due yet). Three queries; the same rule as
    ``AssignmentProgress.overdue``."""
    if not enrolments:
        return {}
    facts = AssignmentFacts.load(enrolments)
    result: dict[int, dict[int, SubmissionStatus | str | None]] = {}
    for enrolment in enrolments:
        cohort = facts.cohorts[enrolment.cohort_id]
        own = facts.statuses[enrolment.id]
        states: dict[int, SubmissionStatus | str | None] = {}
        for assignment_id, due_week in facts.due_weeks_by_programme[cohort.programme_id].items():
            status = own.get(assignment_id)
            if status not in HANDED_IN and cohort.due_date(due_week) < today:
                states[assignment_id] = "overdue"
            else:
                states[assignment_id] = status
        result[enrolment.id] = states
    return result
