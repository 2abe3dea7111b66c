"""What each home page shows, gathered in a constant number of queries however much data there is.

Every figure about progress comes from ``lms.services.progress``; this module only selects whose
progress to show and puts it together per page. Functions only read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm import contains_eager, joinedload

from lms.extensions import db
from lms.models import (
    Assessment,
    Assignment,
    Attempt,
    Certificate,
    Cohort,
    CohortSummary,
    Enrolment,
    EnrolmentStatus,
    IntakeType,
    Programme,
    ProgressReview,
    ProgressSummary,
    Region,
    Submission,
    SubmissionStatus,
    User,
)
from lms.permissions import visible_cohorts, visible_enrolments
from lms.services import progress as progress_service
from lms.services import reviews as review_service
from lms.services.progress import HANDED_IN, HoursProgress, Progress, RiskReason
from lms.services.reviews import ReviewDue


@dataclass(frozen=True)
class AtRisk:
    enrolment: Enrolment
    reasons: list[RiskReason]
    progress: Progress


# Up to this many participants in view, the trainer's home lists each of them per cohort; beyond it
# (a trainer of many cohorts), one row per cohort, and the participants of the cohort they choose.
LIST_PARTICIPANTS_UP_TO = 36
# The participants at risk and the reviews coming up that the home shows; the rest are counted.
LIST_ITEMS_ON_HOME = 10


@dataclass(frozen=True)
class CohortLine:
    """One cohort of the trainer in a line: its active participants, how many are at risk, and the
    share of their assignments approved."""

    cohort: Cohort
    participants: int
    at_risk: int
    percent_approved: int


@dataclass
class CohortParticipants:
    """The active participants of some cohorts with their progress (from the summaries)."""

    active: dict[int, list[Enrolment]]  # per cohort id, by name
    progress: dict[int, Progress]  # per enrolment id

    @property
    def enrolments(self) -> list[Enrolment]:
        return [e for rows in self.active.values() for e in rows]


def cohort_participants(cohorts: Sequence[Cohort], today: date) -> CohortParticipants:
    """The active participants of ``cohorts`` (loaded with their programmes), each with participant,
    employer and progress summary: one statement (none without cohorts)."""
    if not cohorts:
        return CohortParticipants({}, {})
    enrolments = db.session.scalars(
        sa.select(Enrolment)
        .join(Enrolment.participant)
        .where(
            Enrolment.cohort_id.in_([cohort.id for cohort in cohorts]),
            Enrolment.status == EnrolmentStatus.ACTIVE,
        )
        .order_by(User.sort_key, Enrolment.id)
        .options(
            contains_eager(Enrolment.participant),
            joinedload(Enrolment.employer),
            joinedload(Enrolment.summary),
        )
    ).all()
    active: dict[int, list[Enrolment]] = {cohort.id: [] for cohort in cohorts}
    for enrolment in enrolments:
        active[enrolment.cohort_id].append(enrolment)
    # The cohorts (and programmes) are in the session: no statement per enrolment.
    progress = {e.id: progress_service.loaded_progress(e, today) for e in enrolments}
    return CohortParticipants(active, progress)


def open_cohorts_of(trainer: User) -> list[Cohort]:
    """The trainer's open cohorts with their programmes, newest first: one statement."""
    return list(
        db.session.scalars(
            visible_cohorts(trainer)
            .where(Cohort.closed_at.is_(None))
            .options(joinedload(Cohort.programme))
            .order_by(Cohort.start_date.desc(), Cohort.name)
        )
    )


