"""The trainer's page for one participant: every assignment (status, last hand-in, verdict), the
checklists with levels, the hours and the reviews, each with a link; reached from the names in the
checklist matrix and the cells of the cohort's heat map."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from lms import clock
from lms.models import ChecklistKind, Verdict
from lms.services import assessment, hours, signoff
from tests.dashboard_world import TODAY, build_world, log_hours, record_review
from tests.factories import make_handed_in_submission


@pytest.fixture
def world(db):
    return build_world()


def _items(world):  # type: ignore[no-untyped-def]
    return {group.kind: group.items[0] for group in world.programme.checklist_groups}


def _work(db, world, *, assignments: int = 1, reviews: int = 1, weeks: int = 1) -> None:
    """Noël's work: hand-ins (the first approved), a technical sign-off, hours and reviews."""
    at = TODAY - timedelta(days=3)
    for number, assignment in enumerate(world.assignments[:assignments]):
        submission = make_handed_in_submission(world.noel_in, assignment, at=at)
        if number == 0:
            assessment.assess_submission(
                submission, actor=world.trainer, verdict=Verdict.APPROVED, feedback="", at=at
            )
    signoff.sign_off(
        enrolment=world.noel_in,
        item=_items(world)[ChecklistKind.TECHNICAL],
        level=3,
        actor=world.trainer,
        at=at,
    )
    for week in range(weeks):
        entry = log_hours(world.noel_in, world.noel, date(2026, 10, 5) + timedelta(weeks=week), 32)
        hours.approve_hours(entry, actor=world.contact, at=at)
    for number in range(reviews):
        record_review(world.noel_in, world.trainer, f"Gesprek {number + 1} over meten.")
    db.session.commit()


def test_the_trainer_sees_all_of_one_participant_with_links(auth, client, db, world) -> None:
    _work(db, world)
    enrolment_id = world.noel_in.id
    first = world.assignments[0]
    auth.login(world.trainer.email)
    with clock.frozen_at(TODAY):
        page = client.get(f"/assessment/participants/{enrolment_id}").get_data(as_text=True)
    assert "<h1>Noël Çelik</h1>" in page
    assert f'id="assignment-{first.code}"' in page
    assert "/assessment/submissions/" in page  # the approved work leads to its assessment
    assert "Goedgekeurd" in page and "27 okt 2026" in page  # verdict, last hand-in
    assert page.count("Nog niet begonnen") == 2  # the two others
    technical = _items(world)[ChecklistKind.TECHNICAL]
    skill = _items(world)[ChecklistKind.SKILL21]
    assert technical.code in page and skill.code in page
    assert "Niveau 3, vereist is" in page
    assert f"/checklists/enrolments/{enrolment_id}" in page
    assert f"/hours/enrolments/{enrolment_id}" in page and "32 van" in page
    assert "/reviews/" in page and f"/reviews/enrolments/{enrolment_id}" in page
    assert "Nog geen werk" not in page


def test_a_participant_without_work_gets_an_empty_state(auth, client, db, world) -> None:
    auth.login(world.trainer.email)
    page = client.get(f"/assessment/participants/{world.bram_in.id}").get_data(as_text=True)
    assert "Nog geen werk" in page
    assert "Nog geen uren" in page and "Nog geen voortgangsgesprekken" in page


def test_only_the_trainer_of_the_cohort_and_the_coordinator_see_it(auth, client, db, world) -> None:
    path = f"/assessment/participants/{world.noel_in.id}"
    for user, status in (
        (world.other_trainer, 404),
        (world.coordinator, 200),
        (world.noel, 404),
        (world.contact, 404),
    ):
        auth.login(user.email)
        assert client.get(path).status_code == status, user.role
        auth.logout()
    auth.login(world.trainer.email)
    assert client.get("/assessment/participants/999999").status_code == 404


def test_the_page_costs_the_same_queries_for_little_or_much_work(
    auth, client, db, world, count_queries
) -> None:
    auth.login(world.trainer.email)
    _work(db, world, assignments=1, reviews=1, weeks=1)
    path = f"/assessment/participants/{world.noel_in.id}"
    client.get(path)  # warm up
    with count_queries() as few:
        assert client.get(path).status_code == 200
    for assignment in world.assignments[1:]:
        make_handed_in_submission(world.noel_in, assignment, at=TODAY - timedelta(days=1))
    for week in range(1, 4):
        log_hours(world.noel_in, world.noel, date(2026, 10, 5) + timedelta(weeks=week), 30)
    record_review(world.noel_in, world.trainer, "Nog een gesprek.")
    signoff.sign_off(
        enrolment=world.noel_in,
        item=_items(world)[ChecklistKind.SKILL21],
        level=2,
        actor=world.trainer,
        at=TODAY - timedelta(days=1),
    )
    db.session.commit()
    with count_queries() as many:
        assert client.get(path).status_code == 200
    assert many.count == few.count


def test_matrix_names_and_heat_map_cells_lead_to_the_page(auth, client, db, world) -> None:
    auth.login(world.trainer.email)
    path = f"/assessment/participants/{world.noel_in.id}"
    matrix = client.get(f"/checklists/cohorts/{world.cohort.id}").get_data(as_text=True)
    assert f'<a href="{path}">Noël Çelik</a>' in matrix
    report = client.get(f"/reports/cohorts/{world.cohort.id}").get_data(as_text=True)
    assert f'<a href="{path}#assignment-{world.assignments[0].code}">' in report
    assert f'<a href="{path}"><text' in report
