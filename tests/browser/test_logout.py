"""Logging out in a real browser, with and without "Ingelogd blijven op dit apparaat": afterwards the
browser holds no remember cookie, and the cookies saved before the logout get nobody in from a fresh
browser. On a phone, the account page lists the devices, logs out another one, and "Overal uitloggen"
asks first."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from lms.extensions import db
from lms.models import Role
from tests.browser.conftest import PHONE, TIMEOUT_MS, LiveServer
from tests.browser.pages import serious_violations
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.browser

REMEMBER = "remember_token"


def participant(server: LiveServer) -> str:
    with server.app.app_context():
        user = make_user(Role.PARTICIPANT, email="deelnemer@example.org")
        db.session.commit()
        return user.email


def log_in(page, server: LiveServer, email: str, *, remember: bool) -> None:  # type: ignore[no-untyped-def]
    page.goto(server("/login"))
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    if remember:
        page.get_by_label("Ingelogd blijven op dit apparaat").check()
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(lambda url: urlsplit(url).path != "/login")


def lands_on_login(page, server: LiveServer) -> bool:  # type: ignore[no-untyped-def]
    page.goto(server("/portfolio/"))
    return urlsplit(page.url).path == "/login"


def fits(page) -> bool:  # type: ignore[no-untyped-def]
    page.wait_for_load_state()
    return bool(page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"))


@pytest.mark.parametrize("remember", [False, True], ids=["session", "remember"])
def test_logout_leaves_no_way_back_in(server, browser, context, remember: bool) -> None:
    email = participant(server)
    page = context.new_page()
    log_in(page, server, email, remember=remember)
    assert not lands_on_login(page, server)
    saved = context.cookies()
    assert (REMEMBER in {cookie["name"] for cookie in saved}) is remember

    page.get_by_role("button", name="Uitloggen").click()
    page.get_by_text("Je bent uitgelogd.").wait_for()
    assert REMEMBER not in {cookie["name"] for cookie in context.cookies()}
    assert lands_on_login(page, server)

    # Someone who copied the cookies before the logout, in a browser of their own.
    fresh = browser.new_context(locale="nl-NL")
    try:
        fresh.set_default_timeout(TIMEOUT_MS)
        fresh.add_cookies(saved)
        assert lands_on_login(fresh.new_page(), server)
    finally:
        fresh.close()


def test_the_account_page_logs_out_another_device_and_everywhere(server, browser, phone) -> None:
    email = participant(server)
    desk = browser.new_context(locale="nl-NL")
    try:
        desk.set_default_timeout(TIMEOUT_MS)
        desk_page = desk.new_page()
        log_in(desk_page, server, email, remember=True)

        page = phone.new_page()
        page.set_viewport_size(PHONE)
        log_in(page, server, email, remember=True)
        page.goto(server("/profile"))
        devices = page.locator(".device-list__item")
        assert devices.count() == 2
        assert "Dit apparaat" in devices.nth(0).inner_text()
        assert fits(page)
        assert serious_violations(page) == []

        devices.nth(1).get_by_role("button", name="Uitloggen").click()
        page.get_by_text("is uitgelogd.").wait_for()
        assert page.locator(".device-list__item").count() == 1
        assert lands_on_login(desk_page, server)
        assert REMEMBER not in {cookie["name"] for cookie in desk.cookies()}

        log_in(desk_page, server, email, remember=False)
        page.goto(server("/profile"))
        page.get_by_role("link", name="Overal uitloggen").click()
        page.get_by_role("heading", name="Uitloggen op al je apparaten?").wait_for()
        assert fits(page)
        assert serious_violations(page) == []
        page.get_by_role("button", name="Overal uitloggen").click()
        page.get_by_text("Je bent op al je apparaten uitgelogd").wait_for()
        assert REMEMBER not in {cookie["name"] for cookie in phone.cookies()}
        assert lands_on_login(page, server)
        assert lands_on_login(desk_page, server)
    finally:
        desk.close()
