"""What each home page shows, gathered in a constant number of queries however much data there is.

Every figure about progress comes from ``lms.services.progress``; this module only selects whose
progress to show and puts it together per page. Functions only read."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from lms.extensions import db
from lms.models import (
    Assessment,
    Assignment,
    Attempt,
    Certificate,
    Cohort,
    Enrolment,
    EnrolmentStatus,
    IntakeType,
    Programme,
    ProgressReview,
    Region,
    Submission,
    SubmissionStatus,
    User,
)
from lms.permissions import visible_cohorts, visible_enrolments
from lms.services import progress as progress_service
from lms.services.progress import HANDED_IN, HoursProgress, Progress, RiskReason


@dataclass(frozen=True)
class AtRisk:
    enrolment: Enrolment
    reasons: list[RiskReason]
    progress: Progress


@dataclass
class TrainerHome:
    cohorts: list[Cohort]
    active: dict[int, list[Enrolment]]
    progress: dict[int, Progress]
    at_risk: list[AtRisk]


def trainer_home(trainer: User, today: date, cohort_id: int | None = None) -> TrainerHome:
    """The trainer's open cohorts (or one of them), their active participants with progress, and
    those at risk with the reasons. Twelve queries."""
    query = visible_cohorts(trainer).where(Cohort.closed_at.is_(None))
    if cohort_id is not None:
        query = query.where(Cohort.id == cohort_id)
    cohorts = (
        db.session.scalars(
            query.options(
                joinedload(Cohort.programme),
                selectinload(Cohort.enrolments).joinedload(Enrolment.participant),
                selectinload(Cohort.enrolments).joinedload(Enrolment.employer),
            ).order_by(Cohort.start_date.desc(), Cohort.name)
        )
        .unique()
        .all()
    )
    active = {
        cohort.id: sorted(
            (e for e in cohort.enrolments if e.status is EnrolmentStatus.ACTIVE),
            key=lambda e: (e.participant.sort_key, e.id),
        )
        for cohort in cohorts
    }
    enrolments = [e for rows in active.values() for e in rows]
    progress = progress_service.enrolment_progress(enrolments, today)
    reasons = progress_service.risk_reasons(enrolments, progress, today)
    at_risk = [AtRisk(e, reasons[e.id], progress[e.id]) for e in enrolments if reasons[e.id]]
    return TrainerHome(cohorts, active, progress, at_risk)


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
    enrolment = db.session.scalar(
        visible_enrolments(participant)
        .where(Enrolment.status == EnrolmentStatus.ACTIVE)
        .options(
            joinedload(Enrolment.cohort)
            .joinedload(Cohort.programme)
            .selectinload(Programme.assignments),
            joinedload(Enrolment.employer),
            joinedload(Enrolment.cohort).selectinload(Cohort.trainers),
        )
    )
    if enrolment is None:
        return None
    progress = progress_service.enrolment_progress([enrolment], today)[enrolment.id]
    hours = progress_service.hours_progress([enrolment], today)[enrolment.id]
    handed_in = set(
        db.session.scalars(
            sa.select(Submission.assignment_id).where(
                Submission.enrolment_id == enrolment.id, Submission.status.in_(HANDED_IN)
            )
        )
    )
    programme = enrolment.cohort.programme
    open_assignments = sorted(
        (a for a in programme.assignments if a.id not in handed_in),
        key=lambda a: (a.due_week, a.position),
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
    to_revise = db.session.scalars(
        sa.select(Submission)
        .join(Submission.assignment)
        .where(
            Submission.enrolment_id == enrolment.id,
            Submission.status == SubmissionStatus.NEEDS_REVISION,
        )
        .options(joinedload(Submission.assignment))
        .order_by(Assignment.due_week, Assignment.position)
    ).all()
    return ParticipantHome(
        enrolment=enrolment,
        progress=progress,
        hours=hours,
        next_assignments=open_assignments[:NEXT_ASSIGNMENTS],
        latest_review=latest_review,
        latest_feedback=latest_feedback,
        expected_curve=progress_service.expected_curve(programme),
        to_revise=list(to_revise),
    )


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
    certificates: list[Certificate]


def employer_enrolments(contact: User, term: str = "") -> sa.Select[tuple[Enrolment]]:
    """The company's employees in the programme, in any cohort (active first, then finished)."""
    from lms.pagination import contains

    query = (
        visible_enrolments(contact)
        .where(Enrolment.status.in_([EnrolmentStatus.ACTIVE, EnrolmentStatus.COMPLETED]))
        .join(Enrolment.participant)
        .options(
            joinedload(Enrolment.participant),
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
    certificates = list(
        db.session.scalars(
            sa.select(Certificate)
            .where(
                Certificate.revoked_at.is_(None),
                Certificate.enrolment_id.in_(
                    visible_enrolments(contact).with_only_columns(Enrolment.id)
                ),
            )
            .options(joinedload(Certificate.enrolment).joinedload(Enrolment.participant))
            .order_by(Certificate.issued_at.desc())
        )
    )
    return EmployerHome(
        enrolments=list(enrolments),
        progress=progress_service.enrolment_progress(enrolments, today),
        hours=progress_service.hours_progress(enrolments, today),
        certificates=certificates,
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


@dataclass
class RegionFigures:
    region: Region
    cohorts: list[CohortFigures] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(getattr(figures, name) for figures in self.cohorts)

    @property
    def seats(self) -> int:
        return sum(figures.cohort.capacity for figures in self.cohorts)


def coordinator_overview(
    today: date, region: Region | None = None, include_closed: bool = False
) -> list[RegionFigures]:
    """Per region and cohort: seats taken, assignment progress, at-risk, completions, withdrawals.
    Seven queries however many cohorts."""
    query = sa.select(Cohort).options(selectinload(Cohort.enrolments), joinedload(Cohort.programme))
    if region is not None:
        query = query.where(Cohort.region == region)
    if not include_closed:
        query = query.where(Cohort.closed_at.is_(None))
    cohorts = db.session.scalars(query.order_by(Cohort.start_date.desc(), Cohort.name)).all()
    active = [e for c in cohorts for e in c.enrolments if e.status is EnrolmentStatus.ACTIVE]
    # Assignments and risk only: the checklist ledger of a whole programme is not needed here.
    progress = progress_service.assignment_standing(active, today)
    reasons = progress_service.risk_reasons(active, progress, today)
    regions = {r: RegionFigures(r) for r in Region if region is None or r is region}
    for cohort in cohorts:
        statuses = Counter(e.status for e in cohort.enrolments)
        mine = [e for e in cohort.enrolments if e.status is EnrolmentStatus.ACTIVE]
        figures = CohortFigures(
            cohort=cohort,
            seats_taken=statuses[EnrolmentStatus.ACTIVE] + statuses[EnrolmentStatus.COMPLETED],
            active=statuses[EnrolmentStatus.ACTIVE],
            completed=statuses[EnrolmentStatus.COMPLETED],
            withdrawn=statuses[EnrolmentStatus.WITHDRAWN],
            at_risk=sum(1 for e in mine if reasons[e.id]),
        )
        total = sum(progress[e.id].assignments.total for e in mine)
        if total:
            approved = sum(progress[e.id].assignments.approved for e in mine)
            expected = sum(progress[e.id].expected_assignments for e in mine)
            figures.percent_approved = round(100 * approved / total)
            figures.expected_percent = round(100 * expected / total)
        regions[cohort.region].cohorts.append(figures)
    return list(regions.values())


@dataclass
class ReportRow:
    region: Region
    by_intake: dict[IntakeType, int]
    participants: int
    completions: int
    withdrawals: int
    certificates: int
    employers: int


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
    completions, withdrawals, certificates issued (not revoked) and employers involved. A transfer
    counts once: at the cohort the participant ended up in. Two aggregate queries (per region, and
    the total: distinct participants and employers do not add up over regions), however many
    enrolments.

    ``year`` limits to cohorts starting in that school year (1 August - 31 July)."""
    # The enrolments that hold a valid certificate; a subquery, never a list of ids.
    certified = (
        sa.select(Certificate.enrolment_id)
        .where(Certificate.revoked_at.is_(None))
        .group_by(Certificate.enrolment_id)
        .subquery()
    )

    def count_where(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    columns = [
        *(
            count_where(Enrolment.intake_type == intake).label(intake.value)
            for intake in IntakeType
        ),
        sa.func.count(sa.distinct(Enrolment.participant_id)).label("participants"),
        count_where(Enrolment.status == EnrolmentStatus.COMPLETED).label("completions"),
        count_where(Enrolment.status == EnrolmentStatus.WITHDRAWN).label("withdrawals"),
        sa.func.count(certified.c.enrolment_id).label("certificates"),
        sa.func.count(sa.distinct(Enrolment.employer_id)).label("employers"),
    ]
    query = (
        sa.select(*columns)
        .select_from(Enrolment)
        .join(Enrolment.cohort)
        .outerjoin(certified, certified.c.enrolment_id == Enrolment.id)
        .where(Enrolment.status != EnrolmentStatus.TRANSFERRED)
    )
    if year is not None:
        query = query.where(
            Cohort.start_date >= date(year, 8, 1), Cohort.start_date < date(year + 1, 8, 1)
        )

    def report_row(region: Region | None, row: sa.Row | None) -> ReportRow:  # type: ignore[type-arg]
        figures = row._mapping if row is not None else {}
        return ReportRow(
            region=region,  # type: ignore[arg-type]
            by_intake={intake: int(figures.get(intake.value, 0)) for intake in IntakeType},
            participants=int(figures.get("participants", 0)),
            completions=int(figures.get("completions", 0)),
            withdrawals=int(figures.get("withdrawals", 0)),
            certificates=int(figures.get("certificates", 0)),
            employers=int(figures.get("employers", 0)),
        )

    by_region = {
        row.region: row
        for row in db.session.execute(
            query.add_columns(Cohort.region).group_by(Cohort.region)
        ).all()
    }
    total = db.session.execute(query).one()
    return ProgrammeReport(
        year=year,
        rows=[report_row(region, by_region.get(region)) for region in Region],
        total=report_row(None, total),
    )
