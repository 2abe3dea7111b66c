"""The sign-off ledger: appending to the hash chain, the rules of who may sign off, and verification."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from lms.models import AuditEvent, ChecklistItem, LedgerCheckpoint, Role, Submission, Verdict
from lms.models.signoffs import GENESIS_HASH
from lms.services import badge_keys
from lms.services.signoff import SignOffError, sign_off, sign_off_items, verify_ledger
from tests.factories import (
    make_cohort,
    make_enrolment,
    make_handed_in_submission,
    make_programme,
    make_user,
)

AT = datetime(2026, 10, 9, 14, 0, tzinfo=UTC)


@pytest.fixture
def setting(db):  # type: ignore[no-untyped-def]
    trainer = make_user(Role.TRAINER)
    cohort = make_cohort(trainers=[trainer])
    enrolment = make_enrolment(cohort)
    items = {item.code: item for item in db.session.scalars(sa.select(ChecklistItem))}
    return trainer, enrolment, items


def sign(setting, code: str = "T01", offset: int = 0, **kwargs):  # type: ignore[no-untyped-def]
    trainer, enrolment, items = setting
    arguments = {
        "enrolment": enrolment,
        "item": items[code],
        "level": 2,
        "actor": trainer,
        "at": AT + timedelta(hours=offset),
    }
    arguments.update(kwargs)
    return sign_off(**arguments)


def test_records_are_chained_in_sequence(db, setting) -> None:
    first = sign(setting, "T01")
    second = sign(setting, "D1", offset=1, note="Gezien op de werkvloer.")
    assert (first.sequence, second.sequence) == (1, 2)
    assert first.previous_hash == GENESIS_HASH
    assert second.previous_hash == first.record_hash
    assert second.record_hash == second.compute_hash()
    assert verify_ledger() == (True, 2, None)
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "signoff.create"))
        == 2
    )


def test_an_empty_ledger_verifies(db) -> None:
    assert verify_ledger() == (True, 0, None)


def test_evidence_is_part_of_the_hash(db, setting) -> None:
    _, enrolment, _ = setting
    assignment = enrolment.cohort.programme.assignments[0]
    submission = make_handed_in_submission(enrolment, assignment, at=AT - timedelta(days=2))
    submission.record_verdict(Verdict.APPROVED, AT - timedelta(days=1))
    record = sign(setting, evidence=[submission])
    assert record.content()["evidence"] == [submission.id]
    db.session.execute(sa.text("DELETE FROM signoff_evidence"))
    ok, count, broken = verify_ledger()
    assert (ok, count, broken.sequence) == (False, 1, 1)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE signoffs SET level = 4 WHERE sequence = 2",
        "UPDATE signoffs SET note = 'aangepast' WHERE sequence = 2",
        "UPDATE signoffs SET signed_at = signed_at - INTERVAL '1 day' WHERE sequence = 2",
    ],
)
def test_a_changed_record_breaks_the_chain_from_there(db, setting, statement: str) -> None:
    for offset, code in enumerate(("T01", "D1", "T01")):
        sign(setting, code, offset=offset, level=1 + offset)
    if "INTERVAL" in statement and db.engine.dialect.name == "sqlite":
        statement = (
            "UPDATE signoffs SET signed_at = '2020-01-01 00:00:00.000000' WHERE sequence = 2"
        )
    db.session.execute(sa.text(statement))
    ok, count, broken = verify_ledger()
    assert (ok, count, broken.sequence) == (False, 3, 2)


def test_a_removed_record_is_noticed(db, setting) -> None:
    for offset in range(3):
        sign(setting, offset=offset, level=1 + offset)
    db.session.execute(sa.text("DELETE FROM signoffs WHERE sequence = 2"))
    ok, count, broken = verify_ledger()
    assert (ok, count, broken.sequence) == (False, 2, 3)


def test_only_a_trainer_of_the_cohort_signs_off(db, setting) -> None:
    other_trainer = make_user(Role.TRAINER)
    coordinator = make_user(Role.COORDINATOR)
    for actor in (other_trainer, coordinator):
        with pytest.raises(SignOffError):
            sign(setting, actor=actor)
    assert verify_ledger() == (True, 0, None)


@pytest.mark.parametrize("level", [0, 5])
def test_level_must_be_on_the_scale(db, setting, level: int) -> None:
    with pytest.raises(SignOffError):
        sign(setting, level=level)


def test_item_must_belong_to_the_cohorts_programme(db, setting) -> None:
    other = make_programme(code="ANDER")
    foreign_item = next(item for group in other.checklist_groups for item in group.items)
    with pytest.raises(SignOffError):
        sign(setting, item=foreign_item)


def test_evidence_must_be_the_participants_own_work(db, setting) -> None:
    _, enrolment, _ = setting
    someone_else = make_enrolment(enrolment.cohort)
    submission = Submission(
        enrolment=someone_else, assignment=enrolment.cohort.programme.assignments[0]
    )
    db.session.add(submission)
    db.session.flush()
    with pytest.raises(SignOffError):
        sign(setting, evidence=[submission])


def test_the_moment_must_be_timezone_aware(db, setting) -> None:
    with pytest.raises(SignOffError):
        sign(setting, at=datetime(2026, 10, 9, 14, 0))  # noqa: DTZ001 (naive on purpose)


def test_a_sign_off_batch_signs_one_checkpoint_in_the_same_transaction(db, setting) -> None:
    trainer, enrolment, items = setting
    badge_keys.ensure_key(badge_keys.key_dir(), AT)
    records = sign_off_items(
        enrolment=enrolment, items=[items["T01"], items["D1"]], level=2, actor=trainer, at=AT
    )
    (checkpoint,) = db.session.scalars(sa.select(LedgerCheckpoint)).all()
    assert (checkpoint.record_count, checkpoint.head_id, checkpoint.head_hash) == (
        2,
        records[-1].id,
        records[-1].record_hash,
    )
    # The same batch again writes nothing, so it signs nothing either.
    sign_off_items(
        enrolment=enrolment, items=[items["T01"], items["D1"]], level=2, actor=trainer, at=AT
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerCheckpoint)) == 1
    db.session.rollback()  # a sign-off that does not commit leaves no checkpoint behind
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerCheckpoint)) == 0


def test_without_a_key_a_sign_off_succeeds_without_a_checkpoint(db, setting) -> None:
    record = sign(setting)
    db.session.commit()
    assert record.sequence == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerCheckpoint)) == 0
