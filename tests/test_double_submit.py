"""The double-submit table: every form route that writes, sent twice at the same moment.

Each row names who sends the form and the page that shows it. The test logs that visitor in, opens
the page as a browser would, fills the form in validly (tests/test_fuzz_forms.py's ``baseline``), and
sends the same drawn form from two connections with the same session at once (two threads). Exactly
one of the two requests may change the database; both must get the same success answer (the same
redirect and the same messages). A writing route (a URL rule with POST, outside the JSON API, whose
Idempotency-Key has its own tests) without a row fails the test, which says the row to add. Routes
whose second send is rightly handled otherwise are listed with their reason.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask, has_request_context

from lms.extensions import db as _db
from lms.idempotent_forms import UNGUARDED
from tests.factories import PASSWORD
from tests.scenarios import World, build_world
from tests.test_authorization_matrix import fill
from tests.test_fuzz_forms import baseline, log_in_as


@dataclass
class Row:
    visitor: str  # participant, trainer, employer, coordinator or anonymous
    page: Callable[[World], str]  # the page that shows the form
    # Values on top of the valid baseline (a function of the world where it depends on it).
    fields: dict[str, str | Callable[[World], str]] = field(default_factory=dict)
    url: Callable[[World], str] | None = None  # where the form posts, when not the rule's own URL
    setup: Callable[[World], None] | None = None  # what the world needs first (committed after)
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    # The first answer is a page that is shown once (a new key's secret): the repeat goes back to
    # the form's page and says the form had been sent already.
    page_answer: bool = False
    before_page: Callable[[Any, World], str] | None = None  # a POST that leads to the page
    message: bool = True  # the answer flashes a message


NEW_PASSWORD = "een-nieuwe-lange-zin-2026"


def _close(world: World) -> None:
    world.cohort.closed_at = world.cohort.created_at


def _no_password_yet(world: World) -> None:
    world.participant.password_hash = None


def _deactivate_trainer(world: World) -> None:
    world.other_trainer.is_active_account = False


def _draft_with_evidence(world: World) -> None:
    from lms.models import Attempt, Submission
    from tests.factories import make_evidence

    attempt = Attempt(number=1)
    _db.session.add(
        Submission(
            enrolment=world.enrolment, assignment=world.programme.assignments[2], attempts=[attempt]
        )
    )
    _db.session.flush()
    world.extra = make_evidence(attempt)  # type: ignore[attr-defined]


def _assessed(world: World) -> None:
    from lms import clock
    from lms.models import Verdict
    from lms.services.assessment import assess_submission

    world.assignment.requires_workplace_confirmation = False
    assess_submission(
        world.handed_in,
        actor=world.trainer,
        verdict=Verdict.APPROVED,
        feedback="Goed",
        at=clock.now(),
    )


def _certified(world: World) -> None:
    from lms import clock
    from lms.services.certificates import issue_certificate

    _eligible(world)
    world.extra = issue_certificate(  # type: ignore[attr-defined]
        world.extra,  # type: ignore[attr-defined]
        actor=world.coordinator,
        now=clock.now(),
    )


def _with_link(world: World) -> None:
    world.notification.link = "/portfolio/"


def _eligible(world: World) -> None:
    from tests.certificate_helpers import make_eligible_enrolment

    world.extra = make_eligible_enrolment(world.cohort)  # type: ignore[attr-defined]


def _import_preview(client, world: World) -> str:  # type: ignore[no-untyped-def]
    import io

    from tests.conftest import CSRF_PATTERN

    example = client.get(f"/cohorts/{world.cohort.id}/import/example.csv").get_data()
    page = client.get(f"/cohorts/{world.cohort.id}/import").get_data(as_text=True)
    token = CSRF_PATTERN.search(page)
    assert token
    response = client.post(
        f"/cohorts/{world.cohort.id}/import",
        data={"csrf_token": token.group(1), "file": (io.BytesIO(example), "deelnemers.csv")},
        content_type="multipart/form-data",
    )
    return response.get_data(as_text=True)


def _item(world: World) -> int:
    return world.signoff.checklist_item_id


ROWS: dict[str, Row | str] = {
    "api_tokens.create": Row(
        "coordinator", lambda w: "/api/keys/new", {"name": "Rapportage"}, page_answer=True
    ),
    "api_tokens.revoke": Row("coordinator", lambda w: f"/api/keys/{w.api_token.id}/revoke"),
    "assessment.assess": Row(
        "trainer", lambda w: f"/assessment/submissions/{w.handed_in.id}", {"verdict": "approved"}
    ),
    "assessment.correct": Row(
        "trainer",
        lambda w: f"/assessment/submissions/{w.handed_in.id}",
        {"verdict": "needs_revision", "feedback": "Meet de maten opnieuw."},
        setup=_assessed,
    ),
    "auth.end_all_sessions": Row("participant", lambda w: "/profile/sessions/end-all"),
    "auth.end_session": Row("participant", lambda w: "/profile"),
    "auth.forgot_password": Row(
        "anonymous", lambda w: "/forgot-password", {"email": lambda w: w.participant.email}
    ),
    "auth.login": "UNGUARDED",
    "auth.logout": Row("participant", lambda w: "/profile"),
    "auth.mail_preference": Row(
        "participant", lambda w: "/profile", {"mail_preference": "weekly_digest"}
    ),
    "auth.profile": Row(
        "participant",
        lambda w: "/profile",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    ),
    "auth.set_password": "a single-use link of its own: a second send finds the link used",
    "calendar.create": Row("participant", lambda w: "/calendar/", page_answer=True),
    "calendar.revoke": Row("participant", lambda w: "/calendar/revoke"),
    "certificates.issue": Row(
        "coordinator",
        lambda w: f"/certificates/enrolment/{w.extra.id}",  # type: ignore[attr-defined]
        url=lambda w: f"/certificates/enrolment/{w.extra.id}/issue",  # type: ignore[attr-defined]
        setup=_eligible,
    ),
    "certificates.issue_cohort": Row(
        "coordinator", lambda w: f"/certificates/cohort/{w.cohort.id}", setup=_eligible
    ),
    "certificates.reissue": Row(
        "coordinator",
        lambda w: f"/certificates/{w.extra.id}/reissue",  # type: ignore[attr-defined]
        {"reason": "De naam was verkeerd gespeld."},
        url=lambda w: f"/certificates/{w.extra.id}/reissue",  # type: ignore[attr-defined]
        setup=_certified,
    ),
    "certificates.revoke": Row(
        "coordinator", lambda w: f"/certificates/{w.certificate.id}/revoke", {"reason": "Fout"}
    ),
    "checklists.bulk": Row(
        "trainer", lambda w: f"/checklists/cohorts/{w.cohort.id}/bulk?item={_item(w)}"
    ),
    "checklists.matrix": Row("trainer", lambda w: f"/checklists/cohorts/{w.cohort.id}"),
    "checklists.observe": Row(
        "employer", lambda w: f"/checklists/enrolments/{w.enrolment.id}/observations"
    ),
    "checklists.revoke": Row(
        "trainer", lambda w: f"/checklists/signoffs/{w.signoff.id}/revoke", {"reason": "Fout"}
    ),
    "checklists.sign": Row(
        "trainer", lambda w: f"/checklists/enrolments/{w.enrolment.id}/sign-off"
    ),
    # A training day not yet recorded (the one after the world's recorded one), everyone present.
    "attendance.session": Row(
        "trainer",
        lambda w: f"/attendance/cohorts/{w.cohort.id}/{w.training_day + timedelta(weeks=1)}",
        url=lambda w: f"/attendance/cohorts/{w.cohort.id}/{w.training_day + timedelta(weeks=1)}",
    ),
    "cohorts.add_exception": Row(
        "coordinator",
        lambda w: f"/cohorts/{w.cohort.id}/exceptions/new",
        {"name": "Bedrijfssluiting week 45", "first_day": "2026-11-02", "last_day": "2026-11-06"},
    ),
    "cohorts.close": Row("coordinator", lambda w: f"/cohorts/{w.cohort.id}/close"),
    "cohorts.confirm_import": Row(
        "coordinator", lambda w: f"/cohorts/{w.cohort.id}/import", before_page=_import_preview
    ),
    "cohorts.create": Row("coordinator", lambda w: "/cohorts/new", {"name": "Sittard 2027"}),
    "cohorts.edit": Row("coordinator", lambda w: f"/cohorts/{w.cohort.id}/edit"),
    "cohorts.enrol": Row(
        "coordinator",
        lambda w: f"/cohorts/{w.other_cohort.id}/enrol",
        {
            "person": "new",
            "first_name": "Anna",
            "last_name": "Nieuw",
            "email": "anna.nieuw@example.org",
            "employer": lambda w: str(w.employer.id),
        },
        url=lambda w: f"/cohorts/{w.other_cohort.id}/enrol",
    ),
    "cohorts.import_participants": "shows a preview and writes nothing (the confirmation writes)",
    # The cohort's fourth Monday (no attendance recorded) held on its Wednesday.
    "cohorts.move_training_day": Row(
        "coordinator",
        lambda w: f"/cohorts/{w.cohort.id}/training-days/move",
        {
            "moved_from": lambda w: (w.training_day + timedelta(weeks=2)).isoformat(),
            "moved_to": lambda w: (w.training_day + timedelta(weeks=2, days=2)).isoformat(),
            "reason": "Trainer op de vakbeurs",
        },
    ),
    "cohorts.undo_training_day_move": Row(
        "coordinator", lambda w: f"/cohorts/{w.cohort.id}/training-days/moves/{w.move.id}/undo"
    ),
    "cohorts.remove_exception": Row(
        "coordinator", lambda w: f"/cohorts/{w.cohort.id}/exceptions/{w.closure.id}/remove"
    ),
    "cohorts.reopen": Row("coordinator", lambda w: f"/cohorts/{w.cohort.id}", setup=_close),
    "cohorts.transfer": Row(
        "coordinator",
        lambda w: f"/cohorts/{w.cohort.id}/enrolments/{w.enrolment.id}/transfer",
        {"to_cohort": lambda w: str(w.other_cohort.id)},
    ),
    "cohorts.withdraw": Row(
        "coordinator", lambda w: f"/cohorts/{w.cohort.id}/enrolments/{w.enrolment.id}/withdraw"
    ),
    "employer.confirm": Row("employer", lambda w: f"/employer/confirmations/{w.handed_in.id}"),
    "hours.approve_weeks": Row(
        "employer", lambda w: "/hours/to-approve", fields={"weeks": lambda w: str(w.hours.id)}
    ),
    "hours.decide": Row("employer", lambda w: "/hours/to-approve"),
    "hours.mine": Row("participant", lambda w: "/hours/"),
    "links.use": Row("anonymous", lambda w: f"/l/{w.link_secret}", page_answer=True),
    "main.set_language": "UNGUARDED",
    "notifications.open_notification": Row(
        "participant", lambda w: "/notifications/", setup=_with_link, message=False
    ),
    "notifications.read": Row("participant", lambda w: "/notifications/", message=False),
    "notifications.read_all": Row("participant", lambda w: "/notifications/"),
    "outbox.retry": Row("coordinator", lambda w: "/outbox/failed"),
    "people.contact_create": Row(
        "coordinator",
        lambda w: f"/people/employers/{w.employer.id}/contacts/new",
        {"email": "nieuw.contact@example.org"},
    ),
    "people.employer_create": Row(
        "coordinator", lambda w: "/people/employers/new", {"name": "Nieuw B.V."}
    ),
    "people.employer_edit": Row("coordinator", lambda w: f"/people/employers/{w.employer.id}/edit"),
    "people.invitation_resend": Row(
        "coordinator",
        lambda w: f"/people/{w.participant.id}/invitation",
        setup=_no_password_yet,
    ),
    "people.person_deactivate": Row(
        "coordinator",
        lambda w: f"/people/{w.other_trainer.id}/deactivate",
        url=lambda w: f"/people/{w.other_trainer.id}/deactivate",
    ),
    "people.person_edit": Row("coordinator", lambda w: f"/people/{w.participant.id}/edit"),
    "people.person_reactivate": Row(
        "coordinator",
        lambda w: f"/people/{w.other_trainer.id}/reactivate",
        url=lambda w: f"/people/{w.other_trainer.id}/reactivate",
        setup=_deactivate_trainer,
    ),
    "people.trainer_create": Row(
        "coordinator", lambda w: "/people/trainers/new", {"email": "nieuwe.trainer@example.org"}
    ),
    "portfolio.assignment": Row(
        "participant",
        lambda w: f"/portfolio/assignments/{w.programme.assignments[2].code}",
        url=lambda w: f"/portfolio/assignments/{w.programme.assignments[2].code}",
    ),
    "portfolio.delete_evidence": Row(
        "participant",
        lambda w: f"/portfolio/evidence/{w.extra.id}/delete",  # type: ignore[attr-defined]
        url=lambda w: f"/portfolio/evidence/{w.extra.id}/delete",  # type: ignore[attr-defined]
        setup=_draft_with_evidence,
    ),
    "privacy.erase": Row(
        "coordinator",
        lambda w: f"/privacy/people/{w.other_trainer.id}/erase",
        {"reason": "Verzoek van de persoon zelf."},
        url=lambda w: f"/privacy/people/{w.other_trainer.id}/erase",
    ),
    "reviews.acknowledge": Row("participant", lambda w: f"/reviews/{w.review.id}"),
    "reviews.history": Row("trainer", lambda w: f"/reviews/enrolments/{w.enrolment.id}"),
    "verify.credential": "checks a pasted credential and writes nothing",
}
ERRORS = re.compile(r'class="(?:field__error|flash flash--error)"[^>]*>([^<]+)<')
# Tables any request may write without changing what the form is about: the login session's "last
# seen", the claim of the token (the repeat's claim fails), the shared throttle counters.
BOOKKEEPING = {"form_submissions", "login_sessions", "throttle_counters"}


def writing_endpoints(app: Flask) -> list[str]:
    return sorted(
        {
            rule.endpoint
            for rule in app.url_map.iter_rules()
            if "POST" in (rule.methods or ()) and not rule.endpoint.startswith("api.")
        }
    )


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    return build_world()


class ThreadWrites:
    """The tables each thread's requests wrote to."""

    def __init__(self) -> None:
        self.tables: dict[int, set[str]] = {}
        self.lock = threading.Lock()

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if not has_request_context():
            return
        words = statement.lstrip().split(None, 3)
        verb = words[0].upper() if words else ""
        if verb in ("INSERT", "UPDATE", "DELETE"):
            table = (words[2] if verb in ("INSERT", "DELETE") else words[1]).strip('"').lower()
            with self.lock:
                self.tables.setdefault(threading.get_ident(), set()).add(table)


