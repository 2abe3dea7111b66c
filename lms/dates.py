"""The one way the interface shows a date: the short Dutch form "9 okt 2026" (``d MMM yyyy``), with
the time after it where the moment matters ("9 okt 2026 14:30"). Templates use the ``date`` and
``datetime`` filters, PDFs and messages these functions; tests/test_dates.py keeps other patterns out."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from babel import Locale
from babel.dates import format_date
from flask import Flask
from flask_babel import format_datetime, get_locale

DATE_PATTERN = "d MMM yyyy"
DATETIME_PATTERN = "d MMM yyyy HH:mm"


def short_date(value: date | datetime | None) -> str:
    """A day ("9 okt 2026"); a moment is shown as its day in Europe/Amsterdam."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, DATE_PATTERN)  # converted to the local time zone first
    return _day(value, get_locale())


@lru_cache(maxsize=4096)
def _day(day: date, locale: Locale | None) -> str:
    """What ``flask_babel.format_date(day, DATE_PATTERN)`` gives in ``locale``, formatted once per day
    and language: a reminder sweep shows the same few due dates in thousands of mails."""
    return format_date(day, DATE_PATTERN, locale=locale)


def short_datetime(value: datetime | None) -> str:
    """A moment in Europe/Amsterdam ("9 okt 2026 14:30")."""
    if value is None:
        return ""
    return format_datetime(value, DATETIME_PATTERN)


def register(app: Flask) -> None:
    app.add_template_filter(short_date, "date")
    app.add_template_filter(short_datetime, "datetime")
