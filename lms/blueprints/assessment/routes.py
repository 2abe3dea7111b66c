"""The trainer's side: my cohorts, their participants and the work waiting for me."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from lms import clock
from lms.extensions import db
from lms.models import Cohort, Enrolment, EnrolmentStatus, Role
from lms.permissions import role_required, visible_cohorts
from lms.services.progress import assignment_progress

bp = Blueprint("assessment", __name__, url_prefix="/assessment")


@bp.get("/")
@role_required(Role.TRAINER)
def index():  # type: ignore[no-untyped-def]
    cohorts = db.session.scalars(
        visible_cohorts(current_user)
        .where(Cohort.closed_at.is_(None))
        .options(
            joinedload(Cohort.programme),
            selectinload(Cohort.enrolments).joinedload(Enrolment.participant),
            selectinload(Cohort.enrolments).joinedload(Enrolment.employer),
        )
        .order_by(Cohort.start_date.desc(), Cohort.name)
    ).unique().all()
    active = {
        cohort.id: sorted(
            (e for e in cohort.enrolments if e.status is EnrolmentStatus.ACTIVE),
            key=lambda e: e.participant.sort_name,
        )
        for cohort in cohorts
    }
    today = clock.today()
    progress = assignment_progress([e for rows in active.values() for e in rows], today)
    waiting = sum(p.submitted for p in progress.values())
    return render_template(
        "assessment/index.html",
        cohorts=cohorts,
        active=active,
        progress=progress,
        waiting=waiting,
        today=today,
    )
