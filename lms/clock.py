"""The one source of "now" for domain code, so tests can travel through the programme year.

Times are stored in UTC; dates a person sees (due dates, "today") are in Europe/Amsterdam.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Europe/Amsterdam")

_frozen: datetime | None = None


def now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def local_now() -> datetime:
    return now().astimezone(LOCAL_TZ)


def today() -> date:
    """Today's date in the Netherlands."""
    return local_now().date()


@contextmanager
def frozen_at(moment: datetime) -> Iterator[datetime]:
    """Pretend it is ``moment`` (naive values are read as Amsterdam time) inside the block."""
    global _frozen
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    previous, _frozen = _frozen, moment.astimezone(UTC)
    try:
        yield _frozen
    finally:
        _frozen = previous


def school_year_start(on: date | None = None, month: int = 9) -> int:
    """The calendar year in which the current school year started (it starts in September)."""
    on = on or today()
    return on.year if on.month >= month else on.year - 1
