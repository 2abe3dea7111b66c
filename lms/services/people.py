"""The coordinator's address book: employers (companies), their contact persons, trainers, participants.

Functions flush, never commit: the route or command that calls them commits once. Accounts and
invitations go through ``accounts`` (``create_user``, ``send_invitation``). Every change is an audit event.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from lms import clock
from lms.extensions import db
from lms.models import (
    AccountToken,
    Cohort,
    Employer,
    Enrolment,
    EnrolmentStatus,
    Region,
    Role,
    TokenPurpose,
    User,
)
from lms.pagination import contains
from lms.services import accounts, audit, characters, login_sessions

# Roles the address book manages; coordinators are not in it.
ADDRESS_BOOK_ROLES = (Role.EMPLOYER, Role.TRAINER, Role.PARTICIPANT)
# Roles whose account the coordinator can switch off here (participants leave through their enrolment).
DEACTIVATABLE_ROLES = (Role.EMPLOYER, Role.TRAINER)

_POSTCODE = re.compile(r"([1-9][0-9]{3}) ?([A-Z]{2})")
# Letter pairs the Dutch postcode system does not use.
_UNUSED_POSTCODE_LETTERS = frozenset({"SA", "SD", "SS"})
_PHONE = re.compile(r"[0-9 +()\-]*")


class PeopleError(ValueError):
    """A change the rules refuse; the message says why, in the user's language. ``field`` names the
    form field the message belongs to, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class AccountState(enum.StrEnum):
    INVITED = "invited"  # has an account but has not chosen a password yet
    ACTIVE = "active"
    DEACTIVATED = "deactivated"


# --- checking and normalising ------------------------------------------------------------------


def normalise_kvk(value: str) -> str:
    """A KvK number as typed ("1409 3527", " 14093527 ") without its spaces."""
    return re.sub(r"\s+", "", value or "")


def kvk_problem(value: str) -> str | None:
    """Why ``value`` (after ``normalise_kvk``) is not a KvK number, or None."""
    if not re.fullmatch(r"[0-9]{8}", normalise_kvk(value)):
        return _("A KvK number has exactly 8 digits, for example 14093527.")
    return None


def normalise_postcode(value: str) -> str:
    """A Dutch postcode written the standard way: "6411ab" → "6411 AB". Empty stays empty.

    Raises PeopleError when ``value`` is not a Dutch postcode."""
    compact = re.sub(r"\s+", "", value or "").upper()
    if not compact:
        return ""
    match = _POSTCODE.fullmatch(compact)
    if match is None or match.group(2) in _UNUSED_POSTCODE_LETTERS:
        raise PeopleError(
            _("Fill in a Dutch postcode: 4 digits and 2 letters, for example 6411 AB."),
            field="postcode",
        )
    return f"{match.group(1)} {match.group(2)}"


def postcode_problem(value: str) -> str | None:
    try:
        normalise_postcode(value)
    except PeopleError as error:
        return str(error)
    return None


def street_problem(value: str) -> str | None:
    """A street line needs a house number: "Schelsberg 214"."""
    value = (value or "").strip()
    if value and not re.search(r"[0-9]", value):
        return _("Fill in the street and the house number, for example Schelsberg 214.")
    return None


def phone_problem(value: str) -> str | None:
    if not _PHONE.fullmatch((value or "").strip()):
        return _("Use only digits, spaces and the signs + - ( ) in a phone number.")
    return None


# --- employers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmployerData:
    name: str
    kvk_number: str
    region: Region
    street: str = ""
    postcode: str = ""
    city: str = ""
    recognition_number: str = ""
    recognition_checked_on: date | None = None


def recognition_problem(
    number: str, checked_on: date | None, today: date
) -> tuple[str, str] | None:
    """Why a recognition as a learning company cannot be recorded, as (field, message), or None:
    the number is digits only, and a number needs the day it was checked (not in the future)."""
    if number and not re.fullmatch(r"[0-9]{1,12}", number):
        return "recognition_number", _(
            "A recognition number has only digits (at most 12), as in the SBB register."
        )
    if number and checked_on is None:
        return "recognition_checked_on", _(
            "Fill in the day you checked the recognition in the SBB register."
        )
    if checked_on is not None and not number:
        return "recognition_number", _("Fill in the recognition number you checked.")
    if checked_on is not None and checked_on > today:
        return "recognition_checked_on", _("The day it was checked cannot be in the future.")
    return None


