"""Status badges on a phone (390px): a badge's text stays on one line, so it never breaks inside a
word ("Goedgekeur / d" on /hours/ once), and no badge sticks out of the screen."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import PHONE
from tests.browser.pages import DEMO_ACCOUNTS, log_in, main_pages

pytestmark = pytest.mark.browser

# One rectangle per line of the badge's text: a Range over its contents sees the lines that an
# inline-block's own box hides.
BROKEN_BADGES = """
width => [...document.querySelectorAll('.status, .badge')]
  .filter(el => el.offsetParent !== null && el.textContent.trim())
  .map(el => {
    const range = document.createRange();
    range.selectNodeContents(el);
    const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
    const box = el.getBoundingClientRect();
    return {text: el.textContent.trim().replace(/\\s+/g, ' '), lines: tops.size,
            outside: box.left < 0 || box.right > width + 1};
  })
  .filter(found => found.lines > 1 || found.outside)
"""


def record_pages(page, seen: set[str]) -> list[str]:  # type: ignore[no-untyped-def]
    """Links on the page to one record's page (a path with an id), one of each kind."""
    found = []
    for href in page.locator("main a[href]").evaluate_all("links => links.map(a => a.href)"):
        path = urlsplit(href).path
        shape = re.sub(r"/\d+", "/N", path)
        download = "export" in path or path.endswith((".pdf", ".zip", ".csv", ".json", ".jwt"))
        if re.search(r"/\d+", path) and shape not in seen and not download:
            seen.add(shape)
            found.append(path)
    return found


@pytest.mark.parametrize("role", sorted(DEMO_ACCOUNTS))
def test_no_badge_wraps_on_a_phone(demo_server, phone, role) -> None:
    page = phone.new_page()
    log_in(page, demo_server, DEMO_ACCOUNTS[role])
    paths = main_pages(page)
    if "/hours/" not in paths and role == "participant":
        paths.append("/hours/")
    seen: set[str] = set()
    broken, badges = {}, 0
    for path in list(paths):  # the main pages, and a few record pages linked from each
        page.goto(demo_server(path))
        paths += [more for more in record_pages(page, seen) if more not in paths][:4]
    for path in paths:
        page.goto(demo_server(path))
        badges += page.locator(".status, .badge").count()
        found = page.evaluate(BROKEN_BADGES, PHONE["width"])
        if found:
            broken[path] = found
    assert badges > 0, "no badges seen: the test would pass on anything"
    assert broken == {}
