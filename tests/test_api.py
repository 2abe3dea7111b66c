"""The JSON API at /api/v1: token authentication, the same authorization as the pages, lists with
paging and filters, progress from the progress service, enrolling with the page's rules, and errors as
problem documents."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from lms import clock
from lms.models import (
    ApiToken,
    ApiTokenScope,
    AuditEvent,
    Enrolment,
    EnrolmentStatus,
    OutboxMessage,
    Role,
    SignOff,
)
from lms.services import signoff
from lms.services.certificates import verification_facts
from lms.services.progress import enrolment_progress
from tests.api_helpers import build_world, enrol_body, make_key
from tests.factories import make_cohort, make_enrolment, make_user

PROBLEM = "application/problem+json"


@pytest.fixture
def world(db):
    return build_world()


def ids(response) -> list[int]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["id"] for item in response.get_json()["data"]]


def links(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        rel: url
        for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers.get("Link", ""))
    }


# --- authentication ----------------------------------------------------------------------------


def test_without_a_key_the_api_answers_401_as_a_problem(client, world) -> None:
    response = client.get("/api/v1/enrolments")
    assert response.status_code == 401
    assert response.mimetype == PROBLEM
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    problem = response.get_json()
    assert problem["status"] == 401
    assert "Authorization: Bearer" in problem["detail"]


def test_a_logged_in_browser_session_is_no_key(client, auth, world) -> None:
    auth.login(world.coordinator.email)
    assert client.get("/api/v1/enrolments").status_code == 401


@pytest.mark.parametrize("header", ["Bearer vkapi_unknown", "Basic dXNlcjpwYXNz", "Bearer "])
def test_an_unknown_or_malformed_key_is_refused(client, world, header) -> None:
    response = client.get("/api/v1/cohorts", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.mimetype == PROBLEM


def test_a_valid_key_works_and_notes_when_it_was_last_used(client, db, world) -> None:
    token, headers = make_key(world.coordinator)
    assert token.last_used_at is None
    moment = datetime(2026, 11, 2, 9, 30, tzinfo=clock.LOCAL_TZ)
    with clock.frozen_at(moment):
        assert client.get("/api/v1/cohorts", headers=headers).status_code == 200
    db.session.refresh(token)
    assert token.last_used_at == moment


def test_a_revoked_key_stops_working(client, db, world) -> None:
    token, headers = make_key(world.coordinator)
    token.revoked_at = clock.now()
    token.revoked_by = world.coordinator
    db.session.commit()
    response = client.get("/api/v1/cohorts", headers=headers)
    assert response.status_code == 401
    assert (
        "revoked" in response.get_json()["detail"] or "ingetrokken" in response.get_json()["detail"]
    )


def test_an_expired_key_stops_working(client, world) -> None:
    _token, headers = make_key(world.coordinator, valid_for=timedelta(days=30))
    with clock.frozen_at(clock.now() + timedelta(days=29)):
        assert client.get("/api/v1/cohorts", headers=headers).status_code == 200
    with clock.frozen_at(clock.now() + timedelta(days=30, seconds=1)):
        assert client.get("/api/v1/cohorts", headers=headers).status_code == 401


def test_the_key_of_a_deactivated_account_stops_working(client, db, world) -> None:
    _token, headers = make_key(world.coordinator)
    world.coordinator.is_active_account = False
    db.session.commit()
    assert client.get("/api/v1/cohorts", headers=headers).status_code == 401


def test_only_the_hash_of_the_secret_is_stored(db, world) -> None:
    token, headers = make_key(world.coordinator)
    secret = headers["Authorization"].removeprefix("Bearer ")
    stored = db.session.execute(sa.select(ApiToken.__table__)).one()._asdict()
    assert secret not in {str(value) for value in stored.values()}
    assert stored["token_hash"] == ApiToken.hash_secret(secret)
    assert secret.startswith(stored["hint"])


# --- the same authorization as the pages -------------------------------------------------------


def test_cohorts_are_scoped_like_the_pages(client, world) -> None:
    everyone = {
        world.coordinator: [world.cohort_a.id, world.cohort_b.id],
        world.trainer_a: [world.cohort_a.id],
        world.trainer_b: [world.cohort_b.id],
        world.contact_one: [],
        world.a1.participant: [],
    }
    for user, expected in everyone.items():
        _token, headers = make_key(user)
        assert ids(client.get("/api/v1/cohorts", headers=headers)) == expected, user.role


def test_enrolments_are_scoped_like_the_pages(client, world) -> None:
    everyone = {
        world.coordinator: [world.a1.id, world.a2.id, world.b1.id],
        world.trainer_a: [world.a1.id, world.a2.id],
        world.trainer_b: [world.b1.id],
        world.contact_one: [world.a1.id, world.b1.id],  # employer_one's employees only
        world.a2.participant: [world.a2.id],
    }
    for user, expected in everyone.items():
        _token, headers = make_key(user)
        assert ids(client.get("/api/v1/enrolments", headers=headers)) == expected, user.role


def test_one_enrolment_is_not_found_for_whom_the_pages_refuse_it(client, world) -> None:
    # "Exists but not yours" is the same 404 problem as an id that does not exist.
    _token, coordinator = make_key(world.coordinator)
    missing = client.get("/api/v1/enrolments/999999", headers=coordinator).get_json()
    _token, trainer_b = make_key(world.trainer_b)
    _token, contact = make_key(world.contact_one)
    path = f"/api/v1/enrolments/{world.a2.id}"
    for headers in (trainer_b, contact):
        for suffix in ("", "/assignments"):
            response = client.get(path + suffix, headers=headers)
            assert response.status_code == 404
            assert response.mimetype == PROBLEM
            assert response.get_json()["type"] == missing["type"]
    _token, trainer_a = make_key(world.trainer_a)
    assert client.get(path, headers=trainer_a).get_json()["id"] == world.a2.id


def test_a_cohort_of_another_trainer_is_not_found_like_a_missing_one(client, world) -> None:
    _token, headers = make_key(world.trainer_a)
    hidden = client.get(f"/api/v1/cohorts/{world.cohort_b.id}", headers=headers)
    assert hidden.status_code == 404
    assert hidden.mimetype == PROBLEM
    assert client.get(f"/api/v1/cohorts/{world.cohort_a.id}", headers=headers).status_code == 200
    missing = client.get("/api/v1/cohorts/999999", headers=headers)
    assert missing.status_code == 404
    assert missing.mimetype == PROBLEM


def test_work_signoffs_and_certificates_follow_the_enrolment_scope(client, world) -> None:
    _token, trainer_b = make_key(world.trainer_b)
    assert ids(client.get("/api/v1/submissions", headers=trainer_b)) == []
    assert ids(client.get("/api/v1/signoffs", headers=trainer_b)) == []
    assert ids(client.get("/api/v1/certificates", headers=trainer_b)) == [world.certificate.id]
    _token, trainer_a = make_key(world.trainer_a)
    assert ids(client.get("/api/v1/submissions", headers=trainer_a)) == [
        world.approved.id,
        world.handed_in.id,
    ]
    assert ids(client.get("/api/v1/certificates", headers=trainer_a)) == [
        world.revoked_certificate.id
    ]


# --- reading ---------------------------------------------------------------------------------


def test_an_enrolment_carries_the_progress_service_figures(client, world) -> None:
    _token, headers = make_key(world.coordinator)
    today = datetime(2026, 11, 2, 12, tzinfo=clock.LOCAL_TZ)
    with clock.frozen_at(today):
        body = client.get(f"/api/v1/enrolments/{world.a1.id}", headers=headers).get_json()
        expected = enrolment_progress([world.a1], clock.today())[world.a1.id]
    progress = body["progress"]
    # One approved and one handed in of the three assignments; one of two items still signed off.
    assert progress["assignments"]["total"] == 3
    assert progress["assignments"]["approved"] == 1
    assert progress["assignments"]["submitted"] == 1
    assert progress["technical"] == {"signed": 1, "required": 1, "percent": 100}
    assert progress["skills"] == {"signed": 0, "required": 1, "percent": 0}
    assert progress["week"] == expected.week
    assert progress["behind"] is expected.behind
    assert progress["certificate_due"] is False
    assert body["participant"]["email"] == world.a1.participant.email
    assert body["employer"]["kvk_number"] == world.employer_one.kvk_number
    assert body["cohort"] == {"id": world.cohort_a.id, "name": "Parkstad API", "region": "parkstad"}


def test_assignments_of_an_enrolment_show_where_the_work_stands(client, world) -> None:
    _token, headers = make_key(world.coordinator)
    with clock.frozen_at(
        datetime(2026, 10, 20, 12, tzinfo=clock.LOCAL_TZ)
    ):  # week 7: A1 and A2 were due, A3 not yet
        body = client.get(f"/api/v1/enrolments/{world.a1.id}/assignments", headers=headers)
    rows = {row["assignment"]["code"]: row for row in body.get_json()["data"]}
    assert [code for code in rows] == ["A1", "A2", "A3"]
    assert rows["A1"]["status"] == "approved"
    assert rows["A1"]["submission_id"] == world.approved.id
    assert rows["A2"]["status"] == "submitted"
    assert rows["A3"]["status"] == "not_started"
    assert rows["A3"]["submission_id"] is None
    assert rows["A3"]["due_date"] == world.cohort_a.due_date(9).isoformat()
    assert [row["overdue"] for row in rows.values()] == [False, False, False]
    _token, headers = make_key(world.coordinator)
    with clock.frozen_at(
        datetime(2026, 11, 20, 12, tzinfo=clock.LOCAL_TZ)
    ):  # A3 (week 9) has passed, not handed in
        body = client.get(f"/api/v1/enrolments/{world.a1.id}/assignments", headers=headers)
    assert [row["overdue"] for row in body.get_json()["data"]] == [False, False, True]


def test_the_signoff_ledger_shows_revocations(client, world) -> None:
    _token, headers = make_key(world.coordinator)
    records = client.get("/api/v1/signoffs", headers=headers).get_json()["data"]
    assert [record["id"] for record in records] == [
        world.kept.id,
        world.revoked.id,
        world.revocation.id,
    ]
    by_id = {record["id"]: record for record in records}
    assert by_id[world.kept.id]["revoked"] is False
    assert by_id[world.revoked.id]["revoked"] is True
    assert by_id[world.revocation.id]["kind"] == "revocation"
    assert by_id[world.revocation.id]["revokes_id"] == world.revoked.id
    assert by_id[world.kept.id]["checklist_item"]["code"] == "T01"
    assert by_id[world.kept.id]["signed_by"]["name"] == "Ton Trainer"


def test_certificates_list_with_status_filter(client, world) -> None:
    _token, headers = make_key(world.coordinator)
    everything = client.get("/api/v1/certificates", headers=headers).get_json()["data"]
    assert {item["number"]: item["status"] for item in everything} == {
        "VK-2027-WM-0001": "valid",
        "VK-2027-PK-0001": "revoked",
    }
    valid = client.get("/api/v1/certificates?status=valid", headers=headers)
    assert ids(valid) == [world.certificate.id]
    revoked = client.get("/api/v1/certificates?status=revoked", headers=headers)
    assert ids(revoked) == [world.revoked_certificate.id]
    assert revoked.get_json()["data"][0]["revocation_reason"] == "Naam verkeerd gespeld."


def test_the_public_verification_gives_the_facts_of_the_verification_page(client, world) -> None:
    code = world.certificate.verification_code
    response = client.get(f"/api/v1/certificates/{code}")  # no key
    assert response.status_code == 200
    assert response.get_json() == verification_facts(code)
    assert response.get_json()["name"] == world.b1.participant.full_name
    unknown = client.get("/api/v1/certificates/not-a-real-code")
    assert unknown.status_code == 404
    assert unknown.mimetype == PROBLEM


def test_the_public_verification_has_the_verification_pages_rate_limit(app, client, world) -> None:
    app.config["VERIFY_RATE_LIMIT"] = "2 per minute"
    code = world.certificate.verification_code
    assert client.get(f"/api/v1/certificates/{code}").status_code == 200
    assert client.get("/api/v1/certificates/unknown").status_code == 404
    refused = client.get(f"/api/v1/certificates/{code}")
    assert refused.status_code == 429
    assert refused.mimetype == PROBLEM


def test_a_verification_code_with_odd_characters_is_simply_unknown(client, world) -> None:
    for code in ("%00", "a%20b", "x" * 65, "%C3%A9"):
        response = client.get(f"/api/v1/certificates/{code}")
        assert response.status_code == 404, code
        assert response.mimetype == PROBLEM


# --- filters and pages -------------------------------------------------------------------------


def test_enrolment_filters(client, db, world) -> None:
    _token, headers = make_key(world.coordinator)

    def get(query: str) -> list[int]:
        return ids(client.get(f"/api/v1/enrolments?{query}", headers=headers))

    assert get(f"cohort={world.cohort_b.id}") == [world.b1.id]
    assert get("region=parkstad") == [world.a1.id, world.a2.id]
    assert get("region=westelijke_mijnstreek&cohort=" + str(world.cohort_a.id)) == []
    world.a2.status = EnrolmentStatus.WITHDRAWN
    world.a2.ended_on = world.a2.enrolled_on
    db.session.commit()
    assert get("status=withdrawn") == [world.a2.id]
    assert get("status=active") == [world.a1.id, world.b1.id]


def test_updated_since_finds_changed_enrolments_and_their_work(client, db, world) -> None:
    _token, headers = make_key(world.coordinator)
    later = clock.now() + timedelta(days=3)
    since = (later - timedelta(minutes=1)).isoformat()
    assert (
        ids(
            client.get("/api/v1/enrolments", headers=headers, query_string={"updated_since": since})
        )
        == []
    )
    with clock.frozen_at(later):
        world.b1.employer = world.employer_two  # the enrolment itself changes
        db.session.commit()
    assert ids(
        client.get("/api/v1/enrolments", headers=headers, query_string={"updated_since": since})
    ) == [world.b1.id]
    assert (
        ids(
            client.get(
                "/api/v1/submissions", headers=headers, query_string={"updated_since": since}
            )
        )
        == []
    )
    with clock.frozen_at(later):
        from lms.models import Verdict

        world.handed_in.record_verdict(Verdict.APPROVED, later)  # a1's work changes
        db.session.commit()
    assert ids(
        client.get("/api/v1/enrolments", headers=headers, query_string={"updated_since": since})
    ) == [world.a1.id, world.b1.id]
    assert ids(
        client.get("/api/v1/submissions", headers=headers, query_string={"updated_since": since})
    ) == [world.handed_in.id]
    item = world.kept.checklist_item
    signoff.sign_off(enrolment=world.a2, item=item, level=2, actor=world.trainer_a, at=later)
    db.session.commit()  # a2's checklist changes
    assert ids(
        client.get("/api/v1/enrolments", headers=headers, query_string={"updated_since": since})
    ) == [world.a1.id, world.a2.id, world.b1.id]
    assert ids(
        client.get("/api/v1/signoffs", headers=headers, query_string={"updated_since": since})
    ) == [db.session.scalar(sa.select(sa.func.max(SignOff.id)))]


def test_submissions_signoffs_and_certificates_filter_by_cohort_and_status(client, world) -> None:
    _token, headers = make_key(world.coordinator)
    assert ids(client.get("/api/v1/submissions?status=approved", headers=headers)) == [
        world.approved.id
    ]
    assert ids(client.get(f"/api/v1/submissions?enrolment={world.a2.id}", headers=headers)) == []
    assert ids(client.get(f"/api/v1/signoffs?cohort={world.cohort_b.id}", headers=headers)) == []
    assert ids(
        client.get("/api/v1/certificates?region=westelijke_mijnstreek", headers=headers)
    ) == [world.certificate.id]
    assert ids(client.get("/api/v1/cohorts?region=parkstad&status=open", headers=headers)) == [
        world.cohort_a.id
    ]
    assert ids(client.get("/api/v1/cohorts?status=closed", headers=headers)) == []


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "per_page=101",
        "per_page=abc",
        "region=limburg",
        "status=sleeping",
        "updated_since=yesterday",
        "cohort=-1",
    ],
)
def test_a_bad_query_parameter_is_a_400_problem_naming_the_parameter(client, world, query) -> None:
    _token, headers = make_key(world.coordinator)
    response = client.get(f"/api/v1/enrolments?{query}", headers=headers)
    assert response.status_code == 400
    assert response.mimetype == PROBLEM
    assert response.get_json()["errors"][0]["field"] == query.split("=")[0]


def test_pages_are_stable_and_linked(client, db, world) -> None:
    for _ in range(4):
        make_enrolment(world.cohort_b)
    db.session.commit()
    _token, headers = make_key(world.coordinator)
    everything = ids(client.get("/api/v1/enrolments?per_page=100", headers=headers))
    assert everything == sorted(everything) and len(everything) == 7
    first = client.get("/api/v1/enrolments?per_page=3", headers=headers)
    assert first.get_json()["meta"] == {"page": 1, "per_page": 3, "total": 7, "pages": 3}
    rels = links(first)
    assert set(rels) == {"first", "next", "last"}
    seen = ids(first)
    url = rels["next"]
    while url:
        page = client.get(url, headers=headers)
        seen += ids(page)
        url = links(page).get("next")
    assert seen == everything
    assert "page=3" in rels["last"]
    assert "per_page=3" in rels["last"]
    past_the_end = client.get("/api/v1/enrolments?per_page=3&page=9", headers=headers)
    assert ids(past_the_end) == []


def test_the_enrolment_list_costs_the_same_queries_for_more_enrolments(
    client, db, world, count_queries
) -> None:
    _token, headers = make_key(world.coordinator)
    client.get("/api/v1/enrolments", headers=headers)  # warm up (last_used_at written)
    with count_queries() as few:
        client.get("/api/v1/enrolments", headers=headers)
    for _ in range(6):
        make_enrolment(make_cohort(world.cohort_a.programme))
    db.session.commit()
    with count_queries() as many:
        assert len(ids(client.get("/api/v1/enrolments", headers=headers))) == 9
    assert many.count == few.count


# --- writing ---------------------------------------------------------------------------------


def test_a_read_write_key_of_the_coordinator_enrols_an_existing_participant(
    client, db, world
) -> None:
    person = make_user(Role.PARTICIPANT)
    db.session.commit()
    _token, headers = make_key(world.coordinator, ApiTokenScope.READ_WRITE)
    response = client.post(
        "/api/v1/enrolments",
        headers=headers,
        json=enrol_body(world, participant_id=person.id, enrolled_on="2026-10-05"),
    )  # no CSRF token: the API is exempt
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/enrolments/{body['id']}")
    enrolment = db.session.get(Enrolment, body["id"])
    assert enrolment.participant_id == person.id
    assert enrolment.cohort_id == world.cohort_a.id
    assert enrolment.enrolled_on.isoformat() == "2026-10-05"
    assert body["progress"]["assignments"]["total"] == 3
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "enrolment.create"))
    assert event.actor_id == world.coordinator.id


def test_enrolling_a_new_person_invites_them(client, db, world) -> None:
    _token, headers = make_key(world.coordinator, ApiTokenScope.READ_WRITE)
    person = {
        "first_name": "Sanne",
        "name_prefix": "de",
        "last_name": "Vries",
        "email": "Sanne@Example.org",
    }
    response = client.post(
        "/api/v1/enrolments", headers=headers, json=enrol_body(world, participant=person)
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["participant"]["email"] == "sanne@example.org"
    assert db.session.scalar(sa.select(OutboxMessage.recipient)) == "sanne@example.org"


def test_a_read_only_key_may_not_write(client, db, world) -> None:
    _token, headers = make_key(world.coordinator, ApiTokenScope.READ)
    person = make_user(Role.PARTICIPANT)
    db.session.commit()
    response = client.post(
        "/api/v1/enrolments", headers=headers, json=enrol_body(world, participant_id=person.id)
    )
    assert response.status_code == 403
    assert response.mimetype == PROBLEM
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrolment)) == 3


@pytest.mark.parametrize("role", [Role.TRAINER, Role.EMPLOYER, Role.PARTICIPANT])
def test_only_a_coordinator_key_enrols_as_only_a_coordinator_page_does(
    client, db, world, role
) -> None:
    user = {
        Role.TRAINER: world.trainer_a,
        Role.EMPLOYER: world.contact_one,
        Role.PARTICIPANT: world.a1.participant,
    }[role]
    person = make_user(Role.PARTICIPANT)
    db.session.commit()
    _token, headers = make_key(user, ApiTokenScope.READ_WRITE)
    response = client.post(
        "/api/v1/enrolments", headers=headers, json=enrol_body(world, participant_id=person.id)
    )
    assert response.status_code == 403


def test_a_full_cohort_is_a_409_with_the_pages_message(client, db, world) -> None:
    for _ in range(10):  # with a1 and a2: twelve
        make_enrolment(world.cohort_a)
    person = make_user(Role.PARTICIPANT)
    db.session.commit()
    _token, headers = make_key(world.coordinator, ApiTokenScope.READ_WRITE)
    response = client.post(
        "/api/v1/enrolments",
        headers={**headers, "Accept-Language": "en"},
        json=enrol_body(world, participant_id=person.id),
    )
    assert response.status_code == 409
    assert response.mimetype == PROBLEM
    problem = response.get_json()
    assert problem["detail"] == "Cohort Parkstad API is full: all 12 seats are taken."
    assert problem["type"] == "/api/v1/docs#problem-cohort-full"


def test_a_second_active_enrolment_is_a_409(client, world) -> None:
    _token, headers = make_key(world.coordinator, ApiTokenScope.READ_WRITE)
    response = client.post(
        "/api/v1/enrolments",
        headers=headers,
        json=enrol_body(world, cohort_id=world.cohort_b.id, participant_id=world.a1.participant.id),
    )
    assert response.status_code == 409
    assert "Parkstad API" in response.get_json()["detail"]
    assert response.get_json()["type"] == "/api/v1/docs#problem-already-enrolled"


def test_a_closed_cohort_is_refused_with_422(client, db, world) -> None:
    world.cohort_b.closed_at = clock.now()
    person = make_user(Role.PARTICIPANT)
    db.session.commit()
    _token, headers = make_key(world.coordinator, ApiTokenScope.READ_WRITE)
    response = client.post(
        "/api/v1/enrolments",
        headers={**headers, "Accept-Language": "en"},
        json=enrol_body(world, cohort_id=world.cohort_b.id, participant_id=person.id),
    )
    assert response.status_code == 422
    assert response.get_json()["detail"] == "Cohort Westelijke Mijnstreek API is closed."


WRONG_BODIES = {
    "empty": (lambda w: {}, {"cohort_id", "employer_id", "intake_type", "participant_id"}),
    "wrong values": (
        lambda w: {
            "cohort_id": 999999,
            "employer_id": "one",
            "intake_type": "guest",
            "participant_id": w.coordinator.id,  # an account, but not a participant's
            "extra": 1,
        },
        {"cohort_id", "employer_id", "intake_type", "participant_id", "extra"},
    ),
    "wrong new person": (
        lambda w: enrol_body(
            w, participant={"first_name": "", "last_name": "B" * 81, "email": "not-an-address"}
        ),
        {"participant.first_name", "participant.last_name", "participant.email"},
    ),
    "wrong date": (
        lambda w: enrol_body(w, participant_id=w.a1.participant.id, enrolled_on="5 oktober"),
        {"enrolled_on"},
    ),
    "both kinds of participant": (
        lambda w: enrol_body(
            w, participant_id=w.a1.participant.id, participant={"email": "a@example.org"}
        ),
        {"participant_id"},
    ),
}


@pytest.mark.parametrize("case", WRONG_BODIES)
def test_a_wrong_body_is_a_422_listing_every_field(client, db, world, case) -> None:
    make_body, fields = WRONG_BODIES[case]
    _token, headers = make_key(world.coordinator, ApiTokenScope.READ_WRITE)
    response = client.post("/api/v1/enrolments", headers=headers, json=make_body(world))
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert {error["field"] for error in response.get_json()["errors"]} == fields
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrolment)) == 3


def test_a_body_that_is_not_json_is_refused(client, world) -> None:
    _token, headers = make_key(world.coordinator, ApiTokenScope.READ_WRITE)
    assert client.post("/api/v1/enrolments", headers=headers, data="cohort_id=1").status_code == 415
    broken = client.post(
        "/api/v1/enrolments", headers={**headers, "Content-Type": "application/json"}, data="{"
    )
    assert broken.status_code == 400
    assert broken.mimetype == PROBLEM


# --- errors and the document -------------------------------------------------------------------


def test_unknown_addresses_and_methods_in_the_api_are_problems(client, world) -> None:
    _token, headers = make_key(world.coordinator)
    missing = client.get("/api/v1/nothing-here", headers=headers)
    assert missing.status_code == 404
    assert missing.mimetype == PROBLEM
    wrong_method = client.delete("/api/v1/cohorts", headers=headers)
    assert wrong_method.status_code == 405
    assert wrong_method.mimetype == PROBLEM
    assert "GET" in wrong_method.headers["Allow"]
    outside = client.get("/no-such-page")
    assert outside.status_code == 404
    assert outside.mimetype == "text/html"


def test_api_answers_are_never_cached(client, world) -> None:
    _token, headers = make_key(world.coordinator)
    assert client.get("/api/v1/enrolments", headers=headers).headers["Cache-Control"] == "no-store"


def test_the_openapi_document_describes_every_api_route(app, client) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    documented = {
        (method.upper(), "/api/v1" + re.sub(r"\{(\w+)\}", r"<\1>", path))
        for path, methods in document["paths"].items()
        for method in methods
    }
    served = {
        (method, re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        and rule.endpoint not in {"api.openapi_document", "api.reference", "api.index"}
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert documented == served


def test_the_reference_page_is_rendered_from_the_document_without_scripts(client) -> None:
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.get_data(as_text=True).replace("<wbr>", "")
    document = client.get("/api/v1/openapi.json").get_json()
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            assert f"{method.upper()} {path}" in page
            assert operation["summary"] in page
    for name in document["components"]["schemas"]:
        assert f'id="schema-{name}"' in page
    # Rendered on the server: no script of its own (only the layout's busy-button file).
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/js/busy-buttons.js" defer>']
    assert "http://" not in page.replace(document["servers"][0]["url"], "")


def test_every_kind_of_problem_is_explained_on_the_reference_page(client) -> None:
    from pathlib import Path

    import lms.blueprints.api as api_package

    source = "".join(
        path.read_text(encoding="utf-8") for path in Path(api_package.__file__).parent.glob("*.py")
    )
    raised = set(re.findall(r'kind="([a-z-]+)"', source))
    page = client.get("/api/v1/docs").get_data(as_text=True)
    explained = set(re.findall(r'id="problem-([a-z-]+)"', page))
    assert raised and raised == explained
