"""Home pages: each role opens the app with a question, and its home page answers it at a glance.
Each page costs a constant number of queries, however many participants there are."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from lms import charts, clock
from lms.extensions import db
from lms.header import header_counts
from lms.i18n import label
from lms.models import (
    Enrolment,
    ProgressReview,
    Region,
    Role,
    Submission,
    WorkplaceHours,
)
from lms.pagination import page_number, paginate, search_term
from lms.permissions import role_required
from lms.services import assessment as assessment_service
from lms.services import certificates as certificate_service
from lms.services import dashboards, workplace
from lms.services import hours as hours_service
from lms.services import reviews as review_service

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

ITEMS_ON_HOME = 5


@bp.get("/trainer")
@role_required(Role.TRAINER)
def trainer():  # type: ignore[no-untyped-def]
    today = clock.today()
    cohort_id = request.args.get("cohort", type=int)
    home = dashboards.trainer_home(current_user, today, cohort_id)
    queue = db.session.scalars(
        assessment_service.queue_query(current_user)
        .options(
            joinedload(Submission.enrolment).joinedload(Enrolment.participant),
            joinedload(Submission.assignment),
        )
        .limit(ITEMS_ON_HOME)
    ).all()
    return render_template(
        "dashboard/trainer.html",
        home=home,
        cohort_id=cohort_id,
        queue=queue,
        queue_count=header_counts().queue,  # counted once with the bell's
        today=today,
    )


@bp.get("/participant")
@role_required(Role.PARTICIPANT)
def participant():  # type: ignore[no-untyped-def]
    today = clock.today()
    home = dashboards.participant_home(current_user, today)
    chart = None
    if home is not None:
        chart = charts.progress_over_year(
            expected=home.expected_curve,
            week=home.progress.week,
            actual_percent=round(100 * home.progress.handed_in / home.progress.assignments.total)
            if home.progress.assignments.total
            else 0,
            title=_("Your progress over the year"),
            expected_label=_("Expected"),
            actual_label=_("You"),
            week_label=_("Week of the programme"),
            hours_percent=home.hours.percent,
            hours_label=_("Hours"),
        )
    reviews, to_acknowledge = (
        dashboards.first_with_total(
            review_service.to_acknowledge_query(current_user).options(
                joinedload(ProgressReview.trainer)
            ),
            ITEMS_ON_HOME,
        )
        if home
        else ([], 0)
    )
    return render_template(
        "dashboard/participant.html",
        home=home,
        certificates=dashboards.participant_certificates(current_user),
        finished=certificate_service.finished_enrolment(current_user, today)
        if home is None
        else None,
        chart=chart,
        today=today,
        reviews=reviews,
        to_acknowledge=to_acknowledge,
    )


@bp.get("/employer")
@role_required(Role.EMPLOYER)
def employer():  # type: ignore[no-untyped-def]
    today = clock.today()
    term = search_term()
    page = paginate(dashboards.employer_enrolments(current_user, term))
    home = dashboards.employer_home(current_user, page.items, today)
    confirmations, confirmations_count = dashboards.first_with_total(
        workplace.awaiting_confirmation_query(current_user).options(
            joinedload(Submission.enrolment).joinedload(Enrolment.participant),
            joinedload(Submission.assignment),
        ),
        ITEMS_ON_HOME,
    )
    reviews, reviews_count = dashboards.first_with_total(
        review_service.to_acknowledge_query(current_user).options(
            joinedload(ProgressReview.enrolment).joinedload(Enrolment.participant),
            joinedload(ProgressReview.trainer),
        ),
        ITEMS_ON_HOME,
    )
    hours_waiting, hours_count = dashboards.first_with_total(
        hours_service.awaiting_approval_query(current_user).options(
            joinedload(WorkplaceHours.enrolment).joinedload(Enrolment.participant)
        ),
        ITEMS_ON_HOME,
    )
    return render_template(
        "dashboard/employer.html",
        employer=current_user.employer,
        page=page,
        term=term,
        home=home,
        today=today,
        confirmations=confirmations,
        confirmations_count=confirmations_count,
        reviews=reviews,
        reviews_count=reviews_count,
        hours_waiting=hours_waiting,
        hours_count=hours_count,
        certificate_download="certificates.download" in current_app.view_functions,
    )


@bp.get("/coordinator")
@role_required(Role.COORDINATOR)
def coordinator():  # type: ignore[no-untyped-def]
    today = clock.today()
    region_value = request.args.get("region", "")
    region = Region(region_value) if region_value in {r.value for r in Region} else None
    include_closed = request.args.get("closed") == "1"
    overview = dashboards.coordinator_overview(today, region, include_closed, page_number())
    rows = [
        (f.cohort.name, f.percent_approved, f.expected_percent)
        for f in overview.cohorts
        if f.active
    ]
    chart = (
        charts.bars(
            title=_("Assignments approved per cohort, against what is expected by now"),
            rows=rows,
            value_label=_("Approved (average)"),
            expected_label=_("Expected by now"),
        )
        if rows
        else None
    )
    return render_template(
        "dashboard/coordinator.html",
        regions=overview.regions,
        page=overview.page,
        region=region,
        all_regions=list(Region),
        include_closed=include_closed,
        chart=chart,
        today=today,
        label=label,
    )