def find_employer_by_kvk(kvk_number: str) -> Employer | None:
    return db.session.scalar(
        sa.select(Employer).where(Employer.kvk_number == normalise_kvk(kvk_number))
    )


def _clean_employer(data: EmployerData, employer: Employer | None) -> dict[str, Any]:
    name = data.name.strip()
    if not name:
        raise PeopleError(_("Fill in the name of the company."), field="name")
    problem = characters.name_problem(name)
    if problem:
        raise PeopleError(problem, field="name")
    problem = kvk_problem(data.kvk_number)
    if problem:
        raise PeopleError(problem, field="kvk_number")
    kvk = normalise_kvk(data.kvk_number)
    existing = find_employer_by_kvk(kvk)
    if existing is not None and existing is not employer:
        raise PeopleError(
            _("KvK number %(kvk)s already belongs to %(name)s.", kvk=kvk, name=existing.name),
            field="kvk_number",
        )
    problem = street_problem(data.street)
    if problem:
        raise PeopleError(problem, field="street")
    number = re.sub(r"\s+", "", data.recognition_number or "")
    recognition = recognition_problem(number, data.recognition_checked_on, clock.today())
    if recognition:
        raise PeopleError(recognition[1], field=recognition[0])
    return {
        "name": name,
        "kvk_number": kvk,
        "street": data.street.strip(),
        "postcode": normalise_postcode(data.postcode),
        "city": data.city.strip(),
        "region": Region(data.region),
        "recognition_number": number,
        "recognition_checked_on": data.recognition_checked_on,
    }


def create_employer(data: EmployerData, *, actor: User) -> Employer:
    """Add a company. Its KvK number must be 8 digits and not belong to another company."""
    employer = Employer(**_clean_employer(data, None))
    db.session.add(employer)
    db.session.flush()
    audit.record(
        "employer.create", actor, employer, name=employer.name, kvk_number=employer.kvk_number
    )
    return employer


def update_employer(employer: Employer, data: EmployerData, *, actor: User) -> dict[str, list[str]]:
    """Change a company's data; returns what changed as {field: [old, new]} (empty: nothing changed)."""
    changes = _apply(employer, _clean_employer(data, employer))
    if changes:
        db.session.flush()
        audit.record("employer.update", actor, employer, changes=changes)
    return changes


def _apply(target: Any, values: dict[str, Any]) -> dict[str, list[str]]:
    changes = {}
    for field, new in values.items():
        old = getattr(target, field)
        if old != new:
            changes[field] = [str(old), str(new)]
            setattr(target, field, new)
    return changes


# --- people: contacts, trainers, participants --------------------------------------------------


@dataclass(frozen=True)
class PersonData:
    first_name: str
    last_name: str
    email: str
    name_prefix: str = ""
    phone: str = ""


def _clean_person(data: PersonData, user: User | None) -> dict[str, str]:
    first_name, last_name = data.first_name.strip(), data.last_name.strip()
    if not first_name:
        raise PeopleError(_("Fill in the first name."), field="first_name")
    if not last_name:
        raise PeopleError(_("Fill in the last name."), field="last_name")
    for field, value in (
        ("first_name", first_name),
        ("name_prefix", data.name_prefix),
        ("last_name", last_name),
    ):
        problem = characters.name_problem(value)
        if problem:
            raise PeopleError(problem, field=field)
    email = accounts.normalise_email(data.email)
    if not email:
        raise PeopleError(_("Fill in the e-mail address."), field="email")
    existing = accounts.find_user_by_email(email)
    if existing is not None and existing is not user:
        raise PeopleError(
            _(
                "E-mail address %(email)s is already used by %(name)s.",
                email=email,
                name=existing.full_name,
            ),
            field="email",
        )
    problem = phone_problem(data.phone)
    if problem:
        raise PeopleError(problem, field="phone")
    return {
        "first_name": first_name,
        "name_prefix": data.name_prefix.strip(),
        "last_name": last_name,
        "email": email,
        "phone": " ".join(data.phone.split()),
    }


