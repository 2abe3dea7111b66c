"""The JSON API at /api/v1: read cohorts, enrolments with progress, assignments, submissions,
sign-offs, certificates, attendance and the school calendar; create an enrolment; verify a
certificate (public).

A token acts as the user who made it: every list starts from the same scopes in ``lms.permissions`` as
the pages, and writing needs the same role as the page that does it (and a read-write token).
Progress comes from ``lms.services.progress`` only. Errors are problem documents (``problems.py``).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import aliased, joinedload, selectinload

from lms import clock
from lms.blueprints.api import openapi
from lms.blueprints.api import serializers as out
from lms.blueprints.api.auth import api_user, token_required
from lms.blueprints.api.params import (
    MAX_INT,
    date_range,
    datetime_arg,
    enum_arg,
    int_arg,
    keyset_paginate,
    keyset_response,
    list_response,
    paginate,
    school_year_arg,
)
from lms.blueprints.api.problems import PROBLEM_KINDS, ApiProblem, from_exception
from lms.blueprints.api.writes import create_enrolment_from_json
from lms.blueprints.verify.routes import rate_limit as verify_rate_limit
from lms.extensions import csrf, db, limiter
from lms.models import (
    Assignment,
    AttendanceRecord,
    AttendanceSession,
    Certificate,
    ChecklistItem,
    Cohort,
    Enrolment,
    EnrolmentStatus,
    Programme,
    ProgressSummary,
    Region,
    Role,
    SchoolCalendar,
    SignOff,
    Submission,
    SubmissionStatus,
)
from lms.permissions import can_view_enrolment, visible_cohorts, visible_enrolments
from lms.services import attendance as attendance_service
from lms.services import enrolment as enrolment_service
from lms.services import school_calendar
from lms.services.certificates import verification_facts
from lms.services.progress import enrolment_progress

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# What a verification code can look like (URL-safe base64); anything else is not looked up at all.
VERIFICATION_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Token authentication, no cookies: a forged cross-site request carries no token, so no CSRF token.
csrf.exempt(bp)


@bp.errorhandler(ApiProblem)
def api_problem(error: ApiProblem) -> Response:
    db.session.rollback()
    return from_exception(error)


@bp.after_request
def no_store(response: Response) -> Response:
    # Answers depend on the key and hold personal data: never cached by a proxy.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


class CohortState:
    """The ``status`` filter of cohorts."""

    OPEN = "open"
    CLOSED = "closed"


def _only_visible(query: sa.Select, column: Any) -> sa.Select:  # type: ignore[type-arg]
    """Only rows whose enrolment (``column``) the key's user may see (``visible_enrolments``). A scope
    that sees every enrolment adds no condition: every row has an enrolment, and a semi-join with the
    whole table only costs planning (on PostgreSQL at benchmark scale 1, about four times the
    planning time of the sign-offs page without it)."""
    scope = visible_enrolments(api_user())
    froms = scope.get_final_froms()
    if scope.whereclause is None and len(froms) == 1 and froms[0] is Enrolment.__table__:
        return query
    return query.where(column.in_(scope.with_only_columns(Enrolment.id)))


def _enrolment_or_problem(enrolment_id: int) -> Enrolment:
    """Load → check, as the pages do: 404 when it does not exist or the key's user may not see it
    (the same answer, so a key cannot learn which ids exist)."""
    enrolment = (
        None
        if enrolment_id > MAX_INT
        else db.session.scalar(
            sa.select(Enrolment)
            .where(Enrolment.id == enrolment_id)
            .options(
                joinedload(Enrolment.cohort).selectinload(Cohort.trainers),
                joinedload(Enrolment.participant),
                joinedload(Enrolment.employer),
            )
        )
    )
    if enrolment is None or not can_view_enrolment(api_user(), enrolment):
        raise ApiProblem(404, _("There is no enrolment %(id)d.", id=enrolment_id), kind="not-found")
    return enrolment


def _cohort_filters(query: sa.Select, cohort_column: Any) -> sa.Select:  # type: ignore[type-arg]
    """``?cohort=`` and ``?region=`` on a query whose rows belong to a cohort through ``cohort_column``."""
    cohort_id = int_arg("cohort")
    if cohort_id is not None:
        query = query.where(cohort_column == cohort_id)
    region = enum_arg("region", Region)
    if region is not None:
        query = query.where(cohort_column.in_(sa.select(Cohort.id).where(Cohort.region == region)))
    return query


# --- the document and its reference page -----------------------------------------------------


@bp.get("/openapi.json")
def openapi_document() -> Response:
    response = jsonify(openapi.document(server_url=url_for("api.index", _external=True)))
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/docs")
def reference() -> str:
    return render_template(
        "api/reference.html",
        doc=openapi.document(server_url=url_for("api.index", _external=True)),
        operations=openapi.operations(),
        openapi_url=url_for("api.openapi_document"),
        schema_fields=openapi.schema_fields,
        problem_kinds=PROBLEM_KINDS,
        type_text=openapi.type_text,
    )


@bp.get("/")
def index() -> Response:
    return jsonify(
        {
            "name": "Vakkracht LMS API",
            "version": openapi.API_VERSION,
            "openapi": url_for("api.openapi_document", _external=True),
            "documentation": url_for("api.reference", _external=True),
        }
    )


# --- cohorts ---------------------------------------------------------------------------------


def _seats_taken(cohort_ids: list[int]) -> dict[int, int]:
    if not cohort_ids:
        return {}
    return dict(
        db.session.execute(
            sa.select(Enrolment.cohort_id, sa.func.count())
            .where(Enrolment.cohort_id.in_(cohort_ids), Enrolment.status == EnrolmentStatus.ACTIVE)
            .group_by(Enrolment.cohort_id)
        ).all()
    )


def _cohort_options() -> tuple[Any, ...]:
    return (joinedload(Cohort.programme), selectinload(Cohort.trainers))


@bp.get("/cohorts")
@token_required()
def cohorts() -> Response:
    query = visible_cohorts(api_user()).options(*_cohort_options())
    region = enum_arg("region", Region)
    if region is not None:
        query = query.where(Cohort.region == region)
    state = request.args.get("status") or None
    if state == CohortState.OPEN:
        query = query.where(Cohort.closed_at.is_(None))
    elif state == CohortState.CLOSED:
        query = query.where(Cohort.closed_at.is_not(None))
    elif state is not None:
        raise ApiProblem(
            400,
            _("The query parameter 'status' is not valid: choose open or closed."),
            kind="invalid-parameter",
            errors=[{"field": "status", "message": _("choose open or closed.")}],
        )
    page = paginate(query, Cohort.id)
    seats = _seats_taken([cohort.id for cohort in page.items])
    return list_response(page, [out.cohort(item, seats.get(item.id, 0)) for item in page.items])


def _cohort_or_problem(cohort_id: int, *options: Any) -> Cohort:
    """Load → check: the cohort (with ``options``) if the key's user may see it
    (``visible_cohorts``, as the pages); 404 when it does not exist or is not theirs to see (the
    same answer). An id past the database's integers is refused without a statement."""
    item = (
        None
        if cohort_id > MAX_INT
        else db.session.scalar(
            visible_cohorts(api_user()).where(Cohort.id == cohort_id).options(*options)
        )
    )
    if item is None:
        raise ApiProblem(404, _("There is no cohort %(id)d.", id=cohort_id), kind="not-found")
    return item


