"""Login sessions on the server: the rules without HTTP (lms/services/login_sessions.py), then what a
browser sees: logging out (with and without "stay logged in") ends the session so a copied cookie no
longer works, the account page logs out other devices or all of them, a password change or a
deactivation ends sessions, an unused session runs out, and the cookie and HSTS settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from lms import clock, create_app
from lms.models import AuditEvent, LoginSession, Role
from lms.services import accounts, login_sessions, people, privacy
from tests.conftest import AuthActions, csrf_token
from tests.factories import PASSWORD, make_user

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/130.0.0.0 Mobile Safari/537.36"
)
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/18.1 Mobile/15E148 Safari/604.1"
)
REMEMBER = "remember_token"


def start(user, *, remember: bool = False, at: datetime = NOW, agent: str = ANDROID_CHROME):  # type: ignore[no-untyped-def]
    """A session and its token."""
    login_session = login_sessions.start(
        user, remember=remember, ip_address="192.0.2.7", user_agent=agent, at=at
    )
    return login_session, user.login_token


def audit_actions(db, user) -> list[str]:  # type: ignore[no-untyped-def]
    return list(
        db.session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.actor_id == user.id)
            .order_by(AuditEvent.id)
        )
    )


# --- the rules, without HTTP ----------------------------------------------------------------------


def test_a_session_stores_only_the_hash_of_its_token(app, db) -> None:
    user = make_user()
    login_session, token = start(user)
    assert len(token) >= 40
    assert login_session.token_hash == LoginSession.hash_token(token) != token
    stored = db.session.execute(sa.select(LoginSession.__table__)).one()._mapping
    assert token not in [str(value) for value in stored.values()]
    assert (login_session.browser, login_session.platform) == ("Chrome", "Android")
    assert login_session.ip_address == "192.0.2.7" and not login_session.remember
    assert user.get_id() == token


def test_the_token_loads_the_person_and_nothing_else_does(app, db) -> None:
    user = make_user()
    login_session, token = start(user)
    db.session.commit()
    loaded = login_sessions.load(token, at=NOW)
    assert loaded is user and loaded.login_session is login_session
    for wrong in (
        "",
        "x",
        f"{user.id}:1",
        str(user.id),
        token + "x",
        token[:-1],
        None,
        7,
        "a" * 500,
    ):
        assert login_sessions.load(wrong, at=NOW) is None, wrong


def test_an_ended_session_or_inactive_account_loads_nobody(app, db) -> None:
    user = make_user()
    login_session, token = start(user)
    login_sessions.log_out(login_session, at=NOW)
    assert login_sessions.load(token, at=NOW) is None
    other, other_token = start(user)
    user.is_active_account = False
    assert login_sessions.load(other_token, at=NOW) is None


def test_without_remember_a_session_runs_out_when_unused(app, db) -> None:
    idle = timedelta(minutes=app.config["LOGIN_SESSION_IDLE_MINUTES"])
    user = make_user()
    login_session, token = start(user)
    assert login_session.expires_at == NOW + idle
    assert login_sessions.load(token, at=NOW + idle - timedelta(seconds=1)) is not None
    assert login_sessions.load(token, at=NOW + idle) is None


def test_use_keeps_a_session_going_but_never_past_thirty_days(app, db) -> None:
    idle = timedelta(minutes=app.config["LOGIN_SESSION_IDLE_MINUTES"])
    assert app.config["REMEMBER_COOKIE_DURATION"] == timedelta(days=30)
    user = make_user()
    login_session, token = start(user)
    at = NOW
    while at < NOW + timedelta(days=30) - idle:
        at += idle / 2
        assert login_sessions.load(token, at=at) is not None, at
        login_sessions.touch(login_session, at=at, ip_address="192.0.2.8")
    assert login_session.expires_at == NOW + timedelta(days=30)
    assert login_sessions.load(token, at=NOW + timedelta(days=30)) is None


def test_a_remembered_session_lasts_thirty_days_from_the_login(app, db) -> None:
    user = make_user()
    login_session, token = start(user, remember=True)
    assert login_session.expires_at == NOW + timedelta(days=30)
    assert login_sessions.load(token, at=NOW + timedelta(days=29, hours=23)) is not None
    login_sessions.touch(login_session, at=NOW + timedelta(days=29), ip_address="")
    assert login_session.expires_at == NOW + timedelta(days=30)  # use does not extend it
    assert login_sessions.load(token, at=NOW + timedelta(days=30)) is None


def test_last_seen_is_written_at_most_every_few_minutes(app, db) -> None:
    user = make_user()
    login_session, _token = start(user)
    step = login_sessions.SEEN_RESOLUTION
    assert not login_sessions.touch(login_session, at=NOW + step / 2, ip_address="198.51.100.1")
    assert login_session.last_seen_at == NOW and login_session.ip_address == "192.0.2.7"
    assert login_sessions.touch(login_session, at=NOW + step, ip_address="198.51.100.1")
    assert login_session.last_seen_at == NOW + step
    assert login_session.ip_address == "198.51.100.1"


def test_logging_out_twice_changes_nothing_the_second_time(app, db) -> None:
    user = make_user()
    login_session, _token = start(user)
    login_sessions.log_out(login_session, at=NOW)
    login_sessions.log_out(login_session, at=NOW + timedelta(hours=1))
    assert login_session.ended_at == NOW
    assert audit_actions(db, user).count("user.logout") == 1


def test_ending_all_sessions_touches_only_that_person(app, db) -> None:
    user, other = make_user(), make_user()
    phone, _ = start(user)
    laptop, _ = start(user, agent=IPHONE_SAFARI)
    theirs, _ = start(other)
    assert login_sessions.end_all(user, at=NOW) == 2
    assert phone.ended_at == laptop.ended_at == NOW and theirs.ended_at is None
    assert login_sessions.end_all(user, at=NOW) == 0


def test_a_person_finds_only_their_own_sessions(app, db) -> None:
    user, other = make_user(), make_user()
    mine, _ = start(user)
    theirs, _ = start(other)
    assert login_sessions.find_own(user, mine.id) is mine
    assert login_sessions.find_own(user, theirs.id) is None
    assert login_sessions.find_own(user, 999_999) is None


def test_the_active_list_leaves_out_ended_and_expired_sessions(app, db) -> None:
    user = make_user()
    old, _ = start(user, at=NOW - timedelta(days=1))  # unused for a day, no "remember": over
    ended, _ = start(user, remember=True)
    login_sessions.log_out(ended, at=NOW)
    phone, _ = start(user, remember=True, at=NOW - timedelta(hours=1))
    laptop, _ = start(user, agent=IPHONE_SAFARI)
    assert login_sessions.active(user, at=NOW) == [laptop, phone]
    assert old not in login_sessions.active(user, at=NOW)


def test_prune_deletes_sessions_over_for_a_week(app, db) -> None:
    user = make_user()
    ended_long_ago, _ = start(user, at=NOW - timedelta(days=10))
    login_sessions.log_out(ended_long_ago, at=NOW - timedelta(days=8))
    ended_recently, _ = start(user, at=NOW - timedelta(days=3))
    login_sessions.log_out(ended_recently, at=NOW - timedelta(days=3))
    ran_out_long_ago, _ = start(user, at=NOW - timedelta(days=9))  # idle 2 hours, 9 days ago
    remembered_long_ago, _ = start(user, remember=True, at=NOW - timedelta(days=38))
    remembered, _ = start(user, remember=True, at=NOW - timedelta(days=20))
    current, _ = start(user)
    db.session.commit()
    kept = {ended_recently.id, remembered.id, current.id}
    assert login_sessions.prune(NOW) == 3
    db.session.commit()
    assert set(db.session.scalars(sa.select(LoginSession.id))) == kept
    assert login_sessions.prune(NOW) == 0


def test_the_nightly_job_prunes_and_commits(app, db) -> None:
    from lms.scheduler import run_nightly_prune

    user = make_user()
    old, _ = start(user, at=clock.now() - timedelta(days=40))
    db.session.commit()
    assert run_nightly_prune(app)["login sessions"] == 1
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(LoginSession.id))) == 0


@pytest.mark.parametrize(
    ("agent", "device"),
    [
        (ANDROID_CHROME, ("Chrome", "Android")),
        (IPHONE_SAFARI, ("Safari", "iPhone")),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15"
            " (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
            ("Chrome", "iPhone"),
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko)"
            " SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
            ("Samsung Internet", "Android"),
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
            " Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            ("Edge", "Windows"),
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 Firefox/133.0",
            ("Firefox", "macOS"),
        ),
        ("curl/8.5.0", ("", "")),
        ("", ("", "")),
        ("<script>alert(1)</script> Android" + "x" * 5000, ("", "Android")),
    ],
)
def test_the_device_is_named_from_a_fixed_list(agent: str, device: tuple[str, str]) -> None:
    assert login_sessions.describe_device(agent) == device


def test_the_device_label_is_plain_dutch(app, db) -> None:
    user = make_user()
    phone, _ = start(user)
    unknown, _ = start(user, agent="curl/8.5.0")
    with force_locale("nl"):
        assert login_sessions.device_label(phone) == "Chrome op Android"
        assert login_sessions.device_label(unknown) == "Onbekend apparaat"


def test_a_password_change_or_reset_ends_every_session(app, db) -> None:
    user = make_user()
    first, _ = start(user)
    accounts.change_password(user, PASSWORD, "een nieuw lang wachtwoord")
    assert first.ended_at is not None
    second, _ = start(user)
    secret = accounts.create_invitation(user)
    accounts.set_password_with_token(secret, "nog een nieuw wachtwoord")
    assert second.ended_at is not None


def test_deactivation_ends_and_erasure_removes_the_sessions(app, db) -> None:
    coordinator = make_user(Role.COORDINATOR)
    trainer = make_user(Role.TRAINER)
    trainer_session, _ = start(trainer)
    people.deactivate(trainer, actor=coordinator)
    assert trainer_session.ended_at is not None

    participant = make_user(Role.PARTICIPANT)
    start(participant, remember=True)
    db.session.commit()
    privacy.erase_person(participant, actor=coordinator, reason="request")
    db.session.commit()
    remaining = db.session.scalar(
        sa.select(sa.func.count(LoginSession.id)).where(LoginSession.user_id == participant.id)
    )
    assert remaining == 0


# --- over HTTP ------------------------------------------------------------------------------------


@pytest.fixture
def user(db):  # type: ignore[no-untyped-def]
    user = make_user(Role.PARTICIPANT, email="sanne.kicken@example.org")
    db.session.commit()
    return user


def log_in(client, email: str, *, remember: bool = False, agent: str = ANDROID_CHROME):  # type: ignore[no-untyped-def]
    data = {"email": email, "password": PASSWORD, "csrf_token": csrf_token(client)}
    if remember:
        data["remember"] = "y"
    response = client.post("/login", data=data, headers={"User-Agent": agent})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def cookie(client, name: str) -> str | None:  # type: ignore[no-untyped-def]
    found = client.get_cookie(name)
    return found.value if found is not None else None


def replay(app, cookies: dict[str, str | None]):  # type: ignore[no-untyped-def]
    """A new browser with copies of another one's cookies."""
    thief = app.test_client()
    for name, value in cookies.items():
        if value is not None:
            thief.set_cookie(name, value)
    return thief