def _add_person(
    data: PersonData, role: Role, actor: User, employer: Employer | None = None
) -> User:
    values = _clean_person(data, None)
    user = accounts.create_user(
        email=values["email"],
        first_name=values["first_name"],
        name_prefix=values["name_prefix"],
        last_name=values["last_name"],
        role=role,
        employer=employer,
        actor=actor,
    )
    user.phone = values["phone"]
    accounts.send_invitation(user, actor)
    return user


def add_contact(employer: Employer, data: PersonData, *, actor: User) -> User:
    """A contact person (praktijkopleider) of ``employer``: an employer account and an invitation mail."""
    return _add_person(data, Role.EMPLOYER, actor, employer)


def add_trainer(data: PersonData, *, actor: User) -> User:
    """A trainer account and an invitation mail."""
    return _add_person(data, Role.TRAINER, actor)


def update_person(user: User, data: PersonData, *, actor: User) -> dict[str, list[str]]:
    """Change a person's name, e-mail address (unique, whatever the case) or phone number; returns
    what changed as {field: [old, new]}."""
    _check_in_address_book(user)
    changes = _apply(user, _clean_person(data, user))
    if changes:
        db.session.flush()
        audit.record("user.update", actor, user, changes=changes)
    return changes


def deactivate(user: User, *, actor: User) -> None:
    """Switch an account off: the person can no longer log in, their sessions end at once (also after a
    later reactivation) and open links to set a password stop working."""
    _check_in_address_book(user)
    if user.role not in DEACTIVATABLE_ROLES:
        raise PeopleError(
            _("Only accounts of trainers and contact persons can be deactivated here.")
        )
    if not user.is_active_account:
        raise PeopleError(_("%(name)s has already been deactivated.", name=user.full_name))
    user.is_active_account = False
    login_sessions.end_all(user, at=clock.now())
    _expire_open_tokens(user)
    db.session.flush()
    audit.record("user.deactivate", actor, user)


def reactivate(user: User, *, actor: User) -> None:
    """Switch a deactivated account on again; the password the person had works again."""
    _check_in_address_book(user)
    if user.is_active_account:
        raise PeopleError(_("%(name)s is already active.", name=user.full_name))
    user.is_active_account = True
    db.session.flush()
    audit.record("user.reactivate", actor, user)


def resend_invitation(user: User, *, actor: User) -> str:
    """A new invitation mail with a new link; earlier links stop working. Only for an active account
    that has no password yet. Returns the link."""
    _check_in_address_book(user)
    if not user.is_active_account:
        raise PeopleError(
            _("%(name)s has been deactivated. Reactivate the account first.", name=user.full_name)
        )
    if user.password_hash:
        raise PeopleError(
            _(
                "%(name)s has already chosen a password; an invitation is not needed.",
                name=user.full_name,
            )
        )
    link = accounts.send_invitation(user, actor)
    audit.record("user.invitation_resend", actor, user)
    return link


def _check_in_address_book(user: User) -> None:
    if user.role not in ADDRESS_BOOK_ROLES:
        raise PeopleError(_("This person is not in the address book."))


def _expire_open_tokens(user: User) -> None:
    now = clock.now()
    open_tokens = db.session.scalars(
        sa.select(AccountToken).where(
            AccountToken.user_id == user.id,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > now,
        )
    )
    for token in open_tokens:
        token.expires_at = now


# --- account state and invitations -------------------------------------------------------------


def account_state(user: User) -> AccountState:
    if not user.is_active_account:
        return AccountState.DEACTIVATED
    if not user.password_hash:
        return AccountState.INVITED
    return AccountState.ACTIVE


