"""Token authentication for the API: ``Authorization: Bearer <key>``, no cookies, no sessions.

The token acts as the user who made it; ``api_user()`` is that user, and every query goes through the
same scopes in ``lms.permissions`` as the pages.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request
from flask_babel import gettext as _

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
    answer: ``idempotency.respond`` honours ``Idempotency-Key`` and commits."""

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
            token = api_tokens.authenticate(secret)
            if token is None:
                raise ApiProblem(
                    401,
                    _("This API key is unknown, expired or revoked."),
                    kind="unauthorized",
                    headers={"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'},
                )
            token_id = token.id
            db.session.commit()  # keeps last_used_at, whatever the request does next
            g.api_token = token
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
                # Every write of the API: Idempotency-Key, and one commit (see idempotency.py).
                return idempotency.respond(token_id, lambda: view(*args, **kwargs))
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
