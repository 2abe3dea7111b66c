"""Dutch public holidays: no reminder mail on them, and they are no working days."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from lms import clock
from lms.holidays import easter_sunday, is_public_holiday, is_working_day, public_holidays
from lms.services.mail import in_working_hours, next_working_moment
from lms.services.reminders import working_days_between


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),
    ],
)
def test_easter_sunday(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


def test_the_holidays_of_2027() -> None:
    assert public_holidays(2027) == {
        date(2027, 1, 1),
        date(2027, 3, 28),  # Easter
        date(2027, 3, 29),
        date(2027, 4, 27),  # King's Day, a Tuesday
        date(2027, 5, 6),  # Ascension Day
        date(2027, 5, 16),  # Whitsun
        date(2027, 5, 17),
        date(2027, 12, 25),
        date(2027, 12, 26),
    }


def test_kings_day_moves_to_saturday_when_the_27th_is_a_sunday() -> None:
    assert is_public_holiday(date(2025, 4, 26))
    assert not is_public_holiday(date(2025, 4, 27))


def test_liberation_day_only_in_lustrum_years() -> None:
    assert is_public_holiday(date(2030, 5, 5))
    assert not is_public_holiday(date(2027, 5, 5))


def test_a_weekday_holiday_is_no_working_day() -> None:
    assert not is_working_day(date(2026, 12, 25))  # Friday
    assert is_working_day(date(2026, 12, 24))


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=clock.LOCAL_TZ)


def test_no_reminder_mail_on_a_holiday() -> None:
    assert not in_working_hours(at(2027, 3, 29, 10))  # Easter Monday, mid-morning
    assert in_working_hours(at(2027, 3, 30, 10))


def test_mail_held_over_christmas_goes_out_on_the_next_working_morning() -> None:
    # Thursday 24 December 2026, evening: Friday is Christmas, then the weekend.
    assert next_working_moment(at(2026, 12, 24, 19)) == at(2026, 12, 28, 8)


def test_working_days_skip_the_easter_weekend() -> None:
    # Thursday 25 March to Tuesday 30 March 2027: Friday 26 and Tuesday 30 (Monday is Easter Monday).
    assert working_days_between(date(2027, 3, 25), date(2027, 3, 30)) == 2
