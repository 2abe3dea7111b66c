"""`flask --app wsgi lms ledger verify`: OK with the count, or the first broken record and a non-zero exit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from lms.models import ChecklistItem, Role, SignOff
from lms.services.signoff import revoke, sign_off
from tests.factories import make_cohort, make_enrolment, make_user

AT = datetime(2026, 10, 9, 14, 0, tzinfo=UTC)


@pytest.fixture
def three_records(db):  # type: ignore[no-untyped-def]
    trainer = make_user(Role.TRAINER)
    enrolment = make_enrolment(make_cohort(trainers=[trainer]))
    items = db.session.scalars(sa.select(ChecklistItem).order_by(ChecklistItem.code)).all()
    first = sign_off(enrolment=enrolment, item=items[0], level=2, actor=trainer, at=AT)
    sign_off(enrolment=enrolment, item=items[1], level=3, actor=trainer, at=AT + timedelta(hours=1))
    revoke(record=first, actor=trainer, at=AT + timedelta(hours=2), reason="Te vroeg afgetekend.")
    db.session.commit()
    return db.session.scalars(sa.select(SignOff).order_by(SignOff.sequence)).all()


def verify(runner):  # type: ignore[no-untyped-def]
    return runner.invoke(args=["lms", "ledger", "verify"])


def test_an_empty_ledger_is_ok(runner, db) -> None:
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "OK: 0 records"


def test_an_intact_chain_prints_ok_with_the_count(runner, three_records) -> None:
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "OK: 3 records"


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        ("UPDATE signoffs SET level = 4 WHERE sequence = 2", "does not match the record's content"),
        ("UPDATE signoffs SET note = 'later aangepast' WHERE sequence = 2", "content"),
        (
            "UPDATE signoffs SET previous_hash = '" + "f" * 64 + "' WHERE sequence = 2",
            "previous_hash",
        ),
    ],
)
def test_a_changed_row_is_reported_with_a_non_zero_exit(
    runner, db, three_records, statement: str, problem: str
) -> None:
    tampered = three_records[1]
    db.session.execute(sa.text(statement))
    db.session.commit()
    result = verify(runner)
    assert result.exit_code != 0
    assert f"sequence 2 (id {tampered.id})" in result.output
    assert problem in result.output
    assert not result.output.startswith("OK")


def test_a_deleted_row_is_reported_at_the_record_after_it(runner, db, three_records) -> None:
    # The revocation (sequence 3) points at sequence 1; remove the middle record.
    db.session.execute(sa.text("DELETE FROM signoffs WHERE sequence = 2"))
    db.session.commit()
    result = verify(runner)
    assert result.exit_code == 1
    assert f"sequence 3 (id {three_records[2].id})" in result.output
    assert "missing" in result.output
