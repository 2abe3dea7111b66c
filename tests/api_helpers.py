"""Builders for the API tests: a small world with every role, and API keys for its people."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from lms import clock
from lms.extensions import db
from lms.models import (
    AbsenceReason,
    ApiToken,
    ApiTokenScope,
    AttendanceStatus,
    Certificate,
    Cohort,
    Employer,
    Enrolment,
    Region,
    Role,
    SignOff,
    Submission,
    User,
)
from lms.services import signoff
from lms.services.attendance import Mark, record_attendance
from tests.factories import (
    make_approved_submission,
    make_cohort,
    make_employer,
    make_enrolment,
    make_handed_in_submission,
    make_programme,
    make_user,
)

WORK_AT = datetime(2026, 10, 1, 10, tzinfo=clock.LOCAL_TZ)


def make_key(
    user: User,
    scope: ApiTokenScope = ApiTokenScope.READ,
    *,
    valid_for: timedelta = timedelta(days=30),
) -> tuple[ApiToken, dict[str, str]]:
    """A committed API key of ``user`` and the headers that send it."""
    token, secret = ApiToken.issue(
        user=user, name=f"Key of {user.email}", scope=scope, expires_at=clock.now() + valid_for
    )
    db.session.add(token)
    db.session.commit()
    return token, {"Authorization": f"Bearer {secret}"}


def enrol_body(world: World, **fields: object) -> dict[str, object]:
    """The body of POST /api/v1/enrolments into cohort_a with employer_one, and ``fields``."""
    body: dict[str, object] = {
        "cohort_id": world.cohort_a.id,
        "employer_id": world.employer_one.id,
        "intake_type": "employed",
    }
    body.update(fields)
    return body


def make_certificate(
    enrolment: Enrolment, issuer: User, number: str, *, revoked: bool = False
) -> Certificate:
    certificate = Certificate(
        enrolment=enrolment,
        number=number,
        verification_code=hashlib.sha256(number.encode()).hexdigest()[:32],
        issued_at=WORK_AT + timedelta(days=200),
        issued_by=issuer,
        pdf_storage_key=f"certificates/{number}.pdf",
        pdf_sha256="0" * 64,
    )
    if revoked:
        certificate.revoked_at = WORK_AT + timedelta(days=201)
        certificate.revoked_by = issuer
        certificate.revocation_reason = "Naam verkeerd gespeld."
    db.session.add(certificate)
    db.session.flush()
    return certificate


def record_day(cohort: Cohort, day: date, marks: dict[Enrolment, Mark], *, actor: User) -> None:
    """Record the attendance of ``cohort`` on ``day`` (on that day), as its trainer does."""
    record_attendance(
        cohort,
        day,
        {enrolment.id: mark for enrolment, mark in marks.items()},
        actor=actor,
        at=WORK_AT,
        today=day,
    )


@dataclass
class World:
    coordinator: User
    trainer_a: User
    trainer_b: User
    employer_one: Employer
    employer_two: Employer
    contact_one: User  # an employer contact of employer_one
    cohort_a: Cohort  # Parkstad, trainer_a
    cohort_b: Cohort  # Westelijke Mijnstreek, trainer_b
    a1: Enrolment  # cohort_a, employer_one: approved work, sign-offs (one revoked)
    a2: Enrolment  # cohort_a, employer_two: a revoked certificate
    b1: Enrolment  # cohort_b, employer_one: a valid certificate
    approved: Submission
    handed_in: Submission
    kept: SignOff
    revoked: SignOff
    revocation: SignOff
    certificate: Certificate
    revoked_certificate: Certificate
    training_day: date  # cohort_a's second Monday: a1 present, a2 absent (sick, with a note)


def build_world() -> World:
    coordinator = make_user(Role.COORDINATOR, first_name="Carla", last_name="Coördinator")
    trainer_a = make_user(Role.TRAINER, first_name="Ton", last_name="Trainer")
    trainer_b = make_user(Role.TRAINER, first_name="Bea", last_name="Begeleider")
    employer_one = make_employer(name="Metaal Heerlen B.V.")
    employer_two = make_employer(name="Kunststof Kerkrade B.V.")
    contact_one = make_user(Role.EMPLOYER, employer=employer_one)
    programme = make_programme(code="API")
    cohort_a = make_cohort(programme, name="Parkstad API", trainers=[trainer_a])
    cohort_b = make_cohort(
        programme,
        name="Westelijke Mijnstreek API",
        region=Region.WESTELIJKE_MIJNSTREEK,
        trainers=[trainer_b],
    )
    a1 = make_enrolment(cohort_a, employer=employer_one)
    a2 = make_enrolment(cohort_a, employer=employer_two)
    b1 = make_enrolment(cohort_b, employer=employer_one)
    first, second, _third = programme.assignments
    approved = make_approved_submission(a1, first, at=WORK_AT)
    handed_in = make_handed_in_submission(a1, second, at=WORK_AT)
    items = [item for group in programme.checklist_groups for item in group.items]
    kept = signoff.sign_off(enrolment=a1, item=items[0], level=2, actor=trainer_a, at=WORK_AT)
    revoked = signoff.sign_off(
        enrolment=a1, item=items[1], level=2, actor=trainer_a, at=WORK_AT + timedelta(hours=1)
    )
    revocation = signoff.revoke(
        record=revoked, actor=trainer_a, at=WORK_AT + timedelta(hours=2), reason="Te vroeg."
    )
    certificate = make_certificate(b1, coordinator, "VK-2027-WM-0001")
    revoked_certificate = make_certificate(a2, coordinator, "VK-2027-PK-0001", revoked=True)
    training_day = cohort_a.start_date + timedelta(weeks=1)
    record_day(
        cohort_a,
        training_day,
        {
            a1: Mark(AttendanceStatus.PRESENT),
            a2: Mark(AttendanceStatus.ABSENT, AbsenceReason.SICK, note="Griep"),
        },
        actor=trainer_a,
    )
    db.session.commit()
    return World(
        coordinator=coordinator,
        trainer_a=trainer_a,
        trainer_b=trainer_b,
        employer_one=employer_one,
        employer_two=employer_two,
        contact_one=contact_one,
        cohort_a=cohort_a,
        cohort_b=cohort_b,
        a1=a1,
        a2=a2,
        b1=b1,
        approved=approved,
        handed_in=handed_in,
        kept=kept,
        revoked=revoked,
        revocation=revocation,
        certificate=certificate,
        revoked_certificate=revoked_certificate,
        training_day=training_day,
    )
