"""explain_due: the words on the task page, in the calendar's local time."""

import datetime

import pytest

from orchestrate.engine.calendars import add_duration, explain_due
from tests.orchestrate.calendars.factories import CalendarFactory, local, utc, with_holidays


def explain(start, duration, calendar, *, business=True):
    due = add_duration(start, duration, business=business, calendar=calendar)
    return explain_due(start, duration, due, business=business, calendar=calendar)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("duration", "words"),
    [
        ("P2D", "due Tue 15:00: 2 working days from Thu 15:00; 1 Jan, Sat and Sun skipped"),
        (
            "P1DT2H",
            "due Mon 17:00: 1 working day and 2 working hours from Thu 15:00; "
            "1 Jan, Sat and Sun skipped",
        ),
        ("PT1H", "due Thu 16:00: 1 working hour from Thu 15:00"),
    ],
)
def test_skipped_weekends_and_holidays_are_named(duration, words):
    calendar = with_holidays(CalendarFactory.build(), (datetime.date(2020, 1, 1), True))

    assert explain(utc(2026, 12, 31, 15), duration, calendar) == words


@pytest.mark.parametrize(
    ("start", "duration", "words"),
    [
        (utc(2026, 3, 2, 10), "PT30M", "due Mon 10:30: 30 working minutes from Mon 10:00"),
        (
            utc(2026, 3, 2, 10),
            "PT1H30M",
            "due Mon 11:30: 1 working hour and 30 working minutes from Mon 10:00",
        ),
        (
            utc(2026, 3, 6, 18),
            "PT1H",
            "due Mon 10:00: 1 working hour from Fri 18:00; Sat and Sun skipped",
        ),
        (
            utc(2026, 3, 7, 10),
            "P1W",
            "due Mon 16 Mar 09:00: 5 working days from Sat 7 Mar 10:00; "
            "Sat 7 Mar, Sun 8 Mar, Sat 14 Mar and Sun 15 Mar skipped",
        ),
        (utc(2026, 3, 2, 10), "PT0S", "due Mon 10:00: 0 working minutes from Mon 10:00"),
    ],
)
def test_business_words(start, duration, words):
    assert explain(start, duration, CalendarFactory.build()) == words


def test_plain_durations_say_days_and_name_nothing_skipped():
    words = explain(utc(2026, 3, 7, 17), "P2D", CalendarFactory.build(), business=False)

    assert words == "due Mon 17:00: 2 days from Sat 17:00"


def test_times_are_local_to_the_calendar():
    berlin = CalendarFactory.build(time_zone="Europe/Berlin")
    start = local("Europe/Berlin", 2026, 3, 27, 13).astimezone(datetime.UTC)

    assert explain(start, "PT8H", berlin) == (
        "due Mon 13:00: 8 working hours from Fri 13:00; Sat and Sun skipped"
    )
    assert explain(start, "P1DT4H", berlin, business=False) == (
        "due Sat 17:00: 1 day and 4 hours from Fri 13:00"
    )
