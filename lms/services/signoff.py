"""The sign-off ledger: append sign-offs and revocations to the hash chain, read where each item stands,
and verify the chain.

Every record's hash covers its own facts and the previous record's hash (see ``SignOff.content``), so
a record changed after the fact breaks the chain from that record on. Nothing here updates or deletes a
record: a revocation is a new record that points at the sign-off it cancels.

Where an item stands for an enrolment is the latest sign-off of that item that has not been revoked,
read along the transfer chain: a transfer moves the participant's submissions to the new enrolment, but
a ledger record stays on the enrolment it was written for, so the earlier enrolments' records count too.

Appending is serialised by a lock held until the transaction ends (``_lock_ledger``), so two trainers
signing at the same moment get consecutive sequence numbers instead of one of them failing on the
unique sequence. Where an item stands is read again under that lock before a record is written, so the
second of two identical sign-offs at the same moment (the form posted twice, the form and the matrix)
finds the first one's record and writes nothing. Every call that appends also signs a checkpoint of the
new head in the same transaction (``lms.services.ledger_checkpoints``). Functions flush, never commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import aliased, selectinload

from lms import clock
from lms.extensions import db
from lms.models import (
    ChecklistItem,
    Cohort,
    Enrolment,
    LedgerCheckpoint,
    Role,
    SignOff,
    SignOffKind,
    Submission,
    SubmissionStatus,
    User,
    assignment_competencies,
)
from lms.models.signoffs import GENESIS_HASH
from lms.services import audit, ledger_checkpoints, progress

MIN_LEVEL = 1
MAX_LEVEL = 4
NOTE_MAX = 2000

# The key of the PostgreSQL advisory lock that serialises appending to the ledger (any fixed number).
LEDGER_LOCK_KEY = 5_170_001


class SignOffError(ValueError):
    """A sign-off or revocation that may not be recorded; the message says why, in the user's language."""


class LedgerCheck(NamedTuple):
    ok: bool
    count: int  # records in the ledger
    first_broken: SignOff | None


@dataclass(frozen=True)
class LedgerReport:
    """The outcome of checking the chain, with what does not match at the first broken record."""

    ok: bool
    count: int
    first_broken: SignOff | None = None
    problem: str = ""


@dataclass(frozen=True)
class Cell:
    """One change in the cohort matrix: ``level`` for ``item`` of ``enrolment``."""

    enrolment: Enrolment
    item: ChecklistItem
    level: int


# --- reading the ledger -----------------------------------------------------------------------


def last_record() -> SignOff | None:
    return db.session.scalar(sa.select(SignOff).order_by(SignOff.sequence.desc()).limit(1))


def enrolment_chains(enrolments: Sequence[Enrolment]) -> dict[int, list[int]]:
    """For each enrolment, its id and the ids of the enrolments it was transferred from, newest first.

    One query, however many enrolments: a transfer keeps the participant, so the chain lies within the
    participant's own enrolments.
    """
    if not enrolments:
        return {}
    previous: dict[int, int | None] = dict(
        db.session.execute(
            sa.select(Enrolment.id, Enrolment.transferred_from_id).where(
                Enrolment.participant_id.in_({e.participant_id for e in enrolments})
            )
        ).all()
    )
    chains: dict[int, list[int]] = {}
    for enrolment in enrolments:
        chain: list[int] = []
        current: int | None = enrolment.id
        while current is not None and current not in chain:
            chain.append(current)
            current = previous.get(current)
        chains[enrolment.id] = chain
    return chains


def _readers(chains: Mapping[int, list[int]]) -> dict[int, list[int]]:
    """Which of the requested enrolments read the records of each enrolment in their chains."""
    readers: dict[int, list[int]] = defaultdict(list)
    for enrolment_id, chain in chains.items():
        for member in chain:
            readers[member].append(enrolment_id)
    return readers


