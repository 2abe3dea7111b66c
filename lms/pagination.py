"""Paging and searching for list pages: one way for every list."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, request
from flask_sqlalchemy.pagination import Pagination

from lms.extensions import db


def paginate(query: sa.Select) -> Pagination:  # type: ignore[type-arg]
    """The page of ``query`` asked for in ``?page=``; a page past the end is empty, never an error."""
    return db.paginate(
        query,
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config["PER_PAGE"],
        error_out=False,
    )


def search_term() -> str:
    """The trimmed ``?q=`` search text."""
    return request.args.get("q", "").strip()[:100]


def contains(column: sa.ColumnElement[str], term: str) -> sa.ColumnElement[bool]:
    """Case-insensitive "column contains term", with LIKE wildcards in the term taken literally."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")