@bp.get("/cohorts/<int:cohort_id>")
@token_required()
def cohort(cohort_id: int) -> Response:
    item = _cohort_or_problem(cohort_id, *_cohort_options())
    return jsonify(out.cohort(item, _seats_taken([item.id]).get(item.id, 0)))


@bp.get("/cohorts/<int:cohort_id>/attendance")
@token_required()
def cohort_attendance(cohort_id: int) -> Response:
    """The cohort's recorded training days, by date, each with every record: for whoever may see
    the cohort's attendance page (``can_view_attendance``: its trainers and the coordinator, which
    is ``visible_cohorts``)."""
    item = _cohort_or_problem(cohort_id)
    first, last = date_range()
    query = (
        sa.select(AttendanceSession)
        .where(AttendanceSession.cohort_id == item.id)
        .options(
            joinedload(AttendanceSession.recorded_by),
            joinedload(AttendanceSession.updated_by),
            selectinload(AttendanceSession.records),
        )
    )
    query = _held_between(query, first, last)
    page = paginate(query, AttendanceSession.held_on)
    return list_response(page, [out.attendance_session(session) for session in page.items])


def _held_between(query: sa.Select, first: date | None, last: date | None) -> sa.Select:  # type: ignore[type-arg]
    if first is not None:
        query = query.where(AttendanceSession.held_on >= first)
    if last is not None:
        query = query.where(AttendanceSession.held_on <= last)
    return query


