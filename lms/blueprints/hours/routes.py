"""Workplace (BPV) hours: the participant logs a week, the employer's contact approves it, and all
three (and the coordinator) see progress against the programme's target."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.orm import joinedload

from lms import clock
from lms.blueprints.hours.forms import ApproveWeeksForm, DecisionForm, HoursForm
from lms.dates import short_date
from lms.extensions import db
from lms.i18n import hours_text
from lms.models import Cohort, Enrolment, EnrolmentStatus, Role, WorkplaceHours
from lms.pagination import paginate
from lms.permissions import enrolment_or_404, role_required, visible_enrolments
from lms.services import hours as hours_service
from lms.services.progress import hours_progress

bp = Blueprint("hours", __name__, url_prefix="/hours")


bp.add_app_template_filter(hours_text, "hours")


@bp.app_template_filter("hours_week")
def format_week(entry: WorkplaceHours) -> str:
    """ "Week 12 (15–19 mrt 2027)"."""
    return hours_service.week_label(entry)


def _weeks(enrolment: Enrolment):  # type: ignore[no-untyped-def]
    return paginate(
        db.select(WorkplaceHours)
        .where(WorkplaceHours.enrolment_id == enrolment.id)
        .options(joinedload(WorkplaceHours.approved_by))
        .order_by(WorkplaceHours.week_start.desc())
    )


@bp.route("/", methods=["GET", "POST"])
@role_required(Role.PARTICIPANT)
def mine():  # type: ignore[no-untyped-def]
    enrolment = db.session.scalar(
        visible_enrolments(current_user)
        .where(Enrolment.status == EnrolmentStatus.ACTIVE)
        .options(joinedload(Enrolment.cohort).joinedload(Cohort.programme))
    )
    if enrolment is None:
        return render_template("hours/mine.html", enrolment=None)
    today = clock.today()
    form = HoursForm()
    if form.validate_on_submit():
        try:
            entry = hours_service.log_hours(
                enrolment,
                actor=current_user,
                week_start=form.week_start.data,
                hours_worked=form.hours_worked.number,
                hours_learning=form.hours_learning.number,
                note=form.note.data or "",
                today=today,
            )
        except hours_service.HoursError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(
                _(
                    "Saved: %(hours)s hours in the week of %(week)s. Your employer is asked to approve them.",
                    hours=hours_text(entry.hours_worked),
                    week=short_date(entry.week_start),
                ),
                "success",
            )
            return redirect(url_for("hours.mine"))
    elif request.method == "GET":
        form.week_start.data = hours_service.monday_of(today)
    return render_template(
        "hours/mine.html",
        enrolment=enrolment,
        form=form,
        page=_weeks(enrolment),
        hours=hours_progress([enrolment], today)[enrolment.id],
    )


@bp.get("/enrolments/<int:enrolment_id>")
@role_required(Role.TRAINER, Role.COORDINATOR, Role.EMPLOYER)
def enrolment(enrolment_id: int):  # type: ignore[no-untyped-def]
    enrolment = enrolment_or_404(
        enrolment_id,
        options=(
            joinedload(Enrolment.participant),
            joinedload(Enrolment.employer),
            joinedload(Enrolment.cohort).joinedload(Cohort.programme),
            joinedload(Enrolment.cohort).selectinload(Cohort.trainers),
        ),
    )
    return render_template(
        "hours/enrolment.html",
        enrolment=enrolment,
        page=_weeks(enrolment),
        hours=hours_progress([enrolment], clock.today())[enrolment.id],
        may_decide=current_user.role is Role.EMPLOYER,
        form=DecisionForm(formdata=None),
        weeks_form=ApproveWeeksForm(formdata=None),
    )


@bp.get("/to-approve")
@role_required(Role.EMPLOYER)
def to_approve():  # type: ignore[no-untyped-def]
    page = paginate(
        hours_service.awaiting_approval_query(current_user).options(
            joinedload(WorkplaceHours.enrolment).joinedload(Enrolment.participant),
            joinedload(WorkplaceHours.enrolment).joinedload(Enrolment.cohort),
        )
    )
    return render_template(
        "hours/to_approve.html",
        page=page,
        form=DecisionForm(formdata=None),
        weeks_form=ApproveWeeksForm(formdata=None),
    )


@bp.post("/approve-weeks")
@role_required(Role.EMPLOYER)
def approve_weeks():  # type: ignore[no-untyped-def]
    """Several weeks at once, from the list of hours to approve or one employee's hours page."""
    form = ApproveWeeksForm()
    back = url_for("hours.to_approve")
    if not form.validate_on_submit():
        flash(_("Something went wrong. Try again."), "error")
        return redirect(back)
    ids = form.chosen()
    if not ids:
        flash(_("Tick at least one week to approve."), "error")
        return redirect(back)
    entries = db.session.scalars(
        hours_service.visible_hours(current_user)
        .where(WorkplaceHours.id.in_(ids))
        .options(
            joinedload(WorkplaceHours.enrolment).joinedload(Enrolment.participant),
            joinedload(WorkplaceHours.enrolment).joinedload(Enrolment.cohort),
        )
    ).all()
    if len(entries) != len(ids):  # a week that is not this company's (or not there): not here
        abort(404)
    enrolment_ids = {entry.enrolment_id for entry in entries}
    if request.form.get("next", "") == "enrolment" and len(enrolment_ids) == 1:
        back = url_for("hours.enrolment", enrolment_id=enrolment_ids.pop())
    try:
        approved = hours_service.approve_weeks(entries, actor=current_user, at=clock.now())
    except hours_service.HoursError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(back)
    db.session.commit()
    flash(
        ngettext(
            "Approved: %(num)d week of hours.", "Approved: %(num)d weeks of hours.", len(approved)
        ),
        "success",
    )
    return redirect(back)


@bp.post("/<int:hours_id>/decide")
@role_required(Role.EMPLOYER)
def decide(hours_id: int):  # type: ignore[no-untyped-def]
    entry = db.session.scalar(
        db.select(WorkplaceHours)
        .where(WorkplaceHours.id == hours_id)
        .options(joinedload(WorkplaceHours.enrolment).joinedload(Enrolment.participant))
    )
    if entry is None or not hours_service.may_decide(current_user, entry):
        abort(404)
    form = DecisionForm()
    if not form.validate_on_submit():
        flash(" ".join(form.remark.errors) or _("Something went wrong. Try again."), "error")
        return redirect(url_for("hours.to_approve"))
    name = entry.enrolment.participant.full_name
    try:
        if form.send_back.data:
            hours_service.send_back_hours(entry, actor=current_user, remark=form.remark.data or "")
            message = _("The hours of %(name)s were sent back with your remark.", name=name)
        else:
            hours_service.approve_hours(
                entry, actor=current_user, at=clock.now(), remark=form.remark.data or ""
            )
            message = _("Approved: the hours of %(name)s.", name=name)
    except hours_service.HoursError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("hours.to_approve"))
    db.session.commit()
    flash(message, "success")
    target = request.form.get("next", "")
    if target == "enrolment":
        return redirect(url_for("hours.enrolment", enrolment_id=entry.enrolment_id))
    return redirect(url_for("hours.to_approve"))
