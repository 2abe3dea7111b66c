"""The login throttle and the forgot-password limit hold across worker processes: real gunicorn with
three workers in production configuration (as the README runs it) on the test's database, with
requests spread over every worker at the same moment."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from lms.models import Role
from tests.factories import PASSWORD, make_user
from tests.gunicorn_server import GunicornServer, production_env, run_gunicorn

ACCOUNT_LIMIT = 5  # LOGIN_LIMIT_PER_ACCOUNT = "5 per 15 minutes"
ADDRESS_LIMIT = 30  # LOGIN_LIMIT_PER_ADDRESS = "30 per 15 minutes"
RESET_LIMIT = 10  # PASSWORD_RESET_LIMIT_PER_ADDRESS = "10 per hour"


@pytest.fixture(scope="module")
def running_server(
    database_url: str, schema: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GunicornServer]:
    """One server per database for this module (starting three workers takes seconds). Each test
    comes from addresses of its own, through one trusted proxy (nginx), and the tables are emptied
    after each test as usual."""
    tmp_path = tmp_path_factory.mktemp("gunicorn")
    env = production_env(database_url, tmp_path, TRUSTED_PROXIES="1")
    with run_gunicorn(env, tmp_path, workers=3) as running:
        yield running


@pytest.fixture
def server(running_server: GunicornServer, app) -> GunicornServer:  # type: ignore[no-untyped-def]
    return running_server


def post_form(server: GunicornServer, path: str, address: str, **fields: str) -> bytes:
    """A POST from ``address`` (X-Forwarded-For) with the session cookie and CSRF token of a fresh
    GET of the form, as a browser would send it."""
    page = server.get(path, headers={"X-Forwarded-For": address})
    assert page.status == 200, page.body
    return server.prepare(
        "POST",
        path,
        form={**fields, "csrf_token": page.csrf_token()},
        cookies=page.cookies(),
        headers={"X-Forwarded-For": address},
    )


def statuses(server: GunicornServer, requests: list[bytes]) -> Counter[int]:
    return Counter(reply.status for reply in server.send_together(requests))


def test_wrong_passwords_for_one_account_on_three_workers_stop_at_the_limit(server, db) -> None:  # type: ignore[no-untyped-def]
    user = make_user(Role.PARTICIPANT, email="anouk.huntjens@example.org")
    db.session.commit()
    guesses = [
        post_form(server, "/login", "203.0.113.7", email=user.email, password=f"gok-{n}")
        for n in range(ACCOUNT_LIMIT + 4)
    ]
    assert statuses(server, guesses) == {401: ACCOUNT_LIMIT, 429: 4}, server.log()
    right = post_form(server, "/login", "203.0.113.7", email=user.email, password=PASSWORD)
    reply = server.send(right)
    assert reply.status == 429
    assert "Te veel mislukte pogingen om in te loggen" in reply.body
    # The account stays locked from another address too: the count is the account's.
    elsewhere = post_form(server, "/login", "198.51.100.20", email=user.email, password=PASSWORD)
    assert server.send(elsewhere).status == 429


def test_the_address_limit_trips_across_accounts_on_three_workers(server, db) -> None:  # type: ignore[no-untyped-def]
    user = make_user(Role.TRAINER, email="bram.bezet@example.org")
    db.session.commit()
    guesses = [
        post_form(server, "/login", "203.0.113.9", email=f"gok{n}@example.org", password="raden!")
        for n in range(ADDRESS_LIMIT + 6)
    ]
    assert statuses(server, guesses) == {401: ADDRESS_LIMIT, 429: 6}, server.log()
    # Even an account without a single failure is refused from that address ...
    right = post_form(server, "/login", "203.0.113.9", email=user.email, password=PASSWORD)
    assert server.send(right).status == 429
    # ... while the same person logs in from another address.
    elsewhere = post_form(server, "/login", "198.51.100.30", email=user.email, password=PASSWORD)
    reply = server.send(elsewhere)
    assert reply.status == 302, reply.body


def test_forgot_password_requests_on_three_workers_stop_at_the_limit(server, db) -> None:  # type: ignore[no-untyped-def]
    requests = [
        post_form(server, "/forgot-password", "203.0.113.11", email=f"niemand{n}@example.org")
        for n in range(RESET_LIMIT + 4)
    ]
    assert statuses(server, requests) == {302: RESET_LIMIT, 429: 4}, server.log()
