"""add_duration: working days move to the same wall time, working hours count through the
intervals; plain durations are elapsed time. Mon 2 Mar 2026 starts the week used here."""

import datetime

import pytest

from orchestrate.engine.calendars import CalendarError, add_duration
from orchestrate.engine.durations import DurationError
from tests.orchestrate.calendars.factories import (
    NINE_TO_FIVE,
    WITH_LUNCH,
    CalendarFactory,
    local,
    utc,
    week,
)

MON, TUE, WED, THU, FRI, SAT, SUN, NEXT_MON, NEXT_TUE = 2, 3, 4, 5, 6, 7, 8, 9, 10


def march(day, hour, minute=0):
    return utc(2026, 3, day, hour, minute)


def business(start, duration, calendar=None):
    calendar = calendar or CalendarFactory.build()
    return add_duration(start, duration, business=True, calendar=calendar)


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        # working time, start inside hours
        (march(MON, 10), "PT4H", march(MON, 14)),
        (march(MON, 10), "PT8H", march(TUE, 10)),
        (march(MON, 16, 45), "PT30M", march(TUE, 9, 15)),
        (march(MON, 13), "PT4H", march(MON, 17)),  # ends at closing, not next morning
        (march(FRI, 15), "PT4H", march(NEXT_MON, 11)),
        # working time, start outside hours
        (march(MON, 7), "PT1H", march(MON, 10)),
        (march(MON, 18), "PT1H", march(TUE, 10)),
        (march(MON, 17), "PT1H", march(TUE, 10)),
        (march(SAT, 11), "PT8H", march(NEXT_MON, 17)),
        # working days: same wall time on the n-th next working day
        (march(MON, 10, 30), "P1D", march(TUE, 10, 30)),
        (march(FRI, 15), "P1D", march(NEXT_MON, 15)),
        (march(THU, 15), "P2D", march(NEXT_MON, 15)),
        (march(MON, 10), "P1W", march(NEXT_MON, 10)),  # a week is five working days
        (march(WED, 10), "P1W", march(11, 10)),
        # working days from outside hours: first the next working moment
        (march(MON, 7), "P1D", march(TUE, 9)),
        (march(MON, 18), "P1D", march(WED, 9)),
        (march(FRI, 17), "P1D", march(NEXT_MON, 17)),  # closing time counts as inside
        (march(SAT, 11), "P1D", march(NEXT_TUE, 9)),
        # both parts: the days first, then the working time from there
        (march(MON, 15), "P1DT4H", march(WED, 11)),
        (march(THU, 14), "P1DT4H", march(NEXT_MON, 10)),
        # nothing to add
        (march(SAT, 11), "PT0S", march(SAT, 11)),
        (march(SAT, 11), "P0D", march(SAT, 11)),
    ],
)
def test_business_durations_in_a_nine_to_five_week(start, duration, due):
    assert business(start, duration) == due


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        (march(MON, 11), "PT2H", march(MON, 14)),
        (march(MON, 12, 30), "PT30M", march(MON, 13, 30)),
        (march(MON, 9), "PT7H", march(MON, 17)),
        (march(MON, 9), "PT8H", march(TUE, 10)),
        (march(MON, 11), "PT1H", march(MON, 12)),  # ends at the break, not after it
        (march(MON, 12, 30), "P1D", march(TUE, 13)),  # a start in the break waits for 13:00
        (march(MON, 12), "P1D", march(TUE, 12)),
    ],
)
def test_a_lunch_break_is_not_working_time(start, duration, due):
    lunch = CalendarFactory.build(working_hours=week(WITH_LUNCH))
    assert business(start, duration, lunch) == due


def test_hours_beyond_a_day_stay_working_hours():
    # isodate would read PT36H as one day and twelve hours; it is 36 working hours.
    assert business(march(MON, 9), "PT36H") == march(FRI, 13)


def test_a_timedelta_or_seconds_are_working_time():
    assert business(march(MON, 9), datetime.timedelta(hours=30)) == march(THU, 15)
    assert business(march(MON, 9), datetime.timedelta(days=1)) == march(WED, 17)
    assert business(march(MON, 16), "3600") == march(MON, 17)
    assert business(march(MON, 16), 7200) == march(TUE, 10)


def test_a_start_in_another_zone_gives_utc():
    due = business(local("Europe/Berlin", 2026, 3, 2, 11), "PT1H")

    assert due == march(MON, 11)
    assert due.tzinfo is datetime.UTC


def test_plain_durations_are_elapsed_time():
    calendar = CalendarFactory.build()

    assert add_duration(march(SAT, 11), "P1D", business=False, calendar=calendar) == march(SUN, 11)
    assert add_duration(march(FRI, 15), "PT4H", business=False, calendar=calendar) == march(FRI, 19)
    # The existing duration rules: a month counts as 30 days.
    assert add_duration(march(MON, 10), "P1M", business=False, calendar=None) == utc(2026, 4, 1, 10)


@pytest.mark.parametrize(
    ("duration", "error", "message"),
    [
        ("P1M", CalendarError, "'P1M': months and years have no length in working time"),
        ("P1Y2D", CalendarError, "'P1Y2D': months and years have no length in working time"),
        ("P1.5D", CalendarError, "'P1.5D': count business durations in whole days (P2D)"),
        ("soon", DurationError, "'soon' is not an ISO 8601 duration"),
        ("-PT1H", DurationError, "a duration cannot be negative"),
        (datetime.timedelta(hours=-1), DurationError, "a duration cannot be negative"),
    ],
)
def test_refused_business_durations(duration, error, message):
    with pytest.raises(error) as raised:
        business(march(MON, 10), duration)

    assert str(raised.value).startswith(message)


def test_a_naive_start_is_refused():
    with pytest.raises(ValueError, match="aware"):
        business(datetime.datetime(2026, 3, 2, 10), "PT1H")


def test_a_stored_calendar_with_a_bad_zone_is_refused():
    broken = CalendarFactory.build(key="mars", time_zone="Mars/Olympus")

    with pytest.raises(CalendarError, match="calendar 'mars': 'Mars/Olympus' is not a time zone"):
        business(march(MON, 10), "PT1H", broken)


def test_weekend_work_counts_where_the_calendar_has_it():
    seven_days = CalendarFactory.build(working_hours=week(NINE_TO_FIVE, NINE_TO_FIVE))

    assert business(march(FRI, 15), "P1D", seven_days) == march(SAT, 15)
    assert business(march(FRI, 15), "PT4H", seven_days) == march(SAT, 11)
