"""A small hand-built programme year for the dashboard, review, hours and link tests.

Ingrid trains "Parkstad 2026-2027" (start Monday 7 September 2026; three assignments due on the Fridays
of weeks 3, 6 and 9: 25 September, 16 October, 6 November). Noël works at Kerkrade Precisie (contact
Petra), Bram at Sittard Assemblage (contact Karel). Ruud trains another cohort with Sanne in it, who
works at Kerkrade Precisie too. On ``TODAY`` (Friday 30 October, week 8) two assignments are due.

``record_review`` and ``log_hours`` add to it through the services, as the pages do (so the contact is
mailed a link); ``mailed_links`` reads those links back from the outbox.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from lms import clock
from lms.extensions import db
from lms.models import (
    Assignment,
    Cohort,
    Employer,
    Enrolment,
    OutboxMessage,
    Programme,
    ProgressReview,
    Region,
    Role,
    User,
    WorkplaceHours,
)
from lms.services import hours, reviews
from tests.factories import make_cohort, make_employer, make_enrolment, make_programme, make_user

TODAY = datetime(2026, 10, 30, 12, tzinfo=clock.LOCAL_TZ)
REVIEW_DAY = date(2026, 10, 28)  # the Wednesday before TODAY
LINK = re.compile(r"http://127\.0\.0\.1:5000(/l/[A-Za-z0-9_-]+)")


@dataclass
class World:
    programme: Programme
    assignments: list[Assignment]
    cohort: Cohort
    other_cohort: Cohort
    trainer: User
    other_trainer: User
    coordinator: User
    company: Employer
    other_company: Employer
    contact: User
    other_contact: User
    noel: User
    bram: User
    sanne: User
    noel_in: Enrolment
    bram_in: Enrolment
    sanne_in: Enrolment


def build_world() -> World:
    programme = make_programme(assignments=3)
    trainer = make_user(Role.TRAINER, first_name="Ingrid", last_name="Vaessen")
    other_trainer = make_user(Role.TRAINER, first_name="Ruud", last_name="Hendriks")
    cohort = make_cohort(
        programme, name="Parkstad 2026-2027", trainers=[trainer], start=date(2026, 9, 7)
    )
    other_cohort = make_cohort(
        programme,
        name="Westelijke Mijnstreek 2026-2027",
        region=Region.WESTELIJKE_MIJNSTREEK,
        trainers=[other_trainer],
        start=date(2026, 9, 7),
    )
    company = make_employer(name="Kerkrade Precisie B.V.")
    other_company = make_employer(
        name="Sittard Assemblage B.V.", region=Region.WESTELIJKE_MIJNSTREEK
    )
    contact = make_user(Role.EMPLOYER, employer=company, first_name="Petra", last_name="Janssen")
    other_contact = make_user(
        Role.EMPLOYER, employer=other_company, first_name="Karel", last_name="Dassen"
    )
    noel = make_user(Role.PARTICIPANT, first_name="Noël", last_name="Çelik")
    bram = make_user(
        Role.PARTICIPANT, first_name="Bram", name_prefix="van der", last_name="Heijden"
    )
    sanne = make_user(Role.PARTICIPANT, first_name="Sanne", last_name="Kurvers")
    world = World(
        programme=programme,
        assignments=list(programme.assignments),
        cohort=cohort,
        other_cohort=other_cohort,
        trainer=trainer,
        other_trainer=other_trainer,
        coordinator=make_user(Role.COORDINATOR),
        company=company,
        other_company=other_company,
        contact=contact,
        other_contact=other_contact,
        noel=noel,
        bram=bram,
        sanne=sanne,
        noel_in=make_enrolment(cohort, noel, company),
        bram_in=make_enrolment(cohort, bram, other_company),
        sanne_in=make_enrolment(other_cohort, sanne, company),
    )
    db.session.commit()
    return world


def mailed_links(recipient: User) -> list[str]:
    """The paths of the action links mailed to ``recipient`` (newest last)."""
    messages = db.session.scalars(
        db.select(OutboxMessage)
        .where(OutboxMessage.recipient == recipient.email)
        .order_by(OutboxMessage.id)
    ).all()
    return [match for message in messages for match in LINK.findall(message.body_text)]


def record_review(
    enrolment: Enrolment, trainer: User, summary: str, agreements: str = ""
) -> ProgressReview:
    """A progress review held on ``REVIEW_DAY``, recorded on ``TODAY``."""
    return reviews.record_review(
        enrolment,
        actor=trainer,
        held_on=REVIEW_DAY,
        summary=summary,
        agreements=agreements,
        today=TODAY.date(),
    )


def log_hours(
    enrolment: Enrolment,
    participant: User,
    week_start: date,
    worked: float,
    learning: float = 4,
    *,
    today: date | None = None,
) -> WorkplaceHours:
    """A week of hours (no note) logged by the participant on ``today`` (``TODAY`` unless given)."""
    return hours.log_hours(
        enrolment,
        actor=participant,
        week_start=week_start,
        hours_worked=worked,
        hours_learning=learning,
        note="",
        today=today or TODAY.date(),
    )
