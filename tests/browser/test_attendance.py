"""A trainer records a training day for a whole group of twelve on a tablet, by touch, in one go; the
participant then sees it on their own page. The form passes axe and every control is in reach of the
keyboard."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, BrowserContext, expect

from lms import clock
from lms.extensions import db
from lms.models import AttendanceRecord, AttendanceStatus, Programme, Role
from lms.models.cohorts import weekday_bits
from lms.services.attendance import training_dates
from lms.services.curriculum import load_curriculum_files
from tests.browser.conftest import LiveServer, open_context
from tests.browser.pages import controls_out_of_keyboard_reach, log_in, serious_violations
from tests.factories import PASSWORD, make_cohort, make_employer, make_enrolment, make_user

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
TABLET = {"width": 820, "height": 1180}
NAMES = [
    ("Anaïs", "Kerckhoffs"),
    ("Bram", "Jansen"),
    ("Chantal", "Vos"),
    ("Daan", "Meijers"),
    ("Esra", "Yilmaz"),
    ("Finn", "Hermans"),
    ("Gijs", "Bemelmans"),
    ("Hanna", "Coenen"),
    ("Ilse", "Dassen"),
    ("Jens", "Frissen"),
    ("Kim", "Geurts"),
    ("Lars", "Houben"),
]


@pytest.fixture
def tablet(browser: Browser, request: pytest.FixtureRequest) -> Iterator[BrowserContext]:
    yield from open_context(
        browser, request, "tablet", viewport=TABLET, is_mobile=True, has_touch=True
    )


def build(server: LiveServer) -> dict[str, object]:
    """A group of twelve that trains on Tuesdays and started eight weeks ago."""
    with server.app.app_context():
        load_curriculum_files(sorted((ROOT / "curriculum").glob("*.yaml")))
        programme = db.session.scalars(sa.select(Programme)).one()
        trainer = make_user(Role.TRAINER, email="trainer@example.org", first_name="Ingrid")
        today = clock.today()
        start = today - timedelta(days=today.weekday(), weeks=8)
        cohort = make_cohort(
            programme,
            name="Parkstad 2026-2027",
            start=start,
            trainers=[trainer],
            training_days=weekday_bits([1]),
        )
        company = make_employer(name="Kerkrade Precisie")
        people = []
        for number, (first, last) in enumerate(NAMES, start=1):
            person = make_user(
                Role.PARTICIPANT,
                email=f"deelnemer{number}@example.org",
                first_name=first,
                last_name=last,
            )
            make_enrolment(cohort, person, company)
            people.append(person.email)
        day = training_dates(cohort, today)[-1]
        db.session.commit()
        return {"trainer": trainer.email, "cohort": cohort.id, "day": day, "people": people}


def test_a_trainer_records_a_whole_group_on_a_tablet_and_the_participant_sees_it(
    server, tablet
) -> None:
    world = build(server)
    page = tablet.new_page()
    log_in(page, server, str(world["trainer"]), PASSWORD)

    # From "Mijn groepen" to the cohort's training days; the newest one is on top, to record.
    page.goto(server("/assessment/"))
    page.get_by_role("link", name="Aanwezigheid").first.tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Aanwezigheid van Parkstad 2026-2027")
    page.get_by_role("link", name="Aanwezigheid registreren").first.tap()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Aanwezigheid op dinsdag")

    # Everyone present to start with: twelve rows, twelve "Aanwezig" chosen.
    rows = page.locator("fieldset.attendance-row")
    expect(rows).to_have_count(12)
    expect(page.locator("input[type=radio][value=present]:checked")).to_have_count(12)
    assert serious_violations(page) == []
    assert controls_out_of_keyboard_reach(page) == []

    # Only the exceptions: one sick (with a note), one late, one away without leave. The choices are
    # large enough to tap.
    bram = page.get_by_role("group", name="Bram Jansen")
    choice = bram.locator("label", has_text="Afwezig: ziek")
    box = choice.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 100
    choice.tap()
    bram.get_by_label("Toelichting (niet verplicht)").fill("Griep, belde om 8 uur")
    page.get_by_role("group", name="Chantal Vos").locator("label", has_text="Te laat").tap()
    page.get_by_role("group", name="Lars Houben").locator(
        "label", has_text="Afwezig: ongeoorloofd"
    ).tap()
    expect(page.locator("input[type=radio][value=present]:checked")).to_have_count(9)
    page.get_by_role("button", name="Aanwezigheid opslaan").tap()
    expect(page.locator(".flash--success")).to_contain_text(
        "opgeslagen: 9 aanwezig, 1 te laat, 2 afwezig."
    )
    expect(page.locator(".attendance-dates__item").first).to_contain_text("Geregistreerd")

    with server.app.app_context():
        statuses = [r.status for r in db.session.scalars(sa.select(AttendanceRecord))]
    assert len(statuses) == 12
    assert statuses.count(AttendanceStatus.PRESENT) == 9

    # Bram sees it on his own page, from the menu.
    tablet.clear_cookies()
    log_in(page, server, world["people"][1], PASSWORD)  # type: ignore[index]
    page.get_by_role("link", name="Aanwezigheid", exact=True).tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mijn aanwezigheid")
    expect(page.locator("main")).to_contain_text("0% aanwezig (0 van 1 trainingsdagen")
    expect(page.locator("tbody tr").first).to_contain_text("afwezig (ziek)")
    expect(page.locator("tbody tr").first).to_contain_text("Griep, belde om 8 uur")
    assert serious_violations(page) == []