def logged_in(client) -> bool:  # type: ignore[no-untyped-def]
    response = client.get("/portfolio/")
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/login")
        return False
    assert response.status_code == 200
    return True


def test_logout_deletes_the_remember_cookie(app, client, user) -> None:
    log_in(client, user.email, remember=True)
    assert cookie(client, REMEMBER) is not None
    response = AuthActions(client).logout()
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    deleted = [
        header
        for header in response.headers.getlist("Set-Cookie")
        if header.startswith(f"{REMEMBER}=")
    ]
    assert deleted and "Expires=Thu, 01 Jan 1970" in deleted[0]
    assert cookie(client, REMEMBER) is None
    assert not logged_in(client)


@pytest.mark.parametrize("remember", [False, True], ids=["session", "remember"])
def test_cookies_copied_before_logout_do_not_work_after(app, client, user, remember) -> None:
    log_in(client, user.email, remember=remember)
    copied = {"session": cookie(client, "session"), REMEMBER: cookie(client, REMEMBER)}
    assert logged_in(replay(app, copied))  # the copy works while the session lasts
    AuthActions(client).logout()
    assert not logged_in(replay(app, copied))
    # Each cookie on its own does not work either.
    assert not logged_in(replay(app, {"session": copied["session"]}))
    if remember:
        assert not logged_in(replay(app, {REMEMBER: copied[REMEMBER]}))