@bp.get("/cohorts/<int:cohort_id>/calendar")
@token_required()
def cohort_calendar(cohort_id: int) -> Response:
    """The cohort's year as the cohort page plans it (``school_calendar.year_plan``), with its
    programme weeks and training dates."""
    item = _cohort_or_problem(
        cohort_id,
        joinedload(Cohort.programme).options(
            selectinload(Programme.periods), selectinload(Programme.assignments)
        ),
    )
    closures = school_calendar.closures_between(item.start_date, item.end_date, item.id)
    schedule = attendance_service.schedule_of(item, closures)
    return jsonify(
        out.cohort_calendar(
            item,
            teaching_weeks=school_calendar.stored_weeks(item),
            plan=school_calendar.year_plan(item, closures, schedule.moves),
            training_dates=schedule.dates(item.end_date),
            missing_school_years=school_calendar.missing_school_years(
                item.start_date, item.end_date
            ),
        )
    )


# --- enrolments ------------------------------------------------------------------------------


def _enrolment_options() -> tuple[Any, ...]:
    return (
        joinedload(Enrolment.cohort),
        joinedload(Enrolment.participant),
        joinedload(Enrolment.employer),
    )


@bp.get("/enrolments")
@token_required()
def enrolments() -> Response:
    query = _cohort_filters(
        visible_enrolments(api_user()).options(*_enrolment_options()), Enrolment.cohort_id
    )
    status = enum_arg("status", EnrolmentStatus)
    if status is not None:
        query = query.where(Enrolment.status == status)
    since = datetime_arg("updated_since")
    if since is not None:
        # Changed since: the enrolment itself, or its progress. Every write that changes progress
        # (work saved, handed in or assessed, sign-offs, hours, certificates) rewrites the enrolment's
        # summary in its transaction, so its updated_at says so: one row per enrolment, not every
        # submission and the whole ledger (``lms.services.progress.refresh_summaries``).
        query = query.outerjoin(
            ProgressSummary, ProgressSummary.enrolment_id == Enrolment.id
        ).where(sa.or_(Enrolment.updated_at >= since, ProgressSummary.updated_at >= since))
    page = keyset_paginate(query, Enrolment.id, "enrolments")
    items = page.items
    progress = enrolment_progress(items, clock.today())
    return keyset_response(page, [out.enrolment(item, progress[item.id]) for item in items])


@bp.get("/enrolments/<int:enrolment_id>")
@token_required()
def enrolment(enrolment_id: int) -> Response:
    item = _enrolment_or_problem(enrolment_id)
    progress = enrolment_progress([item], clock.today())
    return jsonify(out.enrolment(item, progress[item.id]))


