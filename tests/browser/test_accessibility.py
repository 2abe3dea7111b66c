"""Every main page of every role, in Dutch and in English: no serious or critical axe-core findings,
and every control reachable with the keyboard alone."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.pages import (
    DEMO_ACCOUNTS,
    controls_out_of_keyboard_reach,
    log_in,
    main_pages,
    serious_violations,
    switch_language,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("locale", ["nl", "en"])
@pytest.mark.parametrize("role", sorted(DEMO_ACCOUNTS))
def test_main_pages_have_no_serious_accessibility_findings(
    demo_server, context, role, locale
) -> None:
    page = context.new_page()
    log_in(page, demo_server, DEMO_ACCOUNTS[role])
    switch_language(page, locale)  # the choice is kept on the account: set it either way
    paths = main_pages(page)
    assert len(paths) >= 2, f"{role} has no navigation"
    findings = {}
    for path in paths:
        page.goto(demo_server(path))
        assert page.evaluate("() => document.documentElement.lang") == locale
        found = serious_violations(page)
        if found:
            findings[path] = found
    assert findings == {}


def test_public_pages_have_no_serious_accessibility_findings(demo_server, context) -> None:
    page = context.new_page()
    for path in ("/login",):
        page.goto(demo_server(path))
        assert serious_violations(page) == [], path


@pytest.mark.parametrize("role", sorted(DEMO_ACCOUNTS))
def test_every_control_of_the_main_pages_is_reached_with_the_tab_key(
    demo_server, context, role
) -> None:
    page = context.new_page()
    log_in(page, demo_server, DEMO_ACCOUNTS[role])
    unreachable = {}
    for path in main_pages(page):
        page.goto(demo_server(path))
        missing = controls_out_of_keyboard_reach(page)
        if missing:
            unreachable[path] = missing
    assert unreachable == {}


def test_logging_in_with_the_keyboard_alone(demo_server, context) -> None:
    page = context.new_page()
    page.goto(demo_server("/login"))
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'email'")
    # The e-mail field has the focus when the page opens; Tab moves on, Enter sends the form.
    page.keyboard.type(DEMO_ACCOUNTS["participant"])
    page.keyboard.press("Tab")
    page.keyboard.type("vakkracht-demo")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: urlsplit(url).path != "/login")
    assert urlsplit(page.url).path == "/dashboard/participant"


@pytest.mark.parametrize("role", sorted(DEMO_ACCOUNTS))
def test_on_a_phone_every_menu_item_is_in_sight(demo_server, phone, role) -> None:
    """A menu that scrolls sideways hides its last items from whoever does not think to swipe."""
    page = phone.new_page()
    log_in(page, demo_server, DEMO_ACCOUNTS[role])
    width = page.viewport_size["width"]
    outside = page.locator(".site-nav a").evaluate_all(
        f"links => links.filter(a => a.getBoundingClientRect().right > {width})"
        ".map(a => a.textContent.trim())"
    )
    assert outside == []
