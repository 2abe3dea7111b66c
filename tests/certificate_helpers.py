"""Builders for certificate tests: a participant who has done everything the programme asks."""

from __future__ import annotations

import itertools
from datetime import date, datetime

from lms import clock
from lms.extensions import db
from lms.models import Cohort, Enrolment, Region, Role, User
from lms.services.signoff import sign_off
from tests.factories import (
    make_approved_submission,
    make_cohort,
    make_enrolment,
    make_programme,
    make_user,
)

START = date(2026, 9, 7)
FINISHED = date(2027, 7, 2)  # after the end of a 40-week programme started on START
AT = datetime(2027, 6, 1, 12, tzinfo=clock.LOCAL_TZ)
_programme_codes = itertools.count(1)


def make_finished_cohort(
    *, region: Region = Region.PARKSTAD, trainer: User | None = None, **fields: object
) -> Cohort:
    trainer = trainer or make_user(Role.TRAINER, first_name="Tinus", last_name="Trainer")
    programme = make_programme(code=f"CERT{next(_programme_codes)}")
    return make_cohort(programme, region=region, start=START, trainers=[trainer], **fields)


def complete(enrolment: Enrolment, *, at: datetime = AT) -> Enrolment:
    """Approve every assignment and sign off every checklist item at its required level."""
    trainer = enrolment.cohort.trainers[0]
    programme = enrolment.cohort.programme
    for assignment in programme.assignments:
        make_approved_submission(enrolment, assignment, at=at)
    for group in programme.checklist_groups:
        for item in group.items:
            sign_off(
                enrolment=enrolment, item=item, level=item.required_level, actor=trainer, at=at
            )
    db.session.flush()
    return enrolment


def make_eligible_enrolment(
    cohort: Cohort | None = None, participant: User | None = None, **fields: object
) -> Enrolment:
    cohort = cohort or make_finished_cohort()
    return complete(make_enrolment(cohort, participant, **fields))
