"""The trainer's side: my cohorts, their participants, the queue of work waiting for me, assessing it."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from lms import clock
from lms.blueprints.assessment.forms import AssessmentForm, CorrectionForm
from lms.extensions import db
from lms.models import (
    Assessment,
    Assignment,
    Attempt,
    ChecklistItem,
    Cohort,
    Enrolment,
    Role,
    Submission,
    SubmissionStatus,
    Verdict,
    WorkplaceConfirmation,
)
from lms.pagination import paginate
from lms.permissions import enrolment_or_404, is_trainer_of, role_required
from lms.services import assessment as assessment_service
from lms.services.dashboards import cohort_participants, open_cohorts_of
from lms.services.participant_overview import overview_loading, participant_overview
from lms.services.workplace import latest_handed_in_attempt

bp = Blueprint("assessment", __name__, url_prefix="/assessment")

RECENT_ASSESSMENTS = 5


@bp.get("/")
@role_required(Role.TRAINER)
def index():  # type: ignore[no-untyped-def]
    today = clock.today()
    cohorts = open_cohorts_of(current_user)
    participants = cohort_participants(cohorts, today)
    progress = {enrolment_id: p.assignments for enrolment_id, p in participants.progress.items()}
    return render_template(
        "assessment/index.html",
        cohorts=cohorts,
        active=participants.active,
        progress=progress,
        waiting=sum(p.submitted for p in progress.values()),
        today=today,
    )


@bp.get("/queue")
@role_required(Role.TRAINER)
def queue():  # type: ignore[no-untyped-def]
    page = paginate(
        assessment_service.queue_query(current_user).options(
            joinedload(Submission.enrolment).joinedload(Enrolment.participant),
            joinedload(Submission.enrolment).joinedload(Enrolment.cohort),
            joinedload(Submission.assignment),
            selectinload(Submission.attempts),
            selectinload(Submission.workplace_confirmations).joinedload(
                WorkplaceConfirmation.confirmed_by
            ),
        )
    )
    recent = assessment_service.recent_assessments(current_user, RECENT_ASSESSMENTS)
    today = clock.today()
    return render_template(
        "assessment/queue.html",
        page=page,
        recent=recent,
        waiting_days={
            s.id: (today - s.submitted_at.astimezone(clock.LOCAL_TZ).date()).days
            for s in page.items
        },
    )


def _load_for_assessment(submission_id: int) -> Submission:
    """The submission with everything the assessment page shows; 404 (missing or not yours to assess)
    before anything else."""
    submission = db.session.scalar(
        db.select(Submission)
        .where(Submission.id == submission_id)
        .options(
            joinedload(Submission.enrolment).options(
                joinedload(Enrolment.participant),
                joinedload(Enrolment.employer),
                joinedload(Enrolment.cohort).selectinload(Cohort.trainers),
            ),
            joinedload(Submission.assignment).options(
                joinedload(Assignment.period),
                selectinload(Assignment.competencies).joinedload(ChecklistItem.group),
            ),
            selectinload(Submission.attempts).options(
                selectinload(Attempt.evidence_files),
                selectinload(Attempt.assessments).joinedload(Assessment.assessor),
            ),
            selectinload(Submission.workplace_confirmations).joinedload(
                WorkplaceConfirmation.confirmed_by
            ),
        )
    )
    if submission is None:
        abort(404)
    if not assessment_service.may_assess(current_user, submission):
        abort(404)  # not yours: the same answer as a missing record
    if latest_handed_in_attempt(submission) is None:  # a draft is the participant's own, for now
        abort(404)
    return submission


def _render_assessment(
    submission: Submission, form: AssessmentForm, correction_form: CorrectionForm
):  # type: ignore[no-untyped-def]
    handed_in = [attempt for attempt in submission.attempts if attempt.submitted_at is not None]
    return render_template(
        "assessment/assess.html",
        submission=submission,
        assignment=submission.assignment,
        enrolment=submission.enrolment,
        attempt=handed_in[-1],
        earlier_attempts=list(reversed(handed_in[:-1])),
        new_attempt_started=submission.current_attempt is not handed_in[-1],
        attempt_numbers={attempt.id: attempt.number for attempt in submission.attempts},
        correctable=submission.correctable_attempt() is not None,
        form=form,
        correction_form=correction_form,
    )


@bp.route("/submissions/<int:submission_id>", methods=["GET", "POST"])
@role_required(Role.TRAINER)
def assess(submission_id: int):  # type: ignore[no-untyped-def]
    submission = _load_for_assessment(submission_id)
    form = AssessmentForm()
    if request.method == "POST" and submission.status is not SubmissionStatus.SUBMITTED:
        flash(_("This work has already been assessed. Its verdict is shown below."), "warning")
        return redirect(url_for("assessment.assess", submission_id=submission.id))
    if form.validate_on_submit():
        try:
            assessment_service.assess_submission(
                submission,
                actor=current_user,
                verdict=form.verdict_value,
                feedback=form.feedback.data or "",
                at=clock.now(),
            )
        except assessment_service.AssessmentError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            name = submission.enrolment.participant.full_name
            if form.verdict_value is Verdict.APPROVED:
                flash(
                    _("Approved. %(name)s gets a message with your feedback.", name=name), "success"
                )
            else:
                flash(
                    _(
                        "Saved: needs revision. %(name)s gets a message with your feedback.",
                        name=name,
                    ),
                    "success",
                )
            return redirect(url_for("assessment.queue"))
    return _render_assessment(submission, form, CorrectionForm(formdata=None))


@bp.post("/submissions/<int:submission_id>/correct")
@role_required(Role.TRAINER)
def correct(submission_id: int):  # type: ignore[no-untyped-def]
    submission = _load_for_assessment(submission_id)
    form = CorrectionForm()
    if form.validate_on_submit():
        try:
            assessment_service.correct_assessment(
                submission,
                actor=current_user,
                verdict=form.verdict_value,
                feedback=form.feedback.data or "",
                at=clock.now(),
            )
        except assessment_service.AssessmentError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(
                _(
                    "The verdict has been corrected. %(name)s gets a message about it.",
                    name=submission.enrolment.participant.full_name,
                ),
                "success",
            )
            return redirect(url_for("assessment.assess", submission_id=submission.id))
    return _render_assessment(submission, AssessmentForm(formdata=None), form)


@bp.get("/participants/<int:enrolment_id>")
@role_required(Role.TRAINER, Role.COORDINATOR)
def participant(enrolment_id: int):  # type: ignore[no-untyped-def]
    """One participant on one page: assignments, checklists, hours and reviews, each with a link.
    A trainer sees only their own cohorts' participants (another's: 404, as if it did not exist)."""
    enrolment = enrolment_or_404(enrolment_id, options=overview_loading())
    return render_template(
        "assessment/participant.html",
        overview=participant_overview(enrolment, clock.today()),
        enrolment=enrolment,
        is_trainer=is_trainer_of(current_user, enrolment.cohort),
    )
