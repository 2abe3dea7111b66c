"""Input that used to answer 500 answers clearly instead (issue 17): control characters in forms and in
JSON, direction-override characters in names, huge page numbers, deeply nested JSON, empty filters."""

from __future__ import annotations

import inspect
import io
import json
from datetime import date

import pytest
import sqlalchemy as sa
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField

from lms.blueprints.api.params import MAX_INT, encode_cursor
from lms.blueprints.cohorts.forms import CohortForm, EnrolForm
from lms.blueprints.people.forms import EmployerForm, PersonForm
from lms.forms import Form
from lms.models import ApiTokenScope, Cohort, Employer, Enrolment, Region, Role, User
from lms.services import accounts, cohorts, participant_import, people
from lms.services.participant_import import ProblemKind
from tests.api_helpers import build_world as build_api_world
from tests.api_helpers import make_key
from tests.conftest import csrf_token
from tests.factories import login_token, make_cohort, make_employer, make_programme, make_user
from tests.scenarios import build_world

PROBLEM = "application/problem+json"
CONTROL_MESSAGE = "onzichtbaar stuurteken"  # from the Dutch message, as the user reads it
DIRECTION_MESSAGE = "schrijfrichting"
DIRECTION_CHARACTERS = ["\u202e", "\u202a", "\u202d", "\u2066", "\u2067", "\u2069", "\u200f"]


