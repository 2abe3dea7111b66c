"""Property-based robustness: arbitrary data sent to every route (forms by POST with a valid CSRF token,
query strings by GET), by every kind of visitor, never gives a server error.

The field names come from the page's own form where there is one (so the data reaches validation and
the services behind it), plus names the page does not have. Examples are derandomised: a failure is
reproducible, and the run is the same on every machine.
"""

from __future__ import annotations

import io
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lms.extensions import db as _db
from tests.conftest import CSRF_PATTERN
from tests.factories import login_token
from tests.scenarios import World, build_world

FIELD = re.compile(r"<(input|select|textarea)\b([^>]*)>", re.I)
NAME = re.compile(r'\bname="([^"]+)"')
TYPE = re.compile(r'\btype="([^"]+)"')
OPTION = re.compile(r'<option[^>]*\bvalue="([^"]*)"')

NASTY = [
    "",
    " ",
    "0",
    "-1",
    "1",
    "99999999999999999999999",
    "1e309",
    "NaN",
    "2026-02-30",
    "2026-13-45",
    "31-12-2026",
    "y",
    "on",
    "true",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "../../etc/passwd",
    "//evil.example/",
    "x" * 5000,
    "\x00",
    "a\x00b",
    "\u202e\u0000",
    "😀" * 30,
]
VALUES = st.one_of(
    st.sampled_from(NASTY), st.text(max_size=40), st.integers().map(str), st.just("")
)
ROLES = ["anonymous", "participant", "trainer", "employer", "coordinator"]
SKIP_PREFIXES = ("static", "api.")  # the JSON API has its own tests


def url_values(world: World) -> dict[str, object]:
    return {
        "cohort_id": world.cohort.id,
        "enrolment_id": world.enrolment.id,
        "submission_id": world.handed_in.id,
        "file_id": world.evidence.id,
        "user_id": world.participant.id,
        "employer_id": world.employer.id,
        "signoff_id": world.signoff.id,
        "code": world.assignment.code,
    }


def rules(app):  # type: ignore[no-untyped-def]
    return sorted(
        (rule for rule in app.url_map.iter_rules() if not rule.endpoint.startswith(SKIP_PREFIXES)),
        key=lambda rule: rule.rule,
    )


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    return build_world()


def build_url(rule, world: World) -> str:  # type: ignore[no-untyped-def]
    known = url_values(world)
    values = {}
    for argument in rule.arguments:
        converter = type(rule._converters[argument]).__name__
        values[argument] = known.get(argument, 1 if converter == "IntegerConverter" else "x")
    return rule.build(values, append_unknown=False)[1]


def log_in_as(client, world: World, role: str) -> None:  # type: ignore[no-untyped-def]
    user = {
        "participant": world.participant,
        "trainer": world.trainer,
        "employer": world.contact,
        "coordinator": world.coordinator,
    }.get(role)
    # A new login session each time: an earlier example may have logged out or changed the password.
    token = login_token(user) if user is not None else None
    _db.session.commit()
    with client.session_transaction() as session:
        session.clear()
        if token is not None:
            session["_user_id"] = token
            session["_fresh"] = True


def form_of(client, url: str, can_get: bool) -> tuple[dict[str, str], list[str], str]:  # type: ignore[no-untyped-def]
    """The page's field names (with their types), option values, and a CSRF token for the session."""
    page = client.get(url).get_data(as_text=True) if can_get else ""
    if not CSRF_PATTERN.search(page):
        page += client.get("/login").get_data(as_text=True)
    token = CSRF_PATTERN.search(page)
    fields = {}
    for _tag, attributes in FIELD.findall(page):
        name = NAME.search(attributes)
        if name and name.group(1) != "csrf_token":
            kind = TYPE.search(attributes)
            fields[name.group(1)] = kind.group(1).lower() if kind else "text"
    return fields, OPTION.findall(page), token.group(1) if token else ""


def check(response, where: str, seen: dict[int, int]) -> None:  # type: ignore[no-untyped-def]
    seen[response.status_code] = seen.get(response.status_code, 0) + 1
    assert response.status_code < 500, (
        f"{where} answered {response.status_code}:\n{response.get_data(as_text=True)[:2000]}"
    )


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_no_route_gives_a_server_error_whatever_is_sent(app, client, world, method: str) -> None:
    targets = [rule for rule in rules(app) if method in (rule.methods or ())]
    assert targets, f"no {method} routes?"
    seen: dict[int, int] = {}

    @settings(
        max_examples=6 if method == "POST" else 3,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(data=st.data())
    def fuzz(rule, data) -> None:  # type: ignore[no-untyped-def]
        role = data.draw(st.sampled_from(ROLES), label="visitor")
        log_in_as(client, world, role)
        url = build_url(rule, world)
        where = f"{method} {url} as {role}"
        if method == "GET":
            query = data.draw(
                st.dictionaries(
                    st.sampled_from(
                        ["page", "q", "status", "region", "show", "item", "next", "year", "x"]
                    ),
                    VALUES,
                    max_size=4,
                ),
                label="query",
            )
            check(client.get(url, query_string=query), where, seen)
            return
        # Everything is drawn before looking at the page, the same way every time: the page's fields
        # can differ between examples (the data changes), and Hypothesis replays draws.
        values = data.draw(st.lists(VALUES, min_size=12, max_size=12), label="values")
        choices = data.draw(st.lists(st.integers(0, 9), min_size=12, max_size=12), label="choices")
        upload = data.draw(st.binary(max_size=256), label="upload")
        upload_name = data.draw(st.sampled_from(["a.jpg", "b.pdf", "c.csv", "d.mp4", "e"]))
        fields, options, token = form_of(client, url, "GET" in (rule.methods or ()))
        payload: dict[str, object] = {}
        for index, (name, kind) in enumerate(fields.items()):
            choice = choices[index % 12]
            if kind == "file":
                if choice % 2:
                    payload[name] = (io.BytesIO(upload), upload_name)
                continue
            if choice == 0:
                continue  # a field left out altogether
            if options and choice >= 6:
                payload[name] = options[(index + choice) % len(options)]
            else:
                payload[name] = values[index % 12]
        extra = data.draw(st.dictionaries(st.text(min_size=1, max_size=10), VALUES, max_size=2))
        payload.update({key: value for key, value in extra.items() if key != "csrf_token"})
        payload["csrf_token"] = token
        check(client.post(url, data=payload, content_type="multipart/form-data"), where, seen)

    for rule in targets:
        fuzz(rule)
    # The data got past the CSRF check and the permission checks into the views: pages re-shown with
    # messages (200) and redirects after a change (302) as well as refusals.
    assert seen.get(200, 0) > 0 and seen.get(302, 0) > 0, seen
    print(method, dict(sorted(seen.items())))