@dataclass
class TrainerHome:
    cohorts: list[Cohort]  # shown: every open cohort of the trainer, or the one chosen
    open_cohorts: list[Cohort]  # every open cohort of the trainer (to choose from)
    cohort_lines: list[CohortLine]  # per cohort shown
    at_risk: list[AtRisk]  # the first LIST_ITEMS_ON_HOME
    at_risk_count: int
    reviews_due: list[ReviewDue]  # the first LIST_ITEMS_ON_HOME
    reviews_due_count: int
    # Each participant shown, when there are at most LIST_PARTICIPANTS_UP_TO; else None.
    participants: CohortParticipants | None = None

    @property
    def lists_participants(self) -> bool:
        """Each participant in a table per cohort (few in view), or one line per cohort."""
        return self.participants is not None


def _cohort_lines(cohorts: Sequence[Cohort], today: date) -> list[CohortLine]:
    """Per cohort: active participants, at risk, and the share of assignments approved, summed in
    SQL over the progress summaries: one statement, however many participants (none without
    cohorts)."""
    if not cohorts:
        return []
    rows = {
        row.cohort_id: row
        for row in db.session.execute(
            sa.select(Enrolment.cohort_id, *_enrolment_counts(today))
            .join(Cohort, Cohort.id == Enrolment.cohort_id)
            .outerjoin(ProgressSummary, ProgressSummary.enrolment_id == Enrolment.id)
            .where(Enrolment.cohort_id.in_([cohort.id for cohort in cohorts]))
            .group_by(Enrolment.cohort_id)
        )
    }
    lines = []
    for cohort in cohorts:
        row = rows.get(cohort.id)
        lines.append(
            CohortLine(
                cohort=cohort,
                participants=int(row.active) if row else 0,
                at_risk=int(row.at_risk) if row else 0,
                percent_approved=_percent(int(row.approved), int(row.assignments)) if row else 0,
            )
        )
    return lines


def trainer_home(trainer: User, today: date, cohort_id: int | None = None) -> TrainerHome:
    """The trainer's open cohorts (or the one chosen) in a line each, those at risk with the reasons
    and the progress reviews coming up, the first ``LIST_ITEMS_ON_HOME`` of each with their totals;
    and each participant with progress when there are few. Its cost follows what it shows: four
    statements (the cohorts, the lines, and then either the participants and their last reviews,
    or the first at risk and the first reviews due), never a row per participant of many cohorts."""
    open_cohorts = open_cohorts_of(trainer)
    cohorts = [c for c in open_cohorts if cohort_id is None or c.id == cohort_id]
    lines = _cohort_lines(cohorts, today)
    if sum(line.participants for line in lines) <= LIST_PARTICIPANTS_UP_TO:
        participants = cohort_participants(cohorts, today)
        shown = participants.enrolments
        reasons = progress_service.risk_reasons(shown, participants.progress, today)
        at_risk = [
            AtRisk(e, reasons[e.id], participants.progress[e.id]) for e in shown if reasons[e.id]
        ]
        reviews = review_service.due_reviews(shown, today)
        return TrainerHome(
            cohorts=cohorts,
            open_cohorts=open_cohorts,
            cohort_lines=lines,
            at_risk=at_risk[:LIST_ITEMS_ON_HOME],
            at_risk_count=len(at_risk),
            reviews_due=reviews[:LIST_ITEMS_ON_HOME],
            reviews_due_count=len(reviews),
            participants=participants,
        )

    in_cohorts = Enrolment.cohort_id.in_([cohort.id for cohort in cohorts])
    first_at_risk = db.session.scalars(
        sa.select(Enrolment)
        .join(Enrolment.cohort)
        .join(Enrolment.participant)
        .join(Enrolment.summary)
        .where(in_cohorts, progress_service.at_risk_on(today))
        .order_by(Cohort.start_date.desc(), Cohort.name, User.sort_key, Enrolment.id)
        .limit(LIST_ITEMS_ON_HOME)
        .options(
            contains_eager(Enrolment.cohort),
            contains_eager(Enrolment.participant),
            contains_eager(Enrolment.summary),
            joinedload(Enrolment.employer),
        )
    ).all()
    progress = {e.id: progress_service.loaded_progress(e, today) for e in first_at_risk}
    reasons = progress_service.risk_reasons(first_at_risk, progress, today)
    reviews, reviews_count = review_service.first_reviews_due(in_cohorts, today, LIST_ITEMS_ON_HOME)
    return TrainerHome(
        cohorts=cohorts,
        open_cohorts=open_cohorts,
        cohort_lines=lines,
        at_risk=[AtRisk(e, reasons[e.id], progress[e.id]) for e in first_at_risk],
        at_risk_count=sum(line.at_risk for line in lines),
        reviews_due=reviews,
        reviews_due_count=reviews_count,
    )


