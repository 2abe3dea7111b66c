"""The participant's own work on an assignment: save as draft, hand in, and revise.

- A submission starts as a draft with attempt 1. Saving changes the open attempt's reflection and adds
  files; handing in freezes the attempt (``Submission.submit``): a handed-in attempt is never changed.
- Handing in needs an answer to "What did you do?" and at least one file (photo, PDF or video): the
  programme is about showing work done at the workplace.
- After "needs revision" the next save opens a new attempt (``Submission.start_revision``), starting from
  the last attempt's reflection and a copy of its files; every attempt stays in the history.
- A file that is refused (content, size, number) is named in ``WorkResult.refused``; what was typed and
  the files that passed are still saved, so nothing typed on the shop floor is lost.
- Handing in nothing at all (no text, no file kept) is refused with ``NothingToHandIn`` and nothing is
  saved: no empty draft appears beside "not handed in yet".

Functions flush, never commit; the route commits once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from lms.extensions import db
from lms.models import (
    Assignment,
    Attempt,
    Enrolment,
    EvidenceFile,
    LinkAction,
    Submission,
    SubmissionStatus,
    User,
)
from lms.services import action_links, audit, notifications, progress
from lms.services.evidence import (
    EvidenceLimits,
    EvidenceRefused,
    Upload,
    check_room,
    copy_evidence,
    prepare_upload,
    store_evidence,
)
from lms.services.reminders import DUE_SOON
from lms.storage import Storage, delete_after_commit

MAX_REFLECTION_LENGTH = 5000


class SubmissionError(ValueError):
    """Work the rules refuse to change; the message says why, in the user's language."""


class NothingToHandIn(SubmissionError):
    """ "Hand in" with no text and no file: refused, and nothing is saved (the caller rolls back)."""


@dataclass(frozen=True)
class Reflection:
    what_i_did: str = ""
    what_went_well: str = ""
    what_i_learned: str = ""

    @classmethod
    def of(cls, attempt: Attempt) -> Reflection:
        return cls(attempt.what_i_did, attempt.what_went_well, attempt.what_i_learned)


@dataclass
class WorkResult:
    submission: Submission
    attempt: Attempt
    added: list[EvidenceFile] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # one message per refused file
    handed_in: bool = False
    missing: list[str] = field(default_factory=list)  # what stops the attempt from being handed in


def may_work_on(user: User, enrolment: Enrolment) -> bool:
    """Only the participant themself, and only while the enrolment is active."""
    return enrolment.participant_id == user.id and enrolment.is_active


def hand_in_problems(attempt: Attempt) -> list[str]:
    """What is still missing before the attempt can be handed in (empty: ready)."""
    problems = []
    if not attempt.what_i_did.strip():
        problems.append(_('Answer the question "What did you do?".'))
    if not attempt.evidence_files:
        problems.append(_("Add at least one photo, PDF or video."))
    return problems


def _is_empty(attempt: Attempt) -> bool:
    return (
        not (attempt.what_i_did or attempt.what_went_well or attempt.what_i_learned)
        and not attempt.evidence_files
    )


