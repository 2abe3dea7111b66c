"""The login throttle and the forgot-password limit, counted in the database
(lms/services/login_throttle.py): the rules, the pages, and claims made at the same moment."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms import clock
from lms.models import Role, ThrottleCounter, ThrottleScope
from lms.services import login_throttle
from tests.conftest import csrf_token
from tests.factories import PASSWORD, make_user

EMAIL = "Anouk.Huntjens@example.org"
ACCOUNT = EMAIL.lower()
ADDRESS = "192.0.2.10"


def counted(scope: ThrottleScope, key: str) -> int:
    return login_throttle.attempts_counted(scope, key)


def fail_logins(times: int, email: str = EMAIL, address: str = ADDRESS) -> None:
    """Claims that are never given back: failed logins."""
    for _ in range(times):
        assert login_throttle.claim_login(email, address) is not None


# --- the rules ------------------------------------------------------------------------------------


def test_the_attempt_after_the_account_limit_is_refused_and_not_counted(app, db) -> None:
    limit, _window = login_throttle.limit_of(ThrottleScope.LOGIN_ACCOUNT)
    assert limit == 5  # LOGIN_LIMIT_PER_ACCOUNT = "5 per 15 minutes"
    fail_logins(limit)
    assert login_throttle.claim_login(EMAIL, ADDRESS) is None
    # The same account in another spelling, from another address: still refused.
    assert login_throttle.claim_login("  ANOUK.huntjens@example.org ", "198.51.100.1") is None
    db.session.commit()
    assert counted(ThrottleScope.LOGIN_ACCOUNT, ACCOUNT) == limit
    assert counted(ThrottleScope.LOGIN_ADDRESS, ADDRESS) == limit
    assert counted(ThrottleScope.LOGIN_ADDRESS, "198.51.100.1") == 0
    # Another account is not blocked by this one.
    assert login_throttle.claim_login("iemand.anders@example.org", ADDRESS) is not None


def test_a_full_address_refuses_every_account_and_gives_the_account_claim_back(app, db) -> None:
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "3 per 15 minutes"
    for n in range(3):
        fail_logins(1, email=f"gok{n}@example.org")
    assert login_throttle.claim_login(EMAIL, ADDRESS) is None
    db.session.commit()
    assert counted(ThrottleScope.LOGIN_ACCOUNT, ACCOUNT) == 0
    assert counted(ThrottleScope.LOGIN_ADDRESS, ADDRESS) == 3
    assert login_throttle.claim_login(EMAIL, "198.51.100.1") is not None


def test_the_window_ends_and_the_count_starts_again(app, db) -> None:
    limit, window = login_throttle.limit_of(ThrottleScope.LOGIN_ACCOUNT)
    assert window == timedelta(minutes=15)
    start = clock.now()
    with clock.frozen_at(start):
        fail_logins(limit)
    with clock.frozen_at(start + window - timedelta(seconds=1)):
        assert login_throttle.claim_login(EMAIL, ADDRESS) is None
    with clock.frozen_at(start + window):
        claim = login_throttle.claim_login(EMAIL, ADDRESS)
        assert claim is not None
        assert claim.account.window_ends_at == start + 2 * window
        db.session.commit()
        assert counted(ThrottleScope.LOGIN_ACCOUNT, ACCOUNT) == 1
        assert counted(ThrottleScope.LOGIN_ADDRESS, ADDRESS) == 1


def test_a_correct_login_resets_the_account_but_not_the_address(app, db) -> None:
    fail_logins(4)
    claim = login_throttle.claim_login(EMAIL, ADDRESS)
    assert claim is not None
    login_throttle.login_succeeded(claim)
    db.session.commit()
    assert counted(ThrottleScope.LOGIN_ACCOUNT, ACCOUNT) == 0
    assert counted(ThrottleScope.LOGIN_ADDRESS, ADDRESS) == 4  # the failures, not the success
    # The person is not slowed down: a full set of attempts again.
    fail_logins(5)
    assert login_throttle.claim_login(EMAIL, ADDRESS) is None


def test_no_email_or_ip_address_is_stored_in_clear(app, db) -> None:
    fail_logins(1)
    assert login_throttle.claim_password_reset(ADDRESS)
    db.session.commit()
    rows = db.session.execute(sa.select(ThrottleCounter.__table__)).all()
    assert len(rows) == 3
    stored = " ".join(str(value) for row in rows for value in row).lower()
    assert ACCOUNT not in stored and "anouk" not in stored and ADDRESS not in stored
    assert {row.key_hash for row in rows} == {
        login_throttle.key_hash(ACCOUNT),
        login_throttle.key_hash(ADDRESS),
    }


def test_ended_counters_are_pruned_when_attempts_are_counted(app, db) -> None:
    start = clock.now()
    with clock.frozen_at(start):
        fail_logins(2)
        assert login_throttle.claim_password_reset(ADDRESS)
    with clock.frozen_at(start + timedelta(hours=1)):
        # An attempt for someone else from elsewhere removes the three ended counters.
        assert login_throttle.claim_login("nieuw@example.org", "198.51.100.1") is not None
        db.session.commit()
    scopes = db.session.scalars(sa.select(ThrottleCounter.key_hash)).all()
    assert sorted(scopes) == sorted(
        [login_throttle.key_hash("nieuw@example.org"), login_throttle.key_hash("198.51.100.1")]
    )


def test_reset_link_requests_are_limited_per_address(app, db) -> None:
    limit, window = login_throttle.limit_of(ThrottleScope.PASSWORD_RESET_ADDRESS)
    assert (limit, window) == (10, timedelta(hours=1))
    start = clock.now()
    with clock.frozen_at(start):
        assert all(login_throttle.claim_password_reset(ADDRESS) for _ in range(limit))
        assert not login_throttle.claim_password_reset(ADDRESS)
        assert login_throttle.claim_password_reset("198.51.100.1")
    with clock.frozen_at(start + window):
        assert login_throttle.claim_password_reset(ADDRESS)


def test_claims_at_the_same_moment_never_exceed_the_limit(app, db) -> None:
    """Twelve connections claim an attempt for one account at once (released together by a barrier).
    The database counts them one after another, so exactly the limit get through."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite has one writer at a time")
    limit, _window = login_throttle.limit_of(ThrottleScope.LOGIN_ACCOUNT)
    threads_count = 12
    start = threading.Barrier(threads_count, timeout=10)
    outcomes: list[str] = []
    lock = threading.Lock()

    def claim(n: int) -> None:
        with app.app_context():
            from lms.extensions import db as thread_db

            try:
                start.wait()
                result = login_throttle.claim_login(EMAIL, f"198.51.100.{n}")
                thread_db.session.commit()
                outcome = "claimed" if result is not None else "refused"
            except Exception as error:  # pragma: no cover - reported by the assertion below
                thread_db.session.rollback()
                outcome = f"error: {error!r}"
            finally:
                thread_db.session.remove()
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["claimed"] * limit + ["refused"] * (threads_count - limit), outcomes
    assert counted(ThrottleScope.LOGIN_ACCOUNT, ACCOUNT) == limit
    # The refused attempts gave their address claims back: one per claimed attempt is left.
    assert (
        sum(counted(ThrottleScope.LOGIN_ADDRESS, f"198.51.100.{n}") for n in range(threads_count))
        == limit
    )


