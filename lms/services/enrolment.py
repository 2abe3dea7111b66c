"""Enrolment: who is in which cohort, with which employer. The capacity rule lives here.

Functions flush, never commit. ``enrol_participant`` locks the cohort row first (SELECT ... FOR UPDATE on
PostgreSQL; SQLite serialises writers anyway), so two coordinators taking the last seat at the same moment
cannot both succeed: the second one waits for the first to commit, then counts twelve.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import format_date
from flask_babel import gettext as _

from lms.extensions import db
from lms.models import (
    Cohort,
    Employer,
    Enrolment,
    EnrolmentStatus,
    IntakeType,
    Role,
    Submission,
    User,
)
from lms.services import accounts, audit


class EnrolmentError(ValueError):
    """An enrolment change that the rules refuse; the message says why, in the user's language."""


class CohortFull(EnrolmentError):
    pass


class AlreadyEnrolled(EnrolmentError):
    pass


@dataclass(frozen=True)
class NewPerson:
    """A participant who has no account yet."""

    email: str
    first_name: str
    last_name: str
    name_prefix: str = ""


def lock_cohort(cohort_id: int) -> Cohort:
    """The cohort, locked for the rest of the transaction against concurrent enrolments."""
    cohort = db.session.scalar(
        sa.select(Cohort)
        .where(Cohort.id == cohort_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if cohort is None:
        raise EnrolmentError(_("This cohort does not exist."))
    return cohort


def seats_taken(cohort: Cohort) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Enrolment)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.status == EnrolmentStatus.ACTIVE)
    )


def lock_participant(participant: User) -> None:
    """Lock the participant's row, so two enrolments of one person at the same moment (in two cohorts)
    queue up: the second one then sees the first and is refused with a clear message, instead of
    running into the database's one-active-enrolment index."""
    db.session.execute(sa.select(User.id).where(User.id == participant.id).with_for_update())


def active_enrolment_of(participant: User) -> Enrolment | None:
    return db.session.scalar(
        sa.select(Enrolment).where(
            Enrolment.participant_id == participant.id, Enrolment.status == EnrolmentStatus.ACTIVE
        )
    )


def reserve_seat(cohort: Cohort, enrolled_on: date) -> Cohort:
    """Lock the cohort and check that it takes an enrolment on ``enrolled_on``: open, not ended, and
    with a free seat. Returns the locked cohort; until the transaction ends nobody else can take a seat."""
    cohort = lock_cohort(cohort.id)
    if cohort.is_closed:
        raise EnrolmentError(_("Cohort %(name)s is closed.", name=cohort.name))
    if enrolled_on > cohort.end_date:
        raise EnrolmentError(
            _(
                "Cohort %(name)s ends on %(end)s; the enrolment date cannot be later.",
                name=cohort.name,
                end=format_date(cohort.end_date, "long"),
            )
        )
    if seats_taken(cohort) >= cohort.capacity:
        raise CohortFull(
            _(
                "Cohort %(name)s is full: all %(capacity)d seats are taken.",
                name=cohort.name,
                capacity=cohort.capacity,
            )
        )
    return cohort


