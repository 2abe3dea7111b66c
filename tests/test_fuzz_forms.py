"""Property-based robustness: arbitrary data sent to every route (forms by POST with a valid CSRF token,
query strings by GET), by every kind of visitor, never gives a server error.

The field names come from the page's own form where there is one (so the data reaches validation and
the services behind it), plus names the page does not have. Examples are derandomised: a failure is
reproducible, and the run is the same on every machine. A second, deterministic pass sends a NUL and
other control characters to every text field of every form the world shows, one field at a time.
"""

from __future__ import annotations

import io
import itertools
import json
import re
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lms import clock
from lms.extensions import db as _db
from lms.models import LoginSession, Role
from tests.conftest import CSRF_PATTERN
from tests.factories import login_token, make_user
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
    "\x01\x1b[31m\x7f",
    "tab\there",
    "regel\r\nregel",
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
        # Read from the identity: a request may have removed the exception (no reload).
        "closure_id": sa.inspect(world.closure).identity[0],
        "day": world.training_day.isoformat(),  # a training day, its attendance recorded
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
    # The one this client got before ends, as when the browser logs out: otherwise the account page,
    # which lists every device the person is logged in on, grows with each example (and the run with
    # its square). The world's own sessions (other devices) stay.
    token = None
    if user is not None:
        started: dict[int, int] = client.__dict__.setdefault("fuzz_login_sessions", {})
        if user.id in started:
            _db.session.execute(
                sa.update(LoginSession)
                .where(LoginSession.id == started[user.id], LoginSession.ended_at.is_(None))
                .values(ended_at=clock.now())
            )
        token = login_token(user)
        assert user.login_session is not None
        started[user.id] = user.login_session.id
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


# --- every text field of every form, with control characters --------------------------------------
# Hypothesis draws a NUL for a field only by chance. This pass is deterministic: it collects every
# form the world's visitors are shown (by GET of every page), fills it in with values that pass its
# checks where it can, and then sends each text field once with a NUL and once with other control
# characters (a text area also once with tab and new lines, which it accepts), the rest unchanged.

NUL_VALUES = ("\x00", "\x01\x08\x0b\x1b[31m\x7f")  # a NUL; other C0 controls, ESC and DEL
LINES = "Eerste regel\r\n\tTweede regel"
TEXT_KINDS = {"text", "email", "search", "tel", "url", "password", "hidden", "number", "date"}
SKIPPED_KINDS = {"submit", "button", "reset", "image", "file", "checkbox", "radio"}
STORED_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
STORED_CONTROL_IN_JSON = re.compile(r"\\u00[01][0-9a-f]|\\u007f|\x7f")


class _Forms(HTMLParser):
    """The POST forms of a page: action and fields (name, kind, value, checked, options)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None
        self._open: dict[str, Any] | None = None  # the textarea or select being read

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action") or "", "method": a.get("method"), "fields": []}
        elif self._form is None:
            return
        elif tag in ("input", "button", "textarea", "select") and a.get("name"):
            kind = {"textarea": "textarea", "select": "select"}.get(tag) or (
                a.get("type") or ("submit" if tag == "button" else "text")
            ).lower()
            field = {
                "name": a["name"],
                "kind": kind,
                "value": a.get("value") or "",
                "checked": "checked" in a,
                "options": [],
            }
            self._form["fields"].append(field)
            self._open = field if tag in ("textarea", "select") else None
        elif tag == "option" and self._open is not None and self._open["kind"] == "select":
            value = a.get("value") or ""
            self._open["options"].append(value)
            if "selected" in a:
                self._open["value"] = value

    def handle_data(self, data: str) -> None:
        if self._open is not None and self._open["kind"] == "textarea":
            self._open["value"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag in ("textarea", "select"):
            self._open = None
        elif tag == "form" and self._form is not None:
            if (self._form["method"] or "").lower() == "post":
                self.forms.append(self._form)
            self._form = None


def post_forms(html: str, page_url: str) -> list[dict[str, Any]]:
    parser = _Forms()
    parser.feed(html)
    for form in parser.forms:
        form["action"] = urlsplit(urljoin(page_url, form["action"])).path
    return parser.forms


def page_urls(rule, world: World, invitation: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The page of a GET rule for each object of the world its form can be about."""
    if "GET" not in (rule.methods or ()):
        return []
    choices = {
        "submission_id": [world.handed_in.id, world.approved.id],
        "user_id": [world.participant.id, world.contact.id, world.trainer.id],
        "code": [assignment.code for assignment in world.programme.assignments],
        "token": [world.link_secret, invitation],
        "enrolment_id": [world.enrolment.id, world.other_enrolment.id],
    }
    known = url_values(world)
    arguments = sorted(rule.arguments)
    options = [choices.get(name, [known.get(name, 1)]) for name in arguments]
    # Some pages show their form only for a chosen item.
    query = {"checklists.bulk": f"?item={world.signoff.checklist_item_id}"}.get(rule.endpoint, "")
    return [
        rule.build(dict(zip(arguments, values, strict=True)), append_unknown=False)[1] + query
        for values in itertools.product(*options)
    ]


def next_monday() -> str:
    today = clock.today()
    return (today + timedelta(days=7 - today.weekday())).isoformat()


def typical(name: str, kind: str, n: int) -> str:
    """A value the field's checks accept, by its type or name."""
    by_name = {
        "kvk_number": "87654321",
        "postcode": "6411 AB",
        "street": "Schelsberg 214",
        "phone": "045 123 4567",
        "hours_worked": "8",
        "hours_learning": "2",
        "valid_days": "30",
        "capacity": "12",
        "recognition_number": "100234567",
        "recognition_checked_on": clock.today().isoformat(),  # checked: not a day to come
    }
    if name in by_name:
        return by_name[name]
    return {
        "email": f"fuzz{n}@example.org",
        "password": "lange-zin-om-mee-te-testen-2026",
        "number": "1",
        "date": next_monday(),
    }.get(kind, "Netjes gedaan")


