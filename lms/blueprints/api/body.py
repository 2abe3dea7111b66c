"""Reading a request's JSON body: a JSON object, nested no deeper than a body of ours needs, with no
text the database cannot store. Anything else is a 400 problem, never a server error."""

from __future__ import annotations

import re
from typing import Any

from flask import Request
from flask_babel import gettext as _

from lms.blueprints.api.problems import ApiProblem

# Our bodies nest two levels ({"participant": {...}}); the margin is for what clients add by mistake.
MAX_DEPTH = 16
# PostgreSQL cannot store NUL in text, and a lone surrogate cannot be written as UTF-8 at all.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _too_deep() -> ApiProblem:
    return ApiProblem(
        400,
        _("The body is nested too deeply: at most %(depth)d levels.", depth=MAX_DEPTH),
        kind="invalid-json",
    )


def _check(body: dict[str, Any]) -> None:
    """Walk the body without recursion, so no depth can exhaust the stack."""
    pending: list[tuple[Any, int]] = [(body, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list) and depth > MAX_DEPTH:
            raise _too_deep()
        if isinstance(value, dict):
            texts: list[Any] = list(value)
            pending.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            texts = []
            pending.extend((item, depth + 1) for item in value)
        else:
            texts = [value]
        if any(isinstance(text, str) and _UNSTORABLE.search(text) for text in texts):
            raise ApiProblem(
                400,
                _("The body contains a NUL character or a lone surrogate, which cannot be stored."),
                kind="invalid-json",
            )


def json_object(request: Request) -> dict[str, Any]:
    """The body as a dict, checked; raises ``ApiProblem`` (415 or 400) otherwise."""
    if not request.is_json:
        raise ApiProblem(
            415, _("Send the body as JSON (Content-Type: application/json)."), kind="not-json"
        )
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # the parser gives up on nesting thousands of levels deep
        raise _too_deep() from None
    if not isinstance(body, dict):
        raise ApiProblem(400, _("The body is not a JSON object."), kind="invalid-json")
    _check(body)
    return body