def test_a_second_logout_gets_the_same_answer(app, client, user) -> None:
    log_in(client, user.email)
    token = csrf_token(client, "/profile")
    first = client.post("/logout", data={"csrf_token": token})
    # A second tap sent with the cookies the first one had.
    again = replay(app, {"session": first.request.cookies.get("session")})
    second = again.post("/logout", data={"csrf_token": token}, follow_redirects=True)
    assert second.status_code == 200
    assert "Je bent uitgelogd." in second.get_data(as_text=True)


def test_a_refused_remember_cookie_is_deleted(app, client, user) -> None:
    log_in(client, user.email, remember=True)
    stale = replay(app, {REMEMBER: cookie(client, REMEMBER)})
    AuthActions(client).logout()
    response = stale.get("/login")
    assert response.status_code == 200
    assert cookie(stale, REMEMBER) is None


def test_the_remember_cookie_lasts_thirty_days(app, client, user) -> None:
    response = log_in(client, user.email, remember=True)
    header = next(
        value for value in response.headers.getlist("Set-Cookie") if value.startswith(REMEMBER)
    )
    expires = parsedate_to_datetime(header.split("Expires=")[1].split(";")[0])
    lifetime = expires - datetime.now(UTC)
    assert timedelta(days=29, hours=23) < lifetime <= timedelta(days=30)
    assert "HttpOnly" in header and "SameSite=Lax" in header


