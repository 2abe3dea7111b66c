"""``Idempotency-Key`` on every POST of the API, with the meaning of the IETF draft "The
Idempotency-Key HTTP Header Field" and as Stripe does it. ``token_required`` sends every POST through
``respond``, so a new POST route has it without doing anything.

- No header: the request runs as it always did.
- The key: 1 to 255 printable ASCII characters, sent as it is (Stripe) or as a Structured Field string
  in double quotes (the draft): ``abc`` and ``"abc"`` are the same key. Anything else is a 400.
- Keys belong to the API token: another token's key of the same name is another key.
- The first request claims the key in its own transaction (``lms.services.idempotency_keys``); its
  change, the claim and its answer commit together.
- The same key with the same request (method, path, query and a SHA-256 of the body) gets the stored
  answer (status, body, Content-Type, Location) with ``Idempotent-Replayed: true``, and changes nothing.
- The same key with another request: 422.
- A repeat while the first is still running waits for it and then gets its answer; after ``WAIT`` it
  gets 409 (try again).
- Only a success (2xx) is stored. An error (4xx or 5xx) rolls the claim back with the rest, so the
  client can correct the request and send it again with the same key.
- A key is kept for 24 hours; after that it is free again, and its row is pruned.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta

from flask import Response, current_app, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from lms import clock
from lms.blueprints.api.problems import ApiProblem
from lms.extensions import db
from lms.models.idempotency_keys import KEY_MAX_LENGTH
from lms.services import idempotency_keys

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# The headers that belong to an answer; the rest (Cache-Control, security headers) the app adds anew.
STORED_HEADERS = ("Content-Type", "Location")
# How long a repeat waits for the first request to finish before it is told to try again (409).
WAIT = timedelta(seconds=10)

_PRINTABLE = re.compile(rf"[ -~]{{1,{KEY_MAX_LENGTH}}}")
# RFC 8941 sf-string: printable ASCII, with " and \ escaped by a backslash.
_SF_STRING = re.compile(r'"((?:[ !#-\[\]-~]|\\["\\])+)"')


def request_key() -> str | None:
    """The request's key, None without the header; raises a 400 problem for an unusable one."""
    value = request.headers.get(HEADER)
    if value is None:
        return None
    if not _PRINTABLE.fullmatch(value):
        raise _invalid_key()
    if len(value) > 1 and value.startswith('"') and value.endswith('"'):
        quoted = _SF_STRING.fullmatch(value)
        if quoted is None:
            raise _invalid_key()
        return re.sub(r'\\(["\\])', r"\1", quoted.group(1))
    return value


def request_fingerprint() -> str:
    """What makes two requests the same request: method, path, query and body."""
    digest = hashlib.sha256()
    address = [request.method, request.path, request.query_string.decode("latin-1")]
    digest.update(json.dumps(address).encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def respond(token_id: int, view: Callable[[], ResponseReturnValue]) -> Response:
    """Run a POST view once per key, and commit: the view flushes its change and returns its answer.
    Its failures roll back (``ApiProblem`` in the blueprint's error handler, others in lms.errors)."""
    key = request_key()
    if key is None:
        return _finish(current_app.make_response(view()))
    fingerprint = request_fingerprint()
    try:
        claimed = idempotency_keys.claim(
            token_id=token_id, key=key, fingerprint=fingerprint, at=clock.now(), wait=WAIT
        )
    except idempotency_keys.KeyInUse:
        raise _in_progress() from None
    if claimed is None:
        return _replay(token_id, key, fingerprint)
    response = current_app.make_response(view())
    if _succeeded(response):
        idempotency_keys.complete(
            claimed,
            status=response.status_code,
            body=response.get_data(as_text=True),
            headers={
                name: response.headers[name] for name in STORED_HEADERS if name in response.headers
            },
            at=clock.now(),
        )
    return _finish(response)


def _succeeded(response: Response) -> bool:
    return 200 <= response.status_code < 300


def _finish(response: Response) -> Response:
    if _succeeded(response):
        db.session.commit()
    else:
        db.session.rollback()
    return response


def _replay(token_id: int, key: str, fingerprint: str) -> Response:
    stored = idempotency_keys.find(token_id=token_id, key=key)
    if stored is None or not stored.completed:
        # Claimed by a request that committed before it had its answer, or just pruned.
        raise _in_progress()
    if stored.request_fingerprint != fingerprint:
        raise ApiProblem(
            422,
            _(
                "This Idempotency-Key was already used for another request (another address or "
                "body). Use a new key for a new request."
            ),
            kind="idempotency-key-reused",
        )
    response = Response(
        stored.response_body, status=stored.response_status, headers=stored.response_headers or {}
    )
    response.headers[REPLAYED_HEADER] = "true"
    db.session.rollback()  # nothing changed; ends the transaction that read the key
    return response


def _in_progress() -> ApiProblem:
    return ApiProblem(
        409,
        _(
            "A request with this Idempotency-Key is still being handled. Wait a moment and send it "
            "again with the same key."
        ),
        kind="idempotency-key-in-use",
        headers={"Retry-After": "1"},
    )


def _invalid_key() -> ApiProblem:
    return ApiProblem(
        400,
        _(
            "The Idempotency-Key header is not valid: give 1 to %(max)d printable ASCII characters.",
            max=KEY_MAX_LENGTH,
        ),
        kind="invalid-idempotency-key",
    )