def enrol_participant(
    *,
    cohort: Cohort,
    employer: Employer,
    intake_type: IntakeType,
    actor: User,
    enrolled_on: date,
    participant: User | None = None,
    new_person: NewPerson | None = None,
    transferred_from: Enrolment | None = None,
) -> Enrolment:
    """Enrol an existing participant or a new person (who gets an account and an invitation mail).

    Refuses a closed cohort, an enrolment date after the cohort's end, a full cohort, an account that
    is not a participant's and a participant who already has an active enrolment.
    """
    if (participant is None) == (new_person is None):
        raise ValueError("give exactly one of participant and new_person")
    cohort = reserve_seat(cohort, enrolled_on)
    invite = False
    if participant is None:
        participant = accounts.find_user_by_email(new_person.email)
        if participant is None:
            participant = accounts.create_user(
                email=new_person.email,
                first_name=new_person.first_name,
                name_prefix=new_person.name_prefix,
                last_name=new_person.last_name,
                role=Role.PARTICIPANT,
                actor=actor,
            )
            invite = True
    if participant.role is not Role.PARTICIPANT:
        raise EnrolmentError(
            _("%(email)s has an account that is not a participant's.", email=participant.email)
        )
    lock_participant(participant)
    current = active_enrolment_of(participant)
    if current is not None and current is not transferred_from:
        raise AlreadyEnrolled(
            _(
                "%(name)s is already enrolled in cohort %(cohort)s.",
                name=participant.full_name,
                cohort=current.cohort.name,
            )
        )
    enrolment = Enrolment(
        cohort=cohort,
        participant=participant,
        employer=employer,
        intake_type=intake_type,
        enrolled_on=enrolled_on,
        transferred_from=transferred_from,
    )
    db.session.add(enrolment)
    db.session.flush()
    audit.record(
        "enrolment.create",
        actor,
        enrolment,
        cohort=cohort.name,
        participant=participant.email,
        employer=employer.name,
    )
    if invite:
        accounts.send_invitation(participant, actor)
    return enrolment


def withdraw(enrolment: Enrolment, *, on: date, reason: str, actor: User) -> None:
    """End an active enrolment: the seat is free again; the enrolment and its work stay."""
    if not enrolment.is_active:
        raise EnrolmentError(_("Only an active enrolment can be withdrawn."))
    if not reason.strip():
        raise EnrolmentError(_("Give a reason for the withdrawal."))
    _check_end_date(enrolment, on)
    enrolment.status = EnrolmentStatus.WITHDRAWN
    enrolment.ended_on = on
    enrolment.end_reason = reason.strip()
    db.session.flush()
    audit.record("enrolment.withdraw", actor, enrolment, on=on.isoformat(), reason=reason.strip())


def transfer(
    enrolment: Enrolment,
    *,
    to_cohort: Cohort,
    on: date,
    reason: str,
    actor: User,
    employer: Employer | None = None,
) -> Enrolment:
    """Move a participant to another cohort. The old enrolment ends as "transferred" and the new one
    points back to it. The work in progress (submissions, with every attempt and assessment) moves to the
    new enrolment; sign-offs are an append-only ledger and stay where they were made, so checklists read
    them along the transfer chain (``Enrolment.transferred_from``)."""
    if not enrolment.is_active:
        raise EnrolmentError(_("Only an active enrolment can be transferred."))
    if not reason.strip():
        raise EnrolmentError(_("Give a reason for the transfer."))
    _check_end_date(enrolment, on)
    if to_cohort.id == enrolment.cohort_id:
        raise EnrolmentError(_("Choose another cohort than the current one."))
    if to_cohort.programme_id != enrolment.cohort.programme_id:
        raise EnrolmentError(
            _(
                "A transfer keeps the work done, so the other cohort must follow the same programme version."
            )
        )
    # Check the new cohort before anything changes, so a refusal leaves the enrolment as it was.
    reserve_seat(to_cohort, on)
    enrolment.status = EnrolmentStatus.TRANSFERRED
    enrolment.ended_on = on
    enrolment.end_reason = reason.strip()
    db.session.flush()  # the partial unique index sees the old enrolment as ended before the new one
    new = enrol_participant(
        cohort=to_cohort,
        employer=employer or enrolment.employer,
        intake_type=enrolment.intake_type,
        actor=actor,
        enrolled_on=on,
        participant=enrolment.participant,
        transferred_from=enrolment,
    )
    submissions = db.session.scalars(
        sa.select(Submission).where(Submission.enrolment_id == enrolment.id)
    ).all()
    for submission in submissions:
        submission.enrolment = new
    db.session.flush()
    audit.record(
        "enrolment.transfer",
        actor,
        enrolment,
        to_cohort=to_cohort.name,
        new_enrolment=new.id,
        submissions_moved=len(submissions),
    )
    return new


def _check_end_date(enrolment: Enrolment, on: date) -> None:
    if on < enrolment.enrolled_on:
        raise EnrolmentError(
            _(
                "The date cannot be before the enrolment date (%(date)s).",
                date=format_date(enrolment.enrolled_on, "long"),
            )
        )
