"""One world with every kind of visitor, for the authorization matrix, the form fuzzing and privacy.

Cohort A (trainer ``trainer``) holds ``participant`` (employed by ``employer``, contact ``contact``)
and ``other_participant`` (employed by ``other_employer``, contact ``other_contact``). Cohort B has
its own trainer (``other_trainer``) and nobody from A. ``participant`` has handed-in work with a photo,
approved work, a sign-off, a workplace confirmation and observation, and a notification.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from lms import clock
from lms.extensions import db
from lms.models import (
    Assignment,
    Cohort,
    Employer,
    Enrolment,
    EvidenceFile,
    Notification,
    Programme,
    Role,
    SignOff,
    Submission,
    User,
    WorkplaceConfirmation,
    WorkplaceObservation,
)
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
    assignments = programme.assignments
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
            submission=handed_in,
            attempt_id=handed_in.attempts[0].id,
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
    db.session.add(Notification(user=participant, kind="test", params={"x": 1}))
    # Work of the other participant too, so "the other one" has something to (not) see.
    make_handed_in_submission(other_enrolment, assignments[0], at=at)
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
    )
