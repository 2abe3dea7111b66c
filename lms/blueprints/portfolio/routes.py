"""The participant's side: my assignments, the work on one assignment (reflection and evidence), the
evidence files themselves (for everyone allowed to see them), and the portfolio as a ZIP."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.base import ExecutableOption

from lms import clock
from lms.blueprints.portfolio.forms import DeleteFileForm, WorkForm
from lms.extensions import db
from lms.models import Cohort, Enrolment, EnrolmentStatus, EvidenceKind, Role, SubmissionStatus
from lms.permissions import enrolment_or_404, role_required, visible_enrolments
from lms.services import certificates as certificate_service
from lms.services import portfolio as portfolio_service
from lms.services import submissions as submission_service
from lms.services.evidence import EvidenceLimits, Upload
from lms.services.portfolio import assignment_overview
from lms.services.progress import loaded_progress
from lms.storage import StorageError, get_storage

bp = Blueprint("portfolio", __name__, url_prefix="/portfolio")

EVIDENCE_MAX_AGE = 3600  # seconds a browser may keep a file it was allowed to see
# A file never runs as a page of this site, even if a browser were to try.
EVIDENCE_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"


def _active_enrolment(*options: ExecutableOption) -> Enrolment | None:
    """The participant's active enrolment with employer, cohort, trainers and programme (and
    ``options``), in one statement."""
    return db.session.scalar(
        visible_enrolments(current_user)
        .where(Enrolment.status == EnrolmentStatus.ACTIVE)
        .options(
            joinedload(Enrolment.cohort).joinedload(Cohort.programme),
            joinedload(Enrolment.employer),
            joinedload(Enrolment.cohort).joinedload(Cohort.trainers),
            *options,
        )
    )


@bp.get("/")
@role_required(Role.PARTICIPANT)
def index():  # type: ignore[no-untyped-def]
    enrolment = _active_enrolment(*portfolio_service.overview_loading())
    if enrolment is None:
        finished = certificate_service.finished_enrolment(current_user, clock.today())
        return render_template("portfolio/index.html", enrolment=None, finished=finished)
    today = clock.today()
    return render_template(
        "portfolio/index.html",
        enrolment=enrolment,
        today=today,
        week=enrolment.cohort.week_of_programme(today),
        periods=assignment_overview(enrolment, today),
        progress=loaded_progress(enrolment, today).assignments,
    )


def _form_data(page: portfolio_service.AssignmentPage) -> dict[str, str]:
    """What the form starts with: the open attempt, or after "needs revision" the last attempt."""
    attempt = page.open_attempt
    if attempt is None and page.status is SubmissionStatus.NEEDS_REVISION and page.handed_in:
        attempt = page.handed_in[0]
    if attempt is None:
        return {}
    return {
        "what_i_did": attempt.what_i_did,
        "what_went_well": attempt.what_went_well,
        "what_i_learned": attempt.what_i_learned,
    }


def _uploads(form: WorkForm) -> list[Upload]:
    chosen = [form.photo.data, *(form.files.data or [])]
    return [Upload(file.filename, file.stream) for file in chosen if file and file.filename]


@bp.route("/assignments/<code>", methods=["GET", "POST"])
@role_required(Role.PARTICIPANT)
def assignment(code: str):  # type: ignore[no-untyped-def]
    enrolment = _active_enrolment()
    if enrolment is None:
        abort(404)
    page = portfolio_service.assignment_page(enrolment, code, clock.today())
    if page is None:
        abort(404)
    if request.method == "POST" and not page.editable:
        flash(_("This work has been handed in and can no longer be changed."), "warning")
        return redirect(url_for("portfolio.assignment", code=code))
    form = WorkForm(data=_form_data(page)) if request.method == "GET" else WorkForm()
    if form.validate_on_submit():
        hand_in = bool(form.hand_in.data)
        try:
            result = submission_service.save_work(
                enrolment,
                page.assignment,
                actor=current_user,
                reflection=submission_service.Reflection(
                    form.what_i_did.data or "",
                    form.what_went_well.data or "",
                    form.what_i_learned.data or "",
                ),
                uploads=_uploads(form),
                hand_in=hand_in,
                storage=get_storage(),
                limits=EvidenceLimits.from_config(current_app.config),
                at=clock.now(),
            )
        except submission_service.SubmissionError as error:
            db.session.rollback()
            flash(str(error), "error")
            return redirect(url_for("portfolio.assignment", code=code))
        db.session.commit()
        _flash_result(result, hand_in)
        return redirect(url_for("portfolio.assignment", code=code))
    return render_template(
        "portfolio/assignment.html",
        enrolment=enrolment,
        page=page,
        assignment=page.assignment,
        submission=page.submission,
        form=form,
        limits=EvidenceLimits.from_config(current_app.config),
    )


def _flash_result(result: submission_service.WorkResult, hand_in: bool) -> None:
    for message in result.refused:
        flash(message, "error")
    if result.handed_in:
        flash(
            _("Handed in. Your trainer will assess your work and you will get a message."),
            "success",
        )
        return
    saved = _("Your draft has been saved.")
    if result.added:
        saved += " " + ngettext("%(num)d file added.", "%(num)d files added.", len(result.added))
    # A hand-in that did not go through is one warning (with "draft saved" in it), never a green
    # "saved" beside "not handed in".
    if hand_in and result.refused:
        flash(
            _("Not handed in yet: a file was refused. Check the files, then hand in again.")
            + " "
            + saved,
            "warning",
        )
    elif hand_in and result.missing:
        flash(_("Not handed in yet.") + " " + " ".join(result.missing) + " " + saved, "warning")
    else:
        flash(saved, "success")


@bp.get("/evidence/<int:file_id>")
@login_required
def evidence(file_id: int):  # type: ignore[no-untyped-def]
    """One evidence file, only for people allowed to see the work; 404 for everyone else."""
    evidence = db.session.scalar(portfolio_service.evidence_query(file_id))
    if evidence is None or not portfolio_service.can_view_evidence(current_user, evidence):
        abort(404)
    try:
        stream = get_storage().open(evidence.storage_key)
    except StorageError:
        current_app.logger.error("evidence file %s is missing from storage", evidence.id)
        abort(404)
    response = send_file(
        stream,
        mimetype=evidence.content_type,
        as_attachment=evidence.kind is not EvidenceKind.PHOTO,
        download_name=evidence.original_name,
        conditional=False,
        etag=False,
    )
    response.content_length = evidence.size_bytes
    response.set_etag(evidence.sha256)
    response.cache_control.no_cache = None
    response.cache_control.private = True
    response.cache_control.max_age = EVIDENCE_MAX_AGE
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = EVIDENCE_CSP
    response.vary.add("Cookie")
    return response.make_conditional(
        request, accept_ranges=True, complete_length=evidence.size_bytes
    )


@bp.route("/evidence/<int:file_id>/delete", methods=["GET", "POST"])
@role_required(Role.PARTICIPANT)
def delete_evidence(file_id: int):  # type: ignore[no-untyped-def]
    evidence = db.session.scalar(portfolio_service.evidence_query(file_id))
    if evidence is None or evidence.attempt.submission.enrolment.participant_id != current_user.id:
        abort(404)
    submission = evidence.attempt.submission
    code = submission.assignment.code
    if submission.open_attempt is not evidence.attempt:
        flash(
            _("This file belongs to work that has been handed in. It can no longer be removed."),
            "warning",
        )
        return redirect(url_for("portfolio.assignment", code=code))
    form = DeleteFileForm()
    if form.validate_on_submit():
        try:
            submission_service.delete_evidence(evidence, actor=current_user, storage=get_storage())
        except submission_service.SubmissionError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("%(name)s has been removed.", name=evidence.original_name), "success")
        return redirect(url_for("portfolio.assignment", code=code))
    return render_template(
        "portfolio/delete_evidence.html",
        evidence=evidence,
        assignment=submission.assignment,
        form=form,
    )


@bp.get("/export/<int:enrolment_id>")
@login_required
def export(enrolment_id: int):  # type: ignore[no-untyped-def]
    """The portfolio as a ZIP: the participant's own, or a participant of the trainer's cohort."""
    enrolment = enrolment_or_404(
        enrolment_id,
        options=(
            joinedload(Enrolment.participant),
            joinedload(Enrolment.employer),
            joinedload(Enrolment.cohort).joinedload(Cohort.programme),
            joinedload(Enrolment.cohort).selectinload(Cohort.trainers),
        ),
    )
    if not portfolio_service.may_export(current_user, enrolment):
        abort(404)  # not yours: the same answer as a missing record
    export = portfolio_service.build_export(enrolment, viewer=current_user, now=clock.now())
    db.session.commit()  # the audit record of the export
    response = Response(
        portfolio_service.zip_chunks(export, get_storage()), mimetype="application/zip"
    )
    response.headers.set("Content-Disposition", "attachment", filename=export.filename)
    response.cache_control.private = True
    response.cache_control.no_store = True
    return response