def _not_revoked() -> sa.ColumnElement[bool]:
    """A sign-off that no revocation cancels: NOT EXISTS on ``revokes_id``, answered from its unique
    index (uq_signoffs_revokes_id). ``revokes_id IS NOT NULL`` says nothing new to the reader (a row
    that revokes nothing matches no id) but lets PostgreSQL's planner read only the index's non-null
    entries (the revocations, a handful) for a large set of enrolments, instead of hashing the whole
    ledger from a second sequential scan."""
    revocation = aliased(SignOff)
    return sa.and_(
        SignOff.kind == SignOffKind.SIGN_OFF,
        ~sa.exists().where(revocation.revokes_id.is_not(None), revocation.revokes_id == SignOff.id),
    )


def current_signoffs(
    enrolments: Sequence[Enrolment], *, options: Iterable[Any] = ()
) -> dict[int, dict[int, SignOff]]:
    """Where each item stands: enrolment id -> checklist item id -> the latest sign-off that has not been
    revoked, along the transfer chain. Items never signed off are absent. A constant number of queries
    (two, plus whatever ``options`` load)."""
    chains = enrolment_chains(enrolments)
    readers = _readers(chains)
    result: dict[int, dict[int, SignOff]] = {enrolment.id: {} for enrolment in enrolments}
    if not readers:
        return result
    records = db.session.scalars(
        sa.select(SignOff)
        .where(SignOff.enrolment_id.in_(readers), _not_revoked())
        .order_by(SignOff.sequence)
        .options(*options)
    ).all()
    for record in records:  # in sequence order, so a later record replaces an earlier one
        for enrolment_id in readers[record.enrolment_id]:
            result[enrolment_id][record.checklist_item_id] = record
    return result


def current_levels(enrolments: Sequence[Enrolment]) -> dict[int, dict[int, int]]:
    """The level reached per enrolment id and checklist item id (absent: never signed off). Two queries."""
    chains = enrolment_chains(enrolments)
    readers = _readers(chains)
    result: dict[int, dict[int, int]] = {enrolment.id: {} for enrolment in enrolments}
    if not readers:
        return result
    rows = db.session.execute(
        sa.select(SignOff.enrolment_id, SignOff.checklist_item_id, SignOff.level)
        .where(SignOff.enrolment_id.in_(readers), _not_revoked())
        .order_by(SignOff.sequence)
    )
    for enrolment_id, item_id, level in rows:
        for reader in readers[enrolment_id]:
            result[reader][item_id] = level
    return result


def approved_work(
    enrolments: Sequence[Enrolment], items: Sequence[ChecklistItem] | None = None
) -> dict[tuple[int, int], list[Submission]]:
    """Approved submissions per (enrolment id, checklist item id): the work on assignments linked to the
    item that a sign-off can rest on. One query (plus the assignments, loaded with it)."""
    if not enrolments:
        return {}
    query = (
        sa.select(assignment_competencies.c.checklist_item_id, Submission)
        .join(
            assignment_competencies,
            assignment_competencies.c.assignment_id == Submission.assignment_id,
        )
        .where(
            Submission.enrolment_id.in_([e.id for e in enrolments]),
            Submission.status == SubmissionStatus.APPROVED,
        )
        .order_by(Submission.approved_at, Submission.id)
        .options(selectinload(Submission.assignment))
    )
    if items is not None:
        query = query.where(
            assignment_competencies.c.checklist_item_id.in_([item.id for item in items])
        )
    work: dict[tuple[int, int], list[Submission]] = defaultdict(list)
    for item_id, submission in db.session.execute(query):
        work[(submission.enrolment_id, item_id)].append(submission)
    return work


# --- appending ------------------------------------------------------------------------------


def _lock_ledger() -> None:
    """Hold the ledger's append lock until this transaction ends.

    PostgreSQL: a transaction-level advisory lock, so a second trainer's append waits for the first one
    to commit and then reads the new last record (each statement sees what was committed before it).
    SQLite allows one writer at a time: a write that changes nothing takes that lock now, before the
    last record is read, instead of at the insert.
    """
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(LEDGER_LOCK_KEY)))
    elif dialect == "sqlite":
        db.session.execute(sa.text("UPDATE signoffs SET sequence = sequence WHERE 1 = 0"))


