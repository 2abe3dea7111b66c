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
    Verdict,
)
from lms.services import assessment, signoff
from lms.services.certificates import verification_facts
from lms.services.progress import enrolment_progress
from tests.api_helpers import WORK_AT, build_world, enrol_body, make_key
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


def _last_used(db, token):  # type: ignore[no-untyped-def]
    db.session.rollback()  # read what the requests committed
    return db.session.scalar(sa.select(ApiToken.last_used_at).where(ApiToken.id == token.id))


def test_the_last_use_is_noted_at_most_once_a_minute(client, db, world) -> None:
    token, headers = make_key(world.coordinator)
    moment = datetime(2026, 11, 2, 9, 30, tzinfo=clock.LOCAL_TZ)
    with clock.frozen_at(moment):
        assert client.get("/api/v1/cohorts", headers=headers).status_code == 200
    assert _last_used(db, token) == moment
    with clock.frozen_at(moment + timedelta(seconds=59)):
        assert client.get("/api/v1/enrolments", headers=headers).status_code == 200
    assert _last_used(db, token) == moment
    # A refused request is a use too; what it did is not kept.
    with clock.frozen_at(moment + timedelta(minutes=1)):
        assert client.get("/api/v1/enrolments?status=x", headers=headers).status_code == 400
    assert _last_used(db, token) == moment + timedelta(minutes=1)
    # A write notes it after its own commit.
    write_token, write_headers = make_key(world.coordinator, ApiTokenScope.READ_WRITE)
    person = make_user(Role.PARTICIPANT)
    db.session.commit()
    with clock.frozen_at(moment + timedelta(minutes=5)):
        response = client.post(
            "/api/v1/enrolments",
            headers=write_headers,
            json=enrol_body(world, participant_id=person.id),
        )
    assert response.status_code == 201
    assert _last_used(db, write_token) == moment + timedelta(minutes=5)


def test_a_read_loads_the_key_and_its_user_in_one_statement_and_commits_nothing(
    client, db, world, count_queries
) -> None:
    _token, headers = make_key(world.coordinator)
    moment = datetime(2026, 11, 2, 9, 30, tzinfo=clock.LOCAL_TZ)
    commits: list[object] = []

    def note_commit(connection) -> None:  # type: ignore[no-untyped-def]
        commits.append(connection)

    sa.event.listen(db.engine, "commit", note_commit)
    try:
        with clock.frozen_at(moment):  # the first use is noted: one commit
            assert client.get("/api/v1/cohorts", headers=headers).status_code == 200
        assert len(commits) == 1
        with clock.frozen_at(moment + timedelta(seconds=30)):
            # Refused after authentication without a statement of its own (no such id can exist).
            with count_queries() as refused:
                response = client.get("/api/v1/cohorts/3000000000", headers=headers)
            assert response.status_code == 404
            with count_queries() as listing:
                assert client.get("/api/v1/signoffs", headers=headers).status_code == 200
        assert len(commits) == 1  # no commit after authentication on a read
    finally:
        sa.event.remove(db.engine, "commit", note_commit)
    assert refused.count == 1
    statement = refused.statements[0].lower()
    assert "from api_tokens" in statement and "join users" in statement
    assert sum("api_tokens" in s for s in listing.statements) == 1
    assert not any(s.lstrip().lower().startswith("update") for s in listing.statements)
    assert listing.count == 2  # the key with its user, and the page


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
    with clock.frozen_at(later):  # a1's work changes, through the service as the pages do
        assessment.assess_submission(
            world.handed_in,
            actor=world.trainer_a,
            verdict=Verdict.APPROVED,
            feedback="Goed.",
            at=later,
        )
        db.session.commit()
    assert ids(
        client.get("/api/v1/enrolments", headers=headers, query_string={"updated_since": since})
    ) == [world.a1.id, world.b1.id]
    assert ids(
        client.get("/api/v1/submissions", headers=headers, query_string={"updated_since": since})
    ) == [world.handed_in.id]
    item = world.kept.checklist_item
    with clock.frozen_at(later):  # a2's checklist changes
        signoff.sign_off(enrolment=world.a2, item=item, level=2, actor=world.trainer_a, at=later)
        db.session.commit()
    assert ids(
        client.get("/api/v1/enrolments", headers=headers, query_string={"updated_since": since})
    ) == [world.a1.id, world.a2.id, world.b1.id]
    assert ids(
        client.get("/api/v1/signoffs", headers=headers, query_string={"updated_since": since})
    ) == [db.session.scalar(sa.select(sa.func.max(SignOff.id)))]


