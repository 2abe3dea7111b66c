"""Attendance on the training days: the trainer records a day for the whole group on one screen; the
participant, their employer's contacts, the cohort's trainers and the coordinator see it. The rules
live in ``lms.services.attendance``."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from lms import clock
from lms.blueprints.attendance.forms import (
    CHOICES,
    AttendanceForm,
    Rows,
    mark_name,
    note_name,
    read_marks,
    rows_from_records,
)
from lms.extensions import db
from lms.i18n import day_with_weekday
from lms.models import Cohort, Enrolment, EnrolmentStatus, Role
from lms.pagination import paginate, paginate_list
from lms.permissions import (
    can_record_attendance,
    cohort_or_404,
    enrolment_or_404,
    role_required,
    visible_enrolments,
)
from lms.services import attendance as attendance_service
from lms.services import progress as progress_service
from lms.services.attendance import MAX_NOTE_LENGTH

bp = Blueprint("attendance", __name__, url_prefix="/attendance")

DATES_PER_PAGE = 20


def _cohort(cohort_id: int) -> Cohort:
    return cohort_or_404(
        cohort_id, options=(joinedload(Cohort.programme), selectinload(Cohort.trainers))
    )


def _day_or_404(day: str) -> date:
    try:
        return date.fromisoformat(day)
    except ValueError:
        abort(404)


@bp.get("/cohorts/<int:cohort_id>")
@role_required(Role.TRAINER, Role.COORDINATOR)
def cohort(cohort_id: int):  # type: ignore[no-untyped-def]
    cohort = _cohort(cohort_id)
    today = clock.today()
    schedule = attendance_service.schedule_of(cohort)
    lines = attendance_service.date_lines(cohort, today, schedule)
    participants = attendance_service.participants_of(cohort)
    return render_template(
        "attendance/cohort.html",
        cohort=cohort,
        page=paginate_list(lines, DATES_PER_PAGE),  # type: ignore[arg-type]
        to_record=sum(1 for line in lines if not line.recorded),
        participants=participants,
        figures=attendance_service.figures_for(e.id for e in participants),
        next_day=schedule.next_date(today),
        may_record=can_record_attendance(current_user, cohort),
        today=today,
    )


@bp.route("/cohorts/<int:cohort_id>/<day>", methods=["GET", "POST"])
@role_required(Role.TRAINER, Role.COORDINATOR)
def session(cohort_id: int, day: str):  # type: ignore[no-untyped-def]
    cohort = _cohort(cohort_id)
    held_on = _day_or_404(day)
    may_record = can_record_attendance(current_user, cohort)
    if request.method == "POST" and not may_record:
        abort(404)  # the coordinator sees a session but does not record it
    today = clock.today()
    problem = attendance_service.date_problem(cohort, held_on, today)
    if problem:
        flash(problem, "error")
        return redirect(url_for("attendance.cohort", cohort_id=cohort.id))
    recorded = attendance_service.session_on(cohort, held_on)
    enrolments = attendance_service.roster(cohort, held_on, recorded)
    ids = [enrolment.id for enrolment in enrolments]
    form = AttendanceForm()
    rows: Rows = rows_from_records(ids, recorded.records if recorded else [])
    status = 200
    if may_record and form.validate_on_submit():
        rows = read_marks(request.form, ids)
        if not rows.errors:
            try:
                done = attendance_service.record_attendance(
                    cohort, held_on, rows.marks, actor=current_user, at=clock.now(), today=today
                )
            except attendance_service.AttendanceError as error:
                db.session.rollback()
                if error.enrolment_id in rows.choices:
                    rows.errors[error.enrolment_id] = str(error)
                else:
                    form.form_errors.append(str(error))
            else:
                db.session.commit()
                flash(_saved_message(done, held_on), "success")
                return redirect(url_for("attendance.cohort", cohort_id=cohort.id))
        if rows.errors:
            form.form_errors.append(_("Not saved yet: look at the participants marked below."))
        status = 400
    return render_template(
        "attendance/session.html",
        cohort=cohort,
        held_on=held_on,
        recorded=recorded,
        enrolments=enrolments,
        rows=rows,
        form=form,
        choices=list(CHOICES),
        mark_name=mark_name,
        note_name=note_name,
        max_note=MAX_NOTE_LENGTH,
        may_record=may_record,
    ), status


def _saved_message(done: attendance_service.Recorded, held_on: date) -> str:
    when = day_with_weekday(held_on)
    if not done.created and not done.changes:
        return _("Attendance of %(date)s was already saved like this; nothing changed.", date=when)
    counts = {"present": 0, "late": 0, "absent": 0}
    for record in done.session.records:
        counts[record.status.value] += 1
    return _(
        "Attendance of %(date)s saved: %(present)d present, %(late)d late, %(absent)d absent.",
        date=when,
        **counts,
    )


def _progress_loading() -> tuple[Any, ...]:
    """What ``loaded_progress`` reads, loaded with the enrolment (the training hours of the page)."""
    return (
        joinedload(Enrolment.cohort).joinedload(Cohort.programme),
        joinedload(Enrolment.summary),
    )


def _render_enrolment(enrolment: Enrolment):  # type: ignore[no-untyped-def]
    return render_template(
        "attendance/enrolment.html",
        enrolment=enrolment,
        figures=attendance_service.figures_for([enrolment.id])[enrolment.id],
        training=progress_service.loaded_progress(enrolment, clock.today()).attendance,
        page=paginate(attendance_service.records_query(enrolment)),
        own=enrolment.participant_id == current_user.id,
    )


@bp.get("/")
@role_required(Role.PARTICIPANT)
def mine():  # type: ignore[no-untyped-def]
    """The participant's own attendance: of their current enrolment, else their latest."""
    enrolment = db.session.scalar(
        visible_enrolments(current_user)
        .options(joinedload(Enrolment.participant), *_progress_loading())
        .order_by(
            sa.case((Enrolment.status == EnrolmentStatus.ACTIVE, 0), else_=1),
            Enrolment.enrolled_on.desc(),
            Enrolment.id.desc(),
        )
        .limit(1)
    )
    if enrolment is None:
        return render_template("attendance/enrolment.html", enrolment=None, own=True)
    return _render_enrolment(enrolment)


@bp.get("/enrolments/<int:enrolment_id>")
@role_required(Role.PARTICIPANT, Role.TRAINER, Role.COORDINATOR, Role.EMPLOYER)
def enrolment(enrolment_id: int):  # type: ignore[no-untyped-def]
    enrolment = enrolment_or_404(
        enrolment_id,
        options=(
            joinedload(Enrolment.participant),
            joinedload(Enrolment.employer),
            *_progress_loading(),
        ),
    )
    return _render_enrolment(enrolment)