def flashes(app: Flask, response) -> list[Any]:  # type: ignore[no-untyped-def]
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    name = app.config["SESSION_COOKIE_NAME"]
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            value = header.split(";", 1)[0].split("=", 1)[1]
            return [
                list(item)
                for item in (serializer.loads(value) if value else {}).get("_flashes", [])
            ]
    return []


def send_twice(app: Flask, world: World, endpoint: str, row: Row):  # type: ignore[no-untyped-def]
    """Open the page, fill in the form, send it from two connections at once."""
    import io

    from tests.test_fuzz_forms import _Forms

    if row.setup is not None:
        row.setup(world)
        _db.session.commit()
    first = app.test_client()
    log_in_as(first, world, row.visitor)
    rule = next(rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint)
    action = row.url(world) if row.url else fill(rule, world)
    page = row.page(world)
    if row.before_page is not None:
        html = row.before_page(first, world)
    else:
        response = first.get(page)
        assert response.status_code == 200, f"{page} as {row.visitor}: {response.status_code}"
        html = response.get_data(as_text=True)
    parser = _Forms()
    parser.feed(html)
    forms = [
        form for form in parser.forms if urlsplit(urljoin(page, form["action"])).path == action
    ]
    assert forms, f"{page} shows no form that posts to {action}"
    form = forms[0]
    target = urljoin(page, form["action"]) if form["action"] else page
    assert any(f["name"] == "submission_token" for f in form["fields"]), f"{action}: no token"
    payload: dict[str, Any] = baseline(form, 1)
    payload["csrf_token"] = [next(f["value"] for f in form["fields"] if f["name"] == "csrf_token")]
    payload.update(
        {name: [value(world) if callable(value) else value] for name, value in row.fields.items()}
    )
    second = app.test_client()
    cookie = first.get_cookie(app.config["SESSION_COOKIE_NAME"])
    if cookie is not None:
        second.set_cookie(cookie.key, cookie.value)

    def body() -> dict[str, Any]:
        data = dict(payload)
        for name, (content, file_name) in row.files.items():
            data[name] = (io.BytesIO(content), file_name)
        return data

    watch = ThreadWrites()
    barrier = threading.Barrier(2)
    answers: dict[int, Any] = {}
    errors: list[BaseException] = []

    def send(n: int, client) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait(timeout=10)
            answers[n] = (
                threading.get_ident(),
                client.post(
                    target,
                    data=body(),
                    content_type="multipart/form-data",
                    headers={"Referer": f"http://localhost{page}"},
                ),
            )
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    sa.event.listen(_db.engine, "before_cursor_execute", watch)
    try:
        threads = [
            threading.Thread(target=send, args=(n, c)) for n, c in enumerate((first, second))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        sa.event.remove(_db.engine, "before_cursor_execute", watch)
    assert not errors, errors
    return answers, watch


@pytest.mark.parametrize("endpoint", sorted(k for k, v in ROWS.items() if isinstance(v, Row)))
def test_a_form_sent_twice_at_once_changes_once_and_answers_twice(app, world, endpoint) -> None:
    row = ROWS[endpoint]
    assert isinstance(row, Row)
    answers, watch = send_twice(app, world, endpoint, row)
    (_, a), (_, b) = answers[0], answers[1]
    writers = {
        ident: tables - BOOKKEEPING
        for ident, tables in watch.tables.items()
        if tables - BOOKKEEPING
    }
    assert writers, (
        f"{endpoint}: the form changed nothing (fill it in validly): {a.status_code} "
        + " ".join(ERRORS.findall(a.get_data(as_text=True)))
    )
    assert len(writers) == 1, f"{endpoint}: both sends changed the database: {writers}"
    if row.page_answer:
        # The page of the first send is shown once; the repeat goes back to the form's page.
        (shown,) = [r for r in (a, b) if r.status_code == 200]
        (repeat,) = [r for r in (a, b) if r.status_code != 200]
        assert repeat.status_code == 302 and repeat.headers["Location"] == row.page(world)
        assert [category for category, _text in flashes(app, repeat)] == ["info"]
        return
    assert a.status_code in (302, 303), (endpoint, a.status_code, a.get_data(as_text=True)[:3000])
    assert (a.status_code, a.headers.get("Location")) == (b.status_code, b.headers.get("Location"))
    assert flashes(app, a) == flashes(app, b)
    assert bool(flashes(app, a)) is row.message, f"{endpoint}: message or not"


def test_every_writing_route_has_a_row(app) -> None:
    missing = [endpoint for endpoint in writing_endpoints(app) if endpoint not in ROWS]
    assert not missing, (
        "Writing routes without a row in ROWS (tests/test_double_submit.py): add a Row(visitor, page,"
        " fields) that fills the form, or the reason a second send is rightly handled otherwise:\n"
        + "\n".join(
            f'    "{endpoint}": Row("coordinator", lambda w: "/..."),' for endpoint in missing
        )
    )
    stale = sorted(set(ROWS) - set(writing_endpoints(app)))
    assert not stale, f"rows for routes that do not write or no longer exist: {stale}"
    for endpoint, reason in UNGUARDED.items():
        assert ROWS.get(endpoint) == "UNGUARDED", (
            f"{endpoint} is unguarded ({reason}): say so in ROWS"
        )


@pytest.mark.parametrize("endpoint", ["cohorts.create", "reviews.history", "hours.mine"])
def test_without_the_guard_the_table_sees_the_double_write(app, world, endpoint) -> None:
    """The table's check is real: with the claim taken out, the damage of issue 18 is back."""
    from lms.idempotent_forms import claim_submission

    hooks = app.before_request_funcs[None]
    hooks.remove(claim_submission)
    row = ROWS[endpoint]
    assert isinstance(row, Row)
    answers, watch = send_twice(app, world, endpoint, row)
    (_, a), (_, b) = answers[0], answers[1]
    writers = [tables - BOOKKEEPING for tables in watch.tables.values() if tables - BOOKKEEPING]
    # Both wrote, or the second was answered otherwise (the form in red, a refusal).
    same_success = (
        a.status_code in (302, 303)
        and (a.status_code, a.headers.get("Location")) == (b.status_code, b.headers.get("Location"))
        and flashes(app, a) == flashes(app, b)
    )
    assert len(writers) == 2 or not same_success, (writers, a.status_code, b.status_code)