def test_an_unused_session_runs_out_unless_remembered(app, db, user) -> None:
    idle = timedelta(minutes=app.config["LOGIN_SESSION_IDLE_MINUTES"])
    desk = app.test_client()
    log_in(desk, user.email)
    phone = app.test_client()
    log_in(phone, user.email, remember=True)
    with clock.frozen_at(clock.now() + idle - timedelta(minutes=10)):
        assert logged_in(desk)  # used: the idle time starts again
    with clock.frozen_at(clock.now() + 2 * idle - timedelta(minutes=20)):
        assert logged_in(desk)
    with clock.frozen_at(clock.now() + 3 * idle):
        assert not logged_in(desk)
        assert logged_in(phone)
    with clock.frozen_at(clock.now() + timedelta(days=30, minutes=1)):
        assert not logged_in(phone)


def test_the_account_page_lists_the_devices(app, db, client, user) -> None:
    phone = app.test_client()
    log_in(phone, user.email, remember=True, agent=ANDROID_CHROME)
    log_in(client, user.email, agent=IPHONE_SAFARI)
    page = client.get("/profile").get_data(as_text=True)
    assert "Waar je bent ingelogd" in page
    assert "Safari op iPhone" in page and "Chrome op Android" in page
    assert page.count("Dit apparaat") == 1
    assert (
        page.index("Safari op iPhone")
        < page.index("Dit apparaat")
        < page.index("Chrome op Android")
    )
    phone_session = db.session.scalar(
        sa.select(LoginSession).where(LoginSession.user_id == user.id, LoginSession.remember)
    )
    shown = phone_session.last_seen_at.astimezone(clock.LOCAL_TZ).strftime("%H:%M")
    assert f"Laatst actief {phone_session.last_seen_at.astimezone(clock.LOCAL_TZ).day} " in page
    assert shown in page
    assert f"/profile/sessions/{phone_session.id}/end" in page
    assert 'href="/profile/sessions/end-all"' in page


def test_logging_out_another_device_from_the_account_page(app, db, client, user) -> None:
    phone = app.test_client()
    log_in(phone, user.email, remember=True)
    copied = {"session": cookie(phone, "session"), REMEMBER: cookie(phone, REMEMBER)}
    log_in(client, user.email, agent=IPHONE_SAFARI)
    phone_session = db.session.scalar(
        sa.select(LoginSession).where(LoginSession.user_id == user.id, LoginSession.remember)
    )
    path = f"/profile/sessions/{phone_session.id}/end"
    response = AuthActions(client).post(path, follow_redirects=True)
    assert response.status_code == 200
    assert "Chrome op Android is uitgelogd." in response.get_data(as_text=True)
    assert not logged_in(phone) and not logged_in(replay(app, copied))
    assert logged_in(client)
    # Again: the same answer, nothing else changes.
    again = AuthActions(client).post(path, follow_redirects=True)
    assert "Chrome op Android is uitgelogd." in again.get_data(as_text=True)
    assert logged_in(client)


