"""The sign-off ledger: append checklist sign-offs to the hash chain, and verify the chain.

Every record's hash covers its own facts and the previous record's hash (see ``SignOff.content``), so
a record changed after the fact breaks the chain from that record on. Functions flush, never commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from lms.extensions import db
from lms.models import ChecklistItem, Enrolment, Role, SignOff, SignOffKind, Submission, User
from lms.models.signoffs import GENESIS_HASH
from lms.services import audit

MIN_LEVEL = 1
MAX_LEVEL = 4


class SignOffError(ValueError):
    """A sign-off that may not be recorded; the message says why."""


class LedgerCheck(NamedTuple):
    ok: bool
    count: int  # records in the ledger
    first_broken: SignOff | None


def last_record() -> SignOff | None:
    return db.session.scalar(sa.select(SignOff).order_by(SignOff.sequence.desc()).limit(1))


def sign_off(
    *,
    enrolment: Enrolment,
    item: ChecklistItem,
    level: int,
    actor: User,
    at: datetime,
    note: str = "",
    evidence: Iterable[Submission] = (),
) -> SignOff:
    """Append a sign-off of ``item`` at ``level`` for ``enrolment`` by the trainer ``actor``."""
    evidence = list(evidence)
    if at.tzinfo is None:
        raise SignOffError("the moment of a sign-off must be timezone-aware")
    if not MIN_LEVEL <= level <= MAX_LEVEL:
        raise SignOffError(f"level must be between {MIN_LEVEL} and {MAX_LEVEL}, not {level}")
    cohort = enrolment.cohort
    if item.programme_id != cohort.programme_id:
        raise SignOffError("the checklist item is not part of the programme of this cohort")
    if not (actor.role is Role.TRAINER and actor in cohort.trainers):
        raise SignOffError("only a trainer of the participant's cohort signs off checklist items")
    db.session.flush()  # ids of the enrolment and the evidence: checked here, and part of the hash
    if any(submission.enrolment_id != enrolment.id for submission in evidence):
        raise SignOffError("evidence must be work of the same participant in the same cohort")

    previous = last_record()
    record = SignOff(
        sequence=previous.sequence + 1 if previous else 1,
        kind=SignOffKind.SIGN_OFF,
        enrolment=enrolment,
        enrolment_id=enrolment.id,
        checklist_item=item,
        checklist_item_id=item.id,
        level=level,
        note=note,
        signed_by=actor,
        signed_by_id=actor.id,
        signed_at=at,
        previous_hash=previous.record_hash if previous else GENESIS_HASH,
    )
    record.evidence = evidence
    record.record_hash = record.compute_hash()
    db.session.add(record)
    db.session.flush()
    audit.record("signoff.create", actor, record, item=item.code, level=level)
    return record


def verify_ledger() -> LedgerCheck:
    """Recompute the whole chain in sequence order: ``(ok, count, first_broken)``.

    A record is broken when its sequence number is not the next one, when its stored previous hash is
    not the hash of the record before it, or when its stored hash is not the hash of its content.
    Values are read fresh from the database, not from what this session remembers.
    """
    db.session.flush()
    records = db.session.scalars(
        sa.select(SignOff)
        .order_by(SignOff.sequence)
        .options(selectinload(SignOff.evidence))
        .execution_options(populate_existing=True)
    ).all()
    expected_previous = GENESIS_HASH
    for position, record in enumerate(records, start=1):
        if (
            record.sequence != position
            or record.previous_hash != expected_previous
            or record.compute_hash() != record.record_hash
        ):
            return LedgerCheck(False, len(records), record)
        expected_previous = record.record_hash
    return LedgerCheck(True, len(records), None)
