"""Token authentication for the API: ``Authorization: Bearer <key>``, no cookies, no sessions.

The token acts as the user who made it; ``api_user()`` is that user, and every query goes through the
same scopes in ``lms.permissions`` as the pages.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request
from flask_babel import gettext as _

from lms import clock
from lms.blueprints.api import idempotency
from lms.blueprints.api.problems import ApiProblem
from lms.extensions import db
from lms.models import ApiToken, Role, User
from lms.services import api_tokens

F = TypeVar("F", bound=Callable[..., Any])

UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'Bearer realm="api"'}


def _bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def api_token() -> ApiToken:
    return g.api_token  # type: ignore[no-any-return]


def api_user() -> User:
    return g.api_token.user  # type: ignore[no-any-return]


def token_required(
    *, write: bool = False, roles: tuple[Role, ...] | None = None
) -> Callable[[F], F]:
    """Require a usable token (401 otherwise); ``write`` also requires a read-write token and
    ``roles`` the owner's role, as on the pages (403 otherwise). A POST view flushes and returns its
    answer: ``idempotency.respond`` honours ``Idempotency-Key`` and commits. The token and its user
    are read in one statement; a read commits nothing, except the token's last use once a minute,
    written after the answer is made."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            secret = _bearer_secret()
            if secret is None:
                raise ApiProblem(
                    401,
                    _("Send your API key as 'Authorization: Bearer <key>'."),
                    kind="unauthorized",
                    headers=UNAUTHORIZED_HEADERS,
                )
            at = clock.now()
            token = api_tokens.authenticate(secret, at)  # the token and its user: one statement
            if token is None:
                raise ApiProblem(
                    401,
                    _("This API key is unknown, expired or revoked."),
                    kind="unauthorized",
                    headers={"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'},
                )
            token_id = token.id
            # Read now: a write's commit expires the token, and reading it again costs a statement.
            note = api_tokens.use_is_news(token.last_used_at, at)
            g.api_token = token
            try:
                if write and not token.can_write:
                    raise ApiProblem(
                        403,
                        _("This API key may only read. Use a key with read and write access."),
                        kind="read-only-token",
                    )
                if roles is not None and token.user.role not in roles:
                    raise ApiProblem(
                        403,
                        _("The account this API key belongs to may not do this."),
                        kind="forbidden",
                    )
                if request.method == "POST":
                    # Every write of the API: Idempotency-Key, and one commit (idempotency.py).
                    response = idempotency.respond(token_id, lambda: view(*args, **kwargs))
                else:
                    # A read commits nothing, unless the key's last use is worth noting.
                    response = current_app.make_response(view(*args, **kwargs))
            except ApiProblem:
                if note:
                    db.session.rollback()  # what the refused request did is not kept
                    _note_use(token_id, at)
                raise
            if note:
                _note_use(token_id, at)
            return response

        return wrapped  # type: ignore[return-value]

    return decorator


def _note_use(token_id: int, at: datetime) -> None:
    """The key's last use, at most once a minute (``api_tokens.note_use``), in a transaction of its
    own after the answer is made: a read sends no write and no commit the rest of the minute."""
    api_tokens.note_use(token_id, at)
    db.session.commit()
