"""Assessment: the queue of handed-in work a trainer is waiting on, the verdict, and corrections.

Assessments are append-only. A verdict adds an Assessment to the handed-in attempt and moves the
submission on (``Submission.record_verdict``); a correction adds another Assessment to the same attempt
(``Submission.correct_verdict``) and never touches the earlier one. Every verdict tells the participant
in the app and by mail (through the outbox), in their own language. Functions flush, never commit.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from lms.extensions import db
from lms.models import (
    Assessment,
    Attempt,
    Enrolment,
    EnrolmentStatus,
    InvalidTransition,
    Submission,
    SubmissionStatus,
    User,
    Verdict,
)
from lms.permissions import is_trainer_of, visible_enrolments
from lms.services import audit, notifications, progress
from lms.services.mail import queue_mail
from lms.services.reminders import ASSESSMENT_WAITING

# The participant's notifications that ask them to improve a submission.
ASKS_TO_REVISE = {notifications.ASSESSMENT_NEEDS_REVISION, notifications.ASSESSMENT_CORRECTED}

# The participant's page for one assignment (the portfolio blueprint); used until that endpoint exists.
ASSIGNMENT_ENDPOINT = "portfolio.assignment"
ASSIGNMENT_PATH = "/portfolio/assignments/{code}"


class AssessmentError(ValueError):
    """An assessment the rules refuse; the message says why, in the user's language."""


def _waiting(trainer: User) -> sa.ColumnElement[bool]:
    """Handed-in work of active participants in the trainer's own cohorts."""
    enrolment_ids = (
        visible_enrolments(trainer)
        .where(Enrolment.status == EnrolmentStatus.ACTIVE)
        .with_only_columns(Enrolment.id)
    )
    return sa.and_(
        Submission.status == SubmissionStatus.SUBMITTED, Submission.enrolment_id.in_(enrolment_ids)
    )


def queue_query(trainer: User) -> sa.Select[tuple[Submission]]:
    """The trainer's queue, oldest hand-in first."""
    return (
        sa.select(Submission)
        .where(_waiting(trainer))
        .order_by(Submission.submitted_at, Submission.id)
    )


def queue_count_query(trainer: User) -> sa.Select[tuple[int]]:
    return sa.select(sa.func.count(Submission.id)).where(_waiting(trainer))


def queue_count(trainer: User) -> int:
    """How many submissions wait for the trainer, in one query."""
    return db.session.scalar(queue_count_query(trainer)) or 0


def recent_assessments(assessor: User, limit: int) -> list[Assessment]:
    """The assessor's latest verdicts with the attempt, submission, assignment and participant: one
    statement. The latest are chosen first (from the assessor's index), and only they are joined,
    so the cost does not grow with how many the assessor ever gave."""
    latest = (
        sa.select(Assessment.id)
        .where(Assessment.assessor_id == assessor.id)
        .order_by(Assessment.created_at.desc(), Assessment.id.desc())
        .limit(limit)
        .subquery()
    )
    return list(
        db.session.scalars(
            sa.select(Assessment)
            .join(latest, latest.c.id == Assessment.id)
            .order_by(Assessment.created_at.desc(), Assessment.id.desc())
            .options(
                joinedload(Assessment.attempt)
                .joinedload(Attempt.submission)
                .options(
                    joinedload(Submission.assignment),
                    joinedload(Submission.enrolment).joinedload(Enrolment.participant),
                )
            )
        )
    )


def may_assess(user: User, submission: Submission) -> bool:
    """Only a trainer of the participant's cohort assesses, and nobody their own work."""
    enrolment = submission.enrolment
    return is_trainer_of(user, enrolment.cohort) and user.id != enrolment.participant_id


def assess_submission(
    submission: Submission, *, actor: User, verdict: Verdict, feedback: str, at: datetime
) -> Assessment:
    """Record ``actor``'s verdict on the handed-in attempt and tell the participant."""
    submission = _locked(submission)
    _check_assessor(actor, submission)
    feedback = feedback.strip()
    if verdict is Verdict.NEEDS_REVISION and not feedback:
        raise AssessmentError(_("Write what the participant must improve: feedback is required."))
    if submission.status is not SubmissionStatus.SUBMITTED:
        raise AssessmentError(_("This work is not waiting for an assessment (any more)."))
    attempt = submission.current_attempt
    assert attempt is not None  # a submitted submission has a handed-in attempt
    assessment = Assessment(
        attempt=attempt, assessor=actor, verdict=verdict, feedback=feedback, created_at=at
    )
    db.session.add(assessment)
    submission.record_verdict(verdict, at)
    db.session.flush()
    audit.record(
        "submission.assess",
        actor,
        submission,
        verdict=verdict.value,
        attempt=attempt.number,
        assessment=assessment.id,
    )
    # The trainers' "work waiting" and "not carried out at the workplace" about it are done with.
    notifications.handled(
        notifications.submission_subject(submission.id),
        {ASSESSMENT_WAITING, notifications.WORKPLACE_NOT_CARRIED_OUT_TRAINER},
        at=at,
    )
    _tell_participant(submission, assessment, corrected=False)
    progress.refresh_summaries([submission.enrolment_id])
    return assessment


