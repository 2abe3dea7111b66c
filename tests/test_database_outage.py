"""The database stops while people are logged in (issue 17, point 5): every page answers the friendly
503 page in Dutch, whoever asks and however, and the addresses machines read answer problem+json.

The database really stops (tests/db_outage.py): PostgreSQL through a TCP proxy that is closed,
SQLite by moving its folder away. The application runs as in production: exceptions are not
propagated to the test, so a second error inside an error page would reach the test (or, behind
gunicorn, be the server's bare "Internal Server Error").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, url_for
from flask_login import current_user

from lms import create_app
from lms.extensions import db as _db
from lms.models import Role, User
from lms.templating import NAVIGATION
from tests.conftest import CSRF_PATTERN, AuthActions, FreshContextClient, make_config
from tests.db_outage import (
    make_sqlite_reachable,
    make_sqlite_unreachable,
    proxied_url,
    proxy_for,
)
from tests.factories import PASSWORD
from tests.gunicorn_server import GunicornServer, production_env, run_gunicorn
from tests.scenarios import build_world

TITLE = "Het systeem kan zijn gegevens nu niet bereiken"
PROBLEM = "application/problem+json"


@dataclass
class Outage:
    app: Flask
    stop: Any
    start: Any
    people: dict[str, dict[str, Any]] = field(default_factory=dict)
    certificate_id: int = 0
    verification_code: str = ""


def outage_database(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The URL the application uses, how to stop the database behind it and how to start it again."""
    if database_url.startswith("sqlite"):
        folder = tmp_path / "database"
        folder.mkdir()
        return (
            f"sqlite:///{folder / 'lms.sqlite3'}",
            lambda engine: make_sqlite_unreachable(folder, engine),
            lambda: make_sqlite_reachable(folder),
            None,
        )
    proxy = proxy_for(database_url)
    return proxied_url(database_url, proxy), lambda engine: proxy.stop(), proxy.start, proxy


@pytest.fixture
def outage(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Outage]:
    """An application (as in production: exceptions become error pages) on a database that the test
    can stop, holding the world of tests/scenarios.py."""
    url, stop_database, start_database, proxy = outage_database(database_url, tmp_path)
    config = type(
        "OutageConfig",
        (make_config(url, tmp_path / "outage-evidence"),),
        {"PROPAGATE_EXCEPTIONS": False, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True}},
    )
    outage_app = create_app(config)
    outage_app.test_client_class = FreshContextClient

    def stop() -> None:
        with outage_app.app_context():
            stop_database(_db.engine)

    def lost_midway():  # type: ignore[no-untyped-def]
        """A page whose user was loaded before the database went away."""
        name = current_user.full_name
        _db.session.commit()  # the connection goes back to the pool (and the user is expired)
        stop()
        _db.session.execute(sa.text("SELECT 1"))
        return f"not reached: {name}"

    def bug():  # type: ignore[no-untyped-def]
        raise RuntimeError("a bug, not the database")

    outage_app.add_url_rule("/test-database-lost-midway", view_func=lost_midway)
    outage_app.add_url_rule("/test-bug", view_func=bug)
    result = Outage(app=outage_app, stop=stop, start=start_database)
    with outage_app.app_context():
        if proxy is None:
            _db.create_all()
        world = build_world()
        _db.session.commit()
        for name, user in world.visitors().items():
            if user is not None and name in ("participant", "trainer", "employer", "coordinator"):
                result.people[name] = {
                    "email": user.email,
                    "name": user.full_name,
                    "role": user.role,
                }
        result.certificate_id = world.certificate.id
        result.verification_code = world.certificate.verification_code
    try:
        yield result
    finally:
        if proxy is not None:
            proxy.stop()
        with outage_app.app_context():
            _db.engine.dispose()


def pages_of(outage_app: Flask, role: Role) -> list[str]:
    """Every page in the role's menu, the front door and the profile."""
    with outage_app.test_request_context():
        menu = [url_for(item.endpoint) for item in NAVIGATION[role]]
        return ["/", url_for("auth.profile"), url_for("notifications.index"), *menu]


