"""Checklist pages: who may see and do what, signing off (one participant, several participants, the
matrix), revoking with a confirmation, workplace observations, and what each page shows."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from markupsafe import escape

from lms import clock
from lms.models import (
    AuditEvent,
    ChecklistGroup,
    ChecklistItem,
    Role,
    SignOff,
    SignOffKind,
    WorkplaceObservation,
)
from lms.services.checklists import build_checklist
from lms.services.enrolment import transfer
from lms.services.signoff import sign_off
from tests.concurrency import hold_first_after
from tests.conftest import AuthActions, csrf_token
from tests.factories import (
    make_approved_submission,
    make_cohort,
    make_employer,
    make_enrolment,
    make_programme,
    make_user,
)

AT = datetime(2026, 10, 9, 14, 0, tzinfo=clock.LOCAL_TZ)
LEVELS = [
    {"level": 1, "name": "Met begeleiding", "description": "Met hulp."},
    {"level": 2, "name": "Grotendeels zelfstandig", "description": "Meestal alleen."},
    {"level": 3, "name": "Zelfstandig", "description": "Alleen."},
    {"level": 4, "name": "Instrueert anderen", "description": "Legt uit."},
]


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    """A cohort with a trainer, two participants of one company with its contact, a coordinator; a
    second cohort with its own trainer, participant, company and contact that the first must not reach."""
    programme = make_programme(assignments=2)
    programme.levels = LEVELS
    trainer = make_user(Role.TRAINER, first_name="Ingrid", last_name="Vaessen")
    other_trainer = make_user(Role.TRAINER)
    cohort = make_cohort(
        programme, name="Parkstad 2026-2027", trainers=[trainer], start=date(2026, 9, 7)
    )
    other_cohort = make_cohort(programme, name="Westelijke Mijnstreek", trainers=[other_trainer])
    company = make_employer(name="Kerkrade Precisie B.V.")
    other_company = make_employer(name="Sittard Assemblage B.V.")
    participant = make_user(Role.PARTICIPANT, first_name="Noël", last_name="Çelik")
    colleague = make_user(Role.PARTICIPANT, first_name="Bram", last_name="Jansen")
    outsider = make_user(Role.PARTICIPANT, first_name="Ruud", last_name="Hendriks")
    enrolment = make_enrolment(cohort, participant, company)
    colleague_enrolment = make_enrolment(cohort, colleague, company)
    outsider_enrolment = make_enrolment(other_cohort, outsider, other_company)
    contact = make_user(Role.EMPLOYER, employer=company, first_name="Petra", last_name="Janssen")
    other_contact = make_user(Role.EMPLOYER, employer=other_company)
    coordinator = make_user(Role.COORDINATOR)
    items = {item.code: item for item in db.session.scalars(sa.select(ChecklistItem))}
    work = make_approved_submission(enrolment, programme.assignments[0], at=AT)
    record = sign_off(
        enrolment=enrolment,
        item=items["T01"],
        level=2,
        actor=trainer,
        at=AT,
        note="Droeg de juiste handschoenen bij het slijpen.",
        evidence=[work],
    )
    db.session.commit()
    return {
        "trainer": trainer,
        "other_trainer": other_trainer,
        "coordinator": coordinator,
        "participant": participant,
        "outsider": outsider,
        "contact": contact,
        "other_contact": other_contact,
        "cohort": cohort,
        "other_cohort": other_cohort,
        "enrolment": enrolment,
        "colleague_enrolment": colleague_enrolment,
        "outsider_enrolment": outsider_enrolment,
        "items": items,
        "work": work,
        "record": record,
    }


def records(db, *where):  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return db.session.scalars(sa.select(SignOff).where(*where).order_by(SignOff.sequence)).all()


# --- authorization ----------------------------------------------------------------------------

WHO = [
    "trainer",
    "other_trainer",
    "coordinator",
    "participant",
    "outsider",
    "contact",
    "other_contact",
]


def paths(world) -> dict[str, str]:  # type: ignore[no-untyped-def]
    e, c = world["enrolment"].id, world["cohort"].id
    return {
        "enrolment": f"/checklists/enrolments/{e}",
        "mine": "/checklists/mine",
        "sign": f"/checklists/enrolments/{e}/sign-off",
        "revoke": f"/checklists/signoffs/{world['record'].id}/revoke",
        "observe": f"/checklists/enrolments/{e}/observations",
        "matrix": f"/checklists/cohorts/{c}",
        "bulk": f"/checklists/cohorts/{c}/bulk",
    }


ALLOWED = {
    "enrolment": {"trainer", "coordinator", "participant", "contact"},
    "mine": {"participant", "outsider"},
    "sign": {"trainer"},
    "revoke": {"trainer"},
    "observe": {"contact"},
    "matrix": {"trainer", "coordinator"},
    "bulk": {"trainer"},
}


@pytest.mark.parametrize("who", WHO)
def test_each_page_is_open_to_exactly_the_right_people(auth, client, world, who) -> None:
    auth.login(world[who].email)
    for page, path in paths(world).items():
        status = client.get(path).status_code
        # Refused on a page of a record: 404, as for a record that does not exist.
        refused = 403 if page == "mine" else 404
        assert status == (200 if who in ALLOWED[page] else refused), (page, who, status)


def test_anonymous_visitors_are_sent_to_the_login_page(client, world) -> None:
    for path in [*paths(world).values(), "/checklists/"]:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_unknown_records_are_not_found(auth, client, world) -> None:
    auth.login(world["trainer"].email)
    for path in (
        "/checklists/enrolments/9999",
        "/checklists/enrolments/9999/sign-off",
        "/checklists/signoffs/9999/revoke",
        "/checklists/cohorts/9999",
    ):
        assert client.get(path).status_code == 404, path


def test_the_index_suits_each_role(auth, client, world) -> None:
    auth.login(world["participant"].email)
    assert client.get("/checklists/").headers["Location"] == "/checklists/mine"
    auth.logout()
    auth.login(world["contact"].email)
    page = client.get("/checklists/").get_data(as_text=True)
    assert "Noël Çelik" in page and "Bram Jansen" in page and "Ruud Hendriks" not in page
    assert "Vaktechnische competenties: 1 van 1 afgetekend" in page
    auth.logout()
    auth.login(world["trainer"].email)
    page = client.get("/checklists/").get_data(as_text=True)
    assert f"/checklists/cohorts/{world['cohort'].id}" in page
    assert "Westelijke Mijnstreek" not in page


def test_forbidden_posts_change_nothing(auth, client, db, world) -> None:
    e, item = world["enrolment"], world["items"]["D1"]
    auth.login(world["other_trainer"].email)
    assert (
        auth.post(
            f"/checklists/enrolments/{e.id}/sign-off", {"items": item.id, "level": 2}
        ).status_code
        == 404
    )
    assert (
        auth.post(
            f"/checklists/signoffs/{world['record'].id}/revoke", {"reason": "x", "confirm": "y"}
        ).status_code
        == 404
    )
    assert (
        auth.post(
            f"/checklists/cohorts/{world['cohort'].id}", {f"cell_{e.id}_{item.id}": "3"}
        ).status_code
        == 404
    )
    auth.logout()
    auth.login(world["coordinator"].email)
    assert (
        auth.post(
            f"/checklists/cohorts/{world['cohort'].id}", {f"cell_{e.id}_{item.id}": "3"}
        ).status_code
        == 404
    )
    auth.logout()
    auth.login(world["other_contact"].email)
    assert (
        auth.post(
            f"/checklists/enrolments/{e.id}/observations", {"item": item.id, "note": "Gezien."}
        ).status_code
        == 404
    )
    assert len(records(db)) == 1
    assert db.session.scalar(sa.select(sa.func.count(WorkplaceObservation.id))) == 0


# --- what the pages show ----------------------------------------------------------------------


def test_participant_sees_own_checklists_with_progress_and_no_actions(auth, client, world) -> None:
    auth.login(world["participant"].email)
    page = client.get("/checklists/mine").get_data(as_text=True)
    assert "Mijn checklists" in page
    assert "Vaktechnische competenties: 1 van 1 afgetekend" in page
    assert "21e-eeuwse vaardigheden: 0 van 1 afgetekend" in page
    assert "Niveau 2 · Grotendeels zelfstandig" in page
    assert "afgetekend door Ingrid Vaessen" in page
    assert "Droeg de juiste handschoenen bij het slijpen." in page
    # The evidence by code and title, linked to the participant's own assignment page once it exists.
    assert "A1 · Opdracht 1" in page
    if "portfolio.assignment" in client.application.view_functions:
        assert 'href="/portfolio/assignments/A1"' in page
    assert "Kiest PBM bij de taak" in page  # an indicator
    assert 'class="progress__bar"' in page
    assert "/sign-off" not in page and "/revoke" not in page and "/observations" not in page


def test_trainer_sees_actions_and_evidence_linked_to_the_assessment(auth, client, world) -> None:
    auth.login(world["trainer"].email)
    page = client.get(f"/checklists/enrolments/{world['enrolment'].id}").get_data(as_text=True)
    assert f"/assessment/submissions/{world['work'].id}" in page
    assert f"/checklists/signoffs/{world['record'].id}/revoke" in page
    assert "/sign-off" in page
    assert "/observations" not in page


def test_employer_sees_read_only_checklists_with_the_observation_form(auth, client, world) -> None:
    auth.login(world["contact"].email)
    page = client.get(f"/checklists/enrolments/{world['enrolment'].id}").get_data(as_text=True)
    assert "Checklists van Noël Çelik" in page
    assert "Droeg de juiste handschoenen" in page
    assert "/observations" in page
    assert "/sign-off" not in page and "/revoke" not in page


def test_participant_without_enrolment_gets_an_explanation(auth, client, db) -> None:
    loner = make_user(Role.PARTICIPANT)
    db.session.commit()
    auth.login(loner.email)
    page = client.get("/checklists/mine").get_data(as_text=True)
    assert "Je zit nog niet in een groep" in page


def test_sign_offs_and_observations_before_a_transfer_show_after_it(db, world) -> None:
    contact, enrolment = world["contact"], world["enrolment"]
    from lms.services.checklists import add_observation

    add_observation(
        enrolment=enrolment, item=world["items"]["D1"], actor=contact, note="Logt netjes in.", at=AT
    )
    new = transfer(
        enrolment,
        to_cohort=world["other_cohort"],
        on=date(2026, 10, 20),
        reason="Verhuisd.",
        actor=world["coordinator"],
    )
    checklist = build_checklist(new)
    t01 = checklist.item(world["items"]["T01"].id)
    assert t01.standing is not None and t01.standing.id == world["record"].id and t01.level == 2
    assert [o.note for o in checklist.item(world["items"]["D1"].id).observations] == [
        "Logt netjes in."
    ]
    assert checklist.totals(world["items"]["T01"].kind) == (1, 1)


# --- signing off one participant ----------------------------------------------------------------


def test_trainer_signs_off_several_items_with_a_note_and_evidence(auth, client, db, world) -> None:
    e, items = world["enrolment"], world["items"]
    auth.login(world["trainer"].email)
    form = client.get(f"/checklists/enrolments/{e.id}/sign-off?item={items['D1'].id}").get_data(
        as_text=True
    )
    assert f'value="{items["D1"].id}" checked' in form
    assert "A1" in form  # the approved work to choose from
    response = auth.post(
        f"/checklists/enrolments/{e.id}/sign-off",
        {
            "items": [items["T01"].id, items["D1"].id],
            "level": 3,
            "note": "Na de praktijkles.",
            "evidence": world["work"].id,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/checklists/enrolments/{e.id}#item-{items['T01'].id}"
    new = records(db)[1:]
    assert [(r.checklist_item_id, r.level, r.note) for r in new] == [
        (items["T01"].id, 3, "Na de praktijkles."),
        (items["D1"].id, 3, "Na de praktijkles."),
    ]
    assert all(r.evidence_submission_ids() == [world["work"].id] for r in new)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 onderdelen afgetekend voor Noël Çelik." in page


def test_an_invalid_sign_off_re_renders_with_messages_and_keeps_the_input(
    auth, client, db, world
) -> None:
    auth.login(world["trainer"].email)
    response = auth.post(
        f"/checklists/enrolments/{world['enrolment'].id}/sign-off",
        {"level": 2, "note": "Mijn toelichting"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Kies minstens één onderdeel." in page
    assert "Mijn toelichting" in page
    assert len(records(db)) == 1


# --- revoking ---------------------------------------------------------------------------------


def test_revocation_asks_for_a_reason_and_a_confirmation(auth, client, db, world) -> None:
    path = f"/checklists/signoffs/{world['record'].id}/revoke"
    auth.login(world["trainer"].email)
    page = client.get(path).get_data(as_text=True)
    assert "Weet je het zeker?" in page and "Droeg de juiste handschoenen" in page
    response = auth.post(path, {"reason": "Verkeerde deelnemer."})
    assert response.status_code == 200
    assert "Vink het vakje aan om het intrekken te bevestigen." in response.get_data(as_text=True)
    assert "Verkeerde deelnemer." in response.get_data(as_text=True)
    response = auth.post(path, {"confirm": "y"})
    assert "Geef de reden waarom je intrekt." in response.get_data(as_text=True)
    assert len(records(db)) == 1

    response = auth.post(path, {"reason": "Verkeerde deelnemer.", "confirm": "y"})
    assert response.status_code == 302
    revocation = records(db, SignOff.kind == SignOffKind.REVOCATION)
    assert [(r.revokes_id, r.note, r.signed_by_id) for r in revocation] == [
        (world["record"].id, "Verkeerde deelnemer.", world["trainer"].id)
    ]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "is ingetrokken" in page and "Ingetrokken" in page and "Intrekking" in page
    assert "Vaktechnische competenties: 0 van 1 afgetekend" in page
    # A second attempt is turned away.
    again = auth.post(path, {"reason": "Nog eens.", "confirm": "y"})
    assert again.status_code == 302
    assert len(records(db)) == 2


# --- workplace observations -------------------------------------------------------------------


def test_employer_adds_an_observation_the_trainer_then_sees(auth, client, db, world) -> None:
    e, item = world["enrolment"], world["items"]["D1"]
    auth.login(world["contact"].email)
    form = client.get(f"/checklists/enrolments/{e.id}/observations?item={item.id}").get_data(
        as_text=True
    )
    assert f'<option selected value="{item.id}">' in form or f'value="{item.id}" selected' in form
    # The items are listed in an <optgroup> per checklist group, each item in its own group.
    groups = db.session.scalars(
        sa.select(ChecklistGroup).where(ChecklistGroup.programme_id == item.programme_id)
    ).all()
    assert re.findall(r'<optgroup label="([^"]*)">', form) == [
        str(escape(group.title)) for group in sorted(groups, key=lambda g: g.position)
    ]
    own_group = form.split(f'<optgroup label="{escape(item.group.title)}">', 1)[1]
    assert f'value="{item.id}"' in own_group.split("</optgroup>", 1)[0]
    empty = auth.post(
        f"/checklists/enrolments/{e.id}/observations", {"item": item.id, "note": "  "}
    )
    assert "Schrijf op wat je op het werk hebt gezien." in empty.get_data(as_text=True)
    response = auth.post(
        f"/checklists/enrolments/{e.id}/observations",
        {"item": item.id, "note": "Zet zelf zijn wachtwoord sterk."},
    )
    assert response.status_code == 302
    observation = db.session.scalar(sa.select(WorkplaceObservation))
    assert (observation.enrolment_id, observation.checklist_item_id, observation.author_id) == (
        e.id,
        item.id,
        world["contact"].id,
    )
    assert db.session.scalar(
        sa.select(AuditEvent.action).where(AuditEvent.action == "checklist.observe")
    )
    assert len(records(db)) == 1  # an observation is not a sign-off
    auth.logout()
    auth.login(world["trainer"].email)
    page = client.get(f"/checklists/enrolments/{e.id}").get_data(as_text=True)
    assert (
        "Zet zelf zijn wachtwoord sterk." in page
        and "Petra Janssen (Kerkrade Precisie B.V.)" in page
    )


# --- the cohort matrix ------------------------------------------------------------------------


def test_the_matrix_signs_several_cells_at_once(auth, client, db, world) -> None:
    e, colleague, items = world["enrolment"], world["colleague_enrolment"], world["items"]
    cohort_path = f"/checklists/cohorts/{world['cohort'].id}"
    auth.login(world["trainer"].email)
    page = client.get(f"{cohort_path}?show=technical").get_data(as_text=True)
    assert "Noël Çelik" in page and "Bram Jansen" in page and "Ruud Hendriks" not in page
    assert f'name="cell_{e.id}_{items["T01"].id}"' in page
    assert "min. 2" in page
    # Evidence one click away: on the cell's own page, not in the matrix.
    cell = f"/checklists/enrolments/{e.id}/items/{items['T01'].id}"
    assert f'href="{cell}"' in page and "/assessment/submissions/" not in page
    assert f"/assessment/submissions/{world['work'].id}" in client.get(cell).get_data(as_text=True)

    response = auth.post(
        f"{cohort_path}?show=technical",
        {
            f"cell_{e.id}_{items['T01'].id}": "2",  # the level it already has: unchanged
            f"cell_{colleague.id}_{items['T01'].id}": "1",
            f"cell_{e.id}_{items['D1'].id}": "3",  # not shown in this selection: ignored
            "note": "Groepsles PBM.",
            "attach_evidence": "y",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"{cohort_path}?show=technical"
    new = records(db)[1:]
    assert [(r.enrolment_id, r.checklist_item_id, r.level, r.note) for r in new] == [
        (colleague.id, items["T01"].id, 1, "Groepsles PBM.")
    ]

    response = auth.post(
        f"{cohort_path}?show=skill21",
        {
            f"cell_{e.id}_{items['D1'].id}": "3",
            f"cell_{colleague.id}_{items['D1'].id}": "2",
            "attach_evidence": "y",
        },
    )
    new = records(db)[2:]
    by_enrolment = {r.enrolment_id: r for r in new}
    assert {e_id: r.level for e_id, r in by_enrolment.items()} == {e.id: 3, colleague.id: 2}
    assert by_enrolment[e.id].evidence_submission_ids() == [world["work"].id]  # A1 is linked to D1
    assert by_enrolment[colleague.id].evidence_submission_ids() == []
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 aftekeningen opgeslagen." in page


def test_the_matrix_without_a_choice_says_what_to_do(auth, client, db, world) -> None:
    auth.login(world["trainer"].email)
    response = auth.post(f"/checklists/cohorts/{world['cohort'].id}", {"note": "Niets gekozen"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Kies in minstens één vakje een niveau." in page and "Niets gekozen" in page


def test_the_coordinator_sees_the_matrix_read_only(auth, client, world) -> None:
    auth.login(world["coordinator"].email)
    page = client.get(f"/checklists/cohorts/{world['cohort'].id}").get_data(as_text=True)
    assert "Noël Çelik" in page
    assert 'name="cell_' not in page and "/bulk" not in page


def test_the_matrix_costs_the_same_queries_for_two_or_twelve_participants(
    auth, client, db, world, count_queries
) -> None:
    auth.login(world["trainer"].email)
    path = f"/checklists/cohorts/{world['cohort'].id}?show=technical"
    client.get(path)
    with count_queries() as two:
        assert client.get(path).status_code == 200
    for _ in range(10):
        enrolment = make_enrolment(world["cohort"])
        work = make_approved_submission(enrolment, world["cohort"].programme.assignments[0], at=AT)
        sign_off(
            enrolment=enrolment,
            item=world["items"]["T01"],
            level=1,
            actor=world["trainer"],
            at=AT,
            evidence=[work],
        )
    db.session.commit()
    with count_queries() as twelve:
        assert client.get(path).status_code == 200
    assert two.count == twelve.count


def test_the_checklist_page_costs_the_same_queries_however_many_records(
    auth, client, db, world, count_queries
) -> None:
    auth.login(world["contact"].email)
    path = f"/checklists/enrolments/{world['enrolment'].id}"
    client.get(path)
    with count_queries() as few:
        assert client.get(path).status_code == 200
    for level in (1, 3, 4):
        sign_off(
            enrolment=world["enrolment"],
            item=world["items"]["D1"],
            level=level,
            actor=world["trainer"],
            at=AT,
        )
    db.session.commit()
    with count_queries() as more:
        assert client.get(path).status_code == 200
    assert few.count == more.count


# --- bulk sign-off ----------------------------------------------------------------------------


def test_bulk_sign_off_for_the_ticked_participants(auth, client, db, world) -> None:
    e, colleague, item = world["enrolment"], world["colleague_enrolment"], world["items"]["D1"]
    path = f"/checklists/cohorts/{world['cohort'].id}/bulk"
    auth.login(world["trainer"].email)
    assert "Kies een onderdeel" in client.get(path).get_data(as_text=True)
    page = client.get(f"{path}?item={item.id}").get_data(as_text=True)
    assert "Noël Çelik" in page and "Bram Jansen" in page
    assert (
        "checked" not in page.split("Wie liet het zien?")[1].split("</fieldset>")[0]
    )  # nobody pre-ticked

    nobody = auth.post(
        f"{path}?item={item.id}", {"item": item.id, "level": 2, "note": "Instructie"}
    )
    assert nobody.status_code == 200
    assert "Vink elke deelnemer aan die dit liet zien." in nobody.get_data(as_text=True)
    assert len(records(db)) == 1

    response = auth.post(
        f"{path}?item={item.id}",
        {
            "item": item.id,
            "level": 2,
            "note": "Na de instructie inloggen.",
            "participants": [colleague.id],
        },
    )
    assert response.status_code == 302
    new = records(db)[1:]
    assert [(r.enrolment_id, r.checklist_item_id, r.level, r.note) for r in new] == [
        (colleague.id, item.id, 2, "Na de instructie inloggen.")
    ]
    assert e.id not in [r.enrolment_id for r in new]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "D1 afgetekend voor 1 deelnemer." in page


def test_bulk_sign_off_refuses_participants_of_another_cohort(auth, client, db, world) -> None:
    item = world["items"]["D1"]
    auth.login(world["trainer"].email)
    response = auth.post(
        f"/checklists/cohorts/{world['cohort'].id}/bulk?item={item.id}",
        {"item": item.id, "level": 2, "participants": [world["outsider_enrolment"].id]},
    )
    assert response.status_code == 200  # not a choice on this page
    assert len(records(db)) == 1


def test_a_scale_without_level_names_shows_no_empty_separator(auth, client, db, world) -> None:
    world["cohort"].programme.levels = []  # the curriculum names no levels
    db.session.commit()
    auth.login(world["trainer"].email)
    page = client.get(f"/checklists/enrolments/{world['enrolment'].id}").get_data(as_text=True)
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert "Niveau 2 · afgetekend door Ingrid Vaessen" in text
    assert "Vereist: niveau 2 ·" not in text


# --- the same sign-off twice at the same moment (two browser tabs, a double click) ----------------


def _race(app, first_post, second_post):  # type: ignore[no-untyped-def]
    """Run two requests as two tabs would at the same moment: the first is paused right after it wrote
    its ledger record (so it holds the ledger lock), the second starts then and must wait for the first
    to commit. Returns both responses."""
    first, second, second_waited = hold_first_after("INSERT INTO SIGNOFFS", first_post, second_post)
    assert second_waited, "the second request did not wait for the ledger lock"
    return first, second


def _trainer_tab(app, world):  # type: ignore[no-untyped-def]
    """A browser of the trainer, logged in, with the CSRF token of its session."""
    client = app.test_client()
    AuthActions(client).login(world["trainer"].email)
    return client, csrf_token(client, "/checklists/")


@pytest.mark.parametrize("second_way", ["form", "matrix"])
def test_the_same_sign_off_posted_twice_at_once_is_recorded_once_and_both_succeed(
    app, db, world, second_way: str
) -> None:
    e, d1 = world["enrolment"], world["items"]["D1"]
    cell, item_id = f"cell_{e.id}_{d1.id}", d1.id  # read here: the threads have no app context
    form_path = f"/checklists/enrolments/{e.id}/sign-off"
    matrix_path = f"/checklists/cohorts/{world['cohort'].id}?show=skill21"
    tabs = [_trainer_tab(app, world) for _ in range(2)]

    def post_form(tab):  # type: ignore[no-untyped-def]
        client, token = tab
        return lambda: client.post(
            form_path, data={"items": item_id, "level": 3, "csrf_token": token}
        )

    def post_matrix(tab):  # type: ignore[no-untyped-def]
        client, token = tab
        return lambda: client.post(matrix_path, data={cell: "3", "csrf_token": token})

    second = post_form(tabs[1]) if second_way == "form" else post_matrix(tabs[1])
    first_response, second_response = _race(app, post_form(tabs[0]), second)

    written = records(db, SignOff.checklist_item_id == d1.id)
    assert [(r.enrolment_id, r.level) for r in written] == [(e.id, 3)]
    # Neither tab sees an error: each is told that the sign-off stands.
    assert first_response.status_code == second_response.status_code == 302
    first_page = tabs[0][0].get(first_response.headers["Location"]).get_data(as_text=True)
    second_page = tabs[1][0].get(second_response.headers["Location"]).get_data(as_text=True)
    assert "1 onderdeel afgetekend voor Noël Çelik." in first_page
    expected = (
        "1 onderdeel afgetekend voor Noël Çelik."
        if second_way == "form"
        else "1 aftekening opgeslagen."
    )
    assert expected in second_page


def test_the_same_revocation_posted_twice_at_once_is_recorded_once_and_both_succeed(
    app, db, world
) -> None:
    path = f"/checklists/signoffs/{world['record'].id}/revoke"
    tabs = [_trainer_tab(app, world) for _ in range(2)]

    def post(tab):  # type: ignore[no-untyped-def]
        client, token = tab
        data = {"reason": "Verkeerde deelnemer.", "confirm": "y", "csrf_token": token}
        return lambda: client.post(path, data=data)

    first_response, second_response = _race(app, post(tabs[0]), post(tabs[1]))

    assert len(records(db, SignOff.kind == SignOffKind.REVOCATION)) == 1
    assert first_response.status_code == second_response.status_code == 302
    for (client, _token), response in zip(tabs, (first_response, second_response), strict=True):
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "De aftekening van T01 is ingetrokken." in page