def find_submission(
    enrolment: Enrolment, assignment: Assignment, *, lock: bool = False
) -> Submission | None:
    query = sa.select(Submission).where(
        Submission.enrolment_id == enrolment.id, Submission.assignment_id == assignment.id
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(query)


def save_work(
    enrolment: Enrolment,
    assignment: Assignment,
    *,
    actor: User,
    reflection: Reflection,
    uploads: Sequence[Upload] = (),
    hand_in: bool = False,
    storage: Storage,
    limits: EvidenceLimits,
    at: datetime,
) -> WorkResult:
    """Save the reflection and add the files to the open attempt; hand it in when asked and ready."""
    _check_may_work_on(actor, enrolment, assignment)
    _lock_enrolment(enrolment)  # two saves at once (a double tap) must not make two submissions
    submission = find_submission(enrolment, assignment, lock=True)
    if submission is None:
        submission = Submission(enrolment=enrolment, assignment=assignment, created_at=at)
        submission.attempts.append(Attempt(number=1, created_at=at))
        db.session.add(submission)
        db.session.flush()
    attempt = _open_attempt(submission, actor=actor, storage=storage, at=at)
    attempt.what_i_did = reflection.what_i_did.strip()[:MAX_REFLECTION_LENGTH]
    attempt.what_went_well = reflection.what_went_well.strip()[:MAX_REFLECTION_LENGTH]
    attempt.what_i_learned = reflection.what_i_learned.strip()[:MAX_REFLECTION_LENGTH]
    submission.updated_at = at
    result = WorkResult(submission=submission, attempt=attempt)
    for upload in uploads:
        try:
            prepared = prepare_upload(upload, limits)
            check_room(attempt, prepared, limits)
        except EvidenceRefused as refused:
            result.refused.append(str(refused))
            continue
        result.added.append(store_evidence(attempt, prepared, actor=actor, storage=storage, at=at))
    if hand_in and _is_empty(attempt):
        raise NothingToHandIn(
            " ".join(
                [
                    _("There is nothing to hand in yet."),
                    *result.refused,
                    *hand_in_problems(attempt),
                ]
            )
        )
    if hand_in and not result.refused:
        result.missing = hand_in_problems(attempt)
        if not result.missing:
            submission.submit(at)
            result.handed_in = True
    db.session.flush()
    audit.record(
        "submission.hand_in" if result.handed_in else "submission.save",
        actor,
        submission,
        attempt=attempt.number,
        files_added=len(result.added),
        files_refused=len(result.refused),
    )
    progress.refresh_summaries([enrolment])
    if result.handed_in:
        # What asked for this work is done with: "improve A06", "A06 is due soon".
        notifications.handled(
            notifications.submission_subject(submission.id),
            {
                notifications.ASSESSMENT_NEEDS_REVISION,
                notifications.ASSESSMENT_CORRECTED,
                notifications.WORKPLACE_NOT_CARRIED_OUT,
            },
            at=at,
            user=actor,
        )
        notifications.handled(
            notifications.assignment_subject(enrolment.id, assignment.id),
            {DUE_SOON},
            at=at,
            user=actor,
        )
    if (
        result.handed_in
        and assignment.requires_workplace_confirmation
        and submission.workplace_confirmation is None
    ):
        action_links.send_links(
            enrolment.employer_id,
            LinkAction.CONFIRM_WORKPLACE,
            submission.id,
            submission=submission,
            assignment=assignment,
            participant=enrolment.participant,
        )
    return result


def delete_evidence(evidence: EvidenceFile, *, actor: User, storage: Storage) -> None:
    """Remove a file from an attempt that is still open; the stored file goes once this commits."""
    attempt = evidence.attempt
    submission = attempt.submission
    if submission.enrolment.participant_id != actor.id:
        raise SubmissionError(_("Only the participant can remove files from their own work."))
    if submission.open_attempt is not attempt:
        raise SubmissionError(
            _("This file belongs to work that has been handed in. It can no longer be removed.")
        )
    attempt.evidence_files.remove(evidence)
    db.session.flush()
    delete_after_commit(db.session, storage, evidence.storage_key)
    audit.record(
        "submission.evidence_delete",
        actor,
        submission,
        attempt=attempt.number,
        file=evidence.original_name,
        sha256=evidence.sha256,
    )


def _check_may_work_on(actor: User, enrolment: Enrolment, assignment: Assignment) -> None:
    if not may_work_on(actor, enrolment):
        raise SubmissionError(_("Only the participant can change their own work."))
    if assignment.programme_id != enrolment.cohort.programme_id:
        raise SubmissionError(_("This assignment is not part of your programme."))


def _lock_enrolment(enrolment: Enrolment) -> None:
    db.session.execute(
        sa.select(Enrolment.id).where(Enrolment.id == enrolment.id).with_for_update()
    )


def _open_attempt(
    submission: Submission, *, actor: User, storage: Storage, at: datetime
) -> Attempt:
    """The attempt to change: the open one, or, after "needs revision", a new one."""
    attempt = submission.open_attempt
    if attempt is not None:
        return attempt
    if submission.status is SubmissionStatus.NEEDS_REVISION:
        previous = submission.current_attempt
        assert previous is not None
        attempt = submission.start_revision(at)
        db.session.flush()
        for evidence in previous.evidence_files:
            copy_evidence(evidence, attempt, actor=actor, storage=storage, at=at)
        return attempt
    if submission.status is SubmissionStatus.APPROVED:
        raise SubmissionError(_("This assignment has been approved. It can no longer be changed."))
    raise SubmissionError(
        _("This work has been handed in and is waiting for a trainer. It can no longer be changed.")
    )
