"""Logging in and out, one-time password links, and the user create command."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms import clock
from lms.models import AccountToken, AuditEvent, Role, User
from lms.services import accounts
from tests.conftest import csrf_token
from tests.factories import PASSWORD, make_employer, make_user


@pytest.fixture
def participant(db):
    user = make_user(Role.PARTICIPANT, email="jan.jansen@example.org")
    db.session.commit()
    return user


def test_login_page_has_named_fields_and_csrf(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert 'name="email"' in page
    assert 'name="password"' in page
    assert 'name="csrf_token"' in page


def test_login_without_csrf_token_is_refused(client, participant) -> None:
    response = client.post("/login", data={"email": participant.email, "password": PASSWORD})
    assert response.status_code == 400


def test_login_lands_on_the_role_home_and_is_audited(client, auth, participant, db) -> None:
    response = auth.login(participant.email)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/participant"
    db.session.expire_all()
    assert db.session.get(User, participant.id).last_login_at is not None
    assert (
        db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.actor_id == participant.id))
        == "user.login"
    )


def test_login_email_is_case_insensitive(auth, participant) -> None:
    assert auth.login("  Jan.Jansen@Example.ORG ").status_code == 302


def test_wrong_password_keeps_the_email_and_says_why(auth, participant) -> None:
    response = auth.login(participant.email, password="verkeerd-wachtwoord")
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert "Het e-mailadres of wachtwoord klopt niet." in page
    assert f'value="{participant.email}"' in page


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(auth) -> None:
    response = auth.login("niemand@example.org")
    assert response.status_code == 401
    assert "Het e-mailadres of wachtwoord klopt niet." in response.get_data(as_text=True)


def test_empty_login_form_shows_field_messages(client) -> None:
    response = client.post(
        "/login", data={"email": "", "password": "", "csrf_token": csrf_token(client)}
    )
    page = response.get_data(as_text=True)
    assert "Vul je e-mailadres in." in page
    assert "Vul je wachtwoord in." in page


def test_inactive_user_cannot_log_in(auth, db) -> None:
    user = make_user(Role.TRAINER, active=False)
    db.session.commit()
    response = auth.login(user.email)
    assert response.status_code == 401
    assert "gedeactiveerd" in response.get_data(as_text=True)


def test_deactivating_a_user_ends_their_session(client, auth, db) -> None:
    user = make_user(Role.TRAINER)
    db.session.commit()
    auth.login(user.email)
    assert client.get("/assessment/").status_code == 200
    user.is_active_account = False
    db.session.commit()
    assert client.get("/assessment/").status_code == 302


def test_logout_requires_post_and_ends_the_session(client, auth, participant) -> None:
    auth.login(participant.email)
    assert client.get("/logout").status_code == 405
    response = auth.logout()
    assert response.status_code == 302
    assert client.get("/portfolio/").headers["Location"].startswith("/login")


def test_anonymous_visitor_is_sent_to_login_with_next(client, auth, participant) -> None:
    response = client.get("/portfolio/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Fportfolio%2F"
    token = csrf_token(client)
    response = client.post(
        "/login?next=/portfolio/",
        data={"email": participant.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/portfolio/"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"]
)
def test_login_never_redirects_to_another_site(client, participant, target: str) -> None:
    token = csrf_token(client)
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": participant.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/dashboard/participant"


def test_passwords_are_hashed_with_scrypt_by_default(app) -> None:
    user = User(email="x@example.org", first_name="X", last_name="Y", role=Role.TRAINER)
    user.set_password("een-lang-wachtwoord")
    assert user.password_hash.startswith("scrypt:")
    assert user.check_password("een-lang-wachtwoord")
    assert not user.check_password("een-ander-wachtwoord")


def test_invitation_link_sets_the_password_once(client, db) -> None:
    user = make_user(Role.EMPLOYER, password=None)
    secret = accounts.create_invitation(user)
    db.session.commit()
    assert accounts.authenticate(user.email, "ons-nieuwe-wachtwoord").user is None

    page = client.get(f"/set-password/{secret}")
    assert page.status_code == 200
    response = client.post(
        f"/set-password/{secret}",
        data={
            "password": "ons-nieuwe-wachtwoord",
            "confirm": "ons-nieuwe-wachtwoord",
            "csrf_token": csrf_token(client, f"/set-password/{secret}"),
        },
    )
    assert response.status_code == 302
    db.session.expire_all()  # the request committed in its own session
    assert accounts.authenticate(user.email, "ons-nieuwe-wachtwoord").user is not None
    # The link works once.
    assert client.get(f"/set-password/{secret}").status_code == 404


def test_set_password_form_keeps_rules_and_says_what_is_wrong(client, db) -> None:
    user = make_user(Role.PARTICIPANT, password=None)
    secret = accounts.create_invitation(user)
    db.session.commit()
    token = csrf_token(client, f"/set-password/{secret}")
    too_short = client.post(
        f"/set-password/{secret}", data={"password": "kort", "confirm": "kort", "csrf_token": token}
    )
    assert "minstens 10 tekens" in too_short.get_data(as_text=True)
    different = client.post(
        f"/set-password/{secret}",
        data={
            "password": "lang-genoeg-wachtwoord",
            "confirm": "iets-anders-helemaal",
            "csrf_token": token,
        },
    )
    assert "niet hetzelfde" in different.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash is None


def test_expired_invitation_is_refused(client, db) -> None:
    user = make_user(Role.PARTICIPANT, password=None)
    secret = accounts.create_invitation(user)
    db.session.commit()
    later = clock.now() + timedelta(hours=client.application.config["INVITATION_TOKEN_HOURS"] + 1)
    with clock.frozen_at(later):
        response = client.get(f"/set-password/{secret}")
    assert response.status_code == 404
    assert "niet meer geldig" in response.get_data(as_text=True)


def test_a_new_invitation_replaces_the_old_one(db) -> None:
    user = make_user(Role.PARTICIPANT, password=None)
    first = accounts.create_invitation(user)
    second = accounts.create_invitation(user)
    db.session.commit()
    assert accounts.find_usable_token(first) is None
    assert accounts.find_usable_token(second) is not None
    # Only hashes are stored.
    stored = db.session.scalars(sa.select(AccountToken.token_hash)).all()
    assert first not in stored and second not in stored


def test_setting_a_password_logs_out_other_sessions(app, db) -> None:
    user = make_user(Role.PARTICIPANT)
    db.session.commit()
    other_device = app.test_client()
    from tests.conftest import AuthActions

    AuthActions(other_device).login(user.email)
    assert other_device.get("/portfolio/").status_code == 200
    secret = accounts.create_invitation(user)
    accounts.set_password_with_token(secret, "weer-een-nieuw-wachtwoord")
    db.session.commit()
    assert other_device.get("/portfolio/").status_code == 302


def test_cli_creates_a_user_with_an_invitation_link(runner, db) -> None:
    result = runner.invoke(
        args=[
            "lms",
            "user",
            "create",
            "--email",
            "Sanne.Hermans@example.org",
            "--first-name",
            "Sanne",
            "--last-name",
            "Hermans",
            "--role",
            "trainer",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "sanne.hermans@example.org"))
    assert user.role is Role.TRAINER
    secret = result.output.strip().rsplit("/set-password/", 1)[1]
    assert accounts.find_usable_token(secret).user_id == user.id


def test_cli_creates_an_employer_contact_with_password(runner, db) -> None:
    employer = make_employer(kvk_number="14012345")
    db.session.commit()
    result = runner.invoke(
        args=[
            "lms",
            "user",
            "create",
            "--email",
            "p.opleider@example.org",
            "--first-name",
            "Piet",
            "--name-prefix",
            "van der",
            "--last-name",
            "Linden",
            "--role",
            "employer",
            "--employer-kvk",
            "14012345",
            "--password",
            "een-goed-wachtwoord",
        ]
    )
    assert result.exit_code == 0, result.output
    user = accounts.authenticate("p.opleider@example.org", "een-goed-wachtwoord").user
    assert user.employer_id == employer.id
    assert user.full_name == "Piet van der Linden"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--role", "employer"], "precies één werkgever"),
        (["--role", "trainer", "--employer-kvk", "99999999"], "99999999"),
        (["--role", "trainer", "--password", "kort"], "minstens 10 tekens"),
    ],
)
def test_cli_refuses_bad_users(runner, db, extra, message) -> None:
    result = runner.invoke(
        args=[
            "lms",
            "user",
            "create",
            "--email",
            "x@example.org",
            "--first-name",
            "X",
            "--last-name",
            "Y",
            *extra,
        ]
    )
    assert result.exit_code != 0
    assert message in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_cli_refuses_a_duplicate_email(runner, db) -> None:
    make_user(Role.TRAINER, email="dubbel@example.org")
    db.session.commit()
    result = runner.invoke(
        args=[
            "lms",
            "user",
            "create",
            "--email",
            "DUBBEL@example.org",
            "--first-name",
            "X",
            "--last-name",
            "Y",
            "--role",
            "trainer",
        ]
    )
    assert result.exit_code != 0
    assert "bestaat al" in result.output


def test_profile_changes_the_password_and_logs_out_other_devices(app, client, auth, db) -> None:
    from tests.conftest import AuthActions

    user = make_user(Role.EMPLOYER)
    db.session.commit()
    other_device = app.test_client()
    AuthActions(other_device).login(user.email)
    auth.login(user.email)
    assert "Achternaam" in client.get("/profile").get_data(as_text=True)

    response = auth.post(
        "/profile",
        {
            "current_password": PASSWORD,
            "password": "nieuw-en-lang-genoeg",
            "confirm": "nieuw-en-lang-genoeg",
        },
    )
    assert response.status_code == 302
    assert client.get("/employer/").status_code == 200  # this device stays logged in
    assert other_device.get("/employer/").status_code == 302  # the other one does not
    db.session.expire_all()
    assert accounts.authenticate(user.email, "nieuw-en-lang-genoeg").user is not None


def test_profile_refuses_a_wrong_current_password(client, auth, db) -> None:
    user = make_user(Role.TRAINER)
    db.session.commit()
    auth.login(user.email)
    response = auth.post(
        "/profile",
        {
            "current_password": "niet-mijn-wachtwoord",
            "password": "nieuw-en-lang-genoeg",
            "confirm": "nieuw-en-lang-genoeg",
        },
    )
    assert response.status_code == 200
    assert 'id="current_password-error"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert accounts.authenticate(user.email, PASSWORD).user is not None


def test_profile_needs_a_login(client) -> None:
    assert client.get("/profile").headers["Location"].startswith("/login")
