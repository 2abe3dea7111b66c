"""Errors of the JSON API as ``application/problem+json`` (RFC 9457), with a clear message.

Every error under ``/api/v1`` takes this form, also those Flask raises itself (404 for an unknown
address, 405 for a method that does not exist): ``lms.errors`` hands them to ``http_problem``.
"""

from __future__ import annotations

from typing import Any

from flask import Response, json, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

API_PREFIX = "/api/v1"
# A problem's ``type`` points at its explanation on the reference page.
PROBLEM_TYPE_BASE = "/api/v1/docs#problem-"
PROBLEM_MEDIA_TYPE = "application/problem+json"

# Every kind of problem the API names in ``type``, with what it means (shown on the reference page).
PROBLEM_KINDS = {
    "unauthorized": "No API key was sent, or the key is unknown, expired or revoked (401).",
    "forbidden": "The key's user may not do this, just as on the pages (403); never about one record.",
    "read-only-token": "The key may only read; writing needs a read-write key (403).",
    "not-found": (
        "There is nothing with this id or code, or nothing the key's user may see: the same answer (404)."
    ),
    "invalid-parameter": "A query parameter has a value that cannot be used; see errors (400).",
    "invalid-json": (
        "The body is not a JSON object, is nested too deeply, or contains a NUL character (400)."
    ),
    "not-json": "The body was not sent as application/json (415).",
    "validation": "Fields of the body are missing or wrong; errors lists every one (422).",
    "enrolment-refused": (
        "The enrolment rules refuse this: a closed cohort, a date after the cohort's end, an "
        "account that is not a participant's, a participant who completed this cohort, or a date "
        "before the participant left this cohort (422)."
    ),
    "invalid-idempotency-key": (
        "The Idempotency-Key header is empty, longer than 255 characters, or holds characters other "
        "than printable ASCII (400)."
    ),
    "idempotency-key-reused": (
        "The Idempotency-Key was already used by this API key for another request: another address "
        "or another body. A new request needs a new key (422)."
    ),
    "idempotency-key-in-use": (
        "A request with the same Idempotency-Key is still being handled and did not finish while "
        "this one waited; send it again with the same key in a moment (409)."
    ),
    "cohort-full": "Every seat of the cohort is taken (409).",
    "already-enrolled": (
        "The participant already has an active enrolment: in another cohort, or in this one with "
        "another employer or intake. Also the answer to the second of two enrolments of the same new "
        "e-mail address at the same moment: the first one made the account and enrolled it (409)."
    ),
}


class ApiProblem(Exception):
    """Raised by API code to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind
        self.errors = errors
        self.headers = headers or {}


def is_api_request() -> bool:
    path = request.path
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


def problem(
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + kind if kind in PROBLEM_KINDS else "about:blank",
        "title": HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_exception(error: ApiProblem) -> Response:
    return problem(
        error.status, error.detail, kind=error.kind, errors=error.errors, headers=error.headers
    )


def _default_detail(status: int) -> str:
    details = {
        400: _("The request could not be read. Check the parameters and the JSON body."),
        401: _("Send a valid API key as 'Authorization: Bearer <key>'."),
        403: _("Your API key does not allow this."),
        404: _("There is nothing at this address, or you may not see it."),
        405: _("This method cannot be used at this address."),
        413: _("The request is too large."),
        415: _("Send the body as JSON (Content-Type: application/json)."),
        429: _("Too many requests. Wait a moment and try again."),
        500: _("Something went wrong on our side. Nothing was saved halfway; try again later."),
        503: _(
            "The system cannot reach its data. Nothing was saved halfway; try again in a few minutes."
        ),
    }
    return details.get(status, HTTP_STATUS_CODES.get(status, "Error"))


def http_problem(error: HTTPException) -> Response:
    """A Flask/Werkzeug HTTP error inside the API, as a problem document."""
    status = error.code or 500
    headers: dict[str, str] = {}
    valid_methods = getattr(error, "valid_methods", None)
    if status == 405 and valid_methods:
        headers["Allow"] = ", ".join(sorted(valid_methods))
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return problem(status, _default_detail(status), headers=headers)
