"""The participant's portfolio: the assignments of the pinned programme and where each one stands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from lms.extensions import db
from lms.models import Enrolment, Period, Programme, Submission, SubmissionStatus
from lms.services.progress import HANDED_IN


@dataclass(frozen=True)
class AssignmentRow:
    code: str
    title: str
    due_date: date
    status: SubmissionStatus | None  # None: not started
    overdue: bool
    requires_workplace_confirmation: bool


@dataclass(frozen=True)
class PeriodOverview:
    code: str
    title: str
    rows: list[AssignmentRow]


def assignment_overview(enrolment: Enrolment, today: date) -> list[PeriodOverview]:
    """Every assignment of the enrolment's programme, grouped by period, in order."""
    cohort = enrolment.cohort
    programme = db.session.scalar(
        sa.select(Programme)
        .where(Programme.id == cohort.programme_id)
        .options(selectinload(Programme.periods).selectinload(Period.assignments))
    )
    statuses = dict(
        db.session.execute(
            sa.select(Submission.assignment_id, Submission.status).where(
                Submission.enrolment_id == enrolment.id
            )
        ).all()
    )
    overview = []
    for period in programme.periods:
        rows = []
        for assignment in period.assignments:
            due = cohort.due_date(assignment.due_week)
            status = statuses.get(assignment.id)
            rows.append(
                AssignmentRow(
                    code=assignment.code,
                    title=assignment.title,
                    due_date=due,
                    status=status,
                    overdue=due < today and status not in HANDED_IN,
                    requires_workplace_confirmation=assignment.requires_workplace_confirmation,
                )
            )
        overview.append(PeriodOverview(code=period.code, title=period.title, rows=rows))
    return overview
