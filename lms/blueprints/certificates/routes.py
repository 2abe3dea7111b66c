"""Certificates: the coordinator issues (one, or every eligible participant of a cohort), revokes and
reissues; participants, employers and trainers download the certificates they may see; the progress
report PDF of one participant. The rules live in ``lms.services.certificates``.

Issuing a whole cohort: with JavaScript the page posts one participant at a time and shows a progress
bar (``static/js/certificates-bulk.js``); without it, one form post issues them all (a dozen PDFs take a
few seconds) and comes back with the result.
"""

from __future__ import annotations

import io
import json

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
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

from lms import clock
from lms.blueprints.certificates.forms import EmptyForm, ReissueForm, RevokeForm
from lms.extensions import db
from lms.models import Certificate, Cohort, Enrolment, Role, User
from lms.pagination import contains, paginate_counted, search_term
from lms.permissions import (
    can_manage_certificates,
    can_take_credential,
    can_view_enrolment,
    role_required,
    visible_certificates,
    visible_cohorts,
)
from lms.services import badges
from lms.services import certificates as service
from lms.services.progress_report import build_progress_report

bp = Blueprint("certificates", __name__, url_prefix="/certificates")


# --- helpers -----------------------------------------------------------------------------------


def _actor() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]


def _cohort_or_404(cohort_id: int) -> Cohort:
    cohort = db.session.get(Cohort, cohort_id)
    if cohort is None:
        abort(404)
    return cohort


def _enrolment_or_404(enrolment_id: int, *, trainers: bool = True) -> Enrolment:
    """The enrolment with what its pages show; ``trainers`` (one more statement) where a permission
    check or a PDF needs the cohort's trainers."""
    options = [
        joinedload(Enrolment.participant),
        joinedload(Enrolment.employer),
        joinedload(Enrolment.cohort).joinedload(Cohort.programme),
    ]
    if trainers:
        options.append(joinedload(Enrolment.cohort).selectinload(Cohort.trainers))
    enrolment = db.session.scalar(
        sa.select(Enrolment).where(Enrolment.id == enrolment_id).options(*options)
    )
    if enrolment is None:
        abort(404)
    return enrolment


def _certificate_or_404(certificate_id: int) -> Certificate:
    certificate = db.session.scalar(
        sa.select(Certificate)
        .where(Certificate.id == certificate_id)
        .options(
            joinedload(Certificate.enrolment).joinedload(Enrolment.participant),
            joinedload(Certificate.enrolment).joinedload(Enrolment.cohort),
            joinedload(Certificate.replaced_by),
            joinedload(Certificate.replaces),
        )
    )
    if certificate is None:
        abort(404)
    return certificate


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def _history(enrolment: Enrolment) -> list[Certificate]:
    return list(
        db.session.scalars(
            sa.select(Certificate)
            .where(Certificate.enrolment_id == enrolment.id)
            .options(
                joinedload(Certificate.issued_by),
                joinedload(Certificate.revoked_by),
                joinedload(Certificate.replaced_by),
                joinedload(Certificate.replaces),
            )
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        )
    )


# --- lists -------------------------------------------------------------------------------------


@bp.get("/")
@login_required
def index():  # type: ignore[no-untyped-def]
    """The coordinator: cohorts with what is issued and what is ready. Everybody else: the
    certificates they may see (their own, their employees', their cohorts')."""
    user = _actor()
    term = search_term()
    if user.role is Role.COORDINATOR:
        query = visible_cohorts(user).order_by(Cohort.start_date.desc(), Cohort.name)
        if term:
            query = query.where(contains(Cohort.name, term))
        page = paginate_counted(query)
        cohorts: list[Cohort] = list(page.items)
        counts = service.cohort_certificate_counts(cohorts)
        return render_template(
            "certificates/cohorts.html", page=page, cohorts=cohorts, counts=counts, term=term
        )

    query = (
        visible_certificates(user)
        .join(Certificate.enrolment)
        .join(Enrolment.participant)
        .options(
            joinedload(Certificate.enrolment).joinedload(Enrolment.participant),
            joinedload(Certificate.enrolment).joinedload(Enrolment.cohort),
            joinedload(Certificate.replaced_by),
        )
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    )
    if term:
        query = query.where(
            sa.or_(
                contains(User.first_name, term),
                contains(User.last_name, term),
                contains(Certificate.number, term),
            )
        )
    page = paginate_counted(query)
    return render_template(
        "certificates/index.html",
        page=page,
        term=term,
        states={c.id: service.verification_state(c) for c in page.items},
    )


# --- one cohort: issue all, ZIP ------------------------------------------------------------------


