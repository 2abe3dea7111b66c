"""Privacy (AVG/GDPR): a person's data as a ZIP (for themselves, or for the coordinator) and erasure
by the coordinator, with confirmation."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.blueprints.privacy.forms import EraseForm
from lms.extensions import db
from lms.models import Role, User
from lms.permissions import role_required
from lms.services import privacy

bp = Blueprint("privacy", __name__, url_prefix="/privacy")


def _actor() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]


def _zip_response(user: User) -> Response:
    export = privacy.build_person_export(user, actor=_actor())
    body = privacy.export_zip(export)
    db.session.commit()  # the audit record of the export
    response = Response(body, mimetype="application/zip")
    response.headers.set("Content-Disposition", "attachment", filename=export.filename)
    response.cache_control.private = True
    response.cache_control.no_store = True
    return response


@bp.get("/mine/export")
@login_required
def my_export():  # type: ignore[no-untyped-def]
    """Everything the system stores about me, with my files."""
    return _zip_response(_actor())


def _person_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/people/<int:user_id>/export")
@role_required(Role.COORDINATOR)
def export(user_id: int):  # type: ignore[no-untyped-def]
    return _zip_response(_person_or_404(user_id))


@bp.route("/people/<int:user_id>/erase", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def erase(user_id: int):  # type: ignore[no-untyped-def]
    person = _person_or_404(user_id)
    problem = privacy.erasure_problem(person, _actor())
    form = EraseForm()
    if problem is None and form.validate_on_submit():
        report = privacy.erase_person(person, actor=_actor(), reason=form.reason.data or "")
        db.session.commit()
        flash(
            _(
                "The personal data has been erased (%(files)d evidence files removed).",
                files=report.evidence_files,
            ),
            "success",
        )
        if person.role is Role.COORDINATOR:
            return redirect(url_for("cohorts.index"))
        return redirect(url_for("people.person_detail", user_id=person.id))
    return render_template(
        "privacy/erase.html",
        person=person,
        form=form,
        problem=problem,
        certificates=privacy.certificates_of(person),
    ), (409 if problem and form.is_submitted() else 200)
