"""The coordinator's side: the programme's cohorts at a glance."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from lms import clock
from lms.extensions import db
from lms.models import Cohort, Employer, Enrolment, EnrolmentStatus, Programme, Role, User
from lms.permissions import role_required, visible_cohorts

bp = Blueprint("cohorts", __name__, url_prefix="/cohorts")


@bp.get("/")
@role_required(Role.COORDINATOR)
def index():  # type: ignore[no-untyped-def]
    cohorts = db.session.scalars(
        visible_cohorts(current_user)
        .options(joinedload(Cohort.programme), selectinload(Cohort.trainers))
        .order_by(Cohort.start_date.desc(), Cohort.name)
    ).all()
    seats_taken = dict(
        db.session.execute(
            sa.select(Enrolment.cohort_id, sa.func.count())
            .where(Enrolment.status == EnrolmentStatus.ACTIVE)
            .group_by(Enrolment.cohort_id)
        ).all()
    )
    totals = {
        "participants": db.session.scalar(
            sa.select(sa.func.count()).select_from(Enrolment).where(Enrolment.status == EnrolmentStatus.ACTIVE)
        ),
        "employers": db.session.scalar(sa.select(sa.func.count()).select_from(Employer)),
        "trainers": db.session.scalar(
            sa.select(sa.func.count()).select_from(User).where(User.role == Role.TRAINER, User.is_active_account)
        ),
    }
    programmes = db.session.scalars(sa.select(Programme).order_by(Programme.code, Programme.version)).all()
    return render_template(
        "cohorts/index.html",
        cohorts=cohorts,
        seats_taken=seats_taken,
        totals=totals,
        programmes=programmes,
        today=clock.today(),
    )