def count(db, model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def coordinator(db, auth) -> User:  # type: ignore[no-untyped-def]
    user = make_user(Role.COORDINATOR)
    db.session.commit()
    auth.login(user.email)
    return user


# --- one rule for every form -------------------------------------------------------------------


def test_every_form_of_the_application_derives_from_the_base_form(app) -> None:
    pending, seen = list(FlaskForm.__subclasses__()), []
    while pending:
        form_class = pending.pop()
        pending.extend(form_class.__subclasses__())
        if form_class.__module__.startswith("lms."):
            seen.append(form_class)
    assert len(seen) > 30
    assert [cls.__qualname__ for cls in seen if not issubclass(cls, Form)] == []


class _NoteForm(Form):
    title = StringField()
    note = TextAreaField()


@pytest.mark.parametrize(
    ("field", "value", "accepted"),
    [
        ("title", "Plaatwerk", True),
        ("title", "Plaat\x00werk", False),
        ("title", "Plaat\twerk", False),  # tab and new lines only where there are several lines
        ("title", "Plaat\x1b[31mwerk", False),
        ("title", "Plaat\x7fwerk", False),
        ("title", "Plaat\x85werk", False),
        ("note", "Eerste regel\r\n\tTweede regel", True),
        ("note", "Eerste\x00regel", False),
        ("note", "Eerste\x0cregel", False),
    ],
)
def test_the_base_form_refuses_control_characters_and_marks_them(
    app, field, value, accepted
) -> None:
    with app.test_request_context(method="POST", data={field: value}):
        form = _NoteForm(meta={"csrf": False})
        assert form.validate() is accepted
        if not accepted:
            assert CONTROL_MESSAGE in form.errors[field][0]
            assert "\ufffd" in form[field].data and "\x00" not in form[field].data


def test_a_nul_in_a_form_field_shows_the_form_again_with_a_message(
    client, db, coordinator, auth
) -> None:
    """PostgreSQL refused the NUL with a server error; SQLite stored it."""
    response = auth.post(
        "/people/employers/new",
        {
            "name": "Heuvelland\x00 Metaal",
            "kvk_number": "12345678",
            "street": "Mergelweg 3",
            "postcode": "6271 AB",
            "city": "Gulpen\x01",
            "region": "maastricht_heuvelland",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.count(CONTROL_MESSAGE) == 2  # name and city, each next to its field
    assert 'value="Heuvelland\ufffd Metaal"' in page  # what was typed, the character marked
    assert 'value="12345678"' in page
    assert count(db, Employer) == 0


def test_a_nul_in_the_login_form_is_a_message_not_a_server_error(client, db) -> None:
    response = client.post(
        "/login",
        data={
            "csrf_token": csrf_token(client),
            "email": "jan\x00@example.org",
            "password": "correct-horse-battery",
        },
    )
    assert response.status_code == 200
    assert CONTROL_MESSAGE in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "files"),
    [
        ({"locale": "nl\x00"}, None),  # a value no form declares: read by the view itself
        ({"x\x00": "1"}, None),  # a field name
        ({}, {"files": ("foto\x00.jpg", b"\xff\xd8\xff")}),  # an uploaded file's name
    ],
)
def test_a_nul_posted_outside_the_forms_is_a_bad_request(
    client, db, coordinator, auth, data, files
) -> None:
    payload: dict[str, object] = {"csrf_token": csrf_token(client), **data}
    if files:
        name, (filename, content) = next(iter(files.items()))
        payload[name] = (io.BytesIO(content), filename)
    response = client.post("/language", data=payload, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "<html" in response.get_data(as_text=True).lower()  # the friendly error page


# --- names: no direction overrides ---------------------------------------------------------------


@pytest.mark.parametrize("character", DIRECTION_CHARACTERS)
@pytest.mark.parametrize(
    ("form_class", "field", "extra"),
    [
        (EmployerForm, "name", {}),
        (PersonForm, "first_name", {}),
        (PersonForm, "name_prefix", {}),
        (PersonForm, "last_name", {}),
        (CohortForm, "name", {}),
        (EnrolForm, "first_name", {"person": "new"}),
        (EnrolForm, "last_name", {"person": "new"}),
    ],
)
def test_name_fields_refuse_direction_characters(app, form_class, field, extra, character) -> None:
    with app.test_request_context(method="POST", data={field: f"Jan{character}eon", **extra}):
        form = form_class(meta={"csrf": False})
        for select in form:  # the pages fill in their choices
            if getattr(select, "choices", False) is None:
                select.choices = []
        form.validate()
        assert any(DIRECTION_MESSAGE in str(message) for message in form.errors.get(field, ()))


def test_a_name_with_a_direction_override_is_refused_on_the_page(
    client, db, coordinator, auth
) -> None:
    response = auth.post(
        "/people/trainers/new",
        {
            "first_name": "Tineke",
            "last_name": "gpj.exe\u202eTrainer",
            "email": "tineke@example.org",
        },
    )
    assert response.status_code == 200
    assert DIRECTION_MESSAGE in response.get_data(as_text=True)
    assert count(db, User) == 1  # only the coordinator


def test_the_services_refuse_direction_characters_in_names(db, coordinator) -> None:
    with pytest.raises(people.PeopleError) as refused:
        people.create_employer(
            people.EmployerData(
                name="Metaal\u202eBV", kvk_number="12345678", region=Region.PARKSTAD
            ),
            actor=coordinator,
        )
    assert refused.value.field == "name"
    with pytest.raises(cohorts.CohortError) as refused_cohort:
        cohorts.create_cohort(
            name="Parkstad\u2066 2026",
            region=Region.PARKSTAD,
            programme=make_programme(),
            start_date=date(2026, 9, 7),
            trainers=[],
            actor=coordinator,
        )
    assert refused_cohort.value.field == "name"
    with pytest.raises(accounts.AccountError):
        accounts.create_user(
            email="a@example.org", first_name="A\u200f", last_name="B", role=Role.PARTICIPANT
        )
    assert count(db, Employer) == 0
    assert count(db, Cohort) == 0


def test_the_csv_import_reports_a_name_with_direction_characters_per_line(db) -> None:
    cohort = make_cohort(start=date(2026, 9, 7))
    make_employer(kvk_number="12345678")
    db.session.commit()
    data = (
        "voornaam;tussenvoegsel;achternaam;e-mail;werkgever;instroom\r\n"
        "Jan;;Berg;jan@example.nl;12345678;werkzaam\r\n"
        "Piet\u202e;;Smit;piet@example.nl;12345678;werkzaam\r\n"
        "Kees;;Bos\x01;kees@example.nl;12345678;werkzaam\r\n"
    ).encode()
    plan = participant_import.prepare_import(cohort, data, today=date(2026, 8, 20))
    kinds = {outcome.row.line: [p.kind for p in outcome.problems] for outcome in plan.rows}
    assert kinds == {2: [], 3: [ProblemKind.UNUSABLE_NAME], 4: [ProblemKind.UNUSABLE_NAME]}
    assert not plan.is_valid


# --- the API ---------------------------------------------------------------------------------------


@pytest.fixture
def api_world(db):  # type: ignore[no-untyped-def]
    return build_api_world()


def enrol_body(world, **person: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {
        "cohort_id": world.cohort_a.id,
        "employer_id": world.employer_one.id,
        "intake_type": "employed",
        "participant": {
            "first_name": "Sanne",
            "last_name": "Vries",
            "email": "sanne@example.org",
            **person,
        },
    }


def post_json(client, headers, text: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/enrolments",
        headers={**headers, "Content-Type": "application/json"},
        data=text.encode("utf-8", "surrogatepass"),
    )


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * 5000 + "]" * 5000, id="5000 levels of arrays"),
        pytest.param('{"a":' * 5000 + "1" + "}" * 5000, id="5000 levels of objects"),
        pytest.param('{"a":' * 17 + "1" + "}" * 17, id="17 levels"),
        pytest.param('{"cohort_id": 1, "x\\u0000": 1}', id="NUL in a key"),
        pytest.param('{"participant": {"first_name": "a\\u0000b"}}', id="NUL in a name"),
        pytest.param('{"participant": {"first_name": "\\ud800"}}', id="lone surrogate"),
    ],
)
def test_a_body_that_cannot_be_used_is_a_400_problem(client, api_world, text) -> None:
    _token, headers = make_key(api_world.coordinator, ApiTokenScope.READ_WRITE)
    response = post_json(client, headers, text)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    assert response.get_json()["type"].endswith("#problem-invalid-json")


