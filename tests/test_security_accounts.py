"""Sessions and accounts: CSRF everywhere, the login throttle, password rules, "forgot password",
cookie flags, a fresh session at login and logging out everywhere."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms import clock, create_app
from lms.extensions import csrf
from lms.models import AccountToken, LoginSession, OutboxMessage, Role, TokenPurpose
from lms.services import accounts
from tests.conftest import AuthActions, csrf_token
from tests.factories import PASSWORD, make_user

LINK = re.compile(r"http://[^\s\"]+/set-password/([A-Za-z0-9_-]+)")


@pytest.fixture
def user(db):
    user = make_user(Role.PARTICIPANT, email="anouk.huntjens@example.org")
    db.session.commit()
    return user


def outbox_for(db, email):  # type: ignore[no-untyped-def]
    return db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.recipient == email)
    ).all()


# --- CSRF -----------------------------------------------------------------------------------------


def test_no_view_or_blueprint_is_exempt_from_csrf(app) -> None:
    # Only the token-authenticated JSON API may be exempt (it has no cookies to abuse).
    assert {
        view for view in csrf._exempt_views if not view.startswith("lms.blueprints.api")
    } == set()
    exempt_blueprints = {getattr(bp, "name", bp) for bp in csrf._exempt_blueprints}
    assert exempt_blueprints <= {"api"}


def test_every_state_changing_route_refuses_a_post_without_token(app, client, auth, db) -> None:
    coordinator = make_user(Role.COORDINATOR)
    db.session.commit()
    auth.login(coordinator.email)
    checked = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") or "POST" not in (rule.methods or ()):
            continue
        values = {
            arg: "x" if rule._converters[arg].__class__.__name__ == "UnicodeConverter" else 1
            for arg in rule.arguments
        }
        url = rule.build(values, append_unknown=False)[1]
        response = client.post(url, data={"anything": "1"})
        assert response.status_code == 400, f"{rule.rule} accepted a POST without a CSRF token"
        checked.append(rule.rule)
    assert "/logout" in checked and "/profile" in checked


# --- login throttle -------------------------------------------------------------------------------


def test_login_is_throttled_per_account_even_with_the_right_password(app, auth, db, user) -> None:
    limit = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
    for _ in range(limit):
        assert auth.login(user.email, password="niet-het-goede").status_code == 401
    response = auth.login(user.email)  # right password, but too late
    assert response.status_code == 429
    assert "Te veel mislukte pogingen om in te loggen. Wacht 15 minuten" in response.get_data(
        as_text=True
    )
    # Another account from the same address is not blocked by this one.
    other = make_user(Role.TRAINER)
    db.session.commit()
    assert auth.login(other.email).status_code == 302


def test_login_throttle_per_address_covers_many_accounts(app, client, auth, db) -> None:
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "4 per 15 minutes"
    victim = make_user(Role.COORDINATOR)
    db.session.commit()
    for n in range(4):
        assert auth.login(f"guess{n}@example.org", password="wachtwoord-raden").status_code == 401
    assert auth.login(victim.email).status_code == 429
    # Another address is not affected.
    elsewhere = app.test_client()
    token = csrf_token(elsewhere)
    response = elsewhere.post(
        "/login",
        data={"email": victim.email, "password": PASSWORD, "csrf_token": token},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert response.status_code == 302


def test_a_good_login_resets_the_account_count(app, auth, user) -> None:
    limit = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
    for _ in range(limit - 1):
        auth.login(user.email, password="niet-het-goede")
    assert auth.login(user.email).status_code == 302
    auth.logout()
    for _ in range(limit - 1):
        assert auth.login(user.email, password="niet-het-goede").status_code == 401
    assert auth.login(user.email).status_code == 302


# --- password rules -------------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["wachtwoord123", "Qwertyuiop", "1234567890", "aaaaaaaaaaaa"])
def test_common_or_trivial_passwords_are_refused(app, password: str) -> None:
    assert "te bekend" in accounts.password_problem(password)


def test_common_password_list_is_shipped_as_a_file(app) -> None:
    text = accounts.COMMON_PASSWORDS_FILE.read_text(encoding="utf-8")
    assert "welkom123" in text.split()
    assert len(accounts.common_passwords()) > 200


def test_a_long_uncommon_password_is_accepted(app) -> None:
    assert accounts.password_problem("mijn fiets is blauw") is None
    assert accounts.password_problem("kort") is not None


def test_set_password_page_refuses_a_common_password_and_keeps_the_link(client, db, user) -> None:
    secret = accounts.create_invitation(user)
    db.session.commit()
    path = f"/set-password/{secret}"
    response = client.post(
        path,
        data={
            "password": "Wachtwoord123",
            "confirm": "Wachtwoord123",
            "csrf_token": csrf_token(client, path),
        },
    )
    assert response.status_code == 200
    assert "Dit wachtwoord is te bekend" in response.get_data(as_text=True)
    assert accounts.find_usable_token(secret) is not None


# --- forgot password ------------------------------------------------------------------------------


def test_forgot_password_mails_a_single_use_link(client, auth, db, user) -> None:
    assert 'href="/forgot-password"' in client.get("/login").get_data(as_text=True)
    response = auth.post("/forgot-password", {"email": "Anouk.Huntjens@example.org"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    messages = outbox_for(db, user.email)
    assert len(messages) == 1
    assert messages[0].subject == "Een nieuw wachtwoord voor Vakkracht MKB"
    secret = LINK.search(messages[0].body_text).group(1)
    assert LINK.search(messages[0].body_html).group(1) == secret
    token = accounts.find_usable_token(secret)
    assert token.purpose is TokenPurpose.PASSWORD_RESET

    path = f"/set-password/{secret}"
    new = "een heel nieuw wachtwoord"
    response = client.post(
        path, data={"password": new, "confirm": new, "csrf_token": csrf_token(client, path)}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert accounts.authenticate(user.email, new).user is not None
    # Used once: the link is dead now.
    assert client.get(path).status_code == 404


def test_forgot_password_answers_the_same_for_an_unknown_address(client, auth, db, user) -> None:
    known = auth.post("/forgot-password", {"email": user.email}, follow_redirects=True)
    unknown = auth.post("/forgot-password", {"email": "niemand@example.org"}, follow_redirects=True)
    assert known.status_code == unknown.status_code == 200

    def message(response):  # type: ignore[no-untyped-def]
        text = response.get_data(as_text=True)
        return re.search(r'class="flash[^"]*">(.*?)</p>', text, re.S).group(1)

    assert message(known).replace(user.email, "X") == message(unknown).replace(
        "niemand@example.org", "X"
    )
    assert outbox_for(db, "niemand@example.org") == []


def test_forgot_password_does_not_mail_a_deactivated_account(auth, db) -> None:
    gone = make_user(Role.TRAINER, active=False)
    db.session.commit()
    assert auth.post("/forgot-password", {"email": gone.email}).status_code == 302
    assert outbox_for(db, gone.email) == []


def test_reset_link_expires_and_a_new_one_replaces_the_old(app, db, user) -> None:
    first = accounts.request_password_reset(user.email)
    second = accounts.request_password_reset(user.email)
    db.session.commit()
    first_secret = LINK.search(first.body_text).group(1)
    second_secret = LINK.search(second.body_text).group(1)
    assert accounts.find_usable_token(first_secret) is None
    assert accounts.find_usable_token(second_secret) is not None
    hours = app.config["PASSWORD_RESET_TOKEN_HOURS"]
    with clock.frozen_at(clock.now() + timedelta(hours=hours, minutes=1)):
        assert accounts.find_usable_token(second_secret) is None


def test_reset_mails_are_capped_per_account(db, user) -> None:
    sent = [accounts.request_password_reset(user.email) for _ in range(5)]
    db.session.commit()
    assert sum(message is not None for message in sent) == accounts.MAX_RESET_MAILS_PER_HOUR
    assert len(outbox_for(db, user.email)) == accounts.MAX_RESET_MAILS_PER_HOUR
    tokens = db.session.scalar(
        sa.select(sa.func.count(AccountToken.id)).where(AccountToken.user_id == user.id)
    )
    assert tokens == accounts.MAX_RESET_MAILS_PER_HOUR


def test_forgot_password_form_is_rate_limited_per_address(app, client, auth, db) -> None:
    limit = int(app.config["PASSWORD_RESET_LIMIT_PER_ADDRESS"].split()[0])
    for n in range(limit):
        assert auth.post("/forgot-password", {"email": f"a{n}@example.org"}).status_code == 302
    response = auth.post("/forgot-password", {"email": "b@example.org"})
    assert response.status_code == 429
    assert "Te veel pogingen" in response.get_data(as_text=True)


def test_a_reset_logs_out_every_session(app, db, user) -> None:
    device = app.test_client()
    AuthActions(device).login(user.email)
    assert device.get("/portfolio/").status_code == 200
    message = accounts.request_password_reset(user.email)
    accounts.set_password_with_token(LINK.search(message.body_text).group(1), "nog een wachtwoord!")
    db.session.commit()
    assert device.get("/portfolio/").status_code == 302


# --- cookies and sessions -------------------------------------------------------------------------


def test_session_cookie_is_httponly_and_samesite_lax(auth, user) -> None:
    response = auth.login(user.email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development and tests run on http


def test_production_cookies_are_secure(monkeypatch, database_url, schema, tmp_path) -> None:
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", database_url)
    app = create_app("production")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    client = app.test_client()
    response = client.get("/login")
    assert "Secure" in response.headers["Set-Cookie"]


def test_login_starts_a_new_session(client, auth, db, user) -> None:
    before = csrf_token(client)
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    auth.login(user.email)
    with client.session_transaction() as session:
        assert "planted" not in session
        token = session["_user_id"]
    # The session names a login session of this person (which the server can end), not the account.
    login_session = db.session.scalar(
        sa.select(LoginSession).where(LoginSession.token_hash == LoginSession.hash_token(token))
    )
    assert login_session.user_id == user.id and login_session.ended_at is None
    # The form token of the anonymous session no longer works.
    response = client.post("/profile", data={"csrf_token": before})
    assert response.status_code == 400


def test_password_change_ends_a_remembered_session(app, db, client, auth, user) -> None:
    phone = app.test_client()
    token = csrf_token(phone)
    phone.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "remember": "y", "csrf_token": token},
    )
    # Drop the session cookie; only the remember-me cookie is left, as after closing the browser.
    phone.delete_cookie("session")
    assert phone.get("/portfolio/").status_code == 200
    auth.login(user.email)
    new = "een ander lang wachtwoord"
    auth.post("/profile", {"current_password": PASSWORD, "password": new, "confirm": new})
    phone.delete_cookie("session")
    assert phone.get("/portfolio/").status_code == 302


def test_behind_a_trusted_proxy_the_visitors_address_is_throttled(
    database_url, db, user, tmp_path
) -> None:
    from tests.conftest import make_config

    config = type(
        "BehindProxy",
        (make_config(database_url, tmp_path / "files"),),
        {"TRUSTED_PROXIES": 1, "LOGIN_LIMIT_PER_ADDRESS": "2 per 15 minutes"},
    )
    proxied = create_app(config)

    def attempt(forwarded_for: str, password: str) -> int:
        client = proxied.test_client()
        token = csrf_token(client)
        response = client.post(
            "/login",
            data={"email": user.email, "password": password, "csrf_token": token},
            headers={"X-Forwarded-For": forwarded_for},
        )
        return response.status_code

    assert attempt("203.0.113.7", "fout-wachtwoord-1") == 401
    assert attempt("203.0.113.7", "fout-wachtwoord-2") == 401
    assert attempt("203.0.113.7", PASSWORD) == 429
    # Another visitor behind the same proxy is not locked out by the first one (and the account
    # count, 2 failures, is still below its limit).
    assert attempt("198.51.100.20", PASSWORD) == 302