@bp.get("/cohort/<int:cohort_id>")
@role_required(Role.COORDINATOR)
def cohort(cohort_id: int):  # type: ignore[no-untyped-def]
    cohort = _cohort_or_404(cohort_id)
    enrolments = service.cohort_enrolments(cohort)
    status = service.certificate_status(enrolments, clock.today())
    due = [e for e in enrolments if status[e.id].due]
    issued = sum(1 for e in enrolments if status[e.id].has_valid_certificate)
    return render_template(
        "certificates/cohort.html",
        cohort=cohort,
        enrolments=enrolments,
        status=status,
        due=due,
        issued=issued,
        form=EmptyForm(),
    )


@bp.post("/cohort/<int:cohort_id>/issue")
@role_required(Role.COORDINATOR)
def issue_cohort(cohort_id: int):  # type: ignore[no-untyped-def]
    """Without JavaScript: issue every certificate that is due in one request."""
    cohort = _cohort_or_404(cohort_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        issued = service.issue_for_cohort(cohort, actor=_actor(), now=clock.now())
    except service.CertificateError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        if issued:
            flash(
                ngettext(
                    "%(num)d certificate issued.", "%(num)d certificates issued.", len(issued)
                ),
                "success",
            )
        else:
            flash(_("Nobody in this cohort is waiting for a certificate."), "info")
    return redirect(url_for("certificates.cohort", cohort_id=cohort.id))


@bp.get("/cohort/<int:cohort_id>/certificates.zip")
@role_required(Role.COORDINATOR)
def cohort_zip(cohort_id: int):  # type: ignore[no-untyped-def]
    cohort = _cohort_or_404(cohort_id)
    data, count = service.cohort_zip(cohort)
    if not count:
        flash(_("This cohort has no valid certificates yet."), "info")
        return redirect(url_for("certificates.cohort", cohort_id=cohort.id))
    return send_file(
        io.BytesIO(data),
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"certificaten-{service.ascii_slug(cohort.name)}.zip",
    )


# --- one participant ---------------------------------------------------------------------------


@bp.get("/enrolment/<int:enrolment_id>")
@role_required(Role.COORDINATOR)
def enrolment(enrolment_id: int):  # type: ignore[no-untyped-def]
    enrolment = _enrolment_or_404(enrolment_id, trainers=False)
    history = _history(enrolment)
    check = service.eligibility(enrolment, clock.today(), certificates=history)
    has_valid = any(not c.is_revoked for c in history)
    return render_template(
        "certificates/enrolment.html",
        enrolment=enrolment,
        check=check,
        history=history,
        states={c.id: service.verification_state(c) for c in history},
        can_issue=check.eligible and not has_valid,
        has_valid=has_valid,
        form=EmptyForm(),
    )


@bp.post("/enrolment/<int:enrolment_id>/issue")
@role_required(Role.COORDINATOR)
def issue(enrolment_id: int):  # type: ignore[no-untyped-def]
    enrolment = _enrolment_or_404(enrolment_id)
    as_json = _wants_json()
    if not EmptyForm().validate_on_submit():
        if as_json:
            return jsonify(ok=False, error=_("The form has expired. Reload the page.")), 400
        abort(400)
    try:
        certificate = service.issue_certificate(enrolment, actor=_actor(), now=clock.now())
    except service.CertificateError as error:
        db.session.rollback()
        if as_json:
            return jsonify(ok=False, enrolment=enrolment.id, error=str(error)), 409
        flash(str(error), "error")
        return redirect(url_for("certificates.enrolment", enrolment_id=enrolment.id))
    db.session.commit()
    if as_json:
        return jsonify(
            ok=True,
            enrolment=enrolment.id,
            number=certificate.number,
            download_url=url_for("certificates.download", certificate_id=certificate.id),
        )
    flash(
        _(
            "Certificate %(number)s issued to %(name)s.",
            number=certificate.number,
            name=enrolment.participant.full_name,
        ),
        "success",
    )
    return redirect(url_for("certificates.enrolment", enrolment_id=enrolment.id))


@bp.get("/enrolment/<int:enrolment_id>/progress-report.pdf")
@login_required
def progress_report(enrolment_id: int):  # type: ignore[no-untyped-def]
    enrolment = _enrolment_or_404(enrolment_id)
    if not can_view_enrolment(_actor(), enrolment):
        abort(404)  # not yours: the same answer as a missing record
    report = build_progress_report(enrolment, viewer=_actor(), now=clock.now())
    db.session.commit()  # the audit record of the download
    response = send_file(
        io.BytesIO(report.pdf),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=report.filename,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- one certificate: download, revoke, reissue -------------------------------------------------


@bp.get("/<int:certificate_id>/download")
@login_required
def download(certificate_id: int):  # type: ignore[no-untyped-def]
    certificate = db.session.scalar(
        visible_certificates(_actor())
        .where(Certificate.id == certificate_id)
        .options(joinedload(Certificate.enrolment).joinedload(Enrolment.participant))
    )
    # A revoked certificate is no longer anyone's to hand around; the coordinator keeps the history.
    if certificate is None or (certificate.is_revoked and not can_manage_certificates(_actor())):
        abort(404)
    data = service.certificate_pdf(certificate)
    response = send_file(
        io.BytesIO(data),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=service.certificate_filename(certificate),
        etag=certificate.pdf_sha256,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _own_certificate_or_404(certificate_id: int) -> Certificate:
    """The holder's own valid certificate (the coordinator: any), for the Open Badges credential."""
    user = _actor()
    certificate = db.session.scalar(
        visible_certificates(user)
        .where(Certificate.id == certificate_id)
        .options(joinedload(Certificate.enrolment))
    )
    if certificate is None or not can_take_credential(user, certificate):
        abort(404)
    return certificate


@bp.get("/<int:certificate_id>/credential.json")
@login_required
def credential_json(certificate_id: int):  # type: ignore[no-untyped-def]
    """The Open Badges 3.0 credential of the certificate as JSON, with the JWT as proof."""
    return _credential(certificate_id, "json")


@bp.get("/<int:certificate_id>/credential.jwt")
@login_required
def credential_jwt(certificate_id: int):  # type: ignore[no-untyped-def]
    """The Open Badges 3.0 credential of the certificate as a VC-JWT."""
    return _credential(certificate_id, "jwt")


def _credential(certificate_id: int, kind: str):  # type: ignore[no-untyped-def]
    certificate = _own_certificate_or_404(certificate_id)
    try:
        if kind == "jwt":
            response = current_app.response_class(
                badges.credential_jwt(certificate), mimetype=badges.JWT_MEDIA_TYPE
            )
        else:
            response = current_app.response_class(
                json.dumps(badges.credential_json(certificate), ensure_ascii=False, indent=2),
                mimetype="application/json",
            )
    except badges.BadgeKeyError:
        current_app.logger.error("badges: no signing key; run `flask --app wsgi lms badges keygen`")
        flash(
            _(
                "The digital badge cannot be made yet: the signing key is missing. Ask the"
                " coordinator to create it."
            ),
            "error",
        )
        return redirect(url_for("certificates.index"))
    filename = service.certificate_filename(certificate).removesuffix(".pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}-openbadge.{kind}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<int:certificate_id>/revoke", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def revoke(certificate_id: int):  # type: ignore[no-untyped-def]
    certificate = _certificate_or_404(certificate_id)
    back = url_for("certificates.enrolment", enrolment_id=certificate.enrolment_id)
    if certificate.is_revoked:
        flash(_("Certificate %(number)s is already revoked.", number=certificate.number), "info")
        return redirect(back)
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            service.revoke_certificate(
                certificate, actor=_actor(), reason=form.reason.data, now=clock.now()
            )
        except service.CertificateError as error:
            db.session.rollback()
            form.reason.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Certificate %(number)s revoked.", number=certificate.number), "success")
            return redirect(back)
    return render_template(
        "certificates/revoke.html", form=form, certificate=certificate, back=back
    )


@bp.route("/<int:certificate_id>/reissue", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def reissue(certificate_id: int):  # type: ignore[no-untyped-def]
    certificate = _certificate_or_404(certificate_id)
    enrolment = _enrolment_or_404(certificate.enrolment_id)
    back = url_for("certificates.enrolment", enrolment_id=certificate.enrolment_id)
    if certificate.replaced_by is not None:
        flash(
            _(
                "Certificate %(number)s has already been replaced by %(new)s.",
                number=certificate.number,
                new=certificate.replaced_by.number,
            ),
            "info",
        )
        return redirect(back)
    check = service.eligibility(enrolment, clock.today())
    form = ReissueForm()
    if check.may_reissue and form.validate_on_submit():
        try:
            new = service.reissue_certificate(
                certificate, actor=_actor(), reason=form.reason.data, now=clock.now()
            )
        except service.CertificateError as error:
            db.session.rollback()
            form.reason.errors.append(str(error))
        else:
            db.session.commit()
            flash(
                _(
                    "Certificate %(new)s replaces %(old)s.",
                    new=new.number,
                    old=certificate.number,
                ),
                "success",
            )
            return redirect(back)
    return render_template(
        "certificates/reissue.html",
        form=form,
        certificate=certificate,
        check=check,
        back=back,
    )