@pytest.mark.parametrize("character", ["\u202e", "\u2067", "\x1b"])
def test_a_new_persons_name_with_hidden_characters_is_a_422_naming_the_field(
    client, db, api_world, character
) -> None:
    _token, headers = make_key(api_world.coordinator, ApiTokenScope.READ_WRITE)
    before = count(db, Enrolment)
    response = post_json(
        client, headers, json.dumps(enrol_body(api_world, last_name=f"Vries{character}"))
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    assert [error["field"] for error in response.get_json()["errors"]] == ["participant.last_name"]
    assert count(db, Enrolment) == before


@pytest.mark.parametrize(
    "path",
    ["/api/v1/enrolments", "/api/v1/submissions", "/api/v1/signoffs", "/api/v1/certificates"],
)
@pytest.mark.parametrize("query", ["updated_since=", "cohort=", "page=", "page=2147483648"])
def test_an_empty_or_out_of_range_filter_is_a_400_problem(client, api_world, path, query) -> None:
    _token, headers = make_key(api_world.coordinator)
    response = client.get(f"{path}?{query}", headers=headers)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    assert response.get_json()["errors"][0]["field"] == query.split("=")[0]


def test_the_largest_page_the_contract_allows_is_an_empty_page(client, api_world) -> None:
    _token, headers = make_key(api_world.coordinator)
    response = client.get("/api/v1/certificates?page=2147483647&per_page=100", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["data"] == []


@pytest.mark.parametrize("name", ["enrolments", "submissions", "signoffs"])
def test_the_largest_cursor_is_an_empty_last_page(client, api_world, name) -> None:
    _token, headers = make_key(api_world.coordinator)
    after = encode_cursor(name, MAX_INT)
    response = client.get(f"/api/v1/{name}?after={after}&per_page=100", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["data"] == []
    assert response.get_json()["meta"]["next"] is None


# --- paged lists -----------------------------------------------------------------------------------

# Every list page that pages (lms.pagination.paginate), as the visitor who sees it.
PAGED_LISTS = [
    ("coordinator", "/cohorts/"),
    ("coordinator", "/people/employers/"),
    ("coordinator", "/people/trainers/"),
    ("coordinator", "/people/participants/"),
    ("coordinator", "/outbox/failed"),
    ("coordinator", "/reviews/"),
    ("coordinator", "/certificates/"),
    ("coordinator", "/api/keys/"),
    ("coordinator", "/hours/enrolments/{enrolment}"),
    ("trainer", "/assessment/queue"),
    ("trainer", "/certificates/"),
    ("employer", "/employer/confirmations"),
    ("employer", "/dashboard/employer"),
    ("employer", "/hours/to-approve"),
    ("participant", "/hours/"),
    ("participant", "/notifications/"),
    ("participant", "/attendance/"),
    ("coordinator", "/attendance/enrolments/{enrolment}"),
]


def test_every_paged_list_is_listed_here(app) -> None:
    from lms import pagination

    adapter = app.url_map.bind("localhost")
    listed = {
        app.view_functions[adapter.match(path.format(enrolment=1))[0]].__module__
        for _role, path in PAGED_LISTS
    }
    paging = {
        view.__module__
        for view in map(inspect.unwrap, app.view_functions.values())
        if getattr(view, "__globals__", {}).get("paginate") is pagination.paginate
    }
    assert paging and paging <= listed


@pytest.mark.parametrize("page", ["99999999999999999999", "2147483648", "-5", "0", "abc", "1e9"])
def test_no_paged_list_fails_on_a_page_number(client, db, page) -> None:
    world = build_world()
    users = {
        "coordinator": world.coordinator,
        "trainer": world.trainer,
        "employer": world.contact,
        "participant": world.participant,
    }
    tokens = {role: login_token(user) for role, user in users.items()}
    db.session.commit()
    for role, path in PAGED_LISTS:
        with client.session_transaction() as session:
            session["_user_id"] = tokens[role]
            session["_fresh"] = True
        url = path.format(enrolment=world.enrolment.id)
        response = client.get(url, query_string={"page": page})
        assert response.status_code == 200, f"{url}?page={page} as {role}"


def test_a_page_past_the_end_shows_the_last_page_and_nonsense_shows_the_first(
    app, client, db, coordinator
) -> None:
    app.config["PER_PAGE"] = 2
    for n in range(5):
        make_employer(name=f"Bedrijf {n}")
    db.session.commit()

    def shown(page: str) -> tuple[str, list[str]]:
        text = client.get(f"/people/employers/?page={page}").get_data(as_text=True)
        summary = text.split('class="pagination__summary">')[1].split("<")[0]
        return summary, sorted(f"Bedrijf {n}" for n in range(5) if f"Bedrijf {n}<" in text)

    last = shown("3")
    assert last[0].startswith("Pagina 3 van 3")
    assert shown("4") == last
    assert shown("99999999999999999999") == last
    first = shown("1")
    assert first[0].startswith("Pagina 1 van 3")
    for nonsense in ("0", "-2", "abc", ""):
        assert shown(nonsense) == first


@pytest.mark.parametrize("file_name", ["deelnemers\x00.csv", "deelnemers\x1b.csv"])
def test_the_import_confirmation_refuses_a_file_name_with_control_characters(
    client, db, coordinator, auth, file_name
) -> None:
    """The preview carries the file and its name back in hidden fields; the name went into the audit
    record (a NUL there answered 500 on PostgreSQL)."""
    import base64

    cohort = make_cohort(start=date(2026, 9, 7))
    make_employer(kvk_number="12345678")
    db.session.commit()
    data = "voornaam;achternaam;e-mail;werkgever;instroom\r\nJan;Berg;jan@example.nl;12345678;werkzaam\r\n"
    response = auth.post(
        f"/cohorts/{cohort.id}/import/confirm",
        {"content": base64.b64encode(data.encode()).decode(), "file_name": file_name},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cohorts/{cohort.id}/import")
    assert count(db, Enrolment) == 0


def test_a_posted_part_without_a_name_is_a_bad_request(client, db) -> None:
    """No browser sends one; the CSRF check itself failed on it (500) before the guard ran first."""
    body = (
        b"--grens\r\n"
        b'Content-Disposition: form-data; filename="x"\r\n\r\n'
        b"waarde\r\n"
        b"--grens\r\n"
        b"Content-Disposition: form-data\r\n\r\n"
        b"waarde\r\n"
        b"--grens--\r\n"
    )
    response = client.post("/login", data=body, content_type="multipart/form-data; boundary=grens")
    assert response.status_code == 400
    assert "<html" in response.get_data(as_text=True).lower()