@dataclass
class ParticipantHome:
    enrolment: Enrolment
    progress: Progress
    hours: HoursProgress
    next_assignments: list[Assignment]
    latest_review: ProgressReview | None
    latest_feedback: Assessment | None
    expected_curve: list[int]
    # Work that came back ("needs revision"): the first thing to do now.
    to_revise: list[Submission] = field(default_factory=list)


NEXT_ASSIGNMENTS = 3


def participant_home(participant: User, today: date) -> ParticipantHome | None:
    """The participant's active enrolment with its progress (read from the summary loaded with it),
    the next assignments, work to revise, the latest review and feedback: four statements."""
    enrolment = db.session.scalar(
        visible_enrolments(participant)
        .where(Enrolment.status == EnrolmentStatus.ACTIVE)
        .options(
            joinedload(Enrolment.cohort).options(
                joinedload(Cohort.programme).joinedload(Programme.assignments),
                joinedload(Cohort.trainers),
            ),
            joinedload(Enrolment.employer),
            joinedload(Enrolment.summary),
        )
    )
    if enrolment is None:
        return None
    progress = progress_service.loaded_progress(enrolment, today)
    programme = enrolment.cohort.programme
    # The assignments are in the session (loaded with the programme): no statement per submission.
    submissions = db.session.scalars(
        sa.select(Submission).where(Submission.enrolment_id == enrolment.id)
    ).all()
    handed_in = {s.assignment_id for s in submissions if s.status in HANDED_IN}
    open_assignments = sorted(
        (a for a in programme.assignments if a.id not in handed_in),
        key=lambda a: (a.due_week, a.position),
    )
    to_revise = sorted(
        (s for s in submissions if s.status is SubmissionStatus.NEEDS_REVISION),
        key=lambda s: (s.assignment.due_week, s.assignment.position),
    )
    latest_review = db.session.scalar(
        sa.select(ProgressReview)
        .where(ProgressReview.enrolment_id == enrolment.id)
        .options(joinedload(ProgressReview.trainer))
        .order_by(ProgressReview.held_on.desc(), ProgressReview.id.desc())
        .limit(1)
    )
    latest_feedback = db.session.scalar(
        sa.select(Assessment)
        .join(Assessment.attempt)
        .join(Attempt.submission)
        .where(Submission.enrolment_id == enrolment.id, Assessment.feedback != "")
        .options(
            joinedload(Assessment.assessor),
            joinedload(Assessment.attempt)
            .joinedload(Attempt.submission)
            .joinedload(Submission.assignment),
        )
        .order_by(Assessment.created_at.desc(), Assessment.id.desc())
        .limit(1)
    )
    return ParticipantHome(
        enrolment=enrolment,
        progress=progress,
        hours=progress.hours,
        next_assignments=open_assignments[:NEXT_ASSIGNMENTS],
        latest_review=latest_review,
        latest_feedback=latest_feedback,
        expected_curve=progress_service.expected_curve(programme),
        to_revise=to_revise,
    )


T = TypeVar("T")


def first_with_total(query: sa.Select[tuple[T]], limit: int) -> tuple[list[T], int]:
    """The first ``limit`` rows of ``query`` and how many there are in all, in one statement (a
    window count over the whole result, taken before the limit)."""
    rows = db.session.execute(query.add_columns(sa.func.count().over()).limit(limit)).all()
    return [row[0] for row in rows], (int(rows[0][1]) if rows else 0)


