"""Importing participants into a cohort from a CSV file (views on the cohorts blueprint).

Upload -> preview (nothing written) -> confirm. The confirm form carries the file's bytes back (base64,
in a hidden field) and the whole file is read and checked again before anything is written: the browser
is never trusted with the outcome of the check.
"""

from __future__ import annotations

import base64
import binascii

import sqlalchemy as sa
from flask import Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from sqlalchemy.orm import joinedload
from wtforms import HiddenField, SubmitField
from wtforms.validators import DataRequired

from lms import clock
from lms.blueprints.cohorts.routes import bp
from lms.extensions import db
from lms.forms import Form
from lms.models import Cohort, Employer, IntakeType, Role
from lms.permissions import role_required, visible_cohorts
from lms.services import participant_import
from lms.services.enrolment import EnrolmentError, seats_taken
from lms.services.participant_import import ImportPlan


class ImportUploadForm(Form):
    file = FileField(
        _l("CSV file"),
        validators=[FileRequired(_l("Choose the CSV file with the participants."))],
        render_kw={"accept": ".csv,.txt,text/csv"},
    )
    submit = SubmitField(_l("Check the file"))


class ImportConfirmForm(Form):
    content = HiddenField(validators=[DataRequired()])
    file_name = HiddenField()


def load_cohort(cohort_id: int) -> Cohort:
    return db.first_or_404(
        visible_cohorts(current_user)
        .where(Cohort.id == cohort_id)
        .options(joinedload(Cohort.programme))
    )


def cohort_page(cohort: Cohort) -> str:
    return url_for("cohorts.detail", cohort_id=cohort.id)


def encode_content(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def decode_content(value: str) -> bytes | None:
    # A third larger than the file; anything much longer is refused before decoding.
    if len(value) > (participant_import.MAX_BYTES + 3) * 4 // 3 + 4:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def render_upload(cohort: Cohort, form: ImportUploadForm, status: int = 200):  # type: ignore[no-untyped-def]
    return (
        render_template(
            "cohorts/import.html",
            cohort=cohort,
            form=form,
            **format_context(cohort),
        ),
        status,
    )


def render_preview(  # type: ignore[no-untyped-def]
    cohort: Cohort, plan: ImportPlan, data: bytes, file_name: str, *, rechecked: bool = False
):
    confirm = ImportConfirmForm(formdata=None, content=encode_content(data), file_name=file_name)
    return render_template(
        "cohorts/import_preview.html",
        cohort=cohort,
        plan=plan,
        file_name=file_name,
        confirm=confirm,
        form=ImportUploadForm(formdata=None),
        rechecked=rechecked,
        **format_context(cohort),
    )


def example_file(cohort: Cohort) -> bytes:
    """The example CSV, naming two employers that exist, so that it shows real values."""
    employers = db.session.scalars(sa.select(Employer).order_by(Employer.name).limit(2)).all()
    return participant_import.example_csv(cohort.start_date, employers)


def format_context(cohort: Cohort) -> dict[str, object]:
    """What the explanation of the file format needs."""
    taken = seats_taken(cohort)
    return {
        "back_url": cohort_page(cohort),
        "seats_taken": taken,
        "free_seats": max(cohort.capacity - taken, 0),
        "column_labels": participant_import.COLUMN_LABELS,
        "required_columns": participant_import.REQUIRED_COLUMNS,
        "intake_side_entrant": participant_import.INTAKE_WORDS[IntakeType.SIDE_ENTRANT],
        "intake_employed": participant_import.INTAKE_WORDS[IntakeType.EMPLOYED],
        "example": example_file(cohort).decode("utf-8-sig"),
        "max_rows": participant_import.MAX_ROWS,
        "max_kb": participant_import.MAX_BYTES // 1024,
        "default_start": max(cohort.start_date, clock.today()),
    }


@bp.route("/<int:cohort_id>/import", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def import_participants(cohort_id: int):  # type: ignore[no-untyped-def]
    cohort = load_cohort(cohort_id)
    form = ImportUploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.stream.read(participant_import.MAX_BYTES + 1)
        file_name = (upload.filename or "")[:255]
        plan = participant_import.prepare_import(cohort, data, today=clock.today())
        if plan.parse is not None and plan.parse.ok:
            return render_preview(cohort, plan, data, file_name)
        form.file.errors = list(plan.errors)
    return render_upload(cohort, form)


@bp.post("/<int:cohort_id>/import/confirm")
@role_required(Role.COORDINATOR)
def confirm_import(cohort_id: int):  # type: ignore[no-untyped-def]
    cohort = load_cohort(cohort_id)
    confirm = ImportConfirmForm()
    data = decode_content(confirm.content.data or "") if confirm.validate_on_submit() else None
    if data is None:
        flash(_("The import could not be confirmed. Upload the file again."), "error")
        return redirect(url_for("cohorts.import_participants", cohort_id=cohort.id))
    file_name = (confirm.file_name.data or "")[:255]
    # Everything again, from the bytes: the cohort or the people may have changed since the preview.
    plan = participant_import.prepare_import(cohort, data, today=clock.today())
    if not plan.is_valid:
        if plan.parse is not None and plan.parse.ok:
            return render_preview(cohort, plan, data, file_name, rechecked=True)
        form = ImportUploadForm(formdata=None)
        form.file.errors = list(plan.errors)
        return render_upload(cohort, form)
    try:
        enrolments = participant_import.import_rows(plan, actor=current_user, file_name=file_name)
    except EnrolmentError as error:  # e.g. another coordinator took the last seats a moment ago
        db.session.rollback()
        flash(_("Nothing was imported: %(reason)s", reason=str(error)), "error")
        return redirect(url_for("cohorts.import_participants", cohort_id=cohort_id))
    db.session.commit()
    flash(
        ngettext(
            "%(num)d participant was enrolled in %(cohort)s.",
            "%(num)d participants were enrolled in %(cohort)s.",
            len(enrolments),
            cohort=cohort.name,
        )
        + " "
        + ngettext(
            "%(num)d new participant gets an invitation by e-mail.",
            "%(num)d new participants get an invitation by e-mail.",
            plan.new_people,
        ),
        "success",
    )
    return redirect(cohort_page(cohort))


@bp.get("/<int:cohort_id>/import/example.csv")
@role_required(Role.COORDINATOR)
def import_example(cohort_id: int) -> Response:
    cohort = load_cohort(cohort_id)
    file_name = _("example-participants") + ".csv"
    return Response(
        example_file(cohort),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{file_name}"'},
    )
