"""Headers on every answer, no inline script or style the CSP would block, the request size cap, and
friendly pages (with a rollback) when the database refuses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from lms import PROJECT_ROOT, create_app
from lms.extensions import db as _db
from lms.models import Employer, Region, Role
from lms.security import CONTENT_SECURITY_POLICY
from tests.conftest import make_config
from tests.factories import make_user

TEMPLATES = Path(PROJECT_ROOT) / "templates"
# Mail is read in a mail program, not under our CSP; inline styles are what mail needs.
PAGE_TEMPLATES = sorted(
    path for path in TEMPLATES.rglob("*.html") if path.relative_to(TEMPLATES).parts[0] != "mail"
)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
STYLE = re.compile(r"<style\b|\sstyle\s*=", re.I)


def test_csp_allows_no_inline_script_or_style() -> None:
    directives = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("path", PAGE_TEMPLATES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_have_nothing_the_csp_would_block(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert not INLINE_SCRIPT.search(source), "inline <script>: move it to lms/static/js/"
    assert not EVENT_HANDLER.search(source), (
        "on...= handler: attach it from a file in lms/static/js/"
    )
    assert not STYLE.search(source), "style attribute or <style>: use a class in lms/static/css/"
    assert "javascript:" not in source


@pytest.mark.parametrize("path", ["/login", "/does-not-exist", "/forgot-password"])
def test_every_answer_carries_the_security_headers(client, path: str) -> None:
    response = client.get(path)
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_static_files_are_not_sniffed(client) -> None:
    response = client.get("/static/css/app.css")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.mimetype == "text/css"


def test_a_request_larger_than_the_cap_gets_a_friendly_413(app, client) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] > app.config["EVIDENCE_MAX_ATTEMPT_BYTES"]
    app.config["MAX_CONTENT_LENGTH"] = 2048
    response = client.post("/login", data={"email": "x@example.org", "password": "a" * 4096})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "Te groot" in page and "Maak het bestand kleiner" in page


def test_a_database_error_rolls_back_and_shows_a_friendly_page(app, client, db) -> None:
    def two_companies_one_number():  # type: ignore[no-untyped-def]
        db.session.add(Employer(name="Eerste B.V.", kvk_number="40000001", region=Region.PARKSTAD))
        db.session.flush()
        db.session.add(Employer(name="Tweede B.V.", kvk_number="40000001", region=Region.PARKSTAD))
        db.session.commit()
        return "not reached"

    app.add_url_rule("/test-database-error", view_func=two_companies_one_number)
    response = client.get("/test-database-error")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Er ging iets mis aan onze kant" in page and "niets half opgeslagen" in page
    assert "IntegrityError" not in page and "40000001" not in page
    assert db.session.scalar(sa.select(sa.func.count(Employer.id))) == 0


def test_an_unreachable_database_gives_a_503_page(tmp_path) -> None:
    config = make_config(f"sqlite:///{tmp_path}/missing/folder/lms.sqlite3", tmp_path / "files")
    app = create_app(config)

    def read_something():  # type: ignore[no-untyped-def]
        _db.session.execute(sa.text("SELECT 1"))
        return "not reached"

    app.add_url_rule("/test-database-down", view_func=read_something)
    response = app.test_client().get("/test-database-down")
    assert response.status_code == 503
    assert "Het systeem kan zijn gegevens nu niet bereiken" in response.get_data(as_text=True)
    with app.app_context():
        _db.engine.dispose()


def test_stored_files_cannot_be_executed_or_guessed(app) -> None:
    from lms.storage import KEY_PATTERN, get_storage

    storage = get_storage()
    keys = {storage.save(b"#!/bin/sh\necho hallo\n", ".pdf") for _ in range(3)}
    assert len(keys) == 3 and all(KEY_PATTERN.match(key) for key in keys)
    for key in keys:
        path = storage._path(key)  # type: ignore[attr-defined]
        assert path.stat().st_mode & 0o111 == 0, f"{key} is executable"
        assert not path.is_relative_to(Path(app.static_folder).resolve())
    # No URL of the application serves a file by its storage key or path.
    for rule in app.url_map.iter_rules():
        if any(argument in rule.arguments for argument in ("filename", "path", "key")):
            assert rule.endpoint == "static", f"{rule.rule} serves files by name"


@pytest.mark.parametrize(
    "path",
    [
        "/verify/abc%00.json",
        "/verify/%00",
        "/cohorts/?q=%00",
        "/certificates/?q=a%00b",
        "/people/participants/?q=%00",
        "/cohorts/?region=%00",
        "/cohorts/?%00=1",
    ],
)
def test_a_nul_character_in_the_address_is_a_bad_request(auth, client, db, path) -> None:
    """PostgreSQL refuses NUL in text: without the guard these searches answered 500 there."""
    coordinator = make_user(Role.COORDINATOR)
    db.session.commit()
    auth.login(coordinator.email)
    response = client.get(path)
    assert response.status_code == 400
    assert "<html" in response.get_data(as_text=True).lower()  # the friendly error page


def test_an_ordinary_search_still_works(auth, client, db) -> None:
    coordinator = make_user(Role.COORDINATOR)
    db.session.commit()
    auth.login(coordinator.email)
    assert client.get("/cohorts/?q=Parkstad").status_code == 200
