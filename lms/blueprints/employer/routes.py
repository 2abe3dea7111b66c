"""The employer contact's side: my employees in the programme and how they are doing."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy.orm import joinedload

from lms import clock
from lms.extensions import db
from lms.models import Cohort, Enrolment, EnrolmentStatus, Role, User
from lms.permissions import role_required, visible_enrolments
from lms.services.progress import assignment_progress

bp = Blueprint("employer", __name__, url_prefix="/employer")


@bp.get("/")
@role_required(Role.EMPLOYER)
def index():  # type: ignore[no-untyped-def]
    enrolments = db.session.scalars(
        visible_enrolments(current_user)
        .where(Enrolment.status == EnrolmentStatus.ACTIVE)
        .join(Enrolment.participant)
        .options(joinedload(Enrolment.participant), joinedload(Enrolment.cohort).joinedload(Cohort.programme))
        .order_by(User.last_name, User.first_name)
    ).all()
    today = clock.today()
    return render_template(
        "employer/index.html",
        employer=current_user.employer,
        enrolments=enrolments,
        progress=assignment_progress(enrolments, today),
        today=today,
    )