def participant_certificates(participant: User) -> list[Certificate]:
    """The participant's valid certificates, newest first: shown on the home page during and after
    the year (a finished enrolment has no home page of its own). One query."""
    return list(
        db.session.scalars(
            sa.select(Certificate)
            .join(Certificate.enrolment)
            .where(Enrolment.participant_id == participant.id, Certificate.revoked_at.is_(None))
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        )
    )


@dataclass
class EmployerHome:
    enrolments: list[Enrolment]
    progress: dict[int, Progress]
    hours: dict[int, HoursProgress]
    certificates: list[Certificate]  # the latest CERTIFICATES_ON_HOME
    certificates_count: int = 0


# The latest certificates the employer's home lists; each is also on its holder's card.
CERTIFICATES_ON_HOME = 5


def employer_enrolments(contact: User, term: str = "") -> sa.Select[tuple[Enrolment]]:
    """The company's employees in the programme, in any cohort (active first, then finished)."""
    from lms.pagination import contains

    query = (
        visible_enrolments(contact)
        .where(Enrolment.status.in_([EnrolmentStatus.ACTIVE, EnrolmentStatus.COMPLETED]))
        .join(Enrolment.participant)
        .options(
            contains_eager(Enrolment.participant),  # the join that sorts and searches loads too
            joinedload(Enrolment.employer),
            joinedload(Enrolment.summary),
            joinedload(Enrolment.cohort).joinedload(Cohort.programme),
        )
        .order_by(
            sa.case((Enrolment.status == EnrolmentStatus.ACTIVE, 0), else_=1),
            User.sort_key,
            Enrolment.id,
        )
    )
    if term:
        query = query.where(sa.or_(contains(User.first_name, term), contains(User.last_name, term)))
    return query


def employer_home(contact: User, enrolments: Sequence[Enrolment], today: date) -> EmployerHome:
    """The latest certificates of the company's employees with their total (one statement) and the
    progress of the ``enrolments`` shown, read from the summaries loaded with them
    (``employer_enrolments``)."""
    certificates, certificates_count = first_with_total(
        sa.select(Certificate)
        .where(
            Certificate.revoked_at.is_(None),
            Certificate.enrolment_id.in_(
                visible_enrolments(contact).with_only_columns(Enrolment.id)
            ),
        )
        .options(joinedload(Certificate.enrolment).joinedload(Enrolment.participant))
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc()),
        CERTIFICATES_ON_HOME,
    )
    progress = {e.id: progress_service.loaded_progress(e, today) for e in enrolments}
    return EmployerHome(
        enrolments=list(enrolments),
        progress=progress,
        hours={enrolment_id: p.hours for enrolment_id, p in progress.items()},
        certificates=certificates,
        certificates_count=certificates_count,
    )


@dataclass
class CohortFigures:
    cohort: Cohort
    seats_taken: int = 0
    active: int = 0
    completed: int = 0
    withdrawn: int = 0
    at_risk: int = 0
    # Of all assignments of the active participants: the share approved, and the share due by now.
    percent_approved: int = 0
    expected_percent: int = 0
    attendance_percent: int | None = None  # None: no training day recorded yet


@dataclass
class RegionFigures:
    """One region's cohorts (open ones, or all) summed up; ``cohorts`` holds those of the region on
    the page shown."""

    region: Region
    cohort_count: int = 0
    seats: int = 0
    seats_taken: int = 0
    active: int = 0
    completed: int = 0
    withdrawn: int = 0
    at_risk: int = 0
    behind: int = 0
    overdue: int = 0
    inactive: int = 0
    percent_approved: int = 0
    attendance_percent: int | None = None  # None: no training day recorded yet
    cohorts: list[CohortFigures] = field(default_factory=list)


