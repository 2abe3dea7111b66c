"""``Idempotency-Key`` on the POSTs of the JSON API: a repeat gets the first answer and changes nothing,
another request under the same key is refused, two copies at the same moment change the data once,
keys belong to their API token and are forgotten after a day."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from lms import clock
from lms.blueprints.api import idempotency
from lms.extensions import db as _db
from lms.models import (
    ApiTokenScope,
    Enrolment,
    EnrolmentStatus,
    IdempotencyKey,
    OutboxMessage,
    Role,
    User,
)
from lms.services import enrolment as enrolment_service
from lms.services import idempotency_keys
from tests.api_helpers import build_world, enrol_body, make_key
from tests.concurrency import hold_first_after
from tests.factories import make_enrolment, make_user

PROBLEM = "application/problem+json"
NEW_PERSON = {"first_name": "Sanne", "last_name": "Vries", "email": "sanne@example.org"}


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def headers(world) -> dict[str, str]:
    """A read-write key of the coordinator."""
    return make_key(world.coordinator, ApiTokenScope.READ_WRITE)[1]


def count(model: Any) -> int:
    _db.session.expire_all()
    return _db.session.scalar(sa.select(sa.func.count()).select_from(model))


def post(client, headers, body, key: str | None = None):  # type: ignore[no-untyped-def]
    extra = {} if key is None else {"Idempotency-Key": key}
    return client.post("/api/v1/enrolments", headers={**headers, **extra}, json=body)


def assert_replayed(repeat, first) -> None:  # type: ignore[no-untyped-def]
    assert repeat.status_code == first.status_code
    assert repeat.get_data() == first.get_data()
    assert repeat.headers["Location"] == first.headers["Location"]
    assert repeat.headers["Content-Type"] == first.headers["Content-Type"]
    assert repeat.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers


# --- one client --------------------------------------------------------------------------------


def test_a_repeat_gets_the_first_answer_and_changes_nothing(client, db, world, headers) -> None:
    person = make_user(Role.PARTICIPANT)
    db.session.commit()
    body = enrol_body(world, participant_id=person.id)
    first = post(client, headers, body, key="enrol-42")
    assert first.status_code == 201, first.get_data(as_text=True)
    enrolment = db.session.get(Enrolment, first.get_json()["id"])
    # Meanwhile the participant leaves: sent again without the key, the enrolment would come back.
    enrolment_service.withdraw(
        enrolment, on=clock.today(), reason="Andere baan.", actor=world.coordinator
    )
    db.session.commit()
    enrolments = count(Enrolment)

    repeat = post(client, headers, body, key="enrol-42")

    assert_replayed(repeat, first)
    assert repeat.get_json()["status"] == "active"  # as it was answered the first time
    assert count(Enrolment) == enrolments
    assert db.session.get(Enrolment, enrolment.id).status is EnrolmentStatus.WITHDRAWN


def test_a_repeat_of_a_new_person_makes_one_account_and_sends_one_invitation(
    client, world, headers
) -> None:
    body = enrol_body(world, participant=NEW_PERSON)
    first = post(client, headers, body, key='"new-person-1"')  # the draft's quoted form
    repeat = post(client, headers, body, key="new-person-1")  # Stripe's bare form: the same key
    assert first.status_code == 201, first.get_data(as_text=True)
    assert_replayed(repeat, first)
    assert count(OutboxMessage) == 1
    emails = _db.session.scalars(sa.select(User.email).where(User.role == Role.PARTICIPANT))
    assert list(emails).count("sanne@example.org") == 1


def test_the_same_key_with_another_request_is_a_422_and_changes_nothing(
    client, db, world, headers
) -> None:
    first_person, second_person = make_user(Role.PARTICIPANT), make_user(Role.PARTICIPANT)
    db.session.commit()
    first = post(client, headers, enrol_body(world, participant_id=first_person.id), key="k1")
    assert first.status_code == 201
    enrolments = count(Enrolment)

    other = post(client, headers, enrol_body(world, participant_id=second_person.id), key="k1")

    assert other.status_code == 422
    assert other.mimetype == PROBLEM
    assert other.get_json()["type"] == "/api/v1/docs#problem-idempotency-key-reused"
    assert count(Enrolment) == enrolments
    # The key still answers the request it was first used for.
    assert_replayed(
        post(client, headers, enrol_body(world, participant_id=first_person.id), key="k1"), first
    )


def test_a_refused_request_keeps_no_answer_so_the_corrected_one_may_use_the_key(
    client, db, world, headers
) -> None:
    person = make_user(Role.PARTICIPANT)
    db.session.commit()
    wrong = post(client, headers, enrol_body(world, intake_type="walk-in"), key="fix-me")
    assert wrong.status_code == 422
    assert wrong.get_json()["type"] == "/api/v1/docs#problem-validation"
    for _ in range(10):  # with a1 and a2: twelve, so the next one is refused as full
        make_enrolment(world.cohort_a)
    db.session.commit()
    body = enrol_body(world, participant_id=person.id)
    assert post(client, headers, body, key="fix-me").status_code == 409
    assert count(IdempotencyKey) == 0

    last = db.session.scalars(sa.select(Enrolment).order_by(Enrolment.id.desc())).first()
    enrolment_service.withdraw(last, on=clock.today(), reason="Verhuisd.", actor=world.coordinator)
    db.session.commit()
    corrected = post(client, headers, body, key="fix-me")
    assert corrected.status_code == 201, corrected.get_data(as_text=True)
    assert_replayed(post(client, headers, body, key="fix-me"), corrected)


def test_without_the_header_a_request_is_handled_as_it_comes(client, db, world, headers) -> None:
    person = make_user(Role.PARTICIPANT)
    db.session.commit()
    body = enrol_body(world, participant_id=person.id)
    first, again = post(client, headers, body), post(client, headers, body)
    assert (first.status_code, again.status_code) == (201, 200)  # the route's own repeat answer
    assert "Idempotent-Replayed" not in again.headers
    assert count(IdempotencyKey) == 0
    assert db.session.get(Enrolment, first.get_json()["id"]).participant_id == person.id
    # A key on a later copy is a new key: its first answer is the route's, and that one is kept.
    keyed = post(client, headers, body, key="late")
    assert keyed.status_code == 200
    assert_replayed(post(client, headers, body, key="late"), keyed)
    assert "Idempotent-Replayed" not in post(client, headers, body).headers


@pytest.mark.parametrize(
    "key",
    [
        "",
        "x" * 256,
        "caf\u00e9",  # not ASCII
        "tab\there",
        "bell\x07",
        '"a"b"',  # a quoted string with a bare quote inside
        '""',
    ],
    ids=["empty", "too-long", "non-ascii", "tab", "control", "bad-quoting", "empty-quoted"],
)
def test_an_unusable_key_is_a_400_and_changes_nothing(client, db, world, headers, key) -> None:
    person = make_user(Role.PARTICIPANT)
    db.session.commit()
    enrolments = count(Enrolment)
    response = post(client, headers, enrol_body(world, participant_id=person.id), key=key)
    assert response.status_code == 400
    assert response.mimetype == PROBLEM
    assert response.get_json()["type"] == "/api/v1/docs#problem-invalid-idempotency-key"
    assert count(Enrolment) == enrolments


def test_the_longest_key_and_every_printable_character_are_accepted(
    client, db, world, headers
) -> None:
    person = make_user(Role.PARTICIPANT)
    db.session.commit()
    key = ("".join(chr(code) for code in range(0x21, 0x7F)) * 3)[:255]
    body = enrol_body(world, participant_id=person.id)
    first = post(client, headers, body, key=key)
    assert first.status_code == 201, first.get_data(as_text=True)
    assert_replayed(post(client, headers, body, key=key), first)


def test_every_post_of_the_api_reads_the_key(app, client, world, headers) -> None:
    """A new POST route has the key through token_required; one without it fails here."""
    posts = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and "POST" in rule.methods
    ]
    assert posts
    for path in posts:
        response = client.post(path, headers={**headers, "Idempotency-Key": ""}, json={})
        assert response.status_code == 400, path
        assert response.get_json()["type"] == "/api/v1/docs#problem-invalid-idempotency-key"


def test_the_keys_of_one_token_are_not_seen_by_another(client, db, world, headers) -> None:
    other_coordinator = make_user(Role.COORDINATOR)
    first_person, second_person = make_user(Role.PARTICIPANT), make_user(Role.PARTICIPANT)
    db.session.commit()
    _token, other_headers = make_key(other_coordinator, ApiTokenScope.READ_WRITE)
    first_body = enrol_body(world, participant_id=first_person.id)
    first = post(client, headers, first_body, key="shared-name")

    # The same key under the other token: its own request, neither a replay nor a 422.
    other = post(
        client, other_headers, enrol_body(world, participant_id=second_person.id), key="shared-name"
    )
    assert other.status_code == 201, other.get_data(as_text=True)
    assert "Idempotent-Replayed" not in other.headers
    assert other.get_json()["participant"]["id"] == second_person.id
    # Nor does the other token get this token's answer for this token's request.
    assert "Idempotent-Replayed" not in post(client, other_headers, first_body, key="mine").headers
    assert_replayed(post(client, headers, first_body, key="shared-name"), first)


def test_a_key_is_kept_a_day_then_free_again_and_pruned(client, db, world, headers) -> None:
    first_person, second_person = make_user(Role.PARTICIPANT), make_user(Role.PARTICIPANT)
    db.session.commit()
    start = clock.now()
    with clock.frozen_at(start):
        first = post(client, headers, enrol_body(world, participant_id=first_person.id), key="d1")
        post(client, headers, enrol_body(world, participant_id=second_person.id), key="other")
    assert first.status_code == 201
    body = enrol_body(world, participant_id=second_person.id)

    with clock.frozen_at(start + timedelta(hours=23, minutes=59)):
        assert post(client, headers, body, key="d1").status_code == 422  # still first's key
    with clock.frozen_at(start + timedelta(hours=24, seconds=1)):
        again = post(client, headers, body, key="d1")  # a new request under the old key
    assert again.status_code == 200, again.get_data(as_text=True)  # already enrolled by "other"
    assert "Idempotent-Replayed" not in again.headers
    # The claim pruned the other expired key; the taken-over one is today's.
    assert db.session.scalars(sa.select(IdempotencyKey.key)).all() == ["d1"]

    db.session.add(
        IdempotencyKey(
            token_id=db.session.scalar(sa.select(IdempotencyKey.token_id)),
            key="old",
            request_fingerprint="0" * 64,
            created_at=start - timedelta(days=2),
        )
    )
    db.session.commit()
    assert idempotency_keys.prune(clock.now(), limit=None) == 1
    db.session.commit()
    assert db.session.scalars(sa.select(IdempotencyKey.key)).all() == ["d1"]


# --- two connections at the same moment --------------------------------------------------------


def two_copies_at_once(app, headers, world, key: str) -> tuple[Any, Any, bool]:  # type: ignore[no-untyped-def]
    """The same new enrolment sent with ``key`` from two connections; the first is held right after it
    wrote the enrolment (not committed yet) while the second is sent."""
    body = enrol_body(world, participant=NEW_PERSON)
    clients = [app.test_client(), app.test_client()]
    return hold_first_after(
        "INSERT INTO ENROLMENTS",
        lambda: post(clients[0], headers, body, key=key),
        lambda: post(clients[1], headers, body, key=key),
    )


def test_two_copies_at_the_same_moment_change_the_data_once_and_both_succeed(
    app, world, headers
) -> None:
    enrolments = count(Enrolment)
    first, second, second_waited = two_copies_at_once(app, headers, world, "double-click")
    assert second_waited, "the second copy did not wait for the first"
    assert first.status_code == 201, first.get_data(as_text=True)
    assert_replayed(second, first)
    assert count(Enrolment) == enrolments + 1
    assert count(OutboxMessage) == 1


def test_a_copy_that_waits_too_long_is_told_to_try_again(
    app, client, world, headers, monkeypatch
) -> None:
    monkeypatch.setattr(idempotency, "WAIT", timedelta(milliseconds=300))
    enrolments = count(Enrolment)
    first, busy, _waited = two_copies_at_once(app, headers, world, "slow")
    assert busy.status_code == 409, busy.get_data(as_text=True)
    assert busy.mimetype == PROBLEM
    assert busy.get_json()["type"] == "/api/v1/docs#problem-idempotency-key-in-use"
    assert busy.headers["Retry-After"] == "1"
    assert first.status_code == 201
    assert count(Enrolment) == enrolments + 1
    body = enrol_body(world, participant=NEW_PERSON)
    assert_replayed(post(client, headers, body, key="slow"), first)


def test_the_nightly_job_forgets_every_expired_key_even_without_new_requests(
    app, client, db, world, headers, monkeypatch
) -> None:
    """Stored answers hold names and addresses: in a quiet week no keyed POST comes to prune them,
    so the nightly job removes all of them, not one claim's batch."""
    from lms.scheduler import run_nightly_prune

    person = make_user(Role.PARTICIPANT)
    db.session.commit()
    today = post(client, headers, enrol_body(world, participant_id=person.id), key="today")
    assert today.status_code == 201, today.get_data(as_text=True)
    token_id = db.session.scalar(sa.select(IdempotencyKey.token_id))
    monkeypatch.setattr(idempotency_keys, "PRUNE_BATCH", 2)
    db.session.add_all(
        IdempotencyKey(
            token_id=token_id,
            key=f"old-{number}",
            request_fingerprint="0" * 64,
            created_at=clock.now() - timedelta(days=2),
        )
        for number in range(5)
    )
    db.session.commit()

    assert run_nightly_prune(app)["API idempotency keys"] == 5
    db.session.expire_all()
    assert db.session.scalars(sa.select(IdempotencyKey.key)).all() == ["today"]
