"""Enrolment: who is in which cohort, with which employer. The capacity rule lives here.

Functions flush, never commit. ``enrol`` locks the cohort row first (SELECT ... FOR UPDATE on
PostgreSQL; on SQLite it takes the database's write lock, see ``lock_cohort``), so two coordinators
taking the last seat at the same moment cannot both succeed: the second one waits for the first to
commit, then counts twelve.

Coming back: a participant enrolled again in the cohort they withdrew from gets their earlier enrolment
back (reactivated, with every submission, sign-off, hour and review it holds). A transfer always starts
a new enrolment that points back to the one it ends, also when the participant was in the target cohort
before: each enrolment then has one predecessor, so the transfer chain stays a simple list without
cycles and the work of every cohort on it keeps counting. Enrolling someone who is already in this very
cohort (a repeated form or API call) changes nothing and answers as a success.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from lms.dates import short_date
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
from lms.services import accounts, audit, progress


class EnrolmentError(ValueError):
    """An enrolment change that the rules refuse; the message says why, in the user's language."""


class CohortFull(EnrolmentError):
    pass


class AlreadyEnrolled(EnrolmentError):
    pass


class EnrolOutcome(enum.StrEnum):
    CREATED = "created"
    # The withdrawn enrolment in this cohort is active again, with its work.
    REACTIVATED = "reactivated"
    # Already enrolled here with the same employer and intake: a repeat, nothing to do.
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Enrolled:
    """What ``enrol`` did: the enrolment, and whether it is new, reactivated or was already there."""

    enrolment: Enrolment
    outcome: EnrolOutcome
    invited: bool = False  # a new account was made and an invitation mail queued


@dataclass(frozen=True)
class NewPerson:
    """A participant who has no account yet."""

    email: str
    first_name: str
    last_name: str
    name_prefix: str = ""


