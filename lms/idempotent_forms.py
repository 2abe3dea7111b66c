"""A form sent twice changes the data once, and every send gets the first send's answer.

Every drawn form carries a single-use submission token (``lms.forms.SubmissionTokenField``, or
``form_tokens()`` in templates/macros/forms.html). Before the view runs, a POST that carries one claims
it in the request's own transaction (``lms.services.form_submissions.claim``, a flush): the view's
commit commits the claim with the change. A second send of the same token waits at the unique key for
the first transaction; when that committed, the second send rolls back and is answered as the first
was: the same redirect with the same messages (waiting briefly for that answer to be written). When
the first answer was no redirect (a page or a file), the repeat goes back to the page the form was on
and says the form had been sent already: the change is there to see. A view that does not commit
(errors shown in the form, a refusal after a rollback) leaves no claim: a new send is a first send.
Posts without a token (an old page, a hand-made request) are handled as before.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, Response, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, SessionTransaction

from lms import clock
from lms.extensions import db
from lms.forms import new_submission_token
from lms.models import FormSubmission
from lms.services import form_submissions

log = logging.getLogger(__name__)

FIELD = "submission_token"
# Forms whose second send is left to the view, with the reason (tests/test_double_submit.py too).
UNGUARDED: dict[str, str] = {
    # The answer to a login carries the new session's cookie: a replayed answer could not, and a
    # second login only starts a second session.
    "auth.login": "a replayed answer cannot carry the new session cookie",
    # Choosing the same language twice is choosing it once; its answer sets the session's language.
    "main.set_language": "choosing a language twice is choosing it once",
}
REPEAT_WAIT_SECONDS = 10.0  # how long a repeat waits for the first send's answer to be written
SQLITE_LOCK_RETRIES = 3


@dataclass
class Claim:
    id: int
    flashes_before: int
    state: str = "pending"  # pending → committed, or lost (rolled back)


def register(app: Flask) -> None:
    if not sa.event.contains(Session, "after_commit", _claim_committed):
        sa.event.listen(Session, "after_commit", _claim_committed)
        sa.event.listen(Session, "after_transaction_end", _claim_ended)
    app.add_template_global(new_submission_token)
    # After the CSRF check and the loading of the person (both registered before this step).
    app.before_request(claim_submission)
    app.after_request(remember_answer)


def _current_claim() -> Claim | None:
    from flask import has_request_context

    return g.get("form_claim") if has_request_context() else None


def _claim_committed(session: Session) -> None:
    claim = _current_claim()
    if claim is not None and claim.state == "pending":
        claim.state = "committed"


def _claim_ended(session: Session, transaction: SessionTransaction) -> None:
    claim = _current_claim()
    if claim is not None and claim.state == "pending" and transaction.parent is None:
        claim.state = "lost"


def claim_submission() -> Response | None:
    if request.method != "POST" or request.blueprint == "api" or request.endpoint in UNGUARDED:
        return None
    token = form_submissions.usable_token(request.form.get(FIELD))
    if token is None or request.endpoint is None:
        return None
    user_id = current_user.id if current_user.is_authenticated else None
    flashes_before = len(session.get("_flashes", []))
    for attempt in range(SQLITE_LOCK_RETRIES):
        try:
            submission = form_submissions.claim(
                token, user_id=user_id, endpoint=request.endpoint, at=clock.now()
            )
        except IntegrityError:
            db.session.rollback()
            return _repeat(token, user_id)
        except OperationalError:
            # SQLite: the writer lock was held longer than the connection waits for it.
            db.session.rollback()
            if db.engine.dialect.name != "sqlite" or attempt == SQLITE_LOCK_RETRIES - 1:
                raise
            continue
        g.form_claim = Claim(id=submission.id, flashes_before=flashes_before)
        return None
    return None  # pragma: no cover - the loop returns or raises


def _repeat(token: str, user_id: int | None) -> Response | None:
    deadline = time.monotonic() + REPEAT_WAIT_SECONDS
    while True:
        submission = form_submissions.find(token)
        if submission is None:
            return None  # forgotten (pruned) in between: handled as a first send
        if submission.answered_at is not None or time.monotonic() > deadline:
            break
        db.session.rollback()
        time.sleep(0.05)
    answer = _answer(submission, user_id)
    db.session.rollback()
    return answer


def _answer(submission: FormSubmission, user_id: int | None) -> Response:
    # The same person (or the same browser after its first send logged it out); someone else
    # holding the token learns nothing of the first answer.
    same_person = user_id is None or submission.user_id in (None, user_id)
    if same_person and submission.status_code in (301, 302, 303) and submission.location:
        for category, message in submission.messages:
            flash(message, category)
        return redirect(submission.location, code=submission.status_code)
    flash(
        _("This form had already been sent. What it did was saved once: you see it here."), "info"
    )
    return redirect(_page_of_the_form())


def _page_of_the_form() -> str:
    referrer = request.referrer
    if referrer:
        parts = urlsplit(referrer)
        if parts.netloc == request.host and parts.scheme in ("http", "https"):
            return parts.path + (f"?{parts.query}" if parts.query else "")
    return url_for("main.index")


def remember_answer(response: Response) -> Response:
    claim: Claim | None = g.pop("form_claim", None)
    if claim is None or claim.state != "committed":
        return response
    flashed: list[Any] = list(session.get("_flashes", []))[claim.flashes_before :]
    try:
        form_submissions.record_answer(
            claim.id,
            status_code=response.status_code,
            location=response.headers.get("Location")
            if response.status_code in (301, 302, 303)
            else None,
            messages=[[category, str(message)] for category, message in flashed],
            at=clock.now(),
        )
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("The answer to form submission %s was not remembered.", claim.id)
    return response
