"""Two real clicks on a form's button while the first request is still on its way: the group sign-off
and the progress review ("Voortgangsgesprek opslaan") are written once.

The server holds the first POST of the form for a moment (after it has claimed the form's submission
token), as a slow connection would. Without JavaScript the browser sends both clicks and the server
answers the second with the first one's result (lms/idempotent_forms.py); with JavaScript the button
is disabled and says it is busy after the first click (lms/static/js/busy-buttons.js), so only one
request leaves the browser.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import g, request

from lms.extensions import db
from lms.models import ProgressReview, SignOff
from tests.browser.conftest import LiveServer
from tests.factories import PASSWORD
from tests.scenarios import build_world

pytestmark = pytest.mark.browser

HOLD_SECONDS = 3.0
CLICK_GAP_MS = 1200


def hold_first_post(server: LiveServer, path_part: str) -> list[str]:
    """Count every POST whose path holds ``path_part`` as it arrives, and hold the first one after it
    claimed its form (as a slow connection would); returns the list of POSTs seen."""
    seen: list[str] = []
    lock = threading.Lock()

    def count() -> None:
        if request.method == "POST" and path_part in request.path:
            with lock:
                seen.append(request.path)
                g.held = len(seen) == 1

    def hold() -> None:
        if g.get("held"):
            time.sleep(HOLD_SECONDS)

    hooks = server.app.before_request_funcs.setdefault(None, [])
    hooks.insert(0, count)  # before the claim: a repeat is answered at the claim
    hooks.append(hold)  # after it: the claim waits, uncommitted, for the route's commit
    return seen


@dataclass
class Facts:
    trainer_email: str
    cohort_id: int
    item_id: int
    enrolment_id: int


def world_of(server: LiveServer) -> Facts:
    with server.app.app_context():
        world = build_world()
        return Facts(
            world.trainer.email,
            world.cohort.id,
            world.signoff.checklist_item_id,
            world.enrolment.id,
        )


def log_in(page, server: LiveServer, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(server("/login"))
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(lambda url: urlsplit(url).path != "/login")


def count(server: LiveServer, model) -> int:  # type: ignore[no-untyped-def]
    with server.app.app_context():
        return int(db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def centre(button) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Where a person taps the button (in view)."""
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def click_twice(page, button) -> None:  # type: ignore[no-untyped-def]
    """Two real mouse clicks on the button while the first answer is still held."""
    x, y = centre(button)
    page.mouse.click(x, y)
    # Chromium drops a repeat of the same navigation within a short time on its own; a person on a
    # slow phone clicks again later than that.
    page.wait_for_timeout(CLICK_GAP_MS)
    page.mouse.click(x, y)


def fill_group_signoff(page, server: LiveServer, world: Facts) -> None:  # type: ignore[no-untyped-def]
    page.goto(server(f"/checklists/cohorts/{world.cohort_id}/bulk?item={world.item_id}"))
    page.locator("input[name=level]").last.check()
    for box in page.locator("input[name=participants]").all():
        box.check()


def fill_review(page, server: LiveServer, world: Facts) -> None:  # type: ignore[no-untyped-def]
    page.goto(server(f"/reviews/enrolments/{world.enrolment_id}"))
    page.locator("input[name=held_on]").fill(time.strftime("%Y-%m-%d"))
    page.locator("textarea[name=summary]").fill("Priya werkt zelfstandig aan de draaibank.")


FORMS = {
    "group sign-off": ("/bulk", fill_group_signoff, SignOff, 2, "form.checklist-form"),
    "review": ("/reviews/enrolments/", fill_review, ProgressReview, 1, "main form[method=post]"),
}


@pytest.mark.parametrize("form_name", sorted(FORMS))
def test_two_clicks_without_javascript_write_once(server, browser, form_name: str) -> None:
    path_part, fill, model, written, form_selector = FORMS[form_name]
    world = world_of(server)
    posts = hold_first_post(server, path_part)
    context = browser.new_context(locale="nl-NL", java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, server, world.trainer_email)
        fill(page, server, world)
        before = count(server, model)
        click_twice(page, page.locator(f"{form_selector} button[type=submit]").first)
        page.wait_for_load_state()
        page.locator(".flash--success").first.wait_for()
        deadline = time.monotonic() + 10
        while len(posts) < 2 and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        assert len(posts) == 2  # both clicks reached the server
        time.sleep(HOLD_SECONDS)  # the first request has finished
        assert count(server, model) == before + written
        # The second answer is the first one's: the success message, no error in red.
        assert page.locator(".flash--error, .alert--error").count() == 0
    finally:
        context.close()


@pytest.mark.parametrize("form_name", sorted(FORMS))
def test_with_javascript_the_button_is_busy_after_the_first_click(
    server, context, form_name: str
) -> None:
    path_part, fill, model, written, form_selector = FORMS[form_name]
    world = world_of(server)
    posts = hold_first_post(server, path_part)
    page = context.new_page()
    log_in(page, server, world.trainer_email)
    fill(page, server, world)
    before = count(server, model)
    button = page.locator(f"{form_selector} button[type=submit]").first
    # While a form's answer is awaited the page answers the test's scripts late: the page notes
    # the button's state itself, where the next page can read it.
    page.evaluate(
        """selector => {
            const b = document.querySelector(selector);
            new MutationObserver(() => sessionStorage.setItem("seen", JSON.stringify(
                [b.disabled, b.textContent.trim(), b.getAttribute("aria-busy")]
            ))).observe(b, {attributes: true, childList: true, characterData: true, subtree: true});
        }""",
        f"{form_selector} button[type=submit]",
    )
    click_twice(page, button)  # the second click finds the button disabled
    page.locator(".flash--success").first.wait_for()
    assert len(posts) == 1
    assert page.evaluate("() => JSON.parse(sessionStorage.getItem('seen'))") == [
        True,
        "Bezig…",
        "true",
    ]
    assert count(server, model) == before + written
    # Back to the form with the back button: the page's buttons work again.
    page.go_back()
    page.wait_for_load_state()
    again = page.locator(f"{form_selector} button[type=submit]").first
    assert again.is_enabled()
    assert again.inner_text() != "Bezig…"
