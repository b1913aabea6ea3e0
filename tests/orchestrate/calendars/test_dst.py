"""Clock changes: wall times stay wall times, and a working hour is always sixty minutes.

Europe/Berlin changes on Sun 29 Mar 2026 (02:00 -> 03:00) and Sun 25 Oct 2026
(03:00 -> 02:00); America/New_York on Sun 8 Mar 2026 and Sun 1 Nov 2026 (at 02:00)."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from orchestrate.engine.calendars import add_duration, working_time_between
from tests.orchestrate.calendars.factories import (
    ALL_DAY,
    NINE_TO_FIVE,
    CalendarFactory,
    every_day,
    local,
    utc,
    week,
)

HOUR = datetime.timedelta(hours=1)


def berlin(*parts, fold=0):
    return local("Europe/Berlin", *parts, fold=fold)


def new_york(*parts, fold=0):
    return local("America/New_York", *parts, fold=fold)


def calendar(zone, hours):
    return CalendarFactory.build(time_zone=zone, working_hours=hours)


def business(start, duration, calendar):
    return add_duration(start, duration, business=True, calendar=calendar)


BERLIN_OFFICE = calendar("Europe/Berlin", week(NINE_TO_FIVE))
BERLIN_ALWAYS = calendar("Europe/Berlin", every_day(ALL_DAY))
NEW_YORK_OFFICE = calendar("America/New_York", week(NINE_TO_FIVE))
NEW_YORK_ALWAYS = calendar("America/New_York", every_day(ALL_DAY))


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        # spring forward: Fri 13:00 CET + 8 working hours = Mon 13:00 CEST
        (berlin(2026, 3, 27, 13), "PT8H", utc(2026, 3, 30, 11)),
        (berlin(2026, 3, 27, 15), "P1D", utc(2026, 3, 30, 13)),
        # fall back: Fri 13:00 CEST + 8 working hours = Mon 13:00 CET
        (berlin(2026, 10, 23, 13), "PT8H", utc(2026, 10, 26, 12)),
        (berlin(2026, 10, 23, 15), "P1D", utc(2026, 10, 26, 14)),
    ],
)
def test_berlin_office_hours_across_the_clock_changes(start, duration, due):
    assert business(start, duration, BERLIN_OFFICE) == due


def test_the_weekend_of_a_clock_change_adds_no_working_time():
    spring = (berlin(2026, 3, 27, 13), berlin(2026, 3, 30, 13))
    autumn = (berlin(2026, 10, 23, 13), berlin(2026, 10, 26, 13))

    assert working_time_between(*spring, BERLIN_OFFICE) == 8 * HOUR
    assert working_time_between(*autumn, BERLIN_OFFICE) == 8 * HOUR


def test_a_day_round_the_clock_has_23_or_25_working_hours_on_change_days():
    spring = working_time_between(berlin(2026, 3, 29, 0), berlin(2026, 3, 30, 0), BERLIN_ALWAYS)
    autumn = working_time_between(berlin(2026, 10, 25, 0), berlin(2026, 10, 26, 0), BERLIN_ALWAYS)

    assert (spring, autumn) == (23 * HOUR, 25 * HOUR)


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        # 24 working hours are 24 real hours; one working day is the same wall time
        (berlin(2026, 3, 28, 12), "PT24H", berlin(2026, 3, 29, 13)),
        (berlin(2026, 3, 28, 12), "P1D", berlin(2026, 3, 29, 12)),
        (berlin(2026, 10, 24, 12), "PT24H", berlin(2026, 10, 25, 11)),
        (berlin(2026, 10, 24, 12), "P1D", berlin(2026, 10, 25, 12)),
    ],
)
def test_round_the_clock_in_berlin(start, duration, due):
    assert business(start, duration, BERLIN_ALWAYS) == due


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        (new_york(2026, 3, 6, 13), "PT8H", new_york(2026, 3, 9, 13)),
        (new_york(2026, 3, 6, 13), "PT8H", utc(2026, 3, 9, 17)),
        (new_york(2026, 10, 30, 15), "P1D", utc(2026, 11, 2, 20)),
        (new_york(2026, 10, 30, 15), "PT4H", utc(2026, 11, 2, 16)),
    ],
)
def test_new_york_office_hours_across_the_clock_changes(start, duration, due):
    assert business(start, duration, NEW_YORK_OFFICE) == due


def test_a_wall_time_that_does_not_exist_counts_with_the_offset_before_the_change():
    # Sun 8 Mar 2026 02:30 does not exist in New York; fold=0 reads it as EST (03:30 EDT).
    due = business(new_york(2026, 3, 7, 2, 30), "P1D", NEW_YORK_ALWAYS)

    assert due == utc(2026, 3, 8, 7, 30)
    assert due.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M %Z") == "03:30 EDT"


def test_a_repeated_wall_time_is_its_first_occurrence():
    # Sun 1 Nov 2026 01:30 happens twice in New York; fold=0 is the first (EDT).
    assert business(new_york(2026, 10, 31, 1, 30), "P1D", NEW_YORK_ALWAYS) == utc(
        2026, 11, 1, 5, 30
    )
    # A start in the second 01:30 counts on from there.
    assert business(new_york(2026, 11, 1, 1, 30, fold=1), "PT1H", NEW_YORK_ALWAYS) == utc(
        2026, 11, 1, 7, 30
    )


def test_intervals_over_a_clock_change_are_measured_in_real_time():
    nights = calendar("America/New_York", week([], [["01:00", "04:00"]]))

    spring = working_time_between(new_york(2026, 3, 8, 0), new_york(2026, 3, 9, 0), nights)
    autumn = working_time_between(new_york(2026, 11, 1, 0), new_york(2026, 11, 2, 0), nights)

    assert (spring, autumn) == (2 * HOUR, 4 * HOUR)
    # Three working hours from 01:00 on the short Sunday run into the next Saturday.
    assert business(new_york(2026, 3, 8, 1), "PT3H", nights) == new_york(2026, 3, 14, 2)
