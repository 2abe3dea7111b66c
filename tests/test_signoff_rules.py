"""The sign-off service beyond the chain itself: who may sign off, several items and several participants
at once, the matrix's cells, revocation as a new record, and where an item stands (transfers included)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from lms.extensions import db as _db
from lms.models import (
    AuditEvent,
    ChecklistItem,
    EnrolmentStatus,
    Role,
    SignOff,
    SignOffKind,
)
from lms.services import signoff
from lms.services.enrolment import transfer
from lms.services.signoff import Cell, SignOffError, verify_ledger
from tests.factories import (
    make_approved_submission,
    make_cohort,
    make_enrolment,
    make_handed_in_submission,
    make_programme,
    make_user,
)

AT = datetime(2026, 10, 9, 14, 0, tzinfo=UTC)
# Messages are in the default language (Dutch) outside a request.


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    """A cohort with a trainer and three participants; a second cohort with its own trainer."""
    programme = make_programme(assignments=2)
    trainer = make_user(Role.TRAINER)
    other_trainer = make_user(Role.TRAINER)
    cohort = make_cohort(programme, trainers=[trainer], start=date(2026, 9, 7))
    other_cohort = make_cohort(programme, trainers=[other_trainer], start=date(2026, 9, 7))
    enrolments = [make_enrolment(cohort) for _ in range(3)]
    items = {item.code: item for item in db.session.scalars(sa.select(ChecklistItem))}
    return {
        "programme": programme,
        "trainer": trainer,
        "other_trainer": other_trainer,
        "cohort": cohort,
        "other_cohort": other_cohort,
        "enrolments": enrolments,
        "items": items,
    }


def sign(world, enrolment=None, code="T01", level=2, offset=0, **kwargs):  # type: ignore[no-untyped-def]
    arguments = {
        "enrolment": enrolment or world["enrolments"][0],
        "item": world["items"][code],
        "level": level,
        "actor": world["trainer"],
        "at": AT + timedelta(minutes=offset),
    }
    arguments.update(kwargs)
    return signoff.sign_off(**arguments)


def count(db, model=SignOff, *where) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


# --- who may sign off -------------------------------------------------------------------------


def test_nobody_signs_off_their_own_work(db, world) -> None:
    """A trainer of the cohort who is also enrolled in it as a participant cannot sign off for themselves."""
    trainer = world["trainer"]
    own = make_enrolment(world["cohort"], participant=trainer)
    with pytest.raises(SignOffError, match="eigen werk"):
        sign(world, own)
    participant = world["enrolments"][0].participant
    with pytest.raises(SignOffError, match="eigen werk"):
        sign(world, actor=participant)
    assert count(db) == 0


def test_a_trainer_of_another_cohort_is_refused(db, world) -> None:
    with pytest.raises(SignOffError, match="trainer van de groep"):
        sign(world, actor=world["other_trainer"])
    with pytest.raises(SignOffError):
        sign(world, actor=make_user(Role.COORDINATOR))
    with pytest.raises(SignOffError):
        sign(world, actor=make_user(Role.EMPLOYER, employer=world["enrolments"][0].employer))
    assert count(db) == 0


def test_evidence_must_be_approved_work_of_the_participant(db, world) -> None:
    enrolment = world["enrolments"][0]
    first, second = world["programme"].assignments
    waiting = make_handed_in_submission(enrolment, first, at=AT - timedelta(days=1))
    with pytest.raises(SignOffError, match="goedgekeurd"):
        sign(world, evidence=[waiting])
    approved = make_approved_submission(enrolment, second, at=AT - timedelta(days=1))
    record = sign(world, evidence=[approved])
    assert record.evidence == [approved]


def test_an_ended_enrolment_is_not_signed_off(db, world) -> None:
    enrolment = world["enrolments"][0]
    enrolment.status = EnrolmentStatus.WITHDRAWN
    enrolment.ended_on = date(2026, 10, 1)
    with pytest.raises(SignOffError, match="nog in de opleiding"):
        sign(world, enrolment)


# --- several at once --------------------------------------------------------------------------


def test_several_items_for_one_participant_get_a_record_each(db, world) -> None:
    enrolment = world["enrolments"][0]
    approved = make_approved_submission(enrolment, world["programme"].assignments[0], at=AT)
    records = signoff.sign_off_items(
        enrolment=enrolment,
        items=[world["items"]["T01"], world["items"]["D1"]],
        level=3,
        actor=world["trainer"],
        at=AT,
        note="  Gezien in de les.  ",
        evidence=[approved],
    )
    assert [r.checklist_item.code for r in records] == ["T01", "D1"]
    assert all(r.level == 3 and r.note == "Gezien in de les." for r in records)
    assert all(r.evidence == [approved] for r in records)
    assert verify_ledger() == (True, 2, None)
    with pytest.raises(SignOffError):
        signoff.sign_off_items(
            enrolment=enrolment, items=[], level=3, actor=world["trainer"], at=AT
        )


def test_bulk_sign_off_writes_one_record_per_confirmed_participant(db, world) -> None:
    first, second, third = world["enrolments"]
    records = signoff.bulk_sign_off(
        cohort=world["cohort"],
        item=world["items"]["T01"],
        level=2,
        enrolments=[first, third],
        actor=world["trainer"],
        at=AT,
        note="Na de instructie over PBM.",
    )
    assert [r.enrolment_id for r in records] == [first.id, third.id]
    levels = signoff.current_levels([first, second, third])
    item_id = world["items"]["T01"].id
    assert (levels[first.id], levels[second.id], levels[third.id]) == (
        {item_id: 2},
        {},
        {item_id: 2},
    )
    assert count(db, AuditEvent, AuditEvent.action == "signoff.create") == 2
    assert count(db, AuditEvent, AuditEvent.action == "signoff.bulk") == 1


def test_bulk_sign_off_refuses_nobody_and_outsiders(db, world) -> None:
    outsider = make_enrolment(world["other_cohort"])
    arguments = {
        "cohort": world["cohort"],
        "item": world["items"]["T01"],
        "level": 2,
        "actor": world["trainer"],
        "at": AT,
    }
    with pytest.raises(SignOffError, match="minstens één"):
        signoff.bulk_sign_off(enrolments=[], **arguments)
    with pytest.raises(SignOffError, match="in deze groep"):
        signoff.bulk_sign_off(enrolments=[world["enrolments"][0], outsider], **arguments)
    assert count(db) == 0


def test_matrix_cells_write_only_the_changed_ones_with_their_evidence(db, world) -> None:
    first, second, third = world["enrolments"]
    t01, d1 = world["items"]["T01"], world["items"]["D1"]
    sign(world, first, "T01", level=2)
    work = make_approved_submission(second, world["programme"].assignments[0], at=AT)
    records = signoff.sign_off_cells(
        cohort=world["cohort"],
        cells=[
            Cell(first, t01, 2),  # already at 2: unchanged
            Cell(first, d1, 3),
            Cell(second, t01, 1),
            Cell(third, d1, 4),
        ],
        actor=world["trainer"],
        at=AT + timedelta(hours=1),
        note="Matrix na week 5.",
        attach_evidence=True,
    )
    assert [(r.enrolment_id, r.checklist_item_id, r.level) for r in records] == [
        (first.id, d1.id, 3),
        (second.id, t01.id, 1),
        (third.id, d1.id, 4),
    ]
    assert records[1].evidence == [work]  # second's approved work on an assignment linked to T01
    assert records[0].evidence == [] and records[2].evidence == []
    assert all(r.note == "Matrix na week 5." for r in records)
    assert verify_ledger() == (True, 4, None)
    outsider = make_enrolment(world["other_cohort"])
    with pytest.raises(SignOffError):
        signoff.sign_off_cells(
            cohort=world["cohort"], cells=[Cell(outsider, t01, 2)], actor=world["trainer"], at=AT
        )


# --- revocation -------------------------------------------------------------------------------


def test_revocation_is_a_new_record_that_cancels_the_sign_off(db, world) -> None:
    enrolment = world["enrolments"][0]
    earlier = sign(world, level=2)
    later = sign(world, level=3, offset=5)
    later_hash = later.record_hash
    revocation = signoff.revoke(
        record=later,
        actor=world["trainer"],
        at=AT + timedelta(hours=1),
        reason="Verkeerde deelnemer aangeklikt.",
    )
    assert revocation.kind is SignOffKind.REVOCATION
    assert revocation.revokes_id == later.id
    assert revocation.note == "Verkeerde deelnemer aangeklikt."
    assert revocation.signed_by_id == world["trainer"].id
    assert (revocation.sequence, revocation.previous_hash) == (3, later_hash)
    # The revoked record is untouched, and the earlier sign-off counts again.
    db.session.expire_all()
    assert db.session.get(SignOff, later.id).record_hash == later_hash
    assert signoff.current_levels([enrolment])[enrolment.id] == {world["items"]["T01"].id: 2}
    assert signoff.current_signoffs([enrolment])[enrolment.id][world["items"]["T01"].id].id == (
        earlier.id
    )
    assert verify_ledger() == (True, 3, None)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "signoff.revoke"))
    assert event.actor_id == world["trainer"].id
    assert event.details["reason"] == "Verkeerde deelnemer aangeklikt."


def test_revocation_needs_a_reason_and_happens_once(db, world) -> None:
    record = sign(world)
    with pytest.raises(SignOffError, match="reden"):
        signoff.revoke(record=record, actor=world["trainer"], at=AT, reason="   ")
    signoff.revoke(record=record, actor=world["trainer"], at=AT, reason="Fout.")
    with pytest.raises(SignOffError, match="al ingetrokken"):
        signoff.revoke(record=record, actor=world["trainer"], at=AT, reason="Nog eens.")
    revocation = db.session.scalar(sa.select(SignOff).where(SignOff.kind == SignOffKind.REVOCATION))
    with pytest.raises(SignOffError, match="Alleen een aftekening"):
        signoff.revoke(record=revocation, actor=world["trainer"], at=AT, reason="Terug.")
    assert count(db) == 2


def test_only_a_trainer_of_the_cohort_revokes(db, world) -> None:
    record = sign(world)
    participant = world["enrolments"][0].participant
    for actor in (world["other_trainer"], participant, make_user(Role.COORDINATOR)):
        with pytest.raises(SignOffError):
            signoff.revoke(record=record, actor=actor, at=AT, reason="Mag niet.")
    assert count(db) == 1


# --- transfers ------------------------------------------------------------------------------


def test_sign_offs_count_along_the_transfer_chain(db, world) -> None:
    old = world["enrolments"][0]
    t01 = world["items"]["T01"]
    record = sign(world, old, level=3)
    coordinator = make_user(Role.COORDINATOR)
    new = transfer(
        old,
        to_cohort=world["other_cohort"],
        on=date(2026, 10, 20),
        reason="Verhuisd naar Sittard.",
        actor=coordinator,
    )
    assert signoff.enrolment_chains([new])[new.id] == [new.id, old.id]
    assert signoff.current_levels([new, old]) == {new.id: {t01.id: 3}, old.id: {t01.id: 3}}
    # The trainer of the new cohort may revoke it from the new checklist; the old trainer no longer can
    # sign off (the old enrolment has ended).
    with pytest.raises(SignOffError):
        sign(world, old, "D1")
    signoff.revoke(
        record=record,
        actor=world["other_trainer"],
        at=AT + timedelta(days=20),
        reason="Niet gezien in de nieuwe groep.",
        enrolment=new,
    )
    assert signoff.current_levels([new])[new.id] == {}
    # A record of someone else's chain cannot be revoked from this checklist.
    stranger = sign(world, world["enrolments"][1], level=2)
    with pytest.raises(SignOffError, match="niet op de checklist"):
        signoff.revoke(
            record=stranger, actor=world["other_trainer"], at=AT, reason="x", enrolment=new
        )


def test_current_levels_cost_the_same_queries_for_one_or_many(db, world, count_queries) -> None:
    for index, enrolment in enumerate(world["enrolments"]):
        sign(world, enrolment, level=1 + index, offset=index)
    more = world["enrolments"] + [make_enrolment(world["cohort"]) for _ in range(9)]
    with count_queries() as one:
        signoff.current_levels(more[:1])
    with count_queries() as many:
        levels = signoff.current_levels(more)
    assert one.count == many.count == 2
    assert [len(levels[e.id]) for e in more] == [1, 1, 1] + [0] * 9


# --- two trainers at the same moment ----------------------------------------------------------


def test_two_trainers_signing_at_once_get_consecutive_records(app, db, world) -> None:
    """The ledger lock makes the second writer wait for the first to commit, then read the new last
    record; nobody fails on the unique sequence (PostgreSQL: an advisory lock; SQLite: its one write
    lock, taken before the last record is read)."""
    sign(world)  # there is a last record to read
    db.session.commit()
    first_id, second_id = world["enrolments"][0].id, world["enrolments"][1].id
    item_id, trainer_id = world["items"]["D1"].id, world["trainer"].id

    first_appended = threading.Event()
    second_done = threading.Event()
    errors: list[BaseException] = []

    def sign_in_own_transaction(enrolment_id: int, hold: bool) -> None:
        try:
            with app.app_context():
                from lms.models import ChecklistItem, Enrolment, User

                signoff.sign_off(
                    enrolment=_db.session.get(Enrolment, enrolment_id),
                    item=_db.session.get(ChecklistItem, item_id),
                    level=2,
                    actor=_db.session.get(User, trainer_id),
                    at=AT + timedelta(hours=2),
                )
                if hold:
                    first_appended.set()
                    # Keep the transaction open while the other trainer tries to append.
                    assert not second_done.wait(timeout=1.0)
                _db.session.commit()
                _db.session.remove()
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            if not hold:
                second_done.set()
            first_appended.set()

    first = threading.Thread(target=sign_in_own_transaction, args=(first_id, True))
    first.start()
    first_appended.wait(timeout=10)
    second = threading.Thread(target=sign_in_own_transaction, args=(second_id, False))
    second.start()
    first.join(timeout=20)
    second.join(timeout=20)
    assert not errors, errors
    db.session.expire_all()
    assert sorted(db.session.scalars(sa.select(SignOff.sequence))) == [1, 2, 3]
    assert verify_ledger() == (True, 3, None)


# --- the same sign-off twice at the same moment ---------------------------------------------------


def _sign_by_form(enrolment, item, trainer):  # type: ignore[no-untyped-def]
    return signoff.sign_off_items(
        enrolment=enrolment, items=[item], level=3, actor=trainer, at=AT + timedelta(hours=3)
    )


def _sign_by_matrix(enrolment, item, trainer):  # type: ignore[no-untyped-def]
    return signoff.sign_off_cells(
        cohort=enrolment.cohort,
        cells=[Cell(enrolment, item, 3)],
        actor=trainer,
        at=AT + timedelta(hours=3),
    )


@pytest.mark.parametrize(
    ("first_way", "second_way"),
    [("form", "form"), ("form", "matrix"), ("matrix", "form")],
)
def test_the_same_sign_off_twice_at_once_writes_one_record(
    app, db, world, first_way: str, second_way: str
) -> None:
    """The second of two identical sign-offs (the form posted twice, the form and the matrix) waits for
    the ledger lock while the first holds it, then finds the first one's record and writes nothing;
    it answers with that record, as if it had written it."""
    sign(world)  # there is a last record to read
    db.session.commit()
    ways = {"form": _sign_by_form, "matrix": _sign_by_matrix}
    enrolment_id, item_id = world["enrolments"][0].id, world["items"]["D1"].id
    trainer_id = world["trainer"].id
    first_appended = threading.Event()
    second_done = threading.Event()
    answers: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def sign_in_own_transaction(name: str, way: str, hold: bool) -> None:
        try:
            with app.app_context():
                from lms.models import ChecklistItem, Enrolment, User

                records = ways[way](
                    _db.session.get(Enrolment, enrolment_id),
                    _db.session.get(ChecklistItem, item_id),
                    _db.session.get(User, trainer_id),
                )
                answers[name] = [record.id for record in records]
                if hold:
                    first_appended.set()
                    # The other sign-off must wait for this transaction: it holds the ledger lock.
                    assert not second_done.wait(timeout=1.0)
                _db.session.commit()
                _db.session.remove()
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            if not hold:
                second_done.set()
            first_appended.set()

    first = threading.Thread(target=sign_in_own_transaction, args=("first", first_way, True))
    first.start()
    first_appended.wait(timeout=10)
    second = threading.Thread(target=sign_in_own_transaction, args=("second", second_way, False))
    second.start()
    first.join(timeout=20)
    second.join(timeout=20)
    assert not errors, errors
    db.session.expire_all()
    written = db.session.scalars(
        sa.select(SignOff).where(SignOff.checklist_item_id == item_id)
    ).all()
    assert [(r.level, r.enrolment_id) for r in written] == [(3, enrolment_id)]
    assert answers == {"first": [written[0].id], "second": [written[0].id]}
    assert count(db, AuditEvent, AuditEvent.action == "signoff.create") == 2  # T01 and D1 once
    assert verify_ledger() == (True, 2, None)


def test_a_repeated_sign_off_writes_nothing_but_a_different_one_does(db, world) -> None:
    enrolment, t01 = world["enrolments"][0], world["items"]["T01"]
    first = sign(world, level=3, note="Gezien.")
    assert sign(world, level=3, note="Gezien.", offset=1).id == first.id  # the form posted again
    changed = [
        sign(world, level=3, note="Nu met uitleg.", offset=2),  # another note: a new record
        sign(world, level=4, note="Nu met uitleg.", offset=3),  # another level: a new record
    ]
    assert [r.sequence for r in changed] == [2, 3]
    assert signoff.current_levels([enrolment])[enrolment.id] == {t01.id: 4}
    # A revocation repeated with the same reason answers with the first one; another is refused.
    revocation = signoff.revoke(record=changed[1], actor=world["trainer"], at=AT, reason="Fout.")
    again = signoff.revoke(record=changed[1], actor=world["trainer"], at=AT, reason="Fout.")
    assert again.id == revocation.id
    with pytest.raises(SignOffError, match="al ingetrokken"):
        signoff.revoke(record=changed[1], actor=world["trainer"], at=AT, reason="Iets anders.")
    assert count(db) == 4
