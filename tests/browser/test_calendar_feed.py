"""The calendar subscription on a phone: a participant goes from their home page to "Agenda op je
telefoon", makes the link, sees it in full (copy button, webcal link), the feed it names answers with
their year; they revoke it after the question and it stops working. Every page fits a 390px screen
and passes axe."""

from __future__ import annotations

from datetime import date

import icalendar
import pytest

from lms.extensions import db
from lms.models import Role
from lms.services import school_calendar
from tests.browser.conftest import LiveServer
from tests.browser.pages import log_in, serious_violations
from tests.factories import PASSWORD, make_cohort, make_enrolment, make_programme, make_user

pytestmark = pytest.mark.browser


def fits(page) -> bool:  # type: ignore[no-untyped-def]
    """Nothing sticks out sideways: no horizontal scrolling on the phone."""
    page.wait_for_load_state()
    return bool(page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"))


def participant(server: LiveServer) -> str:
    with server.app.app_context():
        school_calendar.load_calendar_files(school_calendar.calendar_files())
        cohort = make_cohort(make_programme(), name="Parkstad 2026", start=date(2026, 9, 7))
        person = make_user(Role.PARTICIPANT, email="priya@example.org", first_name="Priya")
        make_enrolment(cohort, person)
        db.session.commit()
        return person.email


def test_subscribe_on_a_phone_see_the_link_and_revoke_it(server, phone) -> None:
    email = participant(server)
    phone.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = phone.new_page()
    log_in(page, server, email, PASSWORD)
    page.get_by_role("link", name="Agenda op je telefoon").first.click()
    page.get_by_role("heading", name="Agenda op je telefoon").wait_for()
    page.get_by_text("Parkstad 2026").first.wait_for()
    assert fits(page)
    assert serious_violations(page) == []

    page.get_by_role("button", name="Abonneer in je agenda").click()
    page.get_by_role("heading", name="Agenda-abonnement").wait_for()
    field = page.get_by_label("Je agendalink")
    url = field.input_value()
    assert url.startswith(server("/calendar/")) and url.endswith(".ics")
    assert field.is_visible()
    subscribe = page.get_by_role("link", name="Abonneer in je agenda")
    assert subscribe.get_attribute("href") == "webcal://" + url.split("://", 1)[1]
    page.get_by_role("heading", name="iPhone of iPad").wait_for()
    page.get_by_role("heading", name="Android").wait_for()
    assert fits(page)
    assert serious_violations(page) == []

    # The copy button (shown by its script) puts the link on the clipboard and says so.
    page.get_by_role("button", name="Kopieer link").click()
    page.get_by_text("Gekopieerd").wait_for()
    assert page.evaluate("() => navigator.clipboard.readText()") == url

    answer = page.request.get(url)
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/calendar")
    feed = icalendar.Calendar.from_ical(answer.body())
    summaries = {str(event["summary"]) for event in feed.walk("VEVENT")}
    assert "A1 inleveren: Opdracht 1" in summaries and "Geen programma: Kerstvakantie" in summaries

    page.get_by_role("link", name="Klaar").click()
    page.get_by_role("heading", name="Agenda op je telefoon").wait_for()
    assert url not in page.content()  # shown once
    page.get_by_role("button", name="Maak een nieuwe link").wait_for()
    assert fits(page)
    assert serious_violations(page) == []
    page.get_by_role("link", name="Link intrekken").click()
    page.get_by_role("heading", name="Je agendalink intrekken?").wait_for()
    assert fits(page)
    assert serious_violations(page) == []
    page.get_by_role("button", name="Link intrekken").click()
    page.get_by_text("Je agendalink is ingetrokken").wait_for()
    assert page.request.get(url).status == 404