def lock_cohort(cohort_id: int) -> Cohort:
    """The cohort, locked for the rest of the transaction against concurrent enrolments."""
    _take_sqlite_write_lock()
    cohort = db.session.scalar(
        sa.select(Cohort)
        .where(Cohort.id == cohort_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if cohort is None:
        raise EnrolmentError(_("This cohort does not exist."))
    return cohort


def _take_sqlite_write_lock() -> None:
    """SQLite has no row locks and allows one writer at a time, but its driver starts a transaction
    only at the first write, so two enrolments could both read (seats, the e-mail address) before
    either writes. A write that changes nothing takes the writer's lock now (as the ledger does); the
    other enrolment waits for it up to the driver's busy timeout, then reads what this one wrote."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(sa.text("UPDATE cohorts SET id = id WHERE 1 = 0"))


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


# The database's integer: a larger id (typed into a form) cannot exist, and PostgreSQL refuses to compare.
MAX_ID = 2**31 - 1


def active_enrolment_in(cohort: Cohort, participant_id: int) -> Enrolment | None:
    """The participant's active enrolment, if it is in ``cohort``."""
    if not 0 < participant_id <= MAX_ID:
        return None
    return db.session.scalar(
        sa.select(Enrolment).where(
            Enrolment.cohort_id == cohort.id,
            Enrolment.participant_id == participant_id,
            Enrolment.status == EnrolmentStatus.ACTIVE,
        )
    )


def reserve_seat(cohort: Cohort, enrolled_on: date) -> Cohort:
    """Lock the cohort and check that it takes an enrolment on ``enrolled_on``: open, not ended, and
    with a free seat. Returns the locked cohort; until the transaction ends nobody else can take a seat."""
    cohort = lock_cohort(cohort.id)
    _check_takes_enrolment(cohort, enrolled_on)
    return cohort


def _check_takes_enrolment(cohort: Cohort, enrolled_on: date) -> None:
    """The cohort (locked) is open, has not ended on ``enrolled_on`` and has a free seat."""
    if cohort.is_closed:
        raise EnrolmentError(_("Cohort %(name)s is closed.", name=cohort.name))
    if enrolled_on > cohort.end_date:
        raise EnrolmentError(
            _(
                "Cohort %(name)s ends on %(end)s; the enrolment date cannot be later.",
                name=cohort.name,
                end=short_date(cohort.end_date),
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


def latest_enrolment_in(cohort: Cohort, participant: User) -> Enrolment | None:
    """The participant's most recent enrolment in ``cohort`` (there can be several: one that ended
    with a transfer out, and a later one after a transfer back)."""
    return db.session.scalar(
        sa.select(Enrolment)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.participant_id == participant.id)
        .order_by(Enrolment.id.desc())
        .limit(1)
    )


def enrol_participant(
    *,
    cohort: Cohort,
    employer: Employer,
    intake_type: IntakeType,
    actor: User,
    enrolled_on: date,
    participant: User | None = None,
    new_person: NewPerson | None = None,
) -> Enrolment:
    """``enrol``, for callers that only need the enrolment."""
    return enrol(
        cohort=cohort,
        employer=employer,
        intake_type=intake_type,
        actor=actor,
        enrolled_on=enrolled_on,
        participant=participant,
        new_person=new_person,
    ).enrolment


def enrol(
    *,
    cohort: Cohort,
    employer: Employer,
    intake_type: IntakeType,
    actor: User,
    enrolled_on: date,
    participant: User | None = None,
    new_person: NewPerson | None = None,
) -> Enrolled:
    """Enrol an existing participant or a new person (who gets an account and an invitation mail).

    Refuses a closed cohort, an enrolment date after the cohort's end, a full cohort, an account that
    is not a participant's, a participant who is active in another cohort (``AlreadyEnrolled``) and one
    who completed this cohort. Someone who withdrew from this cohort gets that enrolment back; someone
    already active here with the same employer and intake is left as they are (a repeat).
    """
    if (participant is None) == (new_person is None):
        raise ValueError("give exactly one of participant and new_person")
    cohort = lock_cohort(cohort.id)
    invited = False
    if participant is None:
        participant = accounts.find_user_by_email(new_person.email)
        if participant is None:
            # Check the cohort before making an account, so a refusal leaves no account behind.
            _check_takes_enrolment(cohort, enrolled_on)
            participant, invited = _create_participant(new_person, actor)
    if participant.role is not Role.PARTICIPANT:
        raise EnrolmentError(
            _("%(email)s has an account that is not a participant's.", email=participant.email)
        )
    lock_participant(participant)
    current = active_enrolment_of(participant)
    if current is not None:
        if current.cohort_id != cohort.id:
            raise AlreadyEnrolled(
                _(
                    "%(name)s is already enrolled in cohort %(cohort)s.",
                    name=participant.full_name,
                    cohort=current.cohort.name,
                )
            )
        if current.employer_id != employer.id or current.intake_type is not intake_type:
            raise AlreadyEnrolled(
                _(
                    "%(name)s is already enrolled in this cohort (employer: %(employer)s). "
                    "Nothing has been changed.",
                    name=participant.full_name,
                    employer=current.employer.name,
                )
            )
        return Enrolled(current, EnrolOutcome.UNCHANGED)

    earlier = None if invited else latest_enrolment_in(cohort, participant)
    if earlier is not None and earlier.status is EnrolmentStatus.COMPLETED:
        raise EnrolmentError(
            _(
                "%(name)s has already completed cohort %(cohort)s.",
                name=participant.full_name,
                cohort=cohort.name,
            )
        )
    if not invited:
        _check_takes_enrolment(cohort, enrolled_on)
    if earlier is not None and earlier.status is EnrolmentStatus.WITHDRAWN:
        _reactivate(
            earlier, employer=employer, intake_type=intake_type, on=enrolled_on, actor=actor
        )
        return Enrolled(earlier, EnrolOutcome.REACTIVATED)
    enrolment = _add_enrolment(
        cohort=cohort,
        participant=participant,
        employer=employer,
        intake_type=intake_type,
        enrolled_on=enrolled_on,
        actor=actor,
    )
    if invited:
        accounts.send_invitation(participant, actor)
    return Enrolled(enrolment, EnrolOutcome.CREATED, invited=invited)


def _create_participant(new_person: NewPerson, actor: User) -> tuple[User, bool]:
    """A participant account for ``new_person``, and whether it is new.

    Two enrolments of the same new address can run at the same moment (into two cohorts): both see no
    account, both insert one, and the unique e-mail index lets only the first through (PostgreSQL makes
    the second wait until the first commits). The insert runs in a savepoint, so the loser rolls back
    only its insert, reads the account the other made, and goes on with it like any known address.
    """
    try:
        with db.session.begin_nested():
            user = accounts.create_user(
                email=new_person.email,
                first_name=new_person.first_name,
                name_prefix=new_person.name_prefix,
                last_name=new_person.last_name,
                role=Role.PARTICIPANT,
                actor=actor,
            )
    except IntegrityError:
        user = accounts.find_user_by_email(new_person.email)
        if user is None:
            raise
        return user, False
    return user, True


def _add_enrolment(
    *,
    cohort: Cohort,
    participant: User,
    employer: Employer,
    intake_type: IntakeType,
    enrolled_on: date,
    actor: User,
    transferred_from: Enrolment | None = None,
) -> Enrolment:
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
    progress.refresh_summaries([enrolment])
    return enrolment


def _reactivate(
    enrolment: Enrolment, *, employer: Employer, intake_type: IntakeType, on: date, actor: User
) -> None:
    """Make a withdrawn enrolment active again. It keeps its first enrolment date and everything that
    points at it; the withdrawal and the return are in the audit log."""
    if on < enrolment.ended_on:
        raise EnrolmentError(
            _(
                "%(name)s left this cohort on %(date)s; the new enrolment date cannot be earlier.",
                name=enrolment.participant.full_name,
                date=short_date(enrolment.ended_on),
            )
        )
    before = {
        "withdrawn_on": enrolment.ended_on.isoformat(),
        "withdrawal_reason": enrolment.end_reason,
        "previous_employer": enrolment.employer.name,
    }
    enrolment.status = EnrolmentStatus.ACTIVE
    enrolment.ended_on = None
    enrolment.end_reason = ""
    enrolment.employer = employer
    enrolment.intake_type = intake_type
    db.session.flush()
    audit.record(
        "enrolment.reactivate",
        actor,
        enrolment,
        on=on.isoformat(),
        cohort=enrolment.cohort.name,
        participant=enrolment.participant.email,
        employer=employer.name,
        **before,
    )
    progress.refresh_summaries([enrolment])


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
    progress.refresh_summaries([enrolment])


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
    to_cohort = reserve_seat(to_cohort, on)
    participant = enrolment.participant
    lock_participant(participant)
    enrolment.status = EnrolmentStatus.TRANSFERRED
    enrolment.ended_on = on
    enrolment.end_reason = reason.strip()
    db.session.flush()  # the partial unique index sees the old enrolment as ended before the new one
    current = active_enrolment_of(participant)
    if current is not None:
        raise AlreadyEnrolled(
            _(
                "%(name)s is already enrolled in cohort %(cohort)s.",
                name=participant.full_name,
                cohort=current.cohort.name,
            )
        )
    # Always a new enrolment, also back into a cohort the participant was in before: it points back
    # to this one, so the chain stays a list and the work of every cohort on it keeps counting.
    new = _add_enrolment(
        cohort=to_cohort,
        participant=participant,
        employer=employer or enrolment.employer,
        intake_type=enrolment.intake_type,
        enrolled_on=on,
        actor=actor,
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
    progress.refresh_summaries([enrolment, new])
    return new


def _check_end_date(enrolment: Enrolment, on: date) -> None:
    if on < enrolment.enrolled_on:
        raise EnrolmentError(
            _(
                "The date cannot be before the enrolment date (%(date)s).",
                date=short_date(enrolment.enrolled_on),
            )
        )