def last_invitations(user_ids: Iterable[int]) -> dict[int, datetime]:
    """When each user's last invitation was sent (users never invited are left out); one query."""
    ids = list(set(user_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(AccountToken.user_id, sa.func.max(AccountToken.created_at))
        .where(AccountToken.user_id.in_(ids), AccountToken.purpose == TokenPurpose.INVITATION)
        .group_by(AccountToken.user_id)
    ).all()
    return {user_id: _aware(sent_at) for user_id, sent_at in rows}


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --- lists and pages ---------------------------------------------------------------------------


def employer_search(term: str = "", region: Region | None = None) -> sa.Select[tuple[Employer]]:
    """Employers by name, KvK number or city, optionally in one region, sorted by name."""
    query = sa.select(Employer)
    if term:
        conditions = [contains(Employer.name, term), contains(Employer.city, term)]
        kvk = normalise_kvk(term)
        if kvk:
            conditions.append(contains(Employer.kvk_number, kvk))
        query = query.where(sa.or_(*conditions))
    if region is not None:
        query = query.where(Employer.region == region)
    return query.order_by(Employer.name, Employer.id)


def people_search(role: Role, term: str = "") -> sa.Select[tuple[User]]:
    """People with ``role``; every word of ``term`` must be in their name or e-mail address."""
    query = sa.select(User).where(User.role == role)
    for word in term.split():
        query = query.where(
            sa.or_(
                contains(User.first_name, word),
                contains(User.name_prefix, word),
                contains(User.last_name, word),
                contains(User.email, word),
            )
        )
    return query.order_by(User.sort_key, User.id)


def trainer_search(term: str = "") -> sa.Select[tuple[User]]:
    return people_search(Role.TRAINER, term).options(selectinload(User.trained_cohorts))


def participant_search(term: str = "") -> sa.Select[tuple[User]]:
    return people_search(Role.PARTICIPANT, term)


def current_enrolments(participant_ids: Iterable[int]) -> dict[int, Enrolment]:
    """Each participant's active enrolment, else their latest completed one (a graduate is named as
    such, not as "not enrolled"; someone who left is not enrolled), with cohort and employer, by
    participant id; one query."""
    ids = list(set(participant_ids))
    if not ids:
        return {}
    enrolments = db.session.scalars(
        sa.select(Enrolment)
        .where(
            Enrolment.participant_id.in_(ids),
            Enrolment.status.in_([EnrolmentStatus.ACTIVE, EnrolmentStatus.COMPLETED]),
        )
        .options(joinedload(Enrolment.cohort), joinedload(Enrolment.employer))
        # Later rows win: completed ones oldest first, the active one last.
        .order_by(Enrolment.status == EnrolmentStatus.ACTIVE, Enrolment.enrolled_on, Enrolment.id)
    )
    return {enrolment.participant_id: enrolment for enrolment in enrolments}


def employees_in_programme(employer_ids: Iterable[int]) -> dict[int, int]:
    """How many participants each employer has in the programme now; one query."""
    ids = list(set(employer_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Enrolment.employer_id, sa.func.count())
        .where(Enrolment.employer_id.in_(ids), Enrolment.status == EnrolmentStatus.ACTIVE)
        .group_by(Enrolment.employer_id)
    ).all()
    return dict(rows)  # type: ignore[arg-type]


@dataclass(frozen=True)
class EmployerOverview:
    contacts: list[User]
    current: list[Enrolment]  # active enrolments, newest first
    earlier: list[
        Enrolment
    ]  # ended enrolments of people not in the programme with this employer now


def employer_overview(employer: Employer) -> EmployerOverview:
    contacts = db.session.scalars(
        sa.select(User).where(User.employer_id == employer.id).order_by(User.sort_key, User.id)
    ).all()
    enrolments = db.session.scalars(
        sa.select(Enrolment)
        .where(Enrolment.employer_id == employer.id)
        .options(joinedload(Enrolment.participant), joinedload(Enrolment.cohort))
        .order_by(Enrolment.enrolled_on.desc(), Enrolment.id.desc())
    ).all()
    current = [enrolment for enrolment in enrolments if enrolment.is_active]
    here_now = {enrolment.participant_id for enrolment in current}
    earlier = [
        enrolment
        for enrolment in enrolments
        if not enrolment.is_active and enrolment.participant_id not in here_now
    ]
    return EmployerOverview(list(contacts), current, earlier)


def enrolment_history(participant: User) -> list[Enrolment]:
    """A participant's enrolments, newest first, with cohort and employer."""
    return list(
        db.session.scalars(
            sa.select(Enrolment)
            .where(Enrolment.participant_id == participant.id)
            .options(joinedload(Enrolment.cohort), joinedload(Enrolment.employer))
            .order_by(Enrolment.enrolled_on.desc(), Enrolment.id.desc())
        )
    )


def cohorts_of_trainer(trainer: User) -> list[Cohort]:
    return list(
        db.session.scalars(
            sa.select(Cohort)
            .join(Cohort.trainers)
            .where(User.id == trainer.id)
            .order_by(Cohort.start_date.desc(), Cohort.name)
        )
    )
