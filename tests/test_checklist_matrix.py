"""The cohort matrix at full size: 12 participants by the 32 technical items of the real curriculum, with
a sign-off (note and evidence) in every cell, stays under 150 KB of HTML and 10 SQL statements, sends
levels only (no <select> per cell, no notes or evidence), and reads levels along transfer chains as the
ledger does. What stands behind a cell is on the cell's own page, loaded when it is opened."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa

from lms import clock
from lms.models import ChecklistItem, ChecklistKind, Programme, Role, SignOff
from lms.services import checklists as checklist_service
from lms.services import signoff as signoff_service
from lms.services.checklists import add_observation
from lms.services.curriculum import load_curriculum_files
from lms.services.enrolment import transfer
from tests.factories import (
    make_approved_submission,
    make_cohort,
    make_employer,
    make_enrolment,
    make_user,
)

ROOT = Path(__file__).resolve().parent.parent
AT = datetime(2026, 10, 9, 14, 0, tzinfo=clock.LOCAL_TZ)
LIMIT_BYTES = 150_000
LIMIT_STATEMENTS = 10
NOTE = (
    "Groepsles PBM en slijpen: droeg de juiste handschoenen en bril, legde het uit aan een collega."
)
NAMES = [
    ("Anaïs", "Kerckhoffs-Vandenberghe"),
    ("Gökhan", "Erdoğan"),
    ("Noël", "Çelik"),
    ("Bram", "Jansen"),
    ("Maximiliaan", "van der Heijden-Ubachs"),
    ("Sanne", "Ubachs"),
    ("Fatima", "El Idrissi"),
    ("Jean-Pierre", "Dautzenberg"),
    ("Ruud", "Hendriks"),
    ("Lieke", "Schoonbrood"),
    ("Dmitri", "Wojciechowski"),
    ("Yasmina", "Bouzambou"),
]


def real_programme(db) -> Programme:  # type: ignore[no-untyped-def]
    programme = db.session.scalars(sa.select(Programme)).one_or_none()
    if programme is None:
        load_curriculum_files(sorted((ROOT / "curriculum").glob("*.yaml")))
        programme = db.session.scalars(sa.select(Programme)).one()
    return programme


def technical_items(db, programme: Programme) -> list[ChecklistItem]:  # type: ignore[no-untyped-def]
    return [
        item
        for group in programme.checklist_groups
        if group.kind is ChecklistKind.TECHNICAL
        for item in group.items
    ]


def full_cohort(db, participants: int, *, signed: bool):  # type: ignore[no-untyped-def]
    """A cohort of the real programme with ``participants`` participants; with ``signed``, every
    technical item of every participant signed off with a note and the approved work as evidence, one
    item signed off, revoked and signed off again."""
    programme = real_programme(db)
    trainer = make_user(Role.TRAINER, email=f"trainer-{participants}@example.org")
    cohort = make_cohort(programme, name=f"Parkstad {participants}", trainers=[trainer])
    company = make_employer(name=f"Kerkrade Precisie {participants} B.V.")
    enrolments = [
        make_enrolment(
            cohort, make_user(Role.PARTICIPANT, first_name=first, last_name=last), company
        )
        for first, last in NAMES[:participants]
    ]
    items = technical_items(db, programme)
    if signed:
        for enrolment in enrolments:
            for assignment in programme.assignments[:4]:
                make_approved_submission(enrolment, assignment, at=AT)
        records = signoff_service.sign_off_cells(
            cohort=cohort,
            cells=[
                signoff_service.Cell(enrolment, item, 1 + (n % 4))
                for enrolment in enrolments
                for n, item in enumerate(items)
            ],
            actor=trainer,
            at=AT,
            note=NOTE,
            attach_evidence=True,
        )
        assert len(records) == participants * len(items)
        signoff_service.revoke(record=records[0], actor=trainer, at=AT, reason="Verkeerd vakje.")
    db.session.commit()
    return cohort, trainer, enrolments, items


def test_the_full_matrix_of_twelve_by_thirty_two_is_small_and_sends_no_history(
    auth, client, db
) -> None:
    cohort, trainer, enrolments, items = full_cohort(db, 12, signed=True)
    assert len(items) == 32
    auth.login(trainer.email)
    response = client.get(f"/checklists/cohorts/{cohort.id}?show=technical")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    size = len(response.get_data())
    assert size < LIMIT_BYTES, f"{size} bytes"
    # Every cell is there, with a light control: a number field per cell, the only <select> the
    # selection of items above the table.
    cells = re.findall(r'<input type="number" name="cell_(\d+)_(\d+)"', page)
    assert len(cells) == 12 * 32
    assert {(int(e), int(i)) for e, i in cells} == {(e.id, i.id) for e in enrolments for i in items}
    assert page.count("<select") == 1
    # Levels only: no note, no evidence link, no one who signed off; each cell links to its own page.
    assert NOTE not in page and "/assessment/submissions/" not in page
    assert trainer.last_name not in page.split("<table")[1]
    assert page.count(f'href="/checklists/enrolments/{enrolments[0].id}/items/') == 32
    assert '<script src="/static/js/matrix.js' in page


def test_the_matrix_costs_the_same_statements_empty_or_full(
    auth, client, db, count_queries
) -> None:
    cohort, trainer, _, _ = full_cohort(db, 2, signed=False)
    auth.login(trainer.email)
    path = f"/checklists/cohorts/{cohort.id}?show=technical"
    client.get(path)
    with count_queries() as empty:
        assert client.get(path).status_code == 200
    auth.logout()

    big, big_trainer, _, _ = full_cohort(db, 12, signed=True)
    auth.login(big_trainer.email)
    path = f"/checklists/cohorts/{big.id}?show=technical"
    client.get(path)
    with count_queries() as full:
        assert client.get(path).status_code == 200
    assert full.count == empty.count, full.statements
    assert full.count <= LIMIT_STATEMENTS, full.statements


def test_matrix_levels_equal_the_ledgers_along_transfers_and_revocations(db) -> None:
    cohort, trainer, enrolments, items = full_cohort(db, 3, signed=True)
    # One participant arrives from another cohort with sign-offs made there; one record is revoked.
    other_trainer = make_user(Role.TRAINER)
    other = make_cohort(cohort.programme, name="Westelijke Mijnstreek", trainers=[other_trainer])
    newcomer = make_enrolment(other)
    signoff_service.sign_off(
        enrolment=newcomer, item=items[5], level=3, actor=other_trainer, at=AT, note="Daar gedaan."
    )
    moved = transfer(
        newcomer,
        to_cohort=cohort,
        on=date(2026, 10, 20),
        reason="Verhuisd.",
        actor=make_user(Role.COORDINATOR),
    )
    db.session.commit()
    active = checklist_service.active_enrolments(cohort)
    assert moved.id in {e.id for e in active}
    grid = checklist_service.build_matrix(
        cohort, checklist_service.programme_items(cohort.programme_id).select("technical")[1]
    )
    ledger = signoff_service.current_levels(active)
    item_ids = {item.id for item in items}
    wanted = {
        e.id: {item_id: level for item_id, level in ledger[e.id].items() if item_id in item_ids}
        for e in active
    }
    assert grid.reached == wanted
    assert grid.reached[moved.id] == {items[5].id: 3}
    assert items[0].id not in grid.reached[enrolments[0].id]  # the revoked record does not count


def test_a_level_that_is_not_on_the_scale_is_refused_with_a_message(auth, client, db) -> None:
    cohort, trainer, enrolments, items = full_cohort(db, 2, signed=False)
    auth.login(trainer.email)
    path = f"/checklists/cohorts/{cohort.id}?show=technical"
    first, second = (
        f"cell_{enrolments[0].id}_{items[0].id}",
        f"cell_{enrolments[1].id}_{items[1].id}",
    )
    response = auth.post(path, {first: "7", second: "3"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Typ in een vakje een niveau van 1 tot en met 4, of laat het leeg." in page
    assert (
        f'name="{first}" min="1" max="4" aria-labelledby="nl p{enrolments[0].id} i{items[0].id}" value="7" aria-invalid="true"'
        in page
    )
    assert (
        f'name="{second}" min="1" max="4" aria-labelledby="nl p{enrolments[1].id} i{items[1].id}" value="3">'
        in page
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SignOff)) == 0
    for garbage in ("abc", " 2x", "0", "-1", "1.5", "٣", "9" * 300):
        response = auth.post(path, {first: garbage})
        assert response.status_code == 200, garbage
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SignOff)) == 0
    response = auth.post(path, {first: " 2 ", second: "4"})
    assert response.status_code == 302
    db.session.expire_all()
    assert sorted(db.session.scalars(sa.select(SignOff.level))) == [2, 4]


def test_the_cell_page_shows_the_standing_the_history_the_evidence_and_observations(
    auth, client, db
) -> None:
    cohort, trainer, enrolments, items = full_cohort(db, 2, signed=True)
    enrolment, item = enrolments[0], items[0]  # signed off, revoked: stands at nothing
    contact = make_user(Role.EMPLOYER, employer=enrolment.employer)
    add_observation(enrolment=enrolment, item=item, actor=contact, note="Zag het vandaag.", at=AT)
    db.session.commit()
    path = f"/checklists/enrolments/{enrolment.id}/items/{item.id}"

    auth.login(trainer.email)
    matrix = client.get(f"/checklists/cohorts/{cohort.id}?show=technical").get_data(as_text=True)
    assert f'href="{path}"' in matrix
    page = client.get(path).get_data(as_text=True)
    assert item.code in page and item.title in page
    assert "Nog niet afgetekend." in page
    assert "Verkeerd vakje." in page and NOTE in page  # the revocation and the revoked record
    assert "Zag het vandaag." in page
    work = (
        db.session.scalars(
            sa.select(SignOff).where(
                SignOff.enrolment_id == enrolment.id, SignOff.checklist_item_id == item.id
            )
        )
        .first()
        .evidence
    )
    for submission in work:
        assert f"/assessment/submissions/{submission.id}" in page
    assert f"/checklists/enrolments/{enrolment.id}/sign-off?item={item.id}" in page

    standing = f"/checklists/enrolments/{enrolment.id}/items/{items[1].id}"
    page = client.get(standing).get_data(as_text=True)
    assert NOTE in page and "Intrekken" in page
    # An item that is not in the programme is not found.
    assert client.get(f"/checklists/enrolments/{enrolment.id}/items/999999").status_code == 404
    auth.logout()
    auth.login(contact.email)
    assert client.get(path).status_code == 200


def test_the_cell_page_costs_the_same_statements_however_long_the_history(
    auth, client, db, count_queries
) -> None:
    cohort, trainer, enrolments, items = full_cohort(db, 1, signed=False)
    enrolment, item = enrolments[0], items[0]
    path = f"/checklists/enrolments/{enrolment.id}/items/{item.id}"
    auth.login(trainer.email)

    def sign(level: int) -> None:
        submission = make_approved_submission(enrolment, cohort.programme.assignments[level], at=AT)
        signoff_service.sign_off(
            enrolment=enrolment, item=item, level=level, actor=trainer, at=AT, evidence=[submission]
        )
        db.session.commit()

    sign(1)
    client.get(path)
    with count_queries() as one:
        assert client.get(path).status_code == 200
    for level in (2, 3, 4):
        sign(level)
    with count_queries() as four:
        assert client.get(path).status_code == 200
    assert four.count == one.count, four.statements


def test_a_coordinator_sees_levels_and_cell_pages_but_no_fields(auth, client, db) -> None:
    cohort, _, enrolments, items = full_cohort(db, 2, signed=True)
    coordinator = make_user(Role.COORDINATOR)
    db.session.commit()
    auth.login(coordinator.email)
    page = client.get(f"/checklists/cohorts/{cohort.id}?show=technical").get_data(as_text=True)
    assert 'name="cell_' not in page and "level-picker" not in page and "matrix.js" not in page
    assert f'href="/checklists/enrolments/{enrolments[0].id}/items/{items[1].id}"' in page
    assert (
        client.get(f"/checklists/enrolments/{enrolments[0].id}/items/{items[1].id}").status_code
        == 200
    )
    assert auth.post(f"/checklists/cohorts/{cohort.id}", {}).status_code == 404