def correct_assessment(
    submission: Submission, *, actor: User, verdict: Verdict, feedback: str, at: datetime
) -> Assessment:
    """Correct the latest verdict with a new assessment; the earlier one stays as it was."""
    submission = _locked(submission)
    _check_assessor(actor, submission)
    feedback = feedback.strip()
    if not feedback:
        raise AssessmentError(_("Explain the correction to the participant: feedback is required."))
    attempt = submission.correctable_attempt()
    if attempt is None:
        raise AssessmentError(
            _("This verdict can no longer be corrected: a new attempt has been handed in.")
        )
    previous = attempt.assessments[-1]
    try:
        submission.correct_verdict(verdict, at)
    except InvalidTransition:
        raise AssessmentError(
            _(
                "The participant has already started a new attempt. Assess that one when it is handed in."
            )
        ) from None
    assessment = Assessment(
        attempt=attempt, assessor=actor, verdict=verdict, feedback=feedback, created_at=at
    )
    db.session.add(assessment)
    db.session.flush()
    audit.record(
        "submission.assessment_correct",
        actor,
        submission,
        verdict=verdict.value,
        previous_verdict=previous.verdict.value,
        previous_assessment=previous.id,
        attempt=attempt.number,
        assessment=assessment.id,
    )
    # An earlier "improve this" is replaced by what the correction says.
    notifications.handled(
        notifications.submission_subject(submission.id),
        ASKS_TO_REVISE,
        at=at,
        user=submission.enrolment.participant,
    )
    _tell_participant(submission, assessment, corrected=True)
    progress.refresh_summaries([submission.enrolment_id])
    return assessment


def assignment_path(code: str) -> str:
    """The participant's page for an assignment, as a path on this site."""
    if ASSIGNMENT_ENDPOINT in current_app.view_functions:
        return current_app.url_map.bind("localhost").build(ASSIGNMENT_ENDPOINT, {"code": code})
    return ASSIGNMENT_PATH.format(code=code)


def _locked(submission: Submission) -> Submission:
    """The submission, locked against a second verdict at the same moment (PostgreSQL; SQLite
    serialises writers anyway), with its state as the database has it now."""
    locked = db.session.scalar(
        sa.select(Submission)
        .where(Submission.id == submission.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert locked is not None
    return locked


def _check_assessor(actor: User, submission: Submission) -> None:
    if not may_assess(actor, submission):
        raise AssessmentError(_("Only a trainer of the participant's cohort can assess this work."))


def _tell_participant(submission: Submission, assessment: Assessment, *, corrected: bool) -> None:
    participant = submission.enrolment.participant
    assignment = submission.assignment
    verdict = assessment.verdict
    path = assignment_path(assignment.code)
    if corrected:
        kind = notifications.ASSESSMENT_CORRECTED
        subject = _l(
            "The assessment of your assignment %(code)s has been corrected", code=assignment.code
        )
    elif verdict is Verdict.APPROVED:
        kind = notifications.ASSESSMENT_APPROVED
        subject = _l("Your assignment %(code)s is approved", code=assignment.code)
    else:
        kind = notifications.ASSESSMENT_NEEDS_REVISION
        subject = _l("Your assignment %(code)s needs revision", code=assignment.code)
    notifications.notify(
        participant,
        kind,
        {
            "trainer": assessment.assessor.full_name,
            "code": assignment.code,
            "title": assignment.title,
            "verdict": verdict.value,
        },
        path,
        # "Improve this" is handled when the work is handed in again.
        subjects=[notifications.submission_subject(submission.id)]
        if verdict is Verdict.NEEDS_REVISION
        else [],
    )
    queue_mail(
        participant,
        "assessment_result",
        subject,
        assignment=assignment,
        assessment=assessment,
        approved=verdict is Verdict.APPROVED,
        corrected=corrected,
        link=current_app.config["BASE_URL"].rstrip("/") + path,
    )
