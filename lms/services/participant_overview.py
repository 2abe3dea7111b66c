"""One participant (enrolment) on one page for the trainer: every assignment with its status, last
hand-in and verdict, the checklists with the level reached per item, the workplace hours and the
progress reviews. One call answers for the whole page in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.base import ExecutableOption

from lms.extensions import db
from lms.models import (
    Attempt,
    Cohort,
    Enrolment,
    Period,
    Programme,
    ProgressReview,
    Submission,
    WorkplaceHours,
)
from lms.services.checklists import Checklist, build_checklist
from lms.services.portfolio import AssignmentPage
from lms.services.progress import AttendanceProgress, HoursProgress, loaded_progress

RECENT_WEEKS = 6  # the hours page has the rest


@dataclass(frozen=True)
class PeriodLines:
    period: Period
    lines: list[AssignmentPage]  # the participant's assignment page, read by the trainer


@dataclass(frozen=True)
class ParticipantOverview:
    enrolment: Enrolment
    periods: list[PeriodLines]
    checklist: Checklist
    hours: HoursProgress
    attendance: AttendanceProgress
    recent_weeks: list[WorkplaceHours]
    reviews: list[ProgressReview]

    @property
    def has_work(self) -> bool:
        """Anything at all yet: work, a sign-off, hours or a review."""
        return bool(
            any(line.submission for period in self.periods for line in period.lines)
            or any(row.standing for group in self.checklist.groups for row in group.items)
            or self.recent_weeks
            or self.reviews
        )


def overview_loading() -> tuple[ExecutableOption, ...]:
    """Loader options for the page's enrolment (its one statement): participant, employer, progress
    summary, cohort with trainers, programme with periods and assignments."""
    return (
        joinedload(Enrolment.participant),
        joinedload(Enrolment.employer),
        joinedload(Enrolment.summary),
        joinedload(Enrolment.cohort).options(
            joinedload(Cohort.trainers),
            joinedload(Cohort.programme)
            .joinedload(Programme.periods)
            .joinedload(Period.assignments),
        ),
    )


def participant_overview(enrolment: Enrolment, today: date) -> ParticipantOverview:
    """Everything on the page of one enrolment loaded with ``overview_loading``: seven statements
    (work with attempts and verdicts, recent hours, reviews, and the checklist's four), however
    much work, hours, sign-offs and reviews there are."""
    cohort = enrolment.cohort
    programme = cohort.programme
    submissions = {
        submission.assignment_id: submission
        for submission in db.session.scalars(
            sa.select(Submission)
            .where(Submission.enrolment_id == enrolment.id)
            .options(joinedload(Submission.attempts).joinedload(Attempt.assessments))
        ).unique()
    }
    periods = [
        PeriodLines(
            period=period,
            lines=[
                AssignmentPage(
                    assignment=assignment,
                    due_date=cohort.due_date(assignment.due_week),
                    submission=submissions.get(assignment.id),
                    today=today,
                )
                for assignment in period.assignments
            ],
        )
        for period in programme.periods
    ]
    recent_weeks = db.session.scalars(
        sa.select(WorkplaceHours)
        .where(WorkplaceHours.enrolment_id == enrolment.id)
        .order_by(WorkplaceHours.week_start.desc())
        .limit(RECENT_WEEKS)
    ).all()
    reviews = db.session.scalars(
        sa.select(ProgressReview)
        .where(ProgressReview.enrolment_id == enrolment.id)
        .options(joinedload(ProgressReview.trainer))
        .order_by(ProgressReview.held_on.desc(), ProgressReview.id.desc())
    ).all()
    progress = loaded_progress(enrolment, today)
    return ParticipantOverview(
        enrolment=enrolment,
        periods=periods,
        checklist=build_checklist(enrolment),
        hours=progress.hours,
        attendance=progress.attendance,
        recent_weeks=list(recent_weeks),
        reviews=list(reviews),
    )
