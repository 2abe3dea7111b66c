"""API keys in a real browser on a phone: make a key (shown once), use it, revoke it after the
question; the key pages and the API reference fit a 390px screen and pass axe."""

from __future__ import annotations

import pytest

from lms.extensions import db
from lms.models import Role
from tests.browser.conftest import PHONE, LiveServer
from tests.browser.pages import log_in, serious_violations
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.browser


def fits(page) -> bool:  # type: ignore[no-untyped-def]
    """Nothing sticks out sideways: no horizontal scrolling on the phone."""
    page.wait_for_load_state()
    return bool(page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"))


def coordinator(server: LiveServer) -> str:
    with server.app.app_context():
        user = make_user(Role.COORDINATOR, email="coordinator@example.org")
        db.session.commit()
        return user.email


def test_make_use_and_revoke_a_key_on_a_phone(server, context) -> None:
    email = coordinator(server)
    page = context.new_page()
    page.set_viewport_size(PHONE)
    log_in(page, server, email, PASSWORD)
    page.get_by_role("link", name="API-sleutels").first.click()
    page.get_by_text("Nog geen API-sleutels").wait_for()
    assert fits(page)
    assert serious_violations(page) == []

    page.get_by_role("link", name="Nieuwe sleutel maken").first.click()
    page.get_by_role("heading", name="Nieuwe API-sleutel maken").wait_for()
    assert fits(page)
    assert serious_violations(page) == []
    page.get_by_label("Naam").fill("HR-koppeling Metaal Heerlen")
    page.get_by_label("Lezen en schrijven (mag ook deelnemers inschrijven)").check()
    page.get_by_role("button", name="Sleutel maken").click()
    page.get_by_role("heading", name="Je nieuwe API-sleutel").wait_for()
    secret = page.locator("#api-key").input_value()
    assert secret.startswith("vkapi_")
    assert fits(page)
    assert serious_violations(page) == []
    answer = page.request.get(
        server("/api/v1/cohorts"), headers={"Authorization": f"Bearer {secret}"}
    )
    assert answer.status == 200

    page.get_by_role("link", name="Ik heb de sleutel gekopieerd").click()
    assert secret not in page.content()
    page.get_by_role("link", name="Intrekken HR-koppeling Metaal Heerlen").click()
    page.get_by_text("Sleutel 'HR-koppeling Metaal Heerlen' intrekken?").wait_for()
    assert fits(page)
    assert serious_violations(page) == []
    page.get_by_role("button", name="Sleutel intrekken").click()
    page.get_by_text("is ingetrokken").wait_for()
    answer = page.request.get(
        server("/api/v1/cohorts"), headers={"Authorization": f"Bearer {secret}"}
    )
    assert answer.status == 401


def test_the_api_reference_fits_a_phone_and_passes_axe(server, context) -> None:
    page = context.new_page()
    page.set_viewport_size(PHONE)
    page.goto(server("/api/v1/docs"))
    page.get_by_role("heading", name="GET /enrolments/{enrolment_id}/assignments").wait_for()
    assert fits(page)
    assert serious_violations(page) == []