def test_updated_since_reads_the_summaries_not_all_work_and_the_ledger(
    client, world, count_queries
) -> None:
    _token, headers = make_key(world.coordinator)
    since = (clock.now() - timedelta(days=1)).isoformat()
    with count_queries() as counted:
        response = client.get(
            "/api/v1/enrolments", headers=headers, query_string={"updated_since": since}
        )
    assert len(ids(response)) == 3
    text = " ".join(counted.statements).lower()
    assert "progress_summaries" in text
    assert "from submissions" not in text and "from signoffs" not in text


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


def test_small_lists_are_paged_by_number_with_a_total(client, db, world) -> None:
    for _ in range(3):
        make_cohort(world.cohort_a.programme)
    db.session.commit()
    _token, headers = make_key(world.coordinator)
    everything = ids(client.get("/api/v1/cohorts?per_page=100", headers=headers))
    assert everything == sorted(everything) and len(everything) == 5
    first = client.get("/api/v1/cohorts?per_page=2", headers=headers)
    assert first.get_json()["meta"] == {"page": 1, "per_page": 2, "total": 5, "pages": 3}
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
    assert "per_page=2" in rels["last"]
    past_the_end = client.get("/api/v1/cohorts?per_page=2&page=9", headers=headers)
    assert ids(past_the_end) == []


def test_big_lists_are_paged_by_cursor_without_a_total(client, db, world) -> None:
    for _ in range(4):
        make_enrolment(world.cohort_b)
    db.session.commit()
    _token, headers = make_key(world.coordinator)
    everything = ids(client.get("/api/v1/enrolments?per_page=100", headers=headers))
    assert everything == sorted(everything) and len(everything) == 7
    first = client.get("/api/v1/enrolments?per_page=3", headers=headers)
    meta = first.get_json()["meta"]
    assert set(meta) == {"per_page", "next_cursor", "next"}  # nothing counted
    assert meta["per_page"] == 3
    assert f"after={meta['next_cursor']}" in meta["next"]
    assert links(first) == {"first": links(first)["first"], "next": meta["next"]}
    assert "after=" not in links(first)["first"]
    seen, url, added = ids(first), meta["next"], None
    while url:
        page = client.get(url, headers=headers)
        seen += ids(page)
        if added is None:  # an enrolment made during the walk comes at its end, once
            added = make_enrolment(world.cohort_a).id
            db.session.commit()
        url = page.get_json()["meta"]["next"]
        assert links(page).get("next") == url
    assert seen == [*everything, added]
    assert page.get_json()["meta"] == {"per_page": 3, "next_cursor": None, "next": None}
    assert set(links(page)) == {"first"}


def test_a_cursor_walk_keeps_the_filters(client, db, world) -> None:
    for _ in range(4):
        make_enrolment(world.cohort_b)
    db.session.commit()
    _token, headers = make_key(world.coordinator)
    seen, url = [], "/api/v1/enrolments?region=westelijke_mijnstreek&per_page=2"
    while url:
        page = client.get(url, headers=headers)
        seen += ids(page)
        url = page.get_json()["meta"]["next"]
        assert url is None or "region=westelijke_mijnstreek" in url
    assert seen == ids(
        client.get("/api/v1/enrolments?region=westelijke_mijnstreek&per_page=100", headers=headers)
    )
    assert len(seen) == 5


CURSOR_LISTS = ["/api/v1/enrolments", "/api/v1/submissions", "/api/v1/signoffs"]


