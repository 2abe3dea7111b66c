"""The employer contact's side: my employees in the programme, how they are doing, and confirming the
work they carried out at our workplace."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from lms import clock
from lms.blueprints.employer.forms import ConfirmationForm, NotCarriedOutForm
from lms.extensions import db
from lms.models import (
    Attempt,
    Cohort,
    Enrolment,
    EnrolmentStatus,
    Role,
    Submission,
    User,
    WorkplaceConfirmation,
)
from lms.pagination import paginate, paginate_counted
from lms.permissions import role_required, visible_enrolments
from lms.services import workplace
from lms.services.dashboards import first_with_total
from lms.services.progress import loaded_progress

bp = Blueprint("employer", __name__, url_prefix="/employer")

CONFIRMATIONS_ON_HOME = 3


def _awaiting_confirmation():  # type: ignore[no-untyped-def]
    return workplace.awaiting_confirmation_query(current_user).options(
        joinedload(Submission.enrolment).joinedload(Enrolment.participant),
        joinedload(Submission.assignment),
    )


@bp.get("/")
@role_required(Role.EMPLOYER)
def index():  # type: ignore[no-untyped-def]
    # A page of employees: a big company's contact pages through them (the count is one statement).
    page = paginate_counted(
        visible_enrolments(current_user)
        .where(Enrolment.status == EnrolmentStatus.ACTIVE)
        .join(Enrolment.participant)
        .options(
            contains_eager(Enrolment.participant),  # the join that sorts loads too
            joinedload(Enrolment.employer),  # the contact's own: no statement for it below
            joinedload(Enrolment.summary),
            joinedload(Enrolment.cohort).joinedload(Cohort.programme),
        )
        .order_by(User.sort_key, User.id)
    )
    enrolments = page.items
    today = clock.today()
    to_confirm, to_confirm_count = first_with_total(_awaiting_confirmation(), CONFIRMATIONS_ON_HOME)
    return render_template(
        "employer/index.html",
        employer=current_user.employer,
        enrolments=enrolments,
        page=page,
        progress={e.id: loaded_progress(e, today).assignments for e in enrolments},
        today=today,
        to_confirm=to_confirm,
        to_confirm_count=to_confirm_count,
    )


@bp.get("/confirmations")
@role_required(Role.EMPLOYER)
def confirmations():  # type: ignore[no-untyped-def]
    return render_template(
        "employer/confirmations.html",
        employer=current_user.employer,
        page=paginate(_awaiting_confirmation()),
    )


@bp.route("/confirmations/<int:submission_id>", methods=["GET", "POST"])
@role_required(Role.EMPLOYER)
def confirm(submission_id: int):  # type: ignore[no-untyped-def]
    submission = db.session.scalar(
        db.select(Submission)
        .where(Submission.id == submission_id)
        .options(
            joinedload(Submission.enrolment).joinedload(Enrolment.participant),
            joinedload(Submission.assignment),
            selectinload(Submission.attempts).selectinload(Attempt.evidence_files),
            selectinload(Submission.workplace_confirmations).joinedload(
                WorkplaceConfirmation.confirmed_by
            ),
        )
    )
    # Another company's work, or work that needs no confirmation or was never handed in: not here.
    if submission is None or not workplace.may_confirm(current_user, submission):
        abort(404)
    attempt = workplace.latest_handed_in_attempt(submission)
    if attempt is None:
        abort(404)
    # The "not carried out" form has its own button; each form keeps what was typed in it.
    denying = "deny" in request.form
    form = ConfirmationForm(formdata=None) if denying else ConfirmationForm()
    deny_form = NotCarriedOutForm() if denying else NotCarriedOutForm(formdata=None)
    posted = deny_form if denying else form
    if posted.validate_on_submit():
        name = submission.enrolment.participant.full_name
        code = submission.assignment.code
        try:
            if denying:
                workplace.deny_workplace(
                    submission,
                    actor=current_user,
                    remark=deny_form.reason.data or "",
                    at=clock.now(),
                )
                message = _(
                    "Thank you. The trainer and %(name)s now know that %(code)s was not carried out at your workplace.",
                    name=name,
                    code=code,
                )
            else:
                workplace.confirm_workplace(
                    submission, actor=current_user, remark=form.remark.data or "", at=clock.now()
                )
                message = _(
                    "Thank you. You confirmed that %(name)s carried out %(code)s at your workplace.",
                    name=name,
                    code=code,
                )
        except (workplace.AlreadyConfirmed, workplace.AlreadyDenied) as error:
            db.session.rollback()
            flash(str(error), "info")
            return redirect(url_for("employer.confirm", submission_id=submission_id))
        except workplace.WorkplaceError:
            db.session.rollback()
            abort(404)
        db.session.commit()
        flash(message, "success")
        return redirect(url_for("employer.confirmations"))
    return render_template(
        "employer/confirm.html",
        submission=submission,
        assignment=submission.assignment,
        participant=submission.enrolment.participant,
        attempt=attempt,
        confirmation=submission.workplace_confirmation,
        denial=None if submission.workplace_answer_pending else submission.workplace_denial,
        form=form,
        deny_form=deny_form,
    )
