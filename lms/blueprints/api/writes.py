"""Reading and checking the JSON body of ``POST /api/v1/enrolments``; the rules themselves are those of
the enrol page, in ``lms.services.enrolment``."""

from __future__ import annotations

from datetime import date
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import Request
from flask_babel import gettext as _

from lms import clock
from lms.blueprints.api.body import json_object
from lms.blueprints.api.params import MAX_INT
from lms.blueprints.api.problems import ApiProblem
from lms.extensions import db
from lms.models import Cohort, Employer, IntakeType, Role, User
from lms.permissions import visible_cohorts
from lms.services import characters
from lms.services import enrolment as enrolment_service

NAME_LIMITS = {"first_name": 80, "last_name": 80, "name_prefix": 20, "email": 254}
FIELDS = {"cohort_id", "employer_id", "intake_type", "enrolled_on", "participant_id", "participant"}
PERSON_FIELDS = set(NAME_LIMITS)


class _Errors:
    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, field: str, message: str) -> None:
        self.items.append({"field": field, "message": message})


def _body(request: Request) -> dict[str, Any]:
    return json_object(request)


def _id(body: dict[str, Any], field: str, errors: _Errors, message: str) -> int | None:
    value = body.get(field)
    if value is None:
        errors.add(field, message)
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_INT:
        errors.add(field, _("Give the id as a whole number."))
        return None
    return value


def _text(person: dict[str, Any], field: str, errors: _Errors, required: str | None) -> str:
    value = person.get(field, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(f"participant.{field}", _("Give this as text."))
        return ""
    value = value.strip()
    problem = characters.name_problem(value)
    if problem:
        errors.add(f"participant.{field}", problem)
        return ""
    if not value and required:
        errors.add(f"participant.{field}", required)
    elif len(value) > NAME_LIMITS[field]:
        errors.add(
            f"participant.{field}",
            _("This can be at most %(max)d characters.", max=NAME_LIMITS[field]),
        )
    return value


def create_enrolment_from_json(request: Request, *, actor: User) -> enrolment_service.Enrolled:
    """Check the body field by field (422 with every problem at once), then enrol through the service,
    which raises ``EnrolmentError`` for what the rules refuse."""
    body = _body(request)
    errors = _Errors()
    for unknown in sorted(set(body) - FIELDS):
        errors.add(unknown, _("Unknown field."))

    cohort_id = _id(body, "cohort_id", errors, _("Choose the cohort."))
    employer_id = _id(body, "employer_id", errors, _("Choose the employer."))

    intake_type: IntakeType | None = None
    raw_intake = body.get("intake_type")
    try:
        intake_type = IntakeType(raw_intake) if isinstance(raw_intake, str) else None
    except ValueError:
        intake_type = None
    if intake_type is None:
        errors.add(
            "intake_type",
            _(
                "Choose how the participant comes in: %(choices)s.",
                choices=", ".join(choice.value for choice in IntakeType),
            ),
        )

    enrolled_on = clock.today()
    raw_date = body.get("enrolled_on")
    if raw_date is not None:
        try:
            if not isinstance(raw_date, str):
                raise ValueError
            enrolled_on = date.fromisoformat(raw_date)
        except ValueError:
            errors.add("enrolled_on", _("Give the date as YYYY-MM-DD."))

    participant: User | None = None
    new_person: enrolment_service.NewPerson | None = None
    has_id, has_person = body.get("participant_id") is not None, body.get("participant") is not None
    if has_id == has_person:
        errors.add(
            "participant_id",
            _(
                "Give either participant_id (an existing participant) or participant (a new person)."
            ),
        )
    elif has_id:
        participant_id = _id(body, "participant_id", errors, _("Choose a participant."))
        if participant_id is not None:
            participant = db.session.get(User, participant_id)
            if participant is None or participant.role is not Role.PARTICIPANT:
                errors.add("participant_id", _("There is no participant with this id."))
                participant = None
            elif not participant.is_active:
                errors.add("participant_id", _("This participant's account is deactivated."))
                participant = None
    else:
        person = body["participant"]
        if not isinstance(person, dict):
            errors.add("participant", _("Give the new person as an object."))
        else:
            for unknown in sorted(set(person) - PERSON_FIELDS):
                errors.add(f"participant.{unknown}", _("Unknown field."))
            first = _text(person, "first_name", errors, _("Fill in the first name."))
            prefix = _text(person, "name_prefix", errors, None)
            last = _text(person, "last_name", errors, _("Fill in the last name."))
            email = _text(person, "email", errors, _("Fill in the e-mail address."))
            if email and len(email) <= NAME_LIMITS["email"]:
                try:
                    validate_email(email, check_deliverability=False)
                except EmailNotValidError:
                    errors.add("participant.email", _("This is not a valid e-mail address."))
                    email = ""
            if first and last and email:
                new_person = enrolment_service.NewPerson(
                    email=email, first_name=first, last_name=last, name_prefix=prefix
                )

    cohort = None
    if cohort_id is not None:
        cohort = db.session.scalar(visible_cohorts(actor).where(Cohort.id == cohort_id))
        if cohort is None:
            errors.add("cohort_id", _("There is no cohort with this id."))
    employer = None
    if employer_id is not None:
        employer = db.session.get(Employer, employer_id)
        if employer is None:
            errors.add("employer_id", _("There is no employer with this id."))

    if errors.items or cohort is None or employer is None or intake_type is None:
        raise ApiProblem(
            422,
            _("The enrolment cannot be made: check the fields listed under errors."),
            kind="validation",
            errors=errors.items,
        )
    return enrolment_service.enrol(
        cohort=cohort,
        employer=employer,
        intake_type=intake_type,
        actor=actor,
        enrolled_on=enrolled_on,
        participant=participant,
        new_person=new_person,
    )