@dataclass
class CoordinatorOverview:
    regions: list[RegionFigures]
    # The page of cohorts shown (``page.items``: cohorts), over every cohort of the regions.
    page: Pagination

    @property
    def cohorts(self) -> list[CohortFigures]:
        return [figures for region in self.regions for figures in region.cohorts]


COHORTS_PER_PAGE = 25


def _count_where(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _enrolment_counts(today: date) -> list[sa.ColumnElement[int]]:
    """Aggregates over enrolments joined with their cohort and (outer) their progress summary."""
    active = Enrolment.status == EnrolmentStatus.ACTIVE

    def active_sum(column: sa.ColumnElement[int]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((active, column), else_=0)), 0)

    return [
        _count_where(active).label("active"),
        _count_where(Enrolment.status == EnrolmentStatus.COMPLETED).label("completed"),
        _count_where(Enrolment.status == EnrolmentStatus.WITHDRAWN).label("withdrawn"),
        _count_where(progress_service.at_risk_on(today)).label("at_risk"),
        _count_where(progress_service.behind_on(today)).label("behind"),
        _count_where(progress_service.overdue_on(today)).label("overdue"),
        _count_where(progress_service.inactive_on(today)).label("inactive"),
        _count_where(sa.and_(active, ProgressSummary.enrolment_id.is_not(None))).label(
            "summarised"
        ),
        active_sum(ProgressSummary.assignments_approved).label("approved"),
        active_sum(ProgressSummary.assignments_total).label("assignments"),
    ]


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def _cohort_figures(
    cohort: Cohort, totals: progress_service.CohortTotals, due_weeks: list[int], today: date
) -> CohortFigures:
    """One cohort's line from its summary row: what is expected by now are the assignments whose due
    date (per cohort) has passed, by the rule of Progress.expected_assignments."""
    started = cohort.start_date <= today
    expected = sum(1 for week in due_weeks if cohort.due_date(week) < today)
    return CohortFigures(
        cohort=cohort,
        seats_taken=totals.active + totals.completed,
        active=totals.active,
        completed=totals.completed,
        withdrawn=totals.withdrawn,
        at_risk=progress_service.days_through(totals.at_risk_from, today) if started else 0,
        percent_approved=_percent(totals.assignments_approved, totals.assignments_total),
        expected_percent=_percent(totals.summarised * expected, totals.assignments_total),
        attendance_percent=progress_service.attendance_percent(
            totals.attendance_attended, totals.attendance_recorded
        ),
    )