# --- the pages ------------------------------------------------------------------------------------


@pytest.fixture
def user(db):
    user = make_user(Role.PARTICIPANT, email=ACCOUNT)
    db.session.commit()
    return user


def login(client, email: str, password: str, address: str = "127.0.0.1") -> int:  # type: ignore[no-untyped-def]
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )
    return response.status_code


def test_failed_logins_are_counted_in_the_database(client, db, user) -> None:
    assert login(client, EMAIL, "niet-het-goede") == 401
    assert login(client, EMAIL, "ook-niet-goed") == 401
    assert counted(ThrottleScope.LOGIN_ACCOUNT, ACCOUNT) == 2
    assert counted(ThrottleScope.LOGIN_ADDRESS, "127.0.0.1") == 2
    assert login(client, EMAIL, PASSWORD) == 302
    assert counted(ThrottleScope.LOGIN_ACCOUNT, ACCOUNT) == 0
    assert counted(ThrottleScope.LOGIN_ADDRESS, "127.0.0.1") == 2


def test_failures_counted_by_another_worker_refuse_the_right_password(
    app, client, db, user
) -> None:
    """Another worker (or node) has counted five failures: this one refuses too."""
    limit, window = login_throttle.limit_of(ThrottleScope.LOGIN_ACCOUNT)
    db.session.add(
        ThrottleCounter(
            scope=ThrottleScope.LOGIN_ACCOUNT,
            key_hash=login_throttle.key_hash(ACCOUNT),
            attempts=limit,
            window_ends_at=clock.now() + window,
        )
    )
    db.session.commit()
    token = csrf_token(client)
    response = client.post(
        "/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 429
    assert "Te veel mislukte pogingen om in te loggen. Wacht 15 minuten" in response.get_data(
        as_text=True
    )
    with clock.frozen_at(clock.now() + window):
        assert login(client, EMAIL, PASSWORD) == 302


def test_forgot_password_requests_counted_elsewhere_refuse_this_one(client, auth, db) -> None:
    limit, window = login_throttle.limit_of(ThrottleScope.PASSWORD_RESET_ADDRESS)
    db.session.add(
        ThrottleCounter(
            scope=ThrottleScope.PASSWORD_RESET_ADDRESS,
            key_hash=login_throttle.key_hash("127.0.0.1"),
            attempts=limit - 1,
            window_ends_at=clock.now() + window,
        )
    )
    db.session.commit()
    assert auth.post("/forgot-password", {"email": "a@example.org"}).status_code == 302
    response = auth.post("/forgot-password", {"email": "b@example.org"})
    assert response.status_code == 429
    assert "Te veel pogingen" in response.get_data(as_text=True)
    assert counted(ThrottleScope.PASSWORD_RESET_ADDRESS, "127.0.0.1") == limit
