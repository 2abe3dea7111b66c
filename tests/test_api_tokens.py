"""The coordinator's API key pages: make a key (shown once, stored hashed), list, revoke with a
confirmation; and the token service."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms import clock
from lms.models import ApiToken, ApiTokenScope, AuditEvent, Role
from lms.services import api_tokens
from tests.factories import make_user

SECRET = re.compile(r"vkapi_[A-Za-z0-9_-]{20,}")


@pytest.fixture
def coordinator(db):
    user = make_user(Role.COORDINATOR, first_name="Carla", last_name="Smeets")
    db.session.commit()
    return user


def make_key_through_the_page(auth, **fields):  # type: ignore[no-untyped-def]
    data = {"name": "Opleidingspartner Leeuwenborgh", "scope": "read", "valid_days": "90"}
    data.update(fields)
    return auth.post("/api/keys/new", data=data)


@pytest.mark.parametrize("role", [Role.TRAINER, Role.EMPLOYER, Role.PARTICIPANT])
def test_only_the_coordinator_manages_keys(client, auth, db, role) -> None:
    user = make_user(role)
    token, _secret = ApiToken.issue(
        user=user, name="x", scope=ApiTokenScope.READ, expires_at=clock.now() + timedelta(days=1)
    )
    db.session.add(token)
    db.session.commit()
    auth.login(user.email)
    assert client.get("/api/keys/").status_code == 403
    assert client.get("/api/keys/new").status_code == 403
    assert (
        client.get(f"/api/keys/{token.id}/revoke").status_code == 404
    )  # a key's id: not confirmed
    assert make_key_through_the_page(auth).status_code == 403


def test_anonymous_visitors_go_to_the_login_page(client) -> None:
    response = client.get("/api/keys/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_empty_list_says_what_to_do(client, auth, coordinator) -> None:
    auth.login(coordinator.email)
    page = client.get("/api/keys/").get_data(as_text=True)
    assert "Nog geen API-sleutels" in page
    assert 'href="/api/keys/new"' in page


def test_a_new_key_is_shown_once_and_only_its_hash_is_kept(client, auth, db, coordinator) -> None:
    auth.login(coordinator.email)
    response = make_key_through_the_page(auth, scope="read_write", valid_days="30")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    secret = SECRET.search(page).group(0)
    assert "niet meer zien" in page  # "you will not see it again"
    token = db.session.scalar(sa.select(ApiToken))
    assert token.user_id == coordinator.id
    assert token.scope is ApiTokenScope.READ_WRITE
    assert token.token_hash == ApiToken.hash_secret(secret)
    assert timedelta(days=29, hours=23) < token.expires_at - token.created_at <= timedelta(days=30)
    listing = client.get("/api/keys/").get_data(as_text=True)
    assert "Opleidingspartner Leeuwenborgh" in listing
    assert token.hint in listing
    assert secret not in listing
    # the key works at once, as its maker
    answer = client.get("/api/v1/cohorts", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 200


def test_a_form_with_mistakes_keeps_what_was_typed(client, auth, db, coordinator) -> None:
    auth.login(coordinator.email)
    response = make_key_through_the_page(auth, name="", valid_days="7")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Geef de sleutel een naam" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0
    response = make_key_through_the_page(auth, name="HR-koppeling", scope="admin")
    assert response.status_code == 400
    assert 'value="HR-koppeling"' in response.get_data(as_text=True)


def test_the_key_pages_need_a_csrf_token(client, auth, coordinator) -> None:
    auth.login(coordinator.email)
    response = client.post("/api/keys/new", data={"name": "x", "scope": "read", "valid_days": "90"})
    assert response.status_code == 400


def test_revoking_asks_first_and_then_the_key_stops_working(client, auth, db, coordinator) -> None:
    token, secret = api_tokens.create_token(
        owner=coordinator, name="HR-koppeling", scope=ApiTokenScope.READ, valid_days=90
    )
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/cohorts", headers=headers).status_code == 200
    auth.login(coordinator.email)
    confirm = client.get(f"/api/keys/{token.id}/revoke")
    assert confirm.status_code == 200
    assert "Sleutel 'HR-koppeling' intrekken?" in confirm.get_data(as_text=True)
    db.session.refresh(token)
    assert token.revoked_at is None  # looking at the question changes nothing
    response = auth.post(f"/api/keys/{token.id}/revoke", follow_redirects=True)
    assert "is ingetrokken" in response.get_data(as_text=True)
    db.session.refresh(token)
    assert token.revoked_at is not None
    assert token.revoked_by_id == coordinator.id
    assert client.get("/api/v1/cohorts", headers=headers).status_code == 401
    listing = client.get("/api/keys/").get_data(as_text=True)
    assert "Ingetrokken" in listing
    assert f"/api/keys/{token.id}/revoke" not in listing
    actions = db.session.scalars(
        sa.select(AuditEvent.action)
        .where(AuditEvent.action.like("api_token.%"))
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["api_token.create", "api_token.revoke"]


def test_revoking_a_missing_key_is_404(client, auth, coordinator) -> None:
    auth.login(coordinator.email)
    assert client.get("/api/keys/999/revoke").status_code == 404


def test_the_service_refuses_an_empty_name_and_an_unknown_validity(db, coordinator) -> None:
    with pytest.raises(api_tokens.ApiTokenError):
        api_tokens.create_token(
            owner=coordinator, name="  ", scope=ApiTokenScope.READ, valid_days=90
        )
    with pytest.raises(api_tokens.ApiTokenError):
        api_tokens.create_token(
            owner=coordinator, name="x", scope=ApiTokenScope.READ, valid_days=3650
        )
    token, _secret = api_tokens.create_token(
        owner=coordinator, name="x", scope=ApiTokenScope.READ, valid_days=30
    )
    api_tokens.revoke_token(token, actor=coordinator)
    with pytest.raises(api_tokens.ApiTokenError):
        api_tokens.revoke_token(token, actor=coordinator)


def test_last_use_is_written_at_most_once_a_minute(db, coordinator, count_queries) -> None:
    token, secret = api_tokens.create_token(
        owner=coordinator, name="x", scope=ApiTokenScope.READ, valid_days=30
    )
    db.session.commit()
    first = clock.now()

    def stored() -> object:
        db.session.expire(token)
        return token.last_used_at

    with count_queries() as counted:  # the token and its owner, read together; nothing written
        assert api_tokens.authenticate(secret, at=first) is token
        assert token.user is coordinator
    assert counted.count == 1
    assert stored() is None
    assert api_tokens.use_is_news(None, first)
    assert api_tokens.note_use(token.id, first)
    assert stored() == first
    later = first + timedelta(seconds=30)
    assert not api_tokens.use_is_news(first, later)
    assert not api_tokens.note_use(token.id, later)
    assert stored() == first
    assert api_tokens.use_is_news(first, first + timedelta(minutes=2))
    assert api_tokens.note_use(token.id, first + timedelta(minutes=2))
    assert stored() == first + timedelta(minutes=2)
    # A slower worker that authenticated earlier never moves the time back.
    assert not api_tokens.note_use(token.id, first + timedelta(seconds=90))
    assert stored() == first + timedelta(minutes=2)
    assert api_tokens.authenticate(secret + "x") is None
