"""Paging and searching for list pages: one way for every list."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, request
from flask_sqlalchemy.pagination import Pagination

from lms.extensions import db


def page_number() -> int:
    """The page asked for in ``?page=``: anything that is not a whole number from 1 up (text, 0, a
    negative number) is page 1. Huge numbers are capped, so the offset always fits the database."""
    try:
        number = int(request.args.get("page", ""))
    except ValueError:
        return 1
    return min(max(number, 1), 2**31 - 1)


def paginate(query: sa.Select) -> Pagination:  # type: ignore[type-arg]
    """The page of ``query`` asked for in ``?page=``. A page past the end shows the last page (a
    bookmark of page 7 still shows something after the list shrank), never an error."""
    per_page = current_app.config["PER_PAGE"]
    number = page_number()
    page = db.paginate(query, page=number, per_page=per_page, error_out=False)
    if number > 1 and not page.items and page.pages:
        page = db.paginate(query, page=page.pages, per_page=per_page, error_out=False)
    return page


def paginate_counted(query: sa.Select, per_page: int | None = None) -> Pagination:  # type: ignore[type-arg]
    """Like ``paginate``, but counts first and asks only for a page that exists: always two
    statements, also for a page past the end (which shows the last page)."""
    per_page = per_page or current_app.config["PER_PAGE"]
    total = (
        db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
        or 0
    )
    pages = max(1, -(-total // per_page))
    page = db.paginate(
        query, page=min(page_number(), pages), per_page=per_page, error_out=False, count=False
    )
    page.total = total
    return page


class ListPagination(Pagination):
    """A page of a list already in memory (a cohort's training dates), for the pagination macro."""

    def __init__(self, items: list[object], page: int, per_page: int) -> None:
        self._all = items
        super().__init__(page=page, per_page=per_page, error_out=False)

    def _query_items(self) -> list[object]:
        start = (self.page - 1) * self.per_page
        return self._all[start : start + self.per_page]

    def _query_count(self) -> int:
        return len(self._all)


def paginate_list(items: list[object], per_page: int | None = None) -> Pagination:
    """Like ``paginate``, for a list already in memory: a page past the end shows the last page."""
    per_page = per_page or current_app.config["PER_PAGE"]
    pages = max(1, -(-len(items) // per_page))
    return ListPagination(items, min(page_number(), pages), per_page)


def search_term() -> str:
    """The trimmed ``?q=`` search text."""
    return request.args.get("q", "").strip()[:100]


def contains(column: sa.ColumnElement[str], term: str) -> sa.ColumnElement[bool]:
    """Case-insensitive "column contains term", with LIKE wildcards in the term taken literally."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")