def _cursor_of(client, headers, path: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get(f"{path}?per_page=1", headers=headers)
    assert response.status_code == 200
    cursor = response.get_json()["meta"]["next_cursor"]
    assert cursor
    return cursor  # type: ignore[no-any-return]


BAD_CURSORS = [
    "",
    "garbage",
    "%00",
    "ZW5yb2xtZW50cy4x%00",
    "A" * 100_000,
    "!!!!",
    "a",  # not base64 at all (one character)
    "ZW5yb2xtZW50cy4tMQ",  # enrolments.-1
    "ZW5yb2xtZW50cy45OTk5OTk5OTk5",  # enrolments.9999999999: past the database's integers
    "c3VibWlzc2lvbnMuMTIzNDU2Nzg5MDEyMzQ1Njc4OTA",  # submissions.12345678901234567890
    "c2lnbm9mZnMuMQ%E2%80%8B",  # a zero-width space after a real cursor
    "w7_Dv8O_",  # bytes that are not ASCII
]


@pytest.mark.parametrize("path", CURSOR_LISTS)
def test_a_cursor_that_this_list_did_not_give_out_is_a_400(client, world, path) -> None:
    _token, headers = make_key(world.coordinator)
    for after in BAD_CURSORS:
        response = client.get(f"{path}?after={after}", headers=headers)
        assert response.status_code == 400, after
        assert response.mimetype == PROBLEM
        assert response.get_json()["errors"][0]["field"] == "after"
    for other in CURSOR_LISTS:  # a real cursor, of this list only
        cursor = _cursor_of(client, headers, other)
        response = client.get(f"{path}?after={cursor}", headers=headers)
        assert response.status_code == (200 if other == path else 400), (path, other)


@pytest.mark.parametrize("path", CURSOR_LISTS)
def test_page_numbers_on_a_list_paged_by_cursor_are_a_clear_400(client, world, path) -> None:
    _token, headers = make_key(world.coordinator)
    for page in ["1", "2", "0", "x"]:
        response = client.get(f"{path}?page={page}", headers=headers)
        assert response.status_code == 400
        problem = response.get_json()
        assert problem["errors"][0]["field"] == "page"
        assert "after" in problem["detail"] and "next" in problem["detail"]


def _hundred_more(world, path: str) -> None:  # type: ignore[no-untyped-def]
    """At least 101 rows in the list at ``path``, written as raw rows (summaries refreshed)."""
    from lms.extensions import db
    from lms.models import SignOffKind, Submission
    from lms.services import progress
    from tests.factories import make_programme

    if path.endswith("/enrolments"):
        for _ in range(100):
            make_enrolment(world.cohort_b, employer=world.employer_one)
    elif path.endswith("/submissions"):
        programme = make_programme(code="MANY", assignments=100)
        enrolment = make_enrolment(make_cohort(programme))
        db.session.add_all(
            Submission(enrolment=enrolment, assignment=assignment, created_at=WORK_AT)
            for assignment in programme.assignments
        )
        db.session.flush()
        progress.refresh_summaries([enrolment])
    else:
        item = world.kept.checklist_item
        last = db.session.scalar(sa.select(sa.func.max(SignOff.sequence)))
        db.session.add_all(
            SignOff(
                sequence=last + n,
                kind=SignOffKind.SIGN_OFF,
                enrolment=world.b1,
                checklist_item=item,
                level=1 + n % 4,
                signed_by=world.trainer_b,
                signed_at=WORK_AT,
                previous_hash="0" * 64,
                record_hash=f"{last + n:064x}",
            )
            for n in range(1, 101)
        )
        db.session.flush()
        progress.refresh_summaries([world.b1])
    db.session.commit()


@pytest.mark.parametrize("path", CURSOR_LISTS)
def test_the_hundredth_page_costs_the_statements_of_the_first(
    client, db, world, count_queries, path
) -> None:
    _hundred_more(world, path)
    _token, headers = make_key(world.coordinator)
    everything = ids(client.get(f"{path}?per_page=100", headers=headers))
    assert len(everything) == 100
    with count_queries() as first:
        response = client.get(f"{path}?per_page=1", headers=headers)
    url = response.get_json()["meta"]["next"]
    for _ in range(98):
        url = client.get(url, headers=headers).get_json()["meta"]["next"]
    with count_queries() as hundredth:
        response = client.get(url, headers=headers)
    assert ids(response) == [everything[99]]
    assert response.get_json()["meta"]["next"]  # more after it: the walk is not at its end
    assert hundredth.count == first.count
    # The key and its user, the page (with what it shows joined in), and for enrolments progress.
    assert first.count == (3 if path.endswith("/enrolments") else 2)
    for statement in [*first.statements, *hundredth.statements]:
        assert "count(" not in statement.lower()  # no list counts all its rows
    if not path.endswith(
        "/enrolments"
    ):  # a coordinator sees every enrolment: no semi-join with them
        assert "from enrolments" not in hundredth.statements[1].lower()


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