def _append(
    *,
    kind: SignOffKind,
    enrolment: Enrolment,
    item: ChecklistItem,
    level: int,
    note: str,
    actor: User,
    at: datetime,
    evidence: Sequence[Submission] = (),
    revokes: SignOff | None = None,
) -> SignOff:
    _lock_ledger()
    previous = last_record()
    record = SignOff(
        sequence=previous.sequence + 1 if previous else 1,
        kind=kind,
        enrolment=enrolment,
        enrolment_id=enrolment.id,
        checklist_item=item,
        checklist_item_id=item.id,
        level=level,
        note=note,
        revokes=revokes,
        revokes_id=revokes.id if revokes is not None else None,
        signed_by=actor,
        signed_by_id=actor.id,
        signed_at=at,
        previous_hash=previous.record_hash if previous else GENESIS_HASH,
    )
    record.evidence = list(evidence)
    record.record_hash = record.compute_hash()
    db.session.add(record)
    db.session.flush()
    return record


def _check_moment(at: datetime) -> None:
    if at.tzinfo is None:
        raise SignOffError("the moment of a ledger record must be timezone-aware")


def _check_signer(actor: User, enrolment: Enrolment) -> None:
    """Nobody signs off their own work; only a trainer of the participant's cohort signs off."""
    if actor.id == enrolment.participant_id:
        raise SignOffError(_("Nobody can sign off their own work."))
    if not (actor.role is Role.TRAINER and actor in enrolment.cohort.trainers):
        raise SignOffError(
            _("Only a trainer of the participant's cohort can sign off checklist items.")
        )


def _check_note(note: str) -> str:
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise SignOffError(_("Keep the note under %(max)d characters.", max=NOTE_MAX))
    return note


def _identical(
    actor: User, level: int, note: str, evidence: Sequence[Submission]
) -> Callable[[SignOff], bool]:
    """Whether a standing sign-off says what a new one would: same trainer, level, note and evidence."""

    def same(record: SignOff) -> bool:
        return (
            record.signed_by_id == actor.id
            and record.level == level
            and record.note == note
            and sorted(record.evidence_submission_ids()) == sorted(s.id for s in evidence)
        )

    return same


def _sign_off(
    *,
    enrolment: Enrolment,
    item: ChecklistItem,
    level: int,
    actor: User,
    at: datetime,
    note: str = "",
    evidence: Iterable[Submission] = (),
    done: Callable[[SignOff], bool] | None = None,
) -> tuple[SignOff, bool]:
    """Check and append one sign-off; ``(record, True)``, or ``(standing, False)`` when where the item
    stands, read under the ledger lock, already is what ``done`` asks (by default: an identical
    sign-off). So of two identical sign-offs at the same moment (the form posted twice, the form and the
    matrix) the second one waits for the first, finds it and writes nothing."""
    evidence = list(evidence)
    _check_moment(at)
    if not MIN_LEVEL <= level <= MAX_LEVEL:
        raise SignOffError(
            _("Choose a level from %(min)d to %(max)d.", min=MIN_LEVEL, max=MAX_LEVEL)
        )
    _check_signer(actor, enrolment)
    if not enrolment.is_active:
        raise SignOffError(_("Only items of an active enrolment can be signed off."))
    if item.programme_id != enrolment.cohort.programme_id:
        raise SignOffError(_("This checklist item is not part of the programme of this cohort."))
    note = _check_note(note)
    db.session.flush()  # ids of the enrolment and the evidence: checked here, and part of the hash
    if any(submission.enrolment_id != enrolment.id for submission in evidence):
        raise SignOffError(_("Evidence must be work of the same participant in the same cohort."))
    if any(submission.status is not SubmissionStatus.APPROVED for submission in evidence):
        raise SignOffError(_("Evidence must be approved work."))

    _lock_ledger()
    standing = current_signoffs([enrolment])[enrolment.id].get(item.id)
    done = done or _identical(actor, level, note, evidence)
    if standing is not None and done(standing):
        return standing, False
    record = _append(
        kind=SignOffKind.SIGN_OFF,
        enrolment=enrolment,
        item=item,
        level=level,
        note=note,
        actor=actor,
        at=at,
        evidence=evidence,
    )
    audit.record(
        "signoff.create",
        actor,
        record,
        enrolment=enrolment.id,
        item=item.code,
        level=level,
        evidence=record.evidence_submission_ids(),
    )
    return record, True


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
    """Append a sign-off of ``item`` at ``level`` for ``enrolment`` by the trainer ``actor``, and a
    signed checkpoint of the new head.

    The evidence, if any, must be approved work of the same enrolment. When the item already stands at
    an identical sign-off (same trainer, level, note and evidence) nothing is written and that record is
    returned: a repeat gets the answer the first one earned.
    """
    record, created = _sign_off(
        enrolment=enrolment,
        item=item,
        level=level,
        actor=actor,
        at=at,
        note=note,
        evidence=evidence,
    )
    if created:
        progress.refresh_summaries([enrolment])
        checkpoint_head()
    return record


