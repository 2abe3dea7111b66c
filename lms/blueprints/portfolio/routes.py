"""The participant's side: my assignments and where I stand."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy.orm import joinedload

from lms import clock
from lms.extensions import db
from lms.models import Cohort, Enrolment, EnrolmentStatus, Role
from lms.permissions import role_required, visible_enrolments
from lms.services.portfolio import assignment_overview
from lms.services.progress import assignment_progress

bp = Blueprint("portfolio", __name__, url_prefix="/portfolio")


@bp.get("/")
@role_required(Role.PARTICIPANT)
def index():  # type: ignore[no-untyped-def]
    enrolment = db.session.scalar(
        visible_enrolments(current_user)
        .where(Enrolment.status == EnrolmentStatus.ACTIVE)
        .options(
            joinedload(Enrolment.cohort).joinedload(Cohort.programme),
            joinedload(Enrolment.employer),
            joinedload(Enrolment.cohort).selectinload(Cohort.trainers),
        )
    )
    if enrolment is None:
        return render_template("portfolio/index.html", enrolment=None)
    today = clock.today()
    return render_template(
        "portfolio/index.html",
        enrolment=enrolment,
        today=today,
        week=enrolment.cohort.week_of_programme(today),
        periods=assignment_overview(enrolment, today),
        progress=assignment_progress([enrolment], today)[enrolment.id],
    )
