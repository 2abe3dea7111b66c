"""The JSON form of the domain's objects, as the OpenAPI document (``openapi.py``) describes them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from lms.holidays import public_holidays
from lms.models import (
    Assignment,
    AttendanceRecord,
    AttendanceSession,
    AttendanceStatus,
    CalendarClosure,
    Certificate,
    Cohort,
    Employer,
    Enrolment,
    Period,
    SchoolCalendar,
    SignOff,
    Submission,
    SubmissionStatus,
    TrainingDayMove,
    User,
)
from lms.services.attendance import Figures
from lms.services.progress import AssignmentProgress, ItemProgress, Progress
from lms.services.school_calendar import PlanLine

# ``Cohort.training_weekdays`` counts from 0 (Monday); the API names the days.
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")


def timestamp(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def person(user: User, *, email: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {"id": user.id, "name": user.full_name}
    if email:
        data["email"] = user.email
    return data


def employer(company: Employer) -> dict[str, Any]:
    return {"id": company.id, "name": company.name, "kvk_number": company.kvk_number}


def cohort_ref(cohort: Cohort) -> dict[str, Any]:
    return {"id": cohort.id, "name": cohort.name, "region": cohort.region.value}


def cohort(item: Cohort, seats_taken: int) -> dict[str, Any]:
    programme = item.programme
    return {
        "id": item.id,
        "name": item.name,
        "region": item.region.value,
        "status": "closed" if item.is_closed else "open",
        "programme": {
            "id": programme.id,
            "code": programme.code,
            "version": programme.version,
            "title": programme.title,
        },
        "start_date": day(item.start_date),
        "end_date": day(item.end_date),
        "capacity": item.capacity,
        "seats_taken": seats_taken,
        "closed_at": timestamp(item.closed_at),
        "trainers": [person(trainer) for trainer in item.trainers],
        "created_at": timestamp(item.created_at),
    }


def _assignment_counts(counts: AssignmentProgress) -> dict[str, int]:
    return {
        "total": counts.total,
        "approved": counts.approved,
        "submitted": counts.submitted,
        "needs_revision": counts.needs_revision,
        "draft": counts.draft,
        "overdue": counts.overdue,
        "percent_approved": counts.percent_approved,
    }


def _items(items: ItemProgress) -> dict[str, int]:
    return {"signed": items.signed, "required": items.required, "percent": items.percent}


def progress(value: Progress) -> dict[str, Any]:
    return {
        "week": value.week,
        "assignments": _assignment_counts(value.assignments),
        "technical": _items(value.technical),
        "skills": _items(value.skills),
        "items_overdue": value.items_overdue,
        "expected_assignments": value.expected_assignments,
        "expected_percent": value.expected_percent,
        "behind": value.behind,
        "certificate_due": value.certificate_due,
    }


def enrolment(item: Enrolment, item_progress: Progress) -> dict[str, Any]:
    return {
        "id": item.id,
        "cohort": cohort_ref(item.cohort),
        "participant": person(item.participant, email=True),
        "employer": employer(item.employer),
        "intake_type": item.intake_type.value,
        "status": item.status.value,
        "enrolled_on": day(item.enrolled_on),
        "ended_on": day(item.ended_on),
        "transferred_from_id": item.transferred_from_id,
        "created_at": timestamp(item.created_at),
        "updated_at": timestamp(item.updated_at),
        "progress": progress(item_progress),
    }


def assignment_ref(item: Assignment) -> dict[str, Any]:
    return {"id": item.id, "code": item.code, "title": item.title, "due_week": item.due_week}


def assignment_status(
    item: Assignment, due_on: date, submission: Submission | None, today: date
) -> dict[str, Any]:
    status = submission.status if submission is not None else None
    handed_in = status in (SubmissionStatus.SUBMITTED, SubmissionStatus.APPROVED)
    return {
        "assignment": assignment_ref(item),
        "due_date": day(due_on),
        "status": status.value if status is not None else "not_started",
        "overdue": not handed_in and due_on < today,
        "submission_id": submission.id if submission is not None else None,
        "submitted_at": timestamp(submission.submitted_at) if submission else None,
        "approved_at": timestamp(submission.approved_at) if submission else None,
        "updated_at": timestamp(submission.updated_at) if submission else None,
    }


def submission(item: Submission) -> dict[str, Any]:
    return {
        "id": item.id,
        "enrolment_id": item.enrolment_id,
        "assignment": assignment_ref(item.assignment),
        "status": item.status.value,
        "submitted_at": timestamp(item.submitted_at),
        "approved_at": timestamp(item.approved_at),
        "created_at": timestamp(item.created_at),
        "updated_at": timestamp(item.updated_at),
    }


def signoff(record: SignOff, revoked: bool) -> dict[str, Any]:
    item = record.checklist_item
    return {
        "id": record.id,
        "sequence": record.sequence,
        "kind": record.kind.value,
        "enrolment_id": record.enrolment_id,
        "checklist_item": {
            "id": item.id,
            "code": item.code,
            "title": item.title,
            "kind": item.group.kind.value,
            "required_level": item.required_level,
        },
        "level": record.level,
        "note": record.note,
        "revokes_id": record.revokes_id,
        "revoked": revoked,
        "signed_by": person(record.signed_by),
        "signed_at": timestamp(record.signed_at),
    }


def certificate(item: Certificate) -> dict[str, Any]:
    return {
        "id": item.id,
        "number": item.number,
        "enrolment_id": item.enrolment_id,
        "participant": person(item.enrolment.participant),
        "status": "revoked" if item.is_revoked else "valid",
        "issued_at": timestamp(item.issued_at),
        "revoked_at": timestamp(item.revoked_at),
        "revocation_reason": item.revocation_reason if item.is_revoked else None,
        "replaces_id": item.replaces_id,
        "verification_code": item.verification_code,
    }


# --- attendance --------------------------------------------------------------------------------


def attendance_mark(record: AttendanceRecord) -> dict[str, Any]:
    return {
        "enrolment_id": record.enrolment_id,
        "status": record.status.value,
        "reason": record.reason.value if record.reason is not None else None,
        "note": record.note,
    }


def attendance_session(item: AttendanceSession) -> dict[str, Any]:
    records = sorted(item.records, key=lambda record: record.enrolment_id)
    return {
        "id": item.id,
        "cohort_id": item.cohort_id,
        "held_on": day(item.held_on),
        "recorded_at": timestamp(item.recorded_at),
        "recorded_by": person(item.recorded_by) if item.recorded_by is not None else None,
        "updated_at": timestamp(item.updated_at),
        "updated_by": person(item.updated_by) if item.updated_by is not None else None,
        "counts": {
            status.value: sum(1 for record in records if record.status is status)
            for status in AttendanceStatus
        },
        "records": [attendance_mark(record) for record in records],
    }


def attendance_record(record: AttendanceRecord) -> dict[str, Any]:
    return {
        "session_id": record.session_id,
        "held_on": day(record.session.held_on),
        **attendance_mark(record),
    }


FIGURES = (
    "sessions",
    "attended",
    "present",
    "late",
    "absent",
    "sick",
    "authorised",
    "unauthorised",
    "percent",
)


def attendance_figures(figures: Figures) -> dict[str, Any]:
    return {name: getattr(figures, name) for name in FIGURES}


# --- the calendar ------------------------------------------------------------------------------


def period_ref(item: Period) -> dict[str, Any]:
    return {
        "id": item.id,
        "code": item.code,
        "title": item.title,
        "start_week": item.start_week,
        "end_week": item.end_week,
    }


def plan_line(line: PlanLine) -> dict[str, Any]:
    subject = line.subject
    return {
        "kind": line.kind.value,
        "first_day": day(line.first_day),
        "last_day": day(line.last_day),
        "title": line.title,
        "week": line.week,
        "period": period_ref(subject) if isinstance(subject, Period) else None,
        "assignment": assignment_ref(subject) if isinstance(subject, Assignment) else None,
        "closure_kind": subject.kind.value if isinstance(subject, CalendarClosure) else None,
        "moved_from": day(subject.moved_from) if isinstance(subject, TrainingDayMove) else None,
    }


def cohort_calendar(
    item: Cohort,
    *,
    teaching_weeks: list[date],
    plan: list[PlanLine],
    training_dates: list[date],
    missing_school_years: list[str],
) -> dict[str, Any]:
    return {
        "cohort": cohort_ref(item),
        "start_date": day(item.start_date),
        "end_date": day(item.end_date),
        "training_weekdays": [WEEKDAYS[weekday] for weekday in item.training_weekdays],
        "teaching_weeks": [
            {"week": week, "starts_on": day(monday)}
            for week, monday in enumerate(teaching_weeks, start=1)
        ],
        "training_dates": [day(value) for value in training_dates],
        "missing_school_years": missing_school_years,
        "plan": [plan_line(line) for line in plan],
    }


def closure(item: CalendarClosure) -> dict[str, Any]:
    return {
        "kind": item.kind.value,
        "name": item.name,
        "first_day": day(item.first_day),
        "last_day": day(item.last_day),
    }


def school_calendar(item: SchoolCalendar) -> dict[str, Any]:
    first, last = item.first_day, item.last_day
    holidays = sorted(
        holiday
        for year in range(first.year, last.year + 1)
        for holiday in public_holidays(year)
        if first <= holiday <= last
    )
    return {
        "school_year": item.school_year,
        "region": item.region,
        "first_day": day(first),
        "last_day": day(last),
        "source": item.source,
        "closures": [closure(found) for found in item.closures],
        "public_holidays": [day(holiday) for holiday in holidays],
    }