def sign_off_items(
    *,
    enrolment: Enrolment,
    items: Sequence[ChecklistItem],
    level: int,
    actor: User,
    at: datetime,
    note: str = "",
    evidence: Iterable[Submission] = (),
) -> list[SignOff]:
    """Sign off several items of one participant at the same level, note and evidence: a record each
    (or the identical one that already stands), and one checkpoint."""
    if not items:
        raise SignOffError(_("Choose at least one checklist item."))
    evidence = list(evidence)
    results = [
        _sign_off(
            enrolment=enrolment,
            item=item,
            level=level,
            actor=actor,
            at=at,
            note=note,
            evidence=evidence,
        )
        for item in items
    ]
    if any(created for _record, created in results):
        progress.refresh_summaries([enrolment])
        checkpoint_head()
    return [record for record, _created in results]


def bulk_sign_off(
    *,
    cohort: Cohort,
    item: ChecklistItem,
    level: int,
    enrolments: Sequence[Enrolment],
    actor: User,
    at: datetime,
    note: str = "",
) -> list[SignOff]:
    """Sign off one item for several participants of a cohort (after a group instruction, say).

    ``enrolments`` are the participants the trainer confirmed one by one; each gets their own record
    (or keeps the identical one that already stands).
    """
    if not enrolments:
        raise SignOffError(_("Tick at least one participant."))
    if any(enrolment.cohort_id != cohort.id for enrolment in enrolments):
        raise SignOffError(_("Every participant must be in this cohort."))
    results = [
        _sign_off(enrolment=enrolment, item=item, level=level, actor=actor, at=at, note=note)
        for enrolment in enrolments
    ]
    created = [record for record, new in results if new]
    if created:
        audit.record(
            "signoff.bulk",
            actor,
            cohort,
            item=item.code,
            level=level,
            records=[record.id for record in created],
        )
        progress.refresh_summaries(record.enrolment_id for record in created)
        checkpoint_head()
    return [record for record, _new in results]


def sign_off_cells(
    *,
    cohort: Cohort,
    cells: Sequence[Cell],
    actor: User,
    at: datetime,
    note: str = "",
    attach_evidence: bool = False,
) -> list[SignOff]:
    """The cohort matrix: one record per cell whose level differs from where the item stands now.

    With ``attach_evidence``, each record rests on the participant's approved work on the assignments
    linked to the item. Cells at the level the item already stands at are left alone. Returns a record
    per changed cell (possibly none): the new one, or the one that got there first at that level while
    this change waited for the ledger lock.
    """
    if any(cell.enrolment.cohort_id != cohort.id for cell in cells):
        raise SignOffError(_("Every participant must be in this cohort."))
    enrolments = list({cell.enrolment.id: cell.enrolment for cell in cells}.values())
    levels = current_levels(enrolments)  # as the trainer saw the matrix; read again under the lock
    changed = [cell for cell in cells if levels[cell.enrolment.id].get(cell.item.id) != cell.level]
    work = (
        approved_work(enrolments, list({cell.item.id: cell.item for cell in changed}.values()))
        if attach_evidence and changed
        else {}
    )
    results = [
        _sign_off(
            enrolment=cell.enrolment,
            item=cell.item,
            level=cell.level,
            actor=actor,
            at=at,
            note=note,
            evidence=work.get((cell.enrolment.id, cell.item.id), []),
            done=lambda standing, level=cell.level: standing.level == level,
        )
        for cell in changed
    ]
    created = [record for record, new in results if new]
    if created:
        audit.record(
            "signoff.matrix",
            actor,
            cohort,
            records=[record.id for record in created],
        )
        progress.refresh_summaries(record.enrolment_id for record in created)
        checkpoint_head()
    return [record for record, _new in results]


