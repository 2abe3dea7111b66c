"""Demo data, part two: last school year's finished cohort in Maastricht-Heuvelland, with certificates.

Six participants did everything; each got a certificate a week after the end of the year. One of them
was reissued because the name was misspelt (the old number now shows as replaced), and one was revoked,
so the public verification page can be tried at once in all three states. ``load_demo_data`` calls
``create_finished_cohort`` before this year's progress, so the sign-off ledger stays in time order.
Flushes, never commits.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from lms import clock
from lms.extensions import db
from lms.models import (
    Assignment,
    Certificate,
    ChecklistItem,
    Cohort,
    Employer,
    Enrolment,
    EnrolmentStatus,
    IntakeType,
    Programme,
    Region,
    Role,
    Submission,
    User,
    Verdict,
)
from lms.services import certificates as certificate_service
from lms.services import progress
from lms.services.cohorts import calendar_dates
from lms.services.signoff import sign_off

FIRST_PARTICIPANT_NUMBER = 25


@dataclass(frozen=True)
class _Company:
    name: str
    kvk_number: str
    street: str
    postcode: str
    city: str
    contact: tuple[str, str, str]  # first name, last name, prefix


# Fictional companies in the region; the KvK numbers only look like real ones.
COMPANIES = (
    _Company(
        "Maasvallei Constructie B.V.",
        "14236518",
        "Beatrixhaven 31",
        "6222 NH",
        "Maastricht",
        ("Paul", "Vliegen", ""),
    ),
    _Company(
        "Heuvelland Fijnmechanica B.V.",
        "14251907",
        "Industrieweg 12",
        "6271 BE",
        "Gulpen",
        ("Wendy", "Notermans", ""),
    ),
)
# (first name, last name, prefix); the fourth participant's name was first typed wrongly.
GRADUATES = (
    ("Anaïs", "Kerckhoffs", ""),
    ("Çağla", "Yıldız", ""),
    ("Benoît", "Vliegen", ""),
    ("Sanne", "Ubachs", ""),
    ("Thijs", "Ramakers", ""),
    ("Gökhan", "Erdoğan", ""),
)
MISSPELT = "Ubags"
REISSUED = 3  # index in GRADUATES
REVOKED = 5
REVOCATION_REASON = (
    "Bij controle bleek het bewijs van opdracht A16 niet door de deelnemer zelf gemaakt. "
    "Het certificaat is daarom niet geldig."
)
REISSUE_REASON = "De achternaam stond verkeerd op het certificaat (Ubags in plaats van Ubachs)."


def create_finished_cohort(
    programme: Programme, *, year: int, coordinator: User, trainer: User
) -> Cohort:
    """Last school year's cohort (``year`` is this school year's start), its work, sign-offs and
    certificates, made with the same helpers as the rest of the demo."""
    from lms.demo import DEMO_PASSWORD as password
    from lms.demo import email, first_monday_of_september, local_moment
    from lms.services import accounts

    start = first_monday_of_september(year - 1)
    employers = []
    with clock.frozen_at(local_moment(start - timedelta(weeks=2), 11)):
        for number, company in enumerate(COMPANIES, start=7):
            employer = Employer(
                name=company.name,
                kvk_number=company.kvk_number,
                street=company.street,
                postcode=company.postcode,
                city=company.city,
                region=Region.MAASTRICHT_HEUVELLAND,
            )
            db.session.add(employer)
            db.session.flush()
            first, last, prefix = company.contact
            accounts.create_user(
                email=email(f"werkgever{number}"),
                first_name=first,
                last_name=last,
                name_prefix=prefix,
                role=Role.EMPLOYER,
                password=password,
                actor=coordinator,
                employer=employer,
            )
            employers.append(employer)
        cohort = Cohort(
            name=f"Maastricht-Heuvelland {year - 1}-{year}",
            region=Region.MAASTRICHT_HEUVELLAND,
            programme=programme,
            start_date=start,
            **asdict(calendar_dates(programme, start)),
            trainers=[trainer],
        )
        db.session.add(cohort)
        enrolments = []
        for position, (first, last, prefix) in enumerate(GRADUATES):
            participant = accounts.create_user(
                email=email(f"deelnemer{FIRST_PARTICIPANT_NUMBER + position:02d}"),
                first_name=first,
                last_name=MISSPELT if position == REISSUED else last,
                name_prefix=prefix,
                role=Role.PARTICIPANT,
                password=password,
                actor=coordinator,
            )
            enrolment = Enrolment(
                cohort=cohort,
                participant=participant,
                employer=employers[position % len(employers)],
                intake_type=IntakeType.EMPLOYED if position % 3 == 0 else IntakeType.SIDE_ENTRANT,
                enrolled_on=clock.today(),
            )
            db.session.add(enrolment)
            enrolments.append(enrolment)
        db.session.flush()

    rng = random.Random(f"finished-{year}")  # nosec B311 - demo data, not security
    for enrolment in enrolments:
        _complete_the_year(enrolment, programme, trainer, rng)
    _issue_certificates(cohort, enrolments, coordinator)
    return cohort


def _complete_the_year(
    enrolment: Enrolment, programme: Programme, trainer: User, rng: random.Random
) -> None:
    """Every assignment handed in a few days before its due date and approved by the trainer; every
    checklist item signed off at its required level with the approved work as evidence."""
    from lms.demo import _assess, _hand_in, _new_submission, local_moment

    cohort = enrolment.cohort
    assignments = sorted(programme.assignments, key=lambda a: (a.due_week, a.position))
    linked: dict[int, Assignment] = {}  # item id -> the last assignment that shows it
    for assignment in assignments:
        for item in assignment.competencies:
            linked[item.id] = assignment
    approved: dict[int, tuple[Submission, datetime]] = {}
    for assignment in assignments:
        due = cohort.due_date(assignment.due_week)
        handed_in = due - timedelta(days=rng.randint(1, 4))
        hand_in_at = local_moment(handed_in, rng.randint(16, 20), rng.choice((0, 15, 30, 45)))
        with clock.frozen_at(hand_in_at):
            submission, attempt = _new_submission(
                enrolment, assignment, rng, handed_in - timedelta(days=rng.randint(2, 6))
            )
            _hand_in(submission, hand_in_at)
        assessed = local_moment(due + timedelta(days=3), rng.randint(9, 15), rng.choice((0, 30)))
        with clock.frozen_at(assessed):
            _assess(submission, attempt, trainer, Verdict.APPROVED, rng, assessed)
        approved[assignment.id] = (submission, assessed)
    db.session.flush()
    last = assignments[-1]
    items = db.session.scalars(
        sa.select(ChecklistItem)
        .where(ChecklistItem.programme_id == programme.id)
        .order_by(ChecklistItem.group_id, ChecklistItem.position)
    ).all()
    plans = []
    for item in items:
        assignment = linked.get(item.id, last)
        submission, assessed = approved[assignment.id]
        plans.append((assessed + timedelta(hours=1), item, submission))
    with progress.refreshed_once():
        _sign_in_order(enrolment, trainer, plans)


def _sign_in_order(
    enrolment: Enrolment,
    trainer: User,
    plans: list[tuple[datetime, ChecklistItem, Submission]],
) -> None:
    for at, item, submission in sorted(plans, key=lambda p: (p[0], p[1].id)):
        with clock.frozen_at(at):
            sign_off(
                enrolment=enrolment,
                item=item,
                level=item.required_level,
                actor=trainer,
                at=at,
                note="Afgetekend na de goedgekeurde opdracht.",
                evidence=[submission],
            )


def _issue_certificates(cohort: Cohort, enrolments: list[Enrolment], coordinator: User) -> None:
    from lms.demo import local_moment

    issued_on: date = cohort.end_date + timedelta(days=7)
    issued_at = local_moment(issued_on, 10)
    with clock.frozen_at(issued_at):
        certificates = [
            certificate_service.issue_certificate(enrolment, actor=coordinator, now=issued_at)
            for enrolment in enrolments
        ]
        for enrolment in enrolments:
            enrolment.status = EnrolmentStatus.COMPLETED
            enrolment.ended_on = issued_on
            enrolment.end_reason = "Opleiding afgerond; certificaat uitgegeven."
        cohort.closed_at = issued_at
        db.session.flush()

    reissued_at = local_moment(issued_on + timedelta(days=14), 9, 30)
    with clock.frozen_at(reissued_at):
        participant = enrolments[REISSUED].participant
        participant.last_name = GRADUATES[REISSUED][1]
        certificate_service.reissue_certificate(
            certificates[REISSUED], actor=coordinator, reason=REISSUE_REASON, now=reissued_at
        )

    revoked_at = local_moment(issued_on + timedelta(days=21), 14)
    with clock.frozen_at(revoked_at):
        certificate_service.revoke_certificate(
            certificates[REVOKED], actor=coordinator, reason=REVOCATION_REASON, now=revoked_at
        )


def verification_examples() -> list[tuple[str, str, str]]:
    """(state, name, verification address) of the demo certificates, one of each state, for the
    command line and the README: valid, replaced, revoked."""
    rows = db.session.scalars(
        sa.select(Certificate)
        .join(Certificate.enrolment)
        .join(Enrolment.cohort)
        .where(Cohort.region == Region.MAASTRICHT_HEUVELLAND)
        .order_by(Certificate.id)
    ).all()
    examples: dict[str, tuple[str, str, str]] = {}
    for certificate in rows:
        state = certificate_service.verification_state(certificate).value
        examples.setdefault(
            state,
            (
                state,
                certificate.enrolment.participant.full_name,
                certificate_service.verification_url(certificate.verification_code),
            ),
        )
    order = ["valid", "replaced", "revoked"]
    return [examples[state] for state in order if state in examples]