@bp.post("/enrolments")
@token_required(write=True, roles=(Role.COORDINATOR,))
def create_enrolment() -> tuple[Response, int, dict[str, str]]:
    """The same rules as the coordinator's enrol page: ``lms.services.enrolment.enrol``. 201 for a new
    enrolment; 200 for a withdrawn one made active again and for a repeat (already enrolled here).
    Not committed here: ``token_required`` commits a POST's answer together with its Idempotency-Key."""
    try:
        done = create_enrolment_from_json(request, actor=api_user())
    except enrolment_service.CohortFull as error:
        raise ApiProblem(409, str(error), kind="cohort-full") from error
    except enrolment_service.AlreadyEnrolled as error:
        raise ApiProblem(409, str(error), kind="already-enrolled") from error
    except enrolment_service.EnrolmentError as error:
        raise ApiProblem(422, str(error), kind="enrolment-refused") from error
    created = done.outcome is enrolment_service.EnrolOutcome.CREATED
    item = _enrolment_or_problem(done.enrolment.id)
    progress = enrolment_progress([item], clock.today())
    location = url_for("api.enrolment", enrolment_id=item.id, _external=True)
    return (
        jsonify(out.enrolment(item, progress[item.id])),
        201 if created else 200,
        {"Location": location},
    )


@bp.get("/enrolments/<int:enrolment_id>/assignments")
@token_required()
def enrolment_assignments(enrolment_id: int) -> Response:
    """Every assignment of the enrolment's programme with where the participant's work stands."""
    item = _enrolment_or_problem(enrolment_id)
    assignments = db.session.scalars(
        sa.select(Assignment)
        .where(Assignment.programme_id == item.cohort.programme_id)
        .order_by(Assignment.position, Assignment.id)
    ).all()
    submissions = {
        submission.assignment_id: submission
        for submission in db.session.scalars(
            sa.select(Submission).where(Submission.enrolment_id == item.id)
        )
    }
    today = clock.today()
    return jsonify(
        {
            "enrolment_id": item.id,
            "data": [
                out.assignment_status(
                    assignment,
                    item.cohort.due_date(assignment.due_week),
                    submissions.get(assignment.id),
                    today,
                )
                for assignment in assignments
            ],
        }
    )


@bp.get("/enrolments/<int:enrolment_id>/attendance")
@token_required()
def enrolment_attendance(enrolment_id: int) -> Response:
    """The participant's attendance as their attendance page shows it: the figures over every
    recorded training day, and the records, by date. For whoever may see the enrolment."""
    item = _enrolment_or_problem(enrolment_id)
    first, last = date_range()
    query = _held_between(attendance_service.records_query(item).order_by(None), first, last)
    page = paginate(query, AttendanceSession.held_on, AttendanceRecord.id)
    figures = attendance_service.figures_for([item.id])[item.id]
    return list_response(
        page,
        [out.attendance_record(record) for record in page.items],
        {"enrolment_id": item.id, "figures": out.attendance_figures(figures)},
    )


# --- submissions, sign-offs, certificates ----------------------------------------------------


def _enrolment_filter(query: sa.Select, column: Any) -> sa.Select:  # type: ignore[type-arg]
    enrolment_id = int_arg("enrolment")
    if enrolment_id is not None:
        query = query.where(column == enrolment_id)
    return query


def _in_cohorts(query: sa.Select, column: Any) -> sa.Select:  # type: ignore[type-arg]
    """Only rows whose enrolment (``column``) matches ``?cohort=`` and ``?region=``; without those
    parameters the query as it is."""
    enrolments = _cohort_filters(sa.select(Enrolment.id), Enrolment.cohort_id)
    if enrolments.whereclause is None:
        return query
    return query.where(column.in_(enrolments))


@bp.get("/submissions")
@token_required()
def submissions() -> Response:
    query = _in_cohorts(
        _only_visible(
            sa.select(Submission).options(joinedload(Submission.assignment)),
            Submission.enrolment_id,
        ),
        Submission.enrolment_id,
    )
    query = _enrolment_filter(query, Submission.enrolment_id)
    status = enum_arg("status", SubmissionStatus)
    if status is not None:
        query = query.where(Submission.status == status)
    since = datetime_arg("updated_since")
    if since is not None:
        query = query.where(Submission.updated_at >= since)
    page = keyset_paginate(query, Submission.id, "submissions")
    return keyset_response(page, [out.submission(item) for item in page.items])