def revoke(
    *,
    record: SignOff,
    actor: User,
    at: datetime,
    reason: str,
    enrolment: Enrolment | None = None,
) -> SignOff:
    """Cancel the sign-off ``record`` with a new ledger record of kind revocation, with its reason.

    ``enrolment`` is the enrolment whose checklist the revocation is made from (default: the record's
    own); the record must lie on its transfer chain and ``actor`` must be a trainer of its cohort. An
    identical revocation (same trainer, same reason) that already stands is returned instead of a
    second one; another one is refused.
    """
    _check_moment(at)
    enrolment = enrolment or record.enrolment
    if record.kind is not SignOffKind.SIGN_OFF:
        raise SignOffError(_("Only a sign-off can be revoked."))
    if record.enrolment_id not in enrolment_chains([enrolment])[enrolment.id]:
        raise SignOffError(_("This sign-off is not on this participant's checklist."))
    _check_signer(actor, enrolment)
    reason = _check_note(reason)
    if not reason:
        raise SignOffError(_("Give the reason for the revocation."))
    existing = _revocation_of(record)
    if existing is not None:
        if existing.signed_by_id == actor.id and existing.note == reason:
            return existing
        raise SignOffError(_("This sign-off has already been revoked."))
    revocation = _append(
        kind=SignOffKind.REVOCATION,
        enrolment=record.enrolment,
        item=record.checklist_item,
        level=record.level,
        note=reason,
        actor=actor,
        at=at,
        revokes=record,
    )
    audit.record(
        "signoff.revoke",
        actor,
        revocation,
        revokes=record.id,
        enrolment=record.enrolment_id,
        item=record.checklist_item.code,
        reason=reason,
    )
    progress.refresh_summaries([record.enrolment_id])
    checkpoint_head()
    return revocation


def _revocation_of(record: SignOff) -> SignOff | None:
    """Read under the ledger lock, so two trainers cannot both revoke the same sign-off."""
    _lock_ledger()
    return db.session.scalar(sa.select(SignOff).where(SignOff.revokes_id == record.id))


# --- checkpoints ------------------------------------------------------------------------------


def checkpoint_head(at: datetime | None = None) -> LedgerCheckpoint | None:
    """Sign a checkpoint of the ledger's head in this transaction, under the ledger lock (``None``
    without a signing key: the sign-off stands, the head is just not anchored yet)."""
    _lock_ledger()
    return ledger_checkpoints.write_checkpoint(last_record(), at or clock.now())


def daily_checkpoint(now: datetime) -> LedgerCheckpoint | None:
    """The scheduler's daily checkpoint: none when one of today (local date) already covers the head,
    so a second scheduler, or a rerun, writes nothing (both read under the ledger lock)."""
    _lock_ledger()
    head = last_record()
    latest = ledger_checkpoints.latest_checkpoint()
    if (
        latest is not None
        and latest.head_hash == (head.record_hash if head else GENESIS_HASH)
        and latest.record_count == (head.sequence if head else 0)
        and latest.created_at.astimezone(clock.LOCAL_TZ).date()
        == now.astimezone(clock.LOCAL_TZ).date()
    ):
        return None
    return ledger_checkpoints.write_checkpoint(head, now)


# --- verifying ------------------------------------------------------------------------------


def check_ledger() -> LedgerReport:
    """Recompute the whole chain in sequence order and say what does not match at the first broken record.

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
        problem = ""
        if record.sequence != position:
            problem = (
                f"sequence {record.sequence} where {position} was expected"
                " (a record is missing or out of place)"
            )
        elif record.previous_hash != expected_previous:
            problem = "previous_hash is not the record_hash of the record before it"
        elif record.compute_hash() != record.record_hash:
            problem = (
                "record_hash does not match the record's content (changed after it was written)"
            )
        if problem:
            return LedgerReport(False, len(records), record, problem)
        expected_previous = record.record_hash
    return LedgerReport(True, len(records))


def verify_ledger() -> LedgerCheck:
    """``(ok, count, first_broken)`` of ``check_ledger``."""
    report = check_ledger()
    return LedgerCheck(report.ok, report.count, report.first_broken)
