"""working_time_between: the working time in [start, end), for net SLA time."""

import datetime

import pytest

from orchestrate.engine.calendars import add_duration, working_time_between
from tests.orchestrate.calendars.factories import WITH_LUNCH, CalendarFactory, utc, week

OFFICE = CalendarFactory.build()
LUNCH = CalendarFactory.build(working_hours=week(WITH_LUNCH))


def hours(count):
    return datetime.timedelta(hours=count)


@pytest.mark.parametrize(
    ("start", "end", "calendar", "expected"),
    [
        (utc(2026, 3, 2, 10), utc(2026, 3, 2, 12), OFFICE, hours(2)),
        (utc(2026, 3, 6, 16), utc(2026, 3, 9, 10), OFFICE, hours(2)),  # over the weekend
        (utc(2026, 3, 2), utc(2026, 3, 9), OFFICE, hours(40)),  # a whole week
        (utc(2026, 3, 2, 17), utc(2026, 3, 3, 9), OFFICE, hours(0)),  # the night
        (utc(2026, 3, 7, 10), utc(2026, 3, 8, 16), OFFICE, hours(0)),  # the weekend
        (utc(2026, 3, 2, 12), utc(2026, 3, 2, 12), OFFICE, hours(0)),  # empty
        (utc(2026, 3, 2, 14), utc(2026, 3, 2, 12), OFFICE, hours(0)),  # backwards
        (utc(2026, 3, 2, 11), utc(2026, 3, 2, 14), LUNCH, hours(2)),  # without the break
        (utc(2026, 3, 2, 16, 30), utc(2026, 3, 3, 9, 15), OFFICE, datetime.timedelta(minutes=45)),
    ],
)
def test_working_time_between(start, end, calendar, expected):
    assert working_time_between(start, end, calendar) == expected


def test_adding_the_working_time_between_two_moments_gives_the_later_one():
    start, end = utc(2026, 3, 2, 15), utc(2026, 3, 11, 11)
    elapsed = working_time_between(start, end, OFFICE)

    assert elapsed == hours(2 + 8 * 6 + 2)  # more than a day: still all working time
    assert add_duration(start, elapsed, business=True, calendar=OFFICE) == end
