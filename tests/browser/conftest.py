"""Browser tests: the application served on a free port in a thread, driven by Debian's Chromium.

Chromium comes from the Debian package (``make test`` installs it where it is missing); Playwright only
drives it. Each test gets its own database, server and browser context. When a test fails, a screenshot
of every open page of its browser contexts is saved in ``tests/artifacts/``.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright
from werkzeug.serving import make_server

from lms import create_app
from lms.demo import load_demo_data
from lms.extensions import db
from lms.services.curriculum import load_curriculum_files
from tests.conftest import make_config

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
TIMEOUT_MS = 20_000  # shared, busy machines: generous, never a timing assertion


def chromium_path() -> str:
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    found = shutil.which("chromium")
    if not found:
        pytest.fail(
            "Chromium is not installed: `make test` installs it (apt-get install chromium)."
        )
    return found


@dataclass
class LiveServer:
    app: Flask
    url: str

    def __call__(self, path: str) -> str:
        return self.url + path


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


def serve(app: Flask) -> Iterator[LiveServer]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = url  # links in mail lead to this server
    try:
        yield LiveServer(app, url)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


def make_app(folder: Path) -> Flask:
    app = create_app(make_config(f"sqlite:///{folder / 'browser.sqlite3'}", folder / "evidence"))
    with app.app_context():
        db.create_all()
    return app


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """An empty application of its own; the test builds what it needs."""
    yield from serve(make_app(tmp_path))


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The application with the curriculum and the demo data, as after `make run`. Read-only tests."""
    app = make_app(tmp_path_factory.mktemp("demo"))
    with app.app_context():
        load_curriculum_files(sorted((ROOT / "curriculum").glob("*.yaml")))
        load_demo_data()
        db.session.commit()
    yield from serve(app)


def open_context(
    browser: Browser, request: pytest.FixtureRequest, name: str, **options: object
) -> Iterator[BrowserContext]:
    # bypass_csp lets the tests inject axe-core; the pages themselves still send their policy.
    context = browser.new_context(locale="nl-NL", accept_downloads=True, bypass_csp=True, **options)
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for number, page in enumerate(context.pages):
            page.screenshot(
                path=str(ARTIFACTS / f"{request.node.name}-{name}-{number}.png"), full_page=True
            )
    context.close()


@pytest.fixture
def context(browser: Browser, request: pytest.FixtureRequest) -> Iterator[BrowserContext]:
    """A desktop browser."""
    yield from open_context(browser, request, "desktop", viewport=DESKTOP)


@pytest.fixture
def phone(browser: Browser, request: pytest.FixtureRequest) -> Iterator[BrowserContext]:
    """A phone-sized touch screen, as on the shop floor."""
    yield from open_context(
        browser, request, "phone", viewport=PHONE, is_mobile=True, has_touch=True
    )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # type: ignore[no-untyped-def]
    report = yield
    if report.when == "call":
        item.report_call = report  # type: ignore[attr-defined]
    return report
