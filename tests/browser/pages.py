"""Steps shared by the browser tests: logging in, finding a role's main pages, running axe."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Page

from lms.demo import DEMO_PASSWORD
from tests.browser.conftest import AXE_SCRIPT, LiveServer

DEMO_ACCOUNTS = {
    "coordinator": "coordinator@vakkracht.example",
    "trainer": "trainer1@vakkracht.example",
    "employer": "werkgever1@vakkracht.example",
    "participant": "deelnemer01@vakkracht.example",
}


def log_in(page: Page, server: LiveServer, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(server("/login"))
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("#submit").click()
    page.wait_for_url(lambda url: urlsplit(url).path != "/login")


def switch_language(page: Page, locale: str) -> None:
    # The form posts and redirects: wait for the new page, then for its language (during the swap
    # of documents ``documentElement`` can be null for a moment).
    with page.expect_navigation(wait_until="load"):
        page.locator(f'button[name="locale"][value="{locale}"]').click()
    page.wait_for_function(
        "locale => document.documentElement && document.documentElement.lang === locale", arg=locale
    )


def main_pages(page: Page) -> list[str]:
    """The page shown after login and every page in the site navigation (paths, in order)."""
    paths = [urlsplit(page.url).path]
    for href in page.locator(".site-nav a[href]").evaluate_all("links => links.map(a => a.href)"):
        path = urlsplit(href).path
        if path not in paths:
            paths.append(path)
    return paths


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page, one line each."""
    page.add_script_tag(path=str(AXE_SCRIPT))
    violations = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(" ".join(node["target"]) for node in violation["nodes"][:3])
        for violation in violations
        if violation["impact"] in ("serious", "critical")
    ]


UNREACHABLE_BY_TAB = """
() => {
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary';
  // Inside a closed <details> nothing is shown but its own summary.
  const folded = el => {
    const host = el.tagName === 'SUMMARY' ? el.parentElement.parentElement : el;
    return host !== null && host.closest('details:not([open])') !== null;
  };
  const visible = el => !el.disabled && !folded(el) && el.offsetParent !== null
    && getComputedStyle(el).visibility !== 'hidden';
  const controls = [...document.querySelectorAll(selector)].filter(visible);
  controls.forEach((el, index) => el.dataset.keyboardCheck = String(index));
  return controls.length;
}
"""


def controls_out_of_keyboard_reach(page: Page) -> list[str]:
    """Visible controls that pressing Tab from the top of the page never reaches. Of a group of radio
    buttons one is in the Tab order (the arrow keys choose), so a group counts as reached when one is."""
    count = page.evaluate(UNREACHABLE_BY_TAB)
    page.evaluate(
        "() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }"
    )
    reached: set[str] = set()
    radio_groups: set[str] = set()
    for _ in range(count + 5):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const el = document.activeElement;"
            " return el ? [el.dataset.keyboardCheck || '', el.type === 'radio' ? el.name : ''] : ['', '']; }"
        )
        reached.add(focused[0])
        if focused[1]:
            radio_groups.add(focused[1])
    missing = page.evaluate(
        """([reached, groups]) => [...document.querySelectorAll('[data-keyboard-check]')]
            .filter(el => !reached.includes(el.dataset.keyboardCheck))
            .filter(el => !(el.type === 'radio' && groups.includes(el.name)))
            .map(el => el.outerHTML.slice(0, 120))""",
        [sorted(reached), sorted(radio_groups)],
    )
    return missing
