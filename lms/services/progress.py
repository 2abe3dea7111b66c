"""Progress, one truth: every page, report and reminder counts through here.

Works on a list of enrolments at once in a constant number of queries, however many there are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from lms.extensions import db
from lms.models import Assignment, Cohort, Enrolment, Submission, SubmissionStatus

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
    """Assignment counts per enrolment id, with overdue work measured against ``today``."""
    if not enrolments:
        return {}
    enrolment_ids = [enrolment.id for enrolment in enrolments]
    cohorts = {
        cohort.id: cohort
        for cohort in db.session.scalars(
            sa.select(Cohort).where(Cohort.id.in_({e.cohort_id for e in enrolments}))
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
            Submission.enrolment_id.in_(enrolment_ids)
        )
    ):
        statuses[enrolment_id][assignment_id] = status

    result = {}
    for enrolment in enrolments:
        cohort = cohorts[enrolment.cohort_id]
        due_weeks = due_weeks_by_programme[cohort.programme_id]
        own = statuses[enrolment.id]
        counts = defaultdict(int)
        for assignment_id, due_week in due_weeks.items():
            status = own.get(assignment_id)
            if status is not None:
                counts[status] += 1
            if status not in HANDED_IN and cohort.due_date(due_week) < today:
                counts["overdue"] += 1
        result[enrolment.id] = AssignmentProgress(
            total=len(due_weeks),
            approved=counts[SubmissionStatus.APPROVED],
            submitted=counts[SubmissionStatus.SUBMITTED],
            needs_revision=counts[SubmissionStatus.NEEDS_REVISION],
            draft=counts[SubmissionStatus.DRAFT],
            overdue=counts["overdue"],
        )
    return result
