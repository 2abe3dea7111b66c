"""Reading query parameters and paging API lists: one way for every list, with a Link header."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Response, jsonify, request, url_for
from flask_babel import gettext as _

from lms.blueprints.api.problems import ApiProblem
from lms.extensions import db

E = TypeVar("E", bound=enum.Enum)

DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100
MAX_INT = 2**31 - 1  # the database's integer; larger ids cannot exist


def bad_parameter(name: str, message: str) -> ApiProblem:
    return ApiProblem(
        400,
        _("The query parameter '%(name)s' is not valid: %(message)s", name=name, message=message),
        kind="invalid-parameter",
        errors=[{"field": name, "message": message}],
    )


def int_arg(name: str, *, minimum: int = 1, maximum: int = MAX_INT) -> int | None:
    raw = request.args.get(name)
    if raw is None:  # an empty value is not "no filter": the contract says it must be valid
        return None
    try:
        value = int(raw)
    except ValueError:
        raise bad_parameter(name, _("give a whole number.")) from None
    if not minimum <= value <= maximum:
        raise bad_parameter(
            name, _("give a number from %(min)d to %(max)d.", min=minimum, max=maximum)
        )
    return value


def enum_arg(name: str, choices: type[E]) -> E | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        return choices(raw)
    except ValueError:
        allowed = ", ".join(member.value for member in choices)
        raise bad_parameter(name, _("choose one of: %(allowed)s.", allowed=allowed)) from None


def datetime_arg(name: str) -> datetime | None:
    """An RFC 3339 date-time; without an offset it is read as UTC."""
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        raise bad_parameter(name, _("give a date and time such as 2026-09-01T08:00:00Z.")) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise bad_parameter(name, _("give a date and time such as 2026-09-01T08:00:00Z.")) from None


@dataclass(frozen=True)
class Page:
    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def paginate(query: sa.Select, order_by: Any) -> Page:  # type: ignore[type-arg]
    """The page asked for (``?page=``, ``?per_page=``) of ``query``, ordered by ``order_by`` (a unique
    column, so the order is stable between pages). A page past the end is empty."""
    page = int_arg("page") or 1
    per_page = int_arg("per_page", maximum=MAX_PER_PAGE) or DEFAULT_PER_PAGE
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    )
    offset = (page - 1) * per_page
    items = (
        list(db.session.scalars(query.order_by(order_by).limit(per_page).offset(offset)).unique())
        if offset < (total or 0)
        else []
    )
    return Page(items=items, page=page, per_page=per_page, total=total or 0)


def _page_url(number: int, per_page: int) -> str:
    args = request.args.to_dict()
    args.update(page=str(number), per_page=str(per_page))
    return url_for(request.endpoint or "", _external=True, **(request.view_args or {}), **args)


def list_response(page: Page, data: list[dict[str, Any]]) -> Response:
    """``{"data": [...], "meta": {...}}`` with a Link header (first, prev, next, last)."""
    links = [(_page_url(1, page.per_page), "first")]
    if page.page > 1:
        links.append((_page_url(min(page.page - 1, page.pages), page.per_page), "prev"))
    if page.page < page.pages:
        links.append((_page_url(page.page + 1, page.per_page), "next"))
    links.append((_page_url(page.pages, page.per_page), "last"))
    response = jsonify(
        {
            "data": data,
            "meta": {
                "page": page.page,
                "per_page": page.per_page,
                "total": page.total,
                "pages": page.pages,
            },
        }
    )
    response.headers["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for url, rel in links)
    return response
