"""calendar_for: the named calendar with its holidays, or the default one."""

import datetime

import pytest

from orchestrate.engine.calendars import CalendarError, add_duration, calendar_for
from orchestrate.models import BusinessCalendar
from tests.orchestrate.calendars.factories import (
    NINE_TO_FIVE,
    CalendarFactory,
    utc,
    week,
    with_holidays,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("key", [None, ""])
def test_no_key_gives_the_stored_default(key):
    assert calendar_for(key) == BusinessCalendar.objects.get(key="default")


def test_the_default_is_whichever_calendar_is_marked():
    BusinessCalendar.objects.update(is_default=False)
    office = CalendarFactory(key="office", is_default=True)

    assert calendar_for(None) == office


def test_without_a_stored_default_a_built_in_one_is_used():
    BusinessCalendar.objects.all().delete()

    calendar = calendar_for("")

    assert calendar.pk is None
    assert (calendar.key, calendar.time_zone, calendar.is_default) == ("default", "UTC", True)
    assert calendar.working_hours == week(NINE_TO_FIVE)
    assert add_duration(utc(2026, 3, 6, 16), "PT2H", business=True, calendar=calendar) == utc(
        2026, 3, 9, 10
    )


def test_an_unknown_key_is_refused():
    with pytest.raises(CalendarError, match=r"^no business calendar 'payroll'$"):
        calendar_for("payroll")


def test_one_lookup_then_no_queries_for_the_arithmetic(django_assert_num_queries):
    with_holidays(CalendarFactory(key="office"), (datetime.date(2026, 3, 5), False))

    with django_assert_num_queries(2):  # the calendar, then its holidays
        calendar = calendar_for("office")
    with django_assert_num_queries(0):
        due = add_duration(utc(2026, 3, 4, 15), "P1D", business=True, calendar=calendar)

    assert due == utc(2026, 3, 6, 15)
