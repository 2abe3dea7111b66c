"""Workplace confirmation: the employer's contact confirms that handed-in work was carried out at their
workplace, for the assignments that ask for it. One confirmation per submission (it is about where the
work was done, which a revision of the reflection does not change); it names the attempt it was given
for. Functions flush, never commit.

The contact may instead say that the work was NOT carried out at their workplace, with a remark. The
trainer and the participant are told; the trainer sees it above the work before judging, and the
participant can answer by revising: a new hand-in is asked about again.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

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
from lms.services import audit, notifications
from lms.services.assessment import assignment_path
from lms.services.mail import queue_mail
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


class AlreadyDenied(WorkplaceError):
    def __init__(self, denial: WorkplaceConfirmation) -> None:
        super().__init__(
            _(
                "%(name)s already said that this work was not carried out at your workplace.",
                name=denial.confirmed_by.full_name,
            )
        )
        self.denial = denial


def _is_answered() -> sa.Exists:
    """Confirmed, or said not to be carried out since the latest hand-in (Submission.workplace_answer_pending)."""
    return (
        sa.select(WorkplaceConfirmation.id)
        .where(
            WorkplaceConfirmation.submission_id == Submission.id,
            sa.or_(
                WorkplaceConfirmation.carried_out,
                WorkplaceConfirmation.confirmed_at >= Submission.submitted_at,
            ),
        )
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
            ~_is_answered(),
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


def _locked_for_answer(submission: Submission, actor: User) -> Submission:
    """The submission, locked, with its answers as stored now; refused unless ``actor`` may answer."""
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
    db.session.refresh(submission, ["workplace_confirmations"])
    confirmation = submission.workplace_confirmation
    if confirmation is not None:
        raise AlreadyConfirmed(confirmation)
    return submission


def confirm_workplace(
    submission: Submission, *, actor: User, remark: str, at: datetime
) -> WorkplaceConfirmation:
    """Record that ``actor`` confirms the work was carried out at their workplace."""
    submission = _locked_for_answer(submission, actor)
    denial = submission.workplace_denial
    if denial is not None and not submission.workplace_answer_pending:
        raise AlreadyDenied(denial)
    return _answer(submission, actor=actor, remark=remark, at=at, carried_out=True)


def deny_workplace(
    submission: Submission, *, actor: User, remark: str, at: datetime
) -> WorkplaceConfirmation:
    """Record that ``actor`` says the work was NOT carried out at their workplace, and tell the
    participant and the trainers. Said again about the same hand-in: the first answer stands."""
    if not remark.strip():
        raise WorkplaceError(
            _("Say what was not done at your workplace, so the trainer and participant know.")
        )
    submission = _locked_for_answer(submission, actor)
    denial = submission.workplace_denial
    if denial is not None and not submission.workplace_answer_pending:
        return denial
    denial = _answer(submission, actor=actor, remark=remark, at=at, carried_out=False)
    _tell_about_denial(submission, denial)
    return denial


def _answer(
    submission: Submission, *, actor: User, remark: str, at: datetime, carried_out: bool
) -> WorkplaceConfirmation:
    """The contact's answer about the latest hand-in, with an audit event."""
    attempt = latest_handed_in_attempt(submission)
    if attempt is None:
        raise WorkplaceError(_("This work has not been handed in yet."))
    answer = WorkplaceConfirmation(
        submission=submission,
        attempt_id=attempt.id,
        confirmed_by=actor,
        remark=remark.strip(),
        confirmed_at=at,
        carried_out=carried_out,
    )
    db.session.add(answer)
    db.session.flush()
    audit.record(
        "submission.workplace_confirm" if carried_out else "submission.workplace_deny",
        actor,
        submission,
        confirmation=answer.id,
        attempt=attempt.number,
    )
    return answer


def _tell_about_denial(submission: Submission, denial: WorkplaceConfirmation) -> None:
    enrolment = submission.enrolment
    assignment = submission.assignment
    params = {
        "contact": denial.confirmed_by.full_name,
        "participant": enrolment.participant.full_name,
        "code": assignment.code,
        "title": assignment.title,
    }
    base_url = current_app.config["BASE_URL"].rstrip("/")
    subject = _l("%(code)s was not carried out at the workplace", code=assignment.code)
    participant_path = assignment_path(assignment.code)
    notifications.notify(
        enrolment.participant,
        notifications.WORKPLACE_NOT_CARRIED_OUT,
        params,
        participant_path,
        subjects=[notifications.submission_subject(submission.id)],
    )
    queue_mail(
        enrolment.participant,
        "workplace_not_carried_out",
        subject,
        submission=submission,
        denial=denial,
        for_trainer=False,
        link=base_url + participant_path,
    )
    trainer_path = f"/assessment/submissions/{submission.id}"
    for trainer in enrolment.cohort.trainers:
        notifications.notify(
            trainer,
            notifications.WORKPLACE_NOT_CARRIED_OUT_TRAINER,
            params,
            trainer_path,
            subjects=[notifications.submission_subject(submission.id)],
        )
        queue_mail(
            trainer,
            "workplace_not_carried_out",
            subject,
            submission=submission,
            denial=denial,
            for_trainer=True,
            link=base_url + trainer_path,
        )