def test_nobody_logs_out_someone_elses_device(app, db, client, user) -> None:
    other = make_user(Role.PARTICIPANT)
    db.session.commit()
    theirs = app.test_client()
    log_in(theirs, other.email)
    their_session = db.session.scalar(
        sa.select(LoginSession).where(LoginSession.user_id == other.id)
    )
    log_in(client, user.email)
    response = AuthActions(client).post(f"/profile/sessions/{their_session.id}/end")
    assert response.status_code == 404
    assert AuthActions(client).post("/profile/sessions/999999/end").status_code == 404
    assert logged_in(theirs)


def test_ending_this_device_from_the_list_logs_out_here(app, db, client, user) -> None:
    log_in(client, user.email, remember=True)
    here = db.session.scalar(sa.select(LoginSession).where(LoginSession.user_id == user.id))
    response = AuthActions(client).post(f"/profile/sessions/{here.id}/end")
    assert response.headers["Location"] == "/login"
    assert cookie(client, REMEMBER) is None and not logged_in(client)


def test_log_out_everywhere_asks_first_then_ends_every_session(app, db, client, user) -> None:
    phone = app.test_client()
    log_in(phone, user.email, remember=True)
    log_in(client, user.email, remember=True)
    copied = {"session": cookie(client, "session"), REMEMBER: cookie(client, REMEMBER)}
    question = client.get("/profile/sessions/end-all")
    assert question.status_code == 200
    text = question.get_data(as_text=True)
    assert "Uitloggen op al je apparaten?" in text and "op 2 apparaten ingelogd" in text
    assert "<script>" not in text  # a page that asks, not a script's confirm()
    assert logged_in(client) and logged_in(phone)  # asking changes nothing

    response = AuthActions(client).post("/profile/sessions/end-all", follow_redirects=True)
    assert "Je bent op al je apparaten uitgelogd" in response.get_data(as_text=True)
    assert cookie(client, REMEMBER) is None
    assert not logged_in(client) and not logged_in(phone) and not logged_in(replay(app, copied))
    assert "user.logout_everywhere" in audit_actions(db, user)


def test_a_password_change_ends_the_other_devices_and_old_copies(app, db, client, user) -> None:
    phone = app.test_client()
    log_in(phone, user.email, remember=True)
    log_in(client, user.email, remember=True)
    copied = {"session": cookie(client, "session"), REMEMBER: cookie(client, REMEMBER)}
    new = "een ander lang wachtwoord"
    response = AuthActions(client).post(
        "/profile", {"current_password": PASSWORD, "password": new, "confirm": new}
    )
    assert response.status_code == 302
    assert logged_in(client)  # this device goes on, with a new session
    client.delete_cookie("session")
    assert logged_in(client)  # ... and a new remember cookie
    assert not logged_in(phone)
    assert not logged_in(replay(app, copied))


def test_a_deactivated_account_is_logged_out_everywhere(app, db, client) -> None:
    coordinator = make_user(Role.COORDINATOR)
    trainer = make_user(Role.TRAINER)
    db.session.commit()
    log_in(client, trainer.email, remember=True)
    copied = {REMEMBER: cookie(client, REMEMBER)}
    assert client.get("/assessment/").status_code == 200
    people.deactivate(trainer, actor=coordinator)
    db.session.commit()
    assert client.get("/assessment/").status_code == 302
    assert replay(app, copied).get("/assessment/").status_code == 302
    # Reactivating the account does not bring the old sessions back.
    people.reactivate(trainer, actor=coordinator)
    db.session.commit()
    assert replay(app, copied).get("/assessment/").status_code == 302


def test_sessions_from_before_the_upgrade_no_longer_work(app, client, user) -> None:
    # The old cookies held "<user id>:<session version>".
    with client.session_transaction() as session:
        session["_user_id"] = f"{user.id}:1"
        session["_fresh"] = True
    assert not logged_in(client)


# --- HSTS -----------------------------------------------------------------------------------------


def test_hsts_only_in_production(monkeypatch, client, database_url, schema) -> None:
    assert "Strict-Transport-Security" not in client.get("/login").headers
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", database_url)
    production = create_app("production").test_client()
    header = production.get("/login").headers["Strict-Transport-Security"]
    max_age = int(header.split("max-age=")[1].split(";")[0])
    assert max_age >= 365 * 24 * 3600