@bp.get("/signoffs")
@token_required()
def signoffs() -> Response:
    """The sign-off ledger: sign-offs and revocations, in ledger order, each with whether a later
    record revokes it: an outer join on the unique ``revokes_id`` (at most one revocation per record),
    which the planner probes through its index row by row of the page. (An EXISTS in the select list
    became a hashed subplan on PostgreSQL: a scan of the whole ledger on every page.)"""
    revocation = aliased(SignOff)
    query = _in_cohorts(
        _only_visible(
            sa.select(SignOff, revocation.id.is_not(None).label("revoked"))
            .outerjoin(revocation, revocation.revokes_id == SignOff.id)
            .options(
                joinedload(SignOff.checklist_item).joinedload(ChecklistItem.group),
                joinedload(SignOff.signed_by),
            ),
            SignOff.enrolment_id,
        ),
        SignOff.enrolment_id,
    )
    query = _enrolment_filter(query, SignOff.enrolment_id)
    since = datetime_arg("updated_since")
    if since is not None:
        query = query.where(SignOff.signed_at >= since)
    page = keyset_paginate(query, SignOff.sequence, "signoffs")
    return keyset_response(page, [out.signoff(record, bool(gone)) for record, gone in page.rows])


class CertificateState:
    VALID = "valid"
    REVOKED = "revoked"


@bp.get("/certificates")
@token_required()
def certificates() -> Response:
    query = _in_cohorts(
        _only_visible(
            sa.select(Certificate).options(
                joinedload(Certificate.enrolment).joinedload(Enrolment.participant)
            ),
            Certificate.enrolment_id,
        ),
        Certificate.enrolment_id,
    )
    query = _enrolment_filter(query, Certificate.enrolment_id)
    state = request.args.get("status") or None
    if state == CertificateState.VALID:
        query = query.where(Certificate.revoked_at.is_(None))
    elif state == CertificateState.REVOKED:
        query = query.where(Certificate.revoked_at.is_not(None))
    elif state is not None:
        raise ApiProblem(
            400,
            _("The query parameter 'status' is not valid: choose valid or revoked."),
            kind="invalid-parameter",
            errors=[{"field": "status", "message": _("choose valid or revoked.")}],
        )
    since = datetime_arg("updated_since")
    if since is not None:
        query = query.where(sa.or_(Certificate.issued_at >= since, Certificate.revoked_at >= since))
    page = paginate(query, Certificate.id)
    return list_response(page, [out.certificate(item) for item in page.items])


# --- the school calendar -----------------------------------------------------------------------


@bp.get("/school-calendars")
@token_required()
def school_calendars() -> Response:
    """The loaded school years: holidays of region Zuid, the programme's closed days and the public
    holidays. The same for every key (no one's personal data)."""
    query = sa.select(SchoolCalendar).options(selectinload(SchoolCalendar.closures))
    school_year = school_year_arg("school_year")
    if school_year is not None:
        query = query.where(SchoolCalendar.school_year == school_year)
    page = paginate(query, SchoolCalendar.school_year)
    return list_response(page, [out.school_calendar(item) for item in page.items])


# --- public ------------------------------------------------------------------------------------


@bp.get("/certificates/<code>")
@limiter.limit(verify_rate_limit)
def verify_certificate(code: str) -> Response:
    """No key: the same facts as the public verification page (``/verify/<code>``), from the same
    function, under the same rate limit."""
    facts = verification_facts(code) if VERIFICATION_CODE.fullmatch(code) else None
    if facts is None:
        raise ApiProblem(
            404, _("There is no certificate with this verification code."), kind="not-found"
        )
    return jsonify(facts)