def coordinator_overview(
    today: date,
    region: Region | None = None,
    include_closed: bool = False,
    page_number: int = 1,
) -> CoordinatorOverview:
    """Per region: cohorts, seats, active participants, at risk (and why), completions, withdrawals
    and the share of assignments approved; and one page of cohorts (by region, newest first) with the
    same figures. Read from the cohorts' summary rows (``CohortSummary``), one per cohort in view,
    never a row per enrolment: its cost follows the cohorts shown, not the programme's history. Four
    statements: the sums per region, the risk days of the cohorts that have started, the page of
    cohorts with their rows, and the due weeks of their programmes."""
    conditions: list[sa.ColumnElement[bool]] = []
    if region is not None:
        conditions.append(Cohort.region == region)
    if not include_closed:
        conditions.append(Cohort.closed_at.is_(None))

    def total(column: sa.ColumnElement[int]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(column), 0)

    regions = {r: RegionFigures(r) for r in Region if region is None or r is region}
    for row in db.session.execute(
        sa.select(
            Cohort.region,
            sa.func.count(Cohort.id).label("cohort_count"),
            total(Cohort.capacity).label("seats"),
            total(CohortSummary.active).label("active"),
            total(CohortSummary.completed).label("completed"),
            total(CohortSummary.withdrawn).label("withdrawn"),
            total(CohortSummary.assignments_approved).label("approved"),
            total(CohortSummary.assignments_total).label("assignments"),
            total(CohortSummary.attendance_recorded).label("recorded"),
            total(CohortSummary.attendance_attended).label("attended"),
        )
        .outerjoin(CohortSummary, CohortSummary.cohort_id == Cohort.id)
        .where(*conditions)
        .group_by(Cohort.region)
    ):
        figures = regions.get(row.region)
        if figures is None:
            continue
        figures.cohort_count = int(row.cohort_count)
        figures.seats = int(row.seats)
        figures.active = int(row.active)
        figures.completed = int(row.completed)
        figures.withdrawn = int(row.withdrawn)
        figures.seats_taken = figures.active + figures.completed
        figures.percent_approved = _percent(int(row.approved), int(row.assignments))
        figures.attendance_percent = progress_service.attendance_percent(
            int(row.attended), int(row.recorded)
        )

    # At risk on ``today``: per cohort that has started, its active participants whose first day
    # at risk (per reason) is on or before today.
    days_through = progress_service.counter_through(today)
    for region_of, at_risk, behind, overdue, inactive in db.session.execute(
        sa.select(
            Cohort.region,
            CohortSummary.at_risk_from,
            CohortSummary.behind_from,
            CohortSummary.overdue_from,
            CohortSummary.inactive_from,
        )
        .join(CohortSummary, CohortSummary.cohort_id == Cohort.id)
        .where(*conditions, Cohort.start_date <= today, CohortSummary.at_risk_from != "")
    ):
        figures = regions.get(region_of)
        if figures is None:
            continue
        figures.at_risk += days_through(at_risk)
        figures.behind += days_through(behind)
        figures.overdue += days_through(overdue)
        figures.inactive += days_through(inactive)

    # The page of cohorts: its number bounded by the total the regions already counted.
    count = sum(figures.cohort_count for figures in regions.values())
    pages = max(1, -(-count // COHORTS_PER_PAGE))
    region_order = sa.case(
        *((Cohort.region == r, i) for i, r in enumerate(Region)), else_=len(Region)
    )
    in_order = (
        sa.select(Cohort)
        .where(*conditions)
        .order_by(region_order, Cohort.start_date.desc(), Cohort.name, Cohort.id)
    )
    page = db.paginate(
        in_order.options(joinedload(Cohort.summary)),
        page=min(max(page_number, 1), pages),
        per_page=COHORTS_PER_PAGE,
        error_out=False,
        count=False,
    )
    page.total = count
    cohorts: list[Cohort] = list(page.items)
    if not cohorts:
        return CoordinatorOverview(list(regions.values()), page)
    # The same page again as a subquery: the database, not a list of ids, says which programmes.
    # A handful of programmes, a few dozen rows.
    page_ids = (
        in_order.with_only_columns(Cohort.id)
        .limit(COHORTS_PER_PAGE)
        .offset((page.page - 1) * COHORTS_PER_PAGE)
    )
    due_weeks: dict[int, list[int]] = {}
    for programme_id, due_week in db.session.execute(
        sa.select(Assignment.programme_id, Assignment.due_week).where(
            Assignment.programme_id.in_(
                sa.select(Cohort.programme_id).where(Cohort.id.in_(page_ids.scalar_subquery()))
            )
        )
    ):
        due_weeks.setdefault(programme_id, []).append(due_week)
    for cohort in cohorts:
        regions[cohort.region].cohorts.append(
            _cohort_figures(
                cohort,
                progress_service.CohortTotals.of(cohort.summary),
                due_weeks.get(cohort.programme_id, []),
                today,
            )
        )
    return CoordinatorOverview(list(regions.values()), page)


@dataclass
class ReportRow:
    region: Region
    by_intake: dict[IntakeType, int]
    participants: int
    completions: int
    withdrawals: int
    certificates: int
    employers: int
    # Training days recorded and attended, over the region's cohorts.
    attendance_recorded: int = 0
    attendance_attended: int = 0

    @property
    def attendance_percent(self) -> int | None:
        return progress_service.attendance_percent(
            self.attendance_attended, self.attendance_recorded
        )


@dataclass
class ProgrammeReport:
    year: int | None
    rows: list[ReportRow]
    total: ReportRow | None


def report_years() -> list[int]:
    """The school years (by the calendar year they start in) that cohorts started in, newest first."""
    starts = db.session.scalars(sa.select(Cohort.start_date).distinct()).all()
    return sorted({d.year if d.month >= 8 else d.year - 1 for d in starts}, reverse=True)


def programme_report(year: int | None = None) -> ProgrammeReport:
    """The figures the funding partners ask for, per region: participants by intake type,
    completions, withdrawals, certificates issued (not revoked), employers involved and attendance
    on the training days. A transfer
    counts once: at the cohort the participant ended up in. Read from the cohorts' summary rows
    (``CohortSummary``), one per cohort in the report, never a row per enrolment: one statement.
    Participants and employers are counted once per region and once in the total (they do not add
    up over regions), from each cohort's list of them.

    ``year`` limits to cohorts starting in that school year (1 August - 31 July): only those
    cohorts' rows are read."""
    query = sa.select(
        Cohort.region,
        *(getattr(CohortSummary, f"intake_{intake.value}") for intake in IntakeType),
        CohortSummary.completed,
        CohortSummary.withdrawn,
        CohortSummary.certificates,
        CohortSummary.participant_ids,
        CohortSummary.employer_ids,
        CohortSummary.attendance_recorded,
        CohortSummary.attendance_attended,
    ).join(CohortSummary, CohortSummary.cohort_id == Cohort.id)
    if year is not None:
        query = query.where(
            Cohort.start_date >= date(year, 8, 1), Cohort.start_date < date(year + 1, 8, 1)
        )

    rows = {
        region: ReportRow(region, {intake: 0 for intake in IntakeType}, 0, 0, 0, 0, 0)
        for region in Region
    }
    # Per region, each cohort's list of participant ids and of employer ids (space-separated).
    lists: dict[Region, tuple[list[str], list[str]]] = {r: ([], []) for r in Region}
    intakes = list(IntakeType)
    for (
        region,
        *counts,
        completed,
        withdrawn,
        certificates,
        participant_ids,
        employer_ids,
        attendance_recorded,
        attendance_attended,
    ) in db.session.execute(query):
        row = rows[region]
        for intake, count in zip(intakes, counts, strict=True):
            row.by_intake[intake] += count
        row.completions += completed
        row.withdrawals += withdrawn
        row.certificates += certificates
        row.attendance_recorded += attendance_recorded
        row.attendance_attended += attendance_attended
        participant_lists, employer_lists = lists[region]
        participant_lists.append(participant_ids)
        employer_lists.append(employer_ids)
    every_participant: set[str] = set()
    every_employer: set[str] = set()
    for region, (participant_lists, employer_lists) in lists.items():
        participants = set(" ".join(participant_lists).split())
        employers = set(" ".join(employer_lists).split())
        rows[region].participants = len(participants)
        rows[region].employers = len(employers)
        every_participant |= participants
        every_employer |= employers
    total = ReportRow(
        region=None,  # type: ignore[arg-type]
        by_intake={
            intake: sum(row.by_intake[intake] for row in rows.values()) for intake in IntakeType
        },
        participants=len(every_participant),
        completions=sum(row.completions for row in rows.values()),
        withdrawals=sum(row.withdrawals for row in rows.values()),
        certificates=sum(row.certificates for row in rows.values()),
        employers=len(every_employer),
        attendance_recorded=sum(row.attendance_recorded for row in rows.values()),
        attendance_attended=sum(row.attendance_attended for row in rows.values()),
    )
    return ProgrammeReport(year=year, rows=list(rows.values()), total=total)