def assert_friendly_503(response, *, name: str | None = None) -> None:  # type: ignore[no-untyped-def]
    page = response.get_data(as_text=True)
    assert response.status_code == 503, (response.request.path, response.status_code, page[:300])
    assert response.mimetype == "text/html"
    assert TITLE in page and "probeer het over een paar minuten opnieuw" in page.lower()
    assert response.headers["Retry-After"].isdigit()
    # The layout without the database: no name, no menu, no bell, no log-out button.
    assert "Uitloggen" not in page and 'class="bell"' not in page and "site-nav" not in page
    if name:
        assert name not in page


def assert_problem_503(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 503, (
        response.request.path,
        response.get_data(as_text=True)[:300],
    )
    assert response.mimetype == PROBLEM
    assert response.json["status"] == 503
    assert "Het systeem kan zijn gegevens nu niet bereiken" in response.json["detail"]


def test_every_page_of_every_role_is_the_friendly_503_while_the_database_is_down(
    outage: Outage,
) -> None:
    clients = {}
    for who, person in outage.people.items():
        client = outage.app.test_client()
        response = AuthActions(client).login(person["email"], PASSWORD)
        assert response.status_code == 302, who
        clients[who] = client
    anonymous = outage.app.test_client()
    token = CSRF_PATTERN.search(anonymous.get("/login").get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    tokens = {
        who: CSRF_PATTERN.search(client.get("/profile").get_data(as_text=True)).group(1)  # type: ignore[union-attr]
        for who, client in clients.items()
    }

    outage.stop()

    for who, client in clients.items():
        person = outage.people[who]
        for path in pages_of(outage.app, person["role"]):
            assert_friendly_503(client.get(path), name=person["name"])
        # A page that does not exist and a form that writes: the same page, not a second error.
        assert_friendly_503(client.get("/no-such-page"), name=person["name"])
        assert_friendly_503(
            client.post("/language", data={"locale": "nl", "csrf_token": tokens[who]}),
            name=person["name"],
        )
    assert_friendly_503(
        anonymous.post(
            "/login",
            data={
                "email": outage.people["trainer"]["email"],
                "password": PASSWORD,
                "csrf_token": token,
            },
        )
    )

    # The outage logged nobody out: when the database is back, every session works again.
    outage.start()
    for who, client in clients.items():
        response = client.get(pages_of(outage.app, outage.people[who]["role"])[1])
        assert response.status_code == 200, who
        assert outage.people[who]["name"] in response.get_data(as_text=True)


def test_the_database_lost_after_the_user_was_loaded_gives_the_friendly_503(
    outage: Outage,
) -> None:
    client = outage.app.test_client()
    AuthActions(client).login(outage.people["coordinator"]["email"], PASSWORD)
    response = client.get("/test-database-lost-midway")
    assert_friendly_503(response, name=outage.people["coordinator"]["name"])
    # A bug while the database is down: the 500 page's layout cannot load the user either, and the
    # handler answers without the database instead of failing a second time.
    assert_friendly_503(client.get("/test-bug"), name=outage.people["coordinator"]["name"])


def test_addresses_machines_read_answer_problem_json_while_the_database_is_down(
    outage: Outage,
) -> None:
    participant = outage.app.test_client()
    AuthActions(participant).login(outage.people["participant"]["email"], PASSWORD)
    anonymous = outage.app.test_client()

    outage.stop()

    for path in (
        f"/verify/{outage.verification_code}.json",
        "/badges/status/1",
        "/badges/status/1.jwt",
        "/api/v1/cohorts",
    ):
        assert_problem_503(anonymous.get(path, headers={"Authorization": "Bearer unknown"}))
    assert_problem_503(participant.get(f"/certificates/{outage.certificate_id}/credential.json"))
    # The issuer's DID document lives in files, not in the database: it keeps answering.
    assert anonymous.get("/.well-known/did.json").status_code == 200
    assert_problem_503(participant.get(f"/verify/{outage.verification_code}.json"))
    # The page for people at the same code stays a page.
    assert_friendly_503(anonymous.get(f"/verify/{outage.verification_code}"))


# --- through gunicorn, as the README's production section runs it ---------------------------


def login(server: GunicornServer, email: str) -> dict[str, str]:
    """Log in as a browser would; the cookies it then sends (production marks them Secure: the TLS
    proxy in front is not part of this test)."""
    page = server.get("/login")
    reply = server.send(
        server.prepare(
            "POST",
            "/login",
            form={"email": email, "password": PASSWORD, "csrf_token": page.csrf_token()},
            cookies=page.cookies(),
        )
    )
    assert reply.status == 302, reply.body[:300]
    return {**page.cookies(), **reply.cookies()}


@pytest.fixture
def gunicorn(outage: Outage, tmp_path: Path) -> Iterator[GunicornServer]:
    url = outage.app.config["SQLALCHEMY_DATABASE_URI"]
    env = production_env(
        url, tmp_path, EVIDENCE_STORAGE_PATH=outage.app.config["EVIDENCE_STORAGE_PATH"]
    )
    # A worker keeps its SQLite file open even after the folder moved; a worker started after the
    # disk went away is what fails, so each worker serves one request (a real gunicorn setting).
    extra_args = ["--max-requests", "1"] if url.startswith("sqlite") else []
    with run_gunicorn(env, tmp_path, workers=2, extra_args=extra_args) as server:
        yield server


def test_through_gunicorn_a_logged_in_page_is_the_friendly_503_not_a_bare_500(
    outage: Outage, gunicorn: GunicornServer
) -> None:
    person = outage.people["trainer"]
    cookies = login(gunicorn, person["email"])
    reply = gunicorn.get("/dashboard/trainer", cookies=cookies)
    assert reply.status == 200 and person["name"] in reply.body

    outage.stop()

    for _ in range(3):  # both workers, whichever answers
        reply = gunicorn.get("/dashboard/trainer", cookies=cookies)
        assert reply.status == 503, reply.body[:300]
        assert TITLE in reply.body and person["name"] not in reply.body
        assert reply.header("Retry-After")
    reply = gunicorn.get(f"/verify/{outage.verification_code}.json")
    assert reply.status == 503 and reply.header("Content-Type") == PROBLEM
    assert re.search(r'"status":\s*503', reply.body)


def test_the_outage_page_is_in_the_language_the_person_chose_never_the_browsers(
    outage: Outage,
) -> None:
    """Made without the database, the page reads the language from the session only (a logged-in
    person's choice is copied there at login), else Dutch; Accept-Language does not decide."""
    with outage.app.app_context():
        english = _db.session.scalars(
            sa.select(User).where(User.email == outage.people["trainer"]["email"])
        ).one()
        english.locale = "en"
        _db.session.commit()
    person = outage.app.test_client()
    AuthActions(person).login(outage.people["trainer"]["email"], PASSWORD)
    dutch_person = outage.app.test_client()
    AuthActions(dutch_person).login(outage.people["participant"]["email"], PASSWORD)
    chooser = outage.app.test_client()
    token = CSRF_PATTERN.search(chooser.get("/login").get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    chooser.post("/language", data={"locale": "en", "next": "/login", "csrf_token": token})
    browser = outage.app.test_client()

    outage.stop()

    verify_page = f"/verify/{outage.verification_code}"  # a page for people that reads the database
    for client, path in ((person, "/dashboard/trainer"), (chooser, verify_page)):
        response = client.get(path, headers={"Accept-Language": "nl"})
        page = response.get_data(as_text=True)
        assert response.status_code == 503
        assert '<html lang="en">' in page and "The system cannot reach its data" in page
        assert outage.people["trainer"]["name"] not in page
    assert_friendly_503(browser.get(verify_page, headers={"Accept-Language": "en"}))
    assert_friendly_503(
        dutch_person.get("/portfolio/", headers={"Accept-Language": "en"}),
        name=outage.people["participant"]["name"],
    )
