"""Holidays are not working days: single dates once, yearly ones on the same day each year."""

import datetime

import pytest

from orchestrate.engine import calendars as engine
from orchestrate.engine.calendars import CalendarError, add_duration, working_time_between
from tests.orchestrate.calendars.factories import CalendarFactory, utc, week, with_holidays

pytestmark = pytest.mark.django_db

# Thu 5 Mar 2026 is a single holiday; 1 Jan and 25 Dec are every year.
THU_5_MAR = datetime.date(2026, 3, 5)
NEW_YEAR = datetime.date(2000, 1, 1)
CHRISTMAS = datetime.date(2000, 12, 25)


@pytest.fixture
def calendar():
    return with_holidays(
        CalendarFactory.build(), (THU_5_MAR, False), (NEW_YEAR, True), (CHRISTMAS, True)
    )


def business(start, duration, calendar):
    return add_duration(start, duration, business=True, calendar=calendar)


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        (utc(2026, 3, 4, 15), "PT4H", utc(2026, 3, 6, 11)),
        (utc(2026, 3, 4, 15), "P1D", utc(2026, 3, 6, 15)),
        (utc(2026, 3, 5, 10), "PT1H", utc(2026, 3, 6, 10)),  # a start on the holiday
        (utc(2026, 3, 5, 10), "P1D", utc(2026, 3, 9, 9)),
        # a single date does not come back the next year
        (utc(2027, 3, 4, 15), "PT4H", utc(2027, 3, 5, 11)),
        # 1 Jan 2027 is a Friday: Thu 31 Dec 15:00 plus a working day is Mon 4 Jan
        (utc(2026, 12, 31, 15), "P1D", utc(2027, 1, 4, 15)),
        (utc(2026, 12, 31, 16), "PT2H", utc(2027, 1, 4, 10)),
        # 25 Dec 2026 is a Friday too; in 2025 it is a Thursday
        (utc(2026, 12, 24, 16), "PT2H", utc(2026, 12, 28, 10)),
        (utc(2025, 12, 24, 16), "PT2H", utc(2025, 12, 26, 10)),
    ],
)
def test_holidays_are_skipped(calendar, start, duration, due):
    assert business(start, duration, calendar) == due


def test_holidays_have_no_working_time(calendar):
    week_with_holiday = working_time_between(utc(2026, 3, 2), utc(2026, 3, 9), calendar)
    christmas_week = working_time_between(utc(2026, 12, 21), utc(2026, 12, 28), calendar)

    assert week_with_holiday == christmas_week == datetime.timedelta(hours=32)


def test_a_calendar_without_working_time_ahead_is_refused(monkeypatch):
    mondays_only = CalendarFactory.build(working_hours={**week([]), "mon": [["09:00", "17:00"]]})
    calendar = with_holidays(mondays_only, (datetime.date(2026, 3, 9), False))
    monkeypatch.setattr(engine, "MAX_DAYS_WITHOUT_WORK", 10)

    with pytest.raises(CalendarError, match="no working time within 10 days"):
        business(utc(2026, 3, 3, 10), "PT1H", calendar)
