"""Workplace confirmation: the employer's contact confirms that handed-in work was carried out at their
workplace, for the assignments that ask for it. One confirmation per submission (it is about where the
work was done, which a revision of the reflection does not change); it names the attempt it was given
for. Functions flush, never commit.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from lms.extensions import db
from lms.models import (
    Assignment,
    Attempt,
    Enrolment,
    EnrolmentStatus,
    Role,
    Submission,
    User,
    WorkplaceConfirmation,
)
from lms.permissions import visible_enrolments
from lms.services import audit
from lms.services.progress import HANDED_IN


class WorkplaceError(ValueError):
    """A confirmation the rules refuse; the message says why, in the user's language."""


class AlreadyConfirmed(WorkplaceError):
    def __init__(self, confirmation: WorkplaceConfirmation) -> None:
        super().__init__(
            _(
                "This work was already confirmed by %(name)s.",
                name=confirmation.confirmed_by.full_name,
            )
        )
        self.confirmation = confirmation


def _is_confirmed() -> sa.Exists:
    return (
        sa.select(WorkplaceConfirmation.id)
        .where(WorkplaceConfirmation.submission_id == Submission.id)
        .exists()
    )


def awaiting_confirmation_query(contact: User) -> sa.Select[tuple[Submission]]:
    """Handed-in work of the contact's company's active employees that still waits for a
    confirmation, oldest hand-in first."""
    enrolment_ids = (
        visible_enrolments(contact)
        .where(Enrolment.status == EnrolmentStatus.ACTIVE)
        .with_only_columns(Enrolment.id)
    )
    return (
        sa.select(Submission)
        .join(Submission.assignment)
        .where(
            Assignment.requires_workplace_confirmation,
            Submission.status.in_(HANDED_IN),
            Submission.enrolment_id.in_(enrolment_ids),
            ~_is_confirmed(),
        )
        .order_by(Submission.submitted_at, Submission.id)
    )


def awaiting_confirmation_count(contact: User) -> int:
    query = (
        awaiting_confirmation_query(contact)
        .order_by(None)
        .with_only_columns(sa.func.count(Submission.id))
    )
    return db.session.scalar(query) or 0


def latest_handed_in_attempt(submission: Submission) -> Attempt | None:
    for attempt in reversed(submission.attempts):
        if attempt.submitted_at is not None:
            return attempt
    return None


def may_confirm(user: User, submission: Submission) -> bool:
    """A contact of the participant's employer, for an assignment that asks for a confirmation."""
    return (
        user.role is Role.EMPLOYER
        and user.employer_id is not None
        and user.employer_id == submission.enrolment.employer_id
        and submission.assignment.requires_workplace_confirmation
    )


def confirm_workplace(
    submission: Submission, *, actor: User, remark: str, at: datetime
) -> WorkplaceConfirmation:
    """Record that ``actor`` confirms the work was carried out at their workplace."""
    submission = db.session.scalar(
        sa.select(Submission)
        .where(Submission.id == submission.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if not may_confirm(actor, submission):
        raise WorkplaceError(
            _("Only a contact of the participant's employer can confirm this work.")
        )
    existing = db.session.scalar(
        sa.select(WorkplaceConfirmation)
        .where(WorkplaceConfirmation.submission_id == submission.id)
        .order_by(WorkplaceConfirmation.confirmed_at)
        .limit(1)
    )
    if existing is not None:
        raise AlreadyConfirmed(existing)
    attempt = latest_handed_in_attempt(submission)
    if attempt is None:
        raise WorkplaceError(_("This work has not been handed in yet."))
    confirmation = WorkplaceConfirmation(
        submission=submission,
        attempt_id=attempt.id,
        confirmed_by=actor,
        remark=remark.strip(),
        confirmed_at=at,
    )
    db.session.add(confirmation)
    db.session.flush()
    audit.record(
        "submission.workplace_confirm",
        actor,
        submission,
        confirmation=confirmation.id,
        attempt=attempt.number,
    )
    return confirmation
