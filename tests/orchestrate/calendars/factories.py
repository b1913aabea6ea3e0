"""Calendars for the tests, and local times written the way people read them."""

import datetime
import zoneinfo

import factory

from orchestrate.models import BusinessCalendar, Holiday

NINE_TO_FIVE = [["09:00", "17:00"]]
WITH_LUNCH = [["09:00", "12:00"], ["13:00", "17:00"]]
ALL_DAY = [["00:00", "24:00"]]


def week(weekdays, weekend=()):
    """Working hours with `weekdays` from Monday to Friday and `weekend` on Sat and Sun."""
    days = dict.fromkeys(["mon", "tue", "wed", "thu", "fri"], weekdays)
    return {**days, "sat": list(weekend), "sun": list(weekend)}


def every_day(intervals):
    return week(intervals, intervals)


class CalendarFactory(factory.django.DjangoModelFactory):
    """Unsaved with `.build()` (no holidays), stored with `()`."""

    class Meta:
        model = BusinessCalendar

    key = factory.Sequence(lambda n: f"calendar-{n}")
    name = factory.LazyAttribute(lambda c: c.key.title())
    time_zone = "UTC"
    working_hours = factory.LazyFunction(lambda: week(NINE_TO_FIVE))


def with_holidays(calendar, *holidays):
    """Store `calendar` with holidays given as (date, yearly) and return it as
    `calendar_for` would (holidays prefetched)."""
    from orchestrate.engine.calendars import calendar_for

    calendar.save()
    for day, yearly in holidays:
        Holiday.objects.create(calendar=calendar, date=day, yearly=yearly)
    return calendar_for(calendar.key)


def local(zone, *parts, fold=0):
    """An aware datetime in `zone` from (year, month, day, hour, minute)."""
    return datetime.datetime(*parts, tzinfo=zoneinfo.ZoneInfo(zone), fold=fold)


def utc(*parts):
    return datetime.datetime(*parts, tzinfo=datetime.UTC)
