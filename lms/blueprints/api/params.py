"""Reading query parameters and paging API lists, with a Link header.

Two ways of paging: page numbers (``page``, ``per_page``) for the small lists (cohorts, certificates),
and a keyset for the big ones (enrolments, submissions, sign-offs): ``after=<cursor>`` continues after
the last row of the previous page, found through the index of the list's order, so the 100th page costs
what the first costs and no list counts all its rows.
"""

from __future__ import annotations

import base64
import binascii
import enum
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
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
# A cursor is at most this long (a real one is about 20 characters); anything longer is refused unread.
MAX_CURSOR_LENGTH = 64
_CURSOR_CHARACTERS = re.compile(r"[A-Za-z0-9_-]+")
_CURSOR_CONTENT = re.compile(r"(?P<list>[a-z]+)\.(?P<key>[0-9]{1,10})")
# A date as RFC 3339 writes it (2026-09-14): not the other forms ``date.fromisoformat`` also reads
# (20260914, 2026-W38-1), and ASCII digits only.
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SCHOOL_YEAR = re.compile(r"(?P<first>[0-9]{4})-(?P<second>[0-9]{4})")


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


def date_arg(name: str) -> date | None:
    """A date such as 2026-09-14 (RFC 3339 full-date)."""
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        if not _DATE.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise bad_parameter(name, _("give a date such as 2026-09-14.")) from None


def date_range() -> tuple[date | None, date | None]:
    """``?from=`` and ``?to=``: the first and the last day wanted (both included, either may be left
    out); a range that ends before it starts is a 400."""
    first, last = date_arg("from"), date_arg("to")
    if first is not None and last is not None and last < first:
        raise bad_parameter("to", _("give a date on or after 'from'."))
    return first, last


def school_year_arg(name: str) -> str | None:
    """A school year: two years in a row, such as 2026-2027."""
    raw = request.args.get(name)
    if raw is None:
        return None
    match = _SCHOOL_YEAR.fullmatch(raw)
    if match is None or int(match["second"]) != int(match["first"]) + 1:
        raise bad_parameter(name, _("give two years in a row, such as 2026-2027."))
    return raw


@dataclass(frozen=True)
class Page:
    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def paginate(query: sa.Select, *order_by: Any) -> Page:  # type: ignore[type-arg]
    """The page asked for (``?page=``, ``?per_page=``) of ``query``, ordered by ``order_by`` (unique
    together, so the order is stable between pages). A page past the end is empty."""
    page = int_arg("page") or 1
    per_page = int_arg("per_page", maximum=MAX_PER_PAGE) or DEFAULT_PER_PAGE
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    )
    offset = (page - 1) * per_page
    items = (
        list(db.session.scalars(query.order_by(*order_by).limit(per_page).offset(offset)).unique())
        if offset < (total or 0)
        else []
    )
    return Page(items=items, page=page, per_page=per_page, total=total or 0)


def _page_url(number: int, per_page: int) -> str:
    args = request.args.to_dict()
    args.update(page=str(number), per_page=str(per_page))
    return url_for(request.endpoint or "", _external=True, **(request.view_args or {}), **args)


def list_response(
    page: Page, data: list[dict[str, Any]], extra: dict[str, Any] | None = None
) -> Response:
    """``{"data": [...], "meta": {...}}`` with a Link header (first, prev, next, last); ``extra``
    adds fields about the list as a whole beside them."""
    links = [(_page_url(1, page.per_page), "first")]
    if page.page > 1:
        links.append((_page_url(min(page.page - 1, page.pages), page.per_page), "prev"))
    if page.page < page.pages:
        links.append((_page_url(page.page + 1, page.per_page), "next"))
    links.append((_page_url(page.pages, page.per_page), "last"))
    response = jsonify(
        {
            **(extra or {}),
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


# --- keyset paging ---------------------------------------------------------------------------


@dataclass(frozen=True)
class KeysetPage:
    """A page of a keyset list: its rows (tuples, the list's object first) and the cursor of the next
    page, None on the last page."""

    rows: list[Any]
    per_page: int
    next_cursor: str | None

    @property
    def items(self) -> list[Any]:
        return [row[0] for row in self.rows]


def encode_cursor(list_name: str, key: int) -> str:
    """The opaque cursor that continues ``list_name`` after the row whose key is ``key``."""
    return base64.urlsafe_b64encode(f"{list_name}.{key}".encode()).decode().rstrip("=")


def _bad_cursor() -> ApiProblem:
    return bad_parameter(
        "after",
        _(
            "use the cursor of this list's 'next' link as it is, or leave it out for the first page."
        ),
    )


def cursor_arg(list_name: str) -> int | None:
    """The key after which ``?after=`` continues ``list_name``; None without ``after``. A cursor that
    is not one this list gave out (garbage, too long, of another list) is a 400, never a lookup."""
    raw = request.args.get("after")
    if raw is None:
        return None
    if len(raw) > MAX_CURSOR_LENGTH or not _CURSOR_CHARACTERS.fullmatch(raw):
        raise _bad_cursor()
    try:
        content = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raise _bad_cursor() from None
    match = _CURSOR_CONTENT.fullmatch(content)
    if match is None or match["list"] != list_name or int(match["key"]) > MAX_INT:
        raise _bad_cursor()
    return int(match["key"])


def keyset_paginate(query: sa.Select, key: Any, list_name: str) -> KeysetPage:  # type: ignore[type-arg]
    """The page of ``query`` after ``?after=`` (``?per_page=`` rows), ordered by ``key``: a unique,
    indexed integer column of the list's object, the first entity of ``query``. One statement: it
    asks for one row more than the page to know whether there is a next page, and counts nothing.
    Page numbers are refused (a 400 that says what to use instead)."""
    if "page" in request.args:
        raise bad_parameter(
            "page",
            _("this list is paged with 'after': leave out 'page' and follow the 'next' link."),
        )
    per_page = int_arg("per_page", maximum=MAX_PER_PAGE) or DEFAULT_PER_PAGE
    after = cursor_arg(list_name)
    if after is not None:
        query = query.where(key > after)
    rows = list(db.session.execute(query.order_by(key).limit(per_page + 1)).unique())
    more = len(rows) > per_page
    rows = rows[:per_page]
    next_cursor = encode_cursor(list_name, getattr(rows[-1][0], key.key)) if more else None
    return KeysetPage(rows=rows, per_page=per_page, next_cursor=next_cursor)


def _cursor_url(cursor: str | None, per_page: int) -> str:
    args = request.args.to_dict()
    args.pop("after", None)
    if cursor is not None:
        args["after"] = cursor
    args["per_page"] = str(per_page)
    return url_for(request.endpoint or "", _external=True, **(request.view_args or {}), **args)


def keyset_response(page: KeysetPage, data: list[dict[str, Any]]) -> Response:
    """``{"data": [...], "meta": {"per_page", "next_cursor", "next"}}`` with a Link header (first,
    and next unless this is the last page)."""
    next_url = _cursor_url(page.next_cursor, page.per_page) if page.next_cursor else None
    links = [(_cursor_url(None, page.per_page), "first")]
    if next_url is not None:
        links.append((next_url, "next"))
    response = jsonify(
        {
            "data": data,
            "meta": {"per_page": page.per_page, "next_cursor": page.next_cursor, "next": next_url},
        }
    )
    response.headers["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for url, rel in links)
    return response
