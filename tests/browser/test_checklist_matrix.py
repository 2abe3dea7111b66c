"""The cohort matrix in a real browser, with the keyboard only: the script turns every cell's number field
into one button that opens the shared level picker; a trainer signs off two cells (one through the
picker, one with a digit key) and saves once. The page passes axe."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from lms.extensions import db
from lms.models import ChecklistKind, Programme, Role, SignOff
from lms.services.curriculum import load_curriculum_files
from tests.browser.conftest import LiveServer
from tests.browser.pages import log_in, serious_violations
from tests.factories import PASSWORD, make_cohort, make_enrolment, make_user

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ACTIVE = "document.activeElement"


def build(server: LiveServer) -> dict[str, object]:
    with server.app.app_context():
        load_curriculum_files(sorted((ROOT / "curriculum").glob("*.yaml")))
        programme = db.session.scalars(sa.select(Programme)).one()
        trainer = make_user(Role.TRAINER, email="trainer@example.org")
        cohort = make_cohort(programme, name="Parkstad 2026-2027", trainers=[trainer])
        for first, last in (("Anaïs", "Kerckhoffs"), ("Bram", "Jansen"), ("Noël", "Çelik")):
            make_enrolment(cohort, make_user(Role.PARTICIPANT, first_name=first, last_name=last))
        technical = sum(
            len(group.items)
            for group in programme.checklist_groups
            if group.kind is ChecklistKind.TECHNICAL
        )
        db.session.commit()
        return {"trainer": trainer.email, "cohort": cohort.id, "technical": technical}


def tab_to(page: Page, test: str, limit: int = 300) -> None:
    """Press Tab until the focused element passes ``test`` (a JavaScript expression on ``el``)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = {ACTIVE}; return Boolean({test}); }})()"):
            return
    pytest.fail(f"Tab never reached an element where {test}")


def focused_cell(page: Page) -> str:
    return str(page.evaluate(f"{ACTIVE}.parentNode.querySelector('input').name"))


def test_a_trainer_signs_off_two_cells_with_the_keyboard(server, context) -> None:
    world = build(server)
    page = context.new_page()
    log_in(page, server, str(world["trainer"]), PASSWORD)
    page.goto(server(f"/checklists/cohorts/{world['cohort']}?show=technical"))

    # Enhanced: a button per cell, the fields hidden, one picker.
    cells = 3 * int(world["technical"])  # type: ignore[call-overload]
    assert page.locator("td.mc button.mc__button").count() == cells
    assert page.locator("td.mc input[type=hidden]").count() == cells
    assert page.locator("input[type=number]").count() == 0
    assert serious_violations(page) == []

    # The first cell, by Tab: Enter opens the picker on its choice (unchanged), three steps down is
    # level 3, Enter chooses it.
    tab_to(page, "el.classList.contains('mc__button')")
    first = focused_cell(page)
    page.keyboard.press("Enter")
    picker = page.locator("#level-picker")
    assert picker.is_visible()
    assert page.evaluate(f"{ACTIVE}.dataset.level") == ""
    assert page.evaluate(f"{ACTIVE}.getAttribute('aria-pressed')") == "true"
    assert serious_violations(page) == []
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert picker.is_hidden()
    assert focused_cell(page) == first  # focus back on the cell
    assert "→ 3" in str(page.evaluate(f"{ACTIVE}.textContent"))

    # The next participant's cell below it: arrow down, then the digit 2 sets the level directly.
    page.keyboard.press("ArrowDown")
    second = focused_cell(page)
    assert second != first and second.split("_")[2] == first.split("_")[2]
    page.keyboard.press("2")
    assert "→ 2" in str(page.evaluate(f"{ACTIVE}.textContent"))
    # The count is written by the same key handler: waited for, as a busy machine may lag.
    expect(page.locator("#matrix-pending")).to_have_text(re.compile(r"2\s*$"))

    tab_to(page, "el.type === 'submit' && el.closest('.matrix-save')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.get_by_text("2 aftekeningen opgeslagen.").wait_for()

    with server.app.app_context():
        written = {
            f"cell_{record.enrolment_id}_{record.checklist_item_id}": record.level
            for record in db.session.scalars(sa.select(SignOff))
        }
    assert written == {first: 3, second: 2}
    # The saved levels show in the cells.
    assert page.locator("td.mc.l3").count() == 1 and page.locator("td.mc.l2").count() == 1

    # What stands behind a cell is fetched only when asked: the picker links to the cell's own page.
    page.locator("td.mc.l3 button").focus()
    page.keyboard.press("Enter")
    details = page.locator("#picker-details")
    assert details.get_attribute("href").endswith(f"/items/{first.split('_')[2]}")
    with page.expect_navigation():
        details.click()
    page.get_by_role("heading", name="Waar het staat").wait_for()
    assert "Niveau 3" in page.locator(".signoff .signoff__line").first.inner_text()
    assert serious_violations(page) == []