def baseline(form: dict[str, Any], n: int) -> dict[str, list[str]]:
    payload: dict[str, list[str]] = {}
    checked: set[str] = set()
    for field in form["fields"]:
        name, kind, value = field["name"], field["kind"], field["value"]
        if name == "csrf_token" or kind in ("file", "reset", "image"):
            continue
        if kind in ("submit", "button"):
            payload.setdefault(name, [value])  # the first button of a name
        elif kind == "checkbox":
            payload.setdefault(name, []).append(value or "y")  # every box ticked
        elif kind == "radio":
            if name not in checked:
                payload[name] = [value]
                checked.update([name] if field["checked"] else [])
        elif kind == "select":
            options = [option for option in field["options"] if option]
            payload[name] = [value or (options[0] if options else "")]
        elif kind == "textarea":
            payload[name] = [value.strip() or "Netjes gedaan, alles werkt."]
        else:
            payload[name] = [value or typical(name, kind, n)]
    return payload


def stored_texts(db) -> list[str]:  # type: ignore[no-untyped-def]
    """Every text in the database (JSON values as their JSON text)."""
    texts = []
    for table in db.metadata.sorted_tables:
        columns = [
            column
            for column in table.columns
            if isinstance(column.type, sa.String | sa.Text | sa.JSON)
        ]
        if not columns:
            continue
        for row in db.session.execute(sa.select(*columns)):
            for column, value in zip(columns, row, strict=True):
                if value is None:
                    continue
                texts.append(json.dumps(value) if isinstance(column.type, sa.JSON) else value)
    return texts


def test_every_text_field_of_every_form_gets_control_characters(app, client, db, world) -> None:
    from lms.services.accounts import create_invitation

    invitation = create_invitation(make_user(Role.TRAINER, password=None))
    db.session.commit()
    shown: dict[tuple[str, tuple[str, ...]], tuple[str, str]] = {}  # form -> (visitor, page)
    for role in ROLES:
        for url in (u for rule in rules(app) for u in page_urls(rule, world, invitation)):
            log_in_as(client, world, role)
            response = client.get(url)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            for form in post_forms(response.get_data(as_text=True), url):
                names = tuple(sorted({field["name"] for field in form["fields"]}))
                shown.setdefault((form["action"], names), (role, url))
    assert len(shown) > 40, f"only {len(shown)} forms found"

    seen: dict[int, int] = {}
    sent_nul: set[tuple[str, str]] = set()
    n = 0
    for (action, names), (role, url) in sorted(shown.items()):
        first = _form_on(client, world, role, url, action, names)
        fields = first["fields"] if first is not None else []
        variants: list[tuple[str, object]] = []
        patterns: set[str] = set()
        for field in fields:
            kind = field["kind"]
            # Fields that differ only in their numbers (the matrix's 384 cells `cell_<enrolment>_<item>`)
            # are one field to this test: the first of them stands for all.
            pattern = re.sub(r"\d+", "#", field["name"])
            if pattern != field["name"]:
                if pattern in patterns:
                    continue
                patterns.add(pattern)
            if field["name"] == "csrf_token" or kind in SKIPPED_KINDS:
                if kind == "file":
                    variants.append((field["name"], ("file", b"\xff\xd8\xff\xe0", "foto\x00.jpg")))
                continue
            for bad in NUL_VALUES:
                variants.append((field["name"], bad))
            if kind == "textarea":
                variants.append((field["name"], LINES))
        for name, bad in variants:
            form = _form_on(client, world, role, url, action, names)
            if form is None:
                continue  # an earlier variant changed the world: the form is gone
            n += 1
            payload: dict[str, object] = dict(baseline(form, n))
            token = next(f["value"] for f in form["fields"] if f["name"] == "csrf_token")
            if isinstance(bad, tuple):
                payload[name] = (io.BytesIO(bad[1]), bad[2])
            else:
                typed = payload.get(name, [""])[0] if name in payload else ""
                payload[name] = bad if bad == LINES else typed[:1] + bad + typed[1:]
                if "\x00" in bad:
                    sent_nul.add((action, name))
            payload["csrf_token"] = token
            response = client.post(action, data=payload, content_type="multipart/form-data")
            check(response, f"POST {action} [{name}={payload[name]!r}] as {role}", seen)

    # Nothing stored a control character (a text area keeps its tab and new lines), and the pass got
    # through the forms' checks into the database: the multi-line text was saved somewhere.
    db.session.rollback()
    texts = stored_texts(db)
    stored = [text for text in texts if STORED_CONTROL.search(text) or "\x00" in text]
    assert stored == []
    assert [text for text in texts if STORED_CONTROL_IN_JSON.search(text)] == []
    assert any("\tTweede regel" in text or "\\tTweede regel" in text for text in texts)
    assert len(sent_nul) > 60, sent_nul
    print("control characters", len(sent_nul), "fields", dict(sorted(seen.items())))


def _form_on(client, world, role, url, action, names):  # type: ignore[no-untyped-def]
    """The form (action, field names) as the page shows it now, with a CSRF token of this session."""
    log_in_as(client, world, role)
    response = client.get(url)
    if response.status_code != 200:
        return None
    for form in post_forms(response.get_data(as_text=True), url):
        if (form["action"], tuple(sorted({f["name"] for f in form["fields"]}))) == (action, names):
            return form
    return None
