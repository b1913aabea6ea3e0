"""BusinessCalendar validation: the zone, the working hours, exactly one default."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from orchestrate.models import BusinessCalendar, Holiday
from tests.orchestrate.calendars.factories import NINE_TO_FIVE, CalendarFactory, week

pytestmark = pytest.mark.django_db


def errors_of(calendar):
    with pytest.raises(ValidationError) as raised:
        calendar.full_clean()
    return raised.value.message_dict


def test_the_migration_stores_the_default_calendar():
    default = BusinessCalendar.objects.get(is_default=True)

    assert (default.key, default.time_zone) == ("default", "UTC")
    assert default.name == "Default (Mon\N{EN DASH}Fri 09:00\N{EN DASH}17:00, UTC)"
    assert default.working_hours == week(NINE_TO_FIVE)


def test_a_valid_calendar_passes():
    calendar = CalendarFactory.build(
        time_zone="Europe/Berlin",
        working_hours={
            "mon": [["09:00", "12:00"], ["12:00", "17:00"]],
            "sat": [["22:00", "24:00"]],
        },
    )

    calendar.full_clean()


def test_an_unknown_time_zone_is_refused():
    assert errors_of(CalendarFactory.build(time_zone="Mars/Olympus")) == {
        "time_zone": ["'Mars/Olympus' is not an IANA time zone (like Europe/Berlin)."]
    }


@pytest.mark.parametrize(
    ("hours", "messages"),
    [
        (
            {"mon": [["09:00", "13:00"], ["12:00", "17:00"]]},
            ["mon: 12:00-17:00 overlaps 09:00-13:00."],
        ),
        (
            {"mon": [["13:00", "17:00"], ["09:00", "12:00"]]},
            ["mon: list 09:00-12:00 before 13:00-17:00 (in order of time)."],
        ),
        ({"tue": [["17:00", "09:00"]]}, ["tue: 17:00-09:00 does not end after it starts."]),
        ({"wed": [["9:00", "17:00"]]}, ["wed: '9:00' is not a time like 09:00."]),
        ({"wed": [["09:00", "25:00"]]}, ["wed: '25:00' is not a time like 09:00."]),
        ({"wed": [["24:00", "24:00"]]}, ["wed: '24:00' is not a time like 09:00."]),
        ({"thu": [["09:00"]]}, ["thu: ['09:00'] is not a [start, end] pair."]),
        ({"fri": "09:00-17:00"}, ['fri: give a list of intervals like [["09:00", "17:00"]].']),
        (
            {"monday": [["09:00", "17:00"]], "mon": [["09:00", "17:00"]]},
            ["Unknown day 'monday'; use mon, tue, wed, thu, fri, sat, sun."],
        ),
        (week([]), ["Give at least one working interval in the week."]),
        (["09:00", "17:00"], ['Give the working hours as {"mon": [["09:00", "17:00"]], ...}.']),
    ],
)
def test_bad_working_hours_are_refused(hours, messages):
    assert errors_of(CalendarFactory.build(working_hours=hours)) == {"working_hours": messages}


def test_a_second_default_is_refused_with_one_message():
    second = CalendarFactory.build(key="office", is_default=True)

    assert errors_of(second) == {
        "is_default": [
            "Default (Mon\N{EN DASH}Fri 09:00\N{EN DASH}17:00, UTC) (default) is already "
            "the default calendar; only one calendar can be."
        ]
    }


def test_the_default_itself_validates():
    BusinessCalendar.objects.get(is_default=True).full_clean()


def test_the_database_keeps_one_default():
    with pytest.raises(IntegrityError):
        CalendarFactory(key="office", is_default=True)


def test_holidays_read_as_dates():
    calendar = CalendarFactory()
    once = Holiday(calendar=calendar, date=datetime.date(2026, 3, 5), name="Opening day")
    yearly = Holiday(calendar=calendar, date=datetime.date(2000, 12, 25), yearly=True)

    assert str(once) == "Opening day (2026-03-05)"
    assert str(yearly) == "25 Dec every year"
