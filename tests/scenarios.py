"""One world with every kind of visitor, for the authorization matrix, the form fuzzing and privacy.

Cohort A (trainer ``trainer``) holds ``participant`` (employed by ``employer``, contact ``contact``)
and ``other_participant`` (employed by ``other_employer``, contact ``other_contact``). Cohort B has
its own trainer (``other_trainer``) and nobody from A. ``participant`` has handed-in work with a photo,
approved work, a sign-off, a workplace confirmation and observation, a notification, a certificate, a
progress review, a week of hours, an API key, a calendar feed link, attendance on a training day
(``training_day``) and a login on a phone; ``contact`` has an unused action link; the outbox holds a
failed mail.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from lms import clock
from lms.extensions import db
from lms.models import (
    AbsenceReason,
    ActionLink,
    ApiToken,
    ApiTokenScope,
    Assignment,
    AttendanceStatus,
    CalendarClosure,
    CalendarFeed,
    Certificate,
    ClosureKind,
    Cohort,
    Employer,
    Enrolment,
    EvidenceFile,
    LinkAction,
    LoginSession,
    Notification,
    OutboxMessage,
    OutboxStatus,
    Programme,
    ProgressReview,
    Role,
    SignOff,
    Submission,
    TrainingDayMove,
    User,
    WorkplaceConfirmation,
    WorkplaceHours,
    WorkplaceObservation,
)
from lms.services import login_sessions
from lms.storage import get_storage
from tests.factories import (
    make_approved_submission,
    make_cohort,
    make_employer,
    make_enrolment,
    make_evidence,
    make_handed_in_submission,
    make_programme,
    make_user,
)

START = date(2026, 9, 7)


@dataclass
class World:
    programme: Programme
    cohort: Cohort
    other_cohort: Cohort
    employer: Employer
    other_employer: Employer
    coordinator: User
    trainer: User
    other_trainer: User
    contact: User
    other_contact: User
    participant: User
    other_participant: User
    enrolment: Enrolment
    other_enrolment: Enrolment
    handed_in: Submission
    approved: Submission
    evidence: EvidenceFile
    signoff: SignOff
    assignment: Assignment
    notification: Notification
    certificate: Certificate
    review: ProgressReview
    hours: WorkplaceHours
    api_token: ApiToken
    login_session: LoginSession
    failed_mail: OutboxMessage
    link_secret: str
    closure: CalendarClosure  # the cohort's own exception (a shutdown week)
    calendar_secret: str  # the secret of the participant's calendar feed link
    training_day: date  # a training day of the cohort (its second Monday), attendance recorded
    move: TrainingDayMove  # the cohort's fifth Monday, held on the Tuesday

    def visitors(self) -> dict[str, User | None]:
        return {
            "anonymous": None,
            "participant": self.participant,
            "other_participant": self.other_participant,
            "trainer": self.trainer,
            "other_trainer": self.other_trainer,
            "employer": self.contact,
            "other_employer": self.other_contact,
            "coordinator": self.coordinator,
        }


def build_world() -> World:
    """Build and commit the world (times are real; nothing here is in the future)."""
    from lms.services.attendance import Mark, record_attendance
    from lms.services.signoff import sign_off

    at = clock.now() - timedelta(days=2)
    programme = make_programme(code="WORLD", assignments=3)
    coordinator = make_user(Role.COORDINATOR, first_name="Cor", last_name="Coördinator")
    trainer = make_user(Role.TRAINER, first_name="Tineke", last_name="Trainer")
    other_trainer = make_user(Role.TRAINER, first_name="Olaf", last_name="Anderetrainer")
    employer = make_employer(name="Metaalwerken Heerlen B.V.")
    other_employer = make_employer(name="Kunststof Sittard B.V.")
    contact = make_user(Role.EMPLOYER, employer=employer, first_name="Els", last_name="Werkgever")
    other_contact = make_user(
        Role.EMPLOYER, employer=other_employer, first_name="Erik", last_name="Anderewerkgever"
    )
    participant = make_user(
        Role.PARTICIPANT, first_name="Priya", last_name="Deelnemer", phone="0612345678"
    )
    other_participant = make_user(Role.PARTICIPANT, first_name="Piet", last_name="Anderedeelnemer")
    cohort = make_cohort(programme, name="Parkstad 2026", start=START, trainers=[trainer])
    other_cohort = make_cohort(
        programme, name="Maastricht 2026", start=START, trainers=[other_trainer]
    )
    enrolment = make_enrolment(cohort, participant, employer)
    other_enrolment = make_enrolment(cohort, other_participant, other_employer)
    closure = CalendarClosure(
        cohort_id=cohort.id,
        kind=ClosureKind.COHORT,
        name="Bedrijfssluiting",
        first_day=START + timedelta(weeks=20),
        last_day=START + timedelta(weeks=20, days=4),
    )
    db.session.add(closure)
    move = TrainingDayMove(
        cohort_id=cohort.id,
        moved_from=START + timedelta(weeks=4),
        moved_to=START + timedelta(weeks=4, days=1),
        reason="Trainer op de vakbeurs",
    )
    db.session.add(move)
    assignments = programme.assignments
    assignments[0].requires_workplace_confirmation = True  # handed in, waiting for the employer
    handed_in = make_handed_in_submission(
        enrolment, assignments[0], at=at, what_i_did="Ik heb de draaibank van oom Jan ingesteld."
    )
    evidence = make_evidence(handed_in.attempts[0])
    approved = make_approved_submission(enrolment, assignments[1], at=at)
    item = programme.checklist_groups[0].items[0]
    signoff = sign_off(
        enrolment=enrolment, item=item, level=1, actor=trainer, at=at, note="Goed gedaan"
    )
    db.session.add(
        WorkplaceConfirmation(
            submission=approved,
            attempt_id=approved.attempts[0].id,
            confirmed_by=contact,
            remark="Gezien op de werkvloer bij Priya.",
            confirmed_at=at,
        )
    )
    db.session.add(
        WorkplaceObservation(
            enrolment=enrolment,
            checklist_item=item,
            author=contact,
            note="Priya droeg steeds haar veiligheidsbril.",
            created_at=at,
        )
    )
    notification = Notification(user=participant, kind="test", params={"x": 1})
    db.session.add(notification)
    # Work of the other participant too, so "the other one" has something to (not) see.
    make_handed_in_submission(other_enrolment, assignments[0], at=at)

    pdf = b"%PDF-1.4 certificaat van Priya"
    certificate = Certificate(
        enrolment=enrolment,
        number="VK-2027-PK-0001",
        verification_code=secrets.token_urlsafe(24),
        issued_at=at,
        issued_by=coordinator,
        pdf_storage_key=get_storage().save(pdf, ".pdf"),
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
    )
    review = ProgressReview(
        enrolment=enrolment,
        trainer=trainer,
        held_on=(at - timedelta(days=1)).date(),
        summary="Priya werkt netjes en vraagt op tijd om hulp.",
    )
    monday = clock.today() - timedelta(days=clock.today().weekday() + 7)
    hours = WorkplaceHours(enrolment=enrolment, week_start=monday, hours_worked=32, note="Week")
    api_token, _secret = ApiToken.issue(
        user=participant,
        name="Mijn telefoon",
        scope=ApiTokenScope.READ,
        expires_at=clock.now() + timedelta(days=30),
    )
    failed_mail = OutboxMessage(
        recipient=participant.email,
        subject="Herinnering",
        body_text="Niet bezorgd.",
        status=OutboxStatus.FAILED,
        attempts=8,
        last_error="550 mailbox unavailable",
    )
    db.session.add_all([certificate, review, hours, api_token, failed_mail])
    db.session.flush()
    link, link_secret = ActionLink.issue(
        contact, LinkAction.CONFIRM_WORKPLACE, handed_in.id, timedelta(days=7)
    )
    db.session.add(link)
    calendar_feed, calendar_secret = CalendarFeed.issue(participant)
    db.session.add(calendar_feed)
    # The cohort trains on Mondays (its start date's weekday); its second one is recorded.
    training_day = START + timedelta(weeks=1)
    record_attendance(
        cohort,
        training_day,
        {
            enrolment.id: Mark(AttendanceStatus.PRESENT),
            other_enrolment.id: Mark(AttendanceStatus.ABSENT, AbsenceReason.SICK, note="Griep"),
        },
        actor=trainer,
        at=at,
        today=clock.today(),
    )
    phone = login_sessions.start(
        participant,
        remember=True,
        ip_address="192.0.2.10",
        user_agent="Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/130.0 Mobile Safari/537.36",
        at=clock.now(),
    )
    db.session.commit()
    return World(
        programme=programme,
        cohort=cohort,
        other_cohort=other_cohort,
        employer=employer,
        other_employer=other_employer,
        coordinator=coordinator,
        trainer=trainer,
        other_trainer=other_trainer,
        contact=contact,
        other_contact=other_contact,
        participant=participant,
        other_participant=other_participant,
        enrolment=enrolment,
        other_enrolment=other_enrolment,
        handed_in=handed_in,
        approved=approved,
        evidence=evidence,
        signoff=signoff,
        assignment=assignments[0],
        notification=notification,
        certificate=certificate,
        review=review,
        hours=hours,
        api_token=api_token,
        login_session=phone,
        failed_mail=failed_mail,
        link_secret=link_secret,
        closure=closure,
        calendar_secret=calendar_secret,
        training_day=training_day,
        move=move,
    )
