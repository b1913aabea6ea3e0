"""Time arithmetic in business calendars: due times, reminders and net SLA time.

Business durations (`business: true`) have two parts, counted differently:

- the day part (`P2D`; `P1W` is five working days) moves to the same local wall time on
  the n-th next working day (a weekday with working hours that is not a holiday);
- the time part (`PT8H`, `PT30M`) counts working time through the working intervals,
  skipping nights, breaks, weekends and holidays.

A start outside working hours first moves to the next working moment; a start exactly at
closing time stays there, so Fri 17:00 plus `P1D` is Mon 17:00. Months and years have no
length in working time and are refused. A `timedelta` is all working time (so that
`add_duration(a, working_time_between(a, b), ...)` gives back the working moment of `b`).

All wall-clock work happens in the calendar's zone with `zoneinfo`: intervals are built as
local datetimes (fold=0: a time skipped by a DST change counts with the offset before it,
a repeated time as its first occurrence) and measured in real time, so a working hour is
always sixty minutes, also on the nights the clocks change. Results are aware, in UTC.

`calendar_for` loads a calendar with its holidays (two queries); the functions here read
`calendar.holidays.all()`, which the prefetch answers.
"""

import datetime
import re
import zoneinfo

from orchestrate.models import BusinessCalendar
from orchestrate.models.calendars import MINUTES_PER_DAY, default_working_hours, parse_working_hours

from .durations import DurationError, parse_duration

UTC = datetime.UTC
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# A calendar whose holidays cover this many days in a row has no usable working time.
MAX_DAYS_WITHOUT_WORK = 1000

_NUMBER = r"(\d+(?:[.,]\d+)?)"
_ISO_DURATION = re.compile(
    rf"^P(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:(\d+)W)?(?:(\d+)D)?"
    rf"(?:T(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?$"
)


class CalendarError(Exception):
    """A calendar is missing or unusable, or a duration cannot be counted in working time."""


# --- finding calendars -----------------------------------------------------------------
def default_calendar() -> BusinessCalendar:
    """The built-in calendar (not stored): Monday to Friday, 09:00-17:00, UTC."""
    return BusinessCalendar(
        key="default",
        name="Default (Mon\N{EN DASH}Fri 09:00\N{EN DASH}17:00, UTC)",
        time_zone="UTC",
        is_default=True,
        working_hours=default_working_hours(),
    )


def calendar_for(key: str | None) -> BusinessCalendar:
    """The calendar named `key` with its holidays; blank or None gives the default calendar
    (the built-in one when none is stored). Raises CalendarError for an unknown key."""
    calendars = BusinessCalendar.objects.prefetch_related("holidays")
    if not key:
        return calendars.filter(is_default=True).first() or default_calendar()
    try:
        return calendars.get(key=key)
    except BusinessCalendar.DoesNotExist:
        raise CalendarError(f"no business calendar {key!r}") from None


# --- durations -------------------------------------------------------------------------
def _number(text):
    return float(text.replace(",", ".")) if text else 0.0


def split_business_duration(duration) -> tuple[int, datetime.timedelta]:
    """(working days, working time) of a business duration: an ISO 8601 text, a number of
    seconds, or a timedelta (all working time). Raises DurationError for a malformed
    duration, CalendarError for one that working time cannot count."""
    if isinstance(duration, datetime.timedelta):
        if duration < datetime.timedelta(0):
            raise DurationError("a duration cannot be negative")
        return 0, duration
    if not isinstance(duration, str):
        return 0, parse_duration(duration)  # seconds, or DurationError
    text = duration.strip()
    parse_duration(text)  # DurationError for anything that is no duration at all
    match = _ISO_DURATION.match(text)
    if match is None:
        try:
            return 0, datetime.timedelta(seconds=float(text))
        except ValueError:
            # Valid ISO 8601 that working time cannot count, like fractions of days.
            raise CalendarError(
                f"{duration!r}: count business durations in whole days (P2D) "
                f"and a time part (PT4H30M)"
            ) from None
    years, months, weeks, days, hours, minutes, seconds = match.groups()
    if _number(years) or _number(months):
        raise CalendarError(
            f"{duration!r}: months and years have no length in working time; "
            f"use days (P20D) or hours"
        )
    working_days = int(weeks or 0) * 5 + int(days or 0)
    working_time = datetime.timedelta(
        hours=_number(hours), minutes=_number(minutes), seconds=_number(seconds)
    )
    return working_days, working_time


# --- the compiled calendar -------------------------------------------------------------
class _Schedule:
    """A calendar's working intervals as real (UTC) instants, day by day."""

    def __init__(self, calendar):
        try:
            self.zone = zoneinfo.ZoneInfo(calendar.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise CalendarError(
                f"calendar {calendar.key!r}: {calendar.time_zone!r} is not a time zone"
            ) from None
        self.hours, problems = parse_working_hours(calendar.working_hours)
        if problems:
            raise CalendarError(f"calendar {calendar.key!r}: {' '.join(problems)}")
        # An unsaved calendar (the built-in default) has no holidays to ask for.
        holidays = list(calendar.holidays.all()) if calendar.pk is not None else []
        self.dates = {h.date for h in holidays if not h.yearly}
        self.yearly = {(h.date.month, h.date.day) for h in holidays if h.yearly}

    def local(self, moment):
        return moment.astimezone(self.zone)

    def is_holiday(self, day):
        return day in self.dates or (day.month, day.day) in self.yearly

    def is_working_day(self, day):
        return bool(self.hours[day.weekday()]) and not self.is_holiday(day)

    def at(self, day, minutes):
        """The instant (UTC) of a local wall time; fold=0 for skipped and repeated times."""
        if minutes == MINUTES_PER_DAY:
            day, minutes = day + datetime.timedelta(days=1), 0
        wall = datetime.time(minutes // 60, minutes % 60)
        return datetime.datetime.combine(day, wall, tzinfo=self.zone).astimezone(UTC)

    def intervals(self, day):
        if not self.is_working_day(day):
            return []
        pairs = [
            (self.at(day, start), self.at(day, end)) for start, end in self.hours[day.weekday()]
        ]
        return [(start, end) for start, end in pairs if start < end]

    def days(self, first, step):
        """Days from `first` on (step 1) or back (step -1) with their intervals; refuses to
        walk on forever through a calendar without working time."""
        day, idle = first, 0
        while True:
            intervals = self.intervals(day)
            idle = 0 if intervals else idle + 1
            if idle > MAX_DAYS_WITHOUT_WORK:
                raise CalendarError(f"no working time within {MAX_DAYS_WITHOUT_WORK} days")
            yield day, intervals
            day += datetime.timedelta(days=step)

    def forward(self, moment):
        """The intervals that end after `moment`, in order (not clipped)."""
        first = self.local(moment).date() - datetime.timedelta(days=1)
        for _, intervals in self.days(first, 1):
            for start, end in intervals:
                if end > moment:
                    yield start, end

    def backward(self, moment):
        """The intervals that start before `moment`, latest first (not clipped)."""
        first = self.local(moment).date() + datetime.timedelta(days=1)
        for _, intervals in self.days(first, -1):
            for start, end in reversed(intervals):
                if start < moment:
                    yield start, end

    def working_day(self, day, step):
        """The next (step 1) or previous (step -1) working day after `day`."""
        for candidate, _ in self.days(day + datetime.timedelta(days=step), step):
            if self.is_working_day(candidate):
                return candidate
        raise AssertionError("unreachable")  # pragma: no cover

    def move_days(self, moment, days, step):
        """The same local wall time `days` working days later (or earlier). `moment` lies in
        working hours (closing time included)."""
        wall = self.local(moment).replace(tzinfo=None)
        day = wall.date()
        for _ in range(days):
            day = self.working_day(day, step)
        return datetime.datetime.combine(day, wall.time(), tzinfo=self.zone).astimezone(UTC)


def _aware_utc(moment, what):
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime, got {moment!r}")
    return moment.astimezone(UTC)


def _next_working_moment(schedule, moment):
    """`moment` if it lies in working hours (closing time included), else the next opening."""
    start, _ = next(schedule.forward(moment - datetime.timedelta.resolution))
    return max(start, moment)


def _previous_working_moment(schedule, moment):
    """`moment` if it lies in working hours (opening time included), else the last closing."""
    _, end = next(schedule.backward(moment + datetime.timedelta.resolution))
    return min(end, moment)


# --- the arithmetic --------------------------------------------------------------------
def add_duration(
    start: datetime.datetime,
    duration: datetime.timedelta | str,
    *,
    business: bool,
    calendar: BusinessCalendar | None,
) -> datetime.datetime:
    """`start` plus `duration` (ISO 8601 text, seconds or timedelta), in UTC. With
    `business`, the day part counts working days and the time part working time of
    `calendar` (see the module docstring); otherwise plain elapsed time."""
    start = _aware_utc(start, "start")
    if not business:
        return start + parse_duration(duration)
    days, time = split_business_duration(duration)
    schedule = _Schedule(calendar)
    moment = start
    if days:
        moment = schedule.move_days(_next_working_moment(schedule, moment), days, 1)
    if not time:
        return moment
    remaining = time
    for interval_start, interval_end in schedule.forward(moment):
        interval_start = max(interval_start, moment)
        if interval_end - interval_start >= remaining:
            return interval_start + remaining
        remaining -= interval_end - interval_start
    raise AssertionError("unreachable")  # pragma: no cover


def subtract_duration(
    end: datetime.datetime, duration: datetime.timedelta | str, *, calendar: BusinessCalendar
) -> datetime.datetime:
    """The moment `duration` of working time (and working days) before `end`, in UTC: the
    mirror of `add_duration(..., business=True)`, for reminders before a due time."""
    moment = _aware_utc(end, "end")
    days, time = split_business_duration(duration)
    schedule = _Schedule(calendar)
    remaining = time
    if remaining:
        for interval_start, interval_end in schedule.backward(moment):
            interval_end = min(interval_end, moment)
            if interval_end - interval_start >= remaining:
                moment = interval_end - remaining
                break
            remaining -= interval_end - interval_start
    if days:
        moment = schedule.move_days(_previous_working_moment(schedule, moment), days, -1)
    return moment


def working_time_between(
    start: datetime.datetime, end: datetime.datetime, calendar: BusinessCalendar
) -> datetime.timedelta:
    """The working time of `calendar` in [start, end); zero when `end` is not after `start`."""
    start, end = _aware_utc(start, "start"), _aware_utc(end, "end")
    total = datetime.timedelta(0)
    if end <= start:
        return total
    schedule = _Schedule(calendar)
    first = schedule.local(start).date() - datetime.timedelta(days=1)
    last = schedule.local(end).date() + datetime.timedelta(days=1)
    day = first
    while day <= last:
        for interval_start, interval_end in schedule.intervals(day):
            overlap = min(interval_end, end) - max(interval_start, start)
            if overlap > datetime.timedelta(0):
                total += overlap
        day += datetime.timedelta(days=1)
    return total


# --- words for people ------------------------------------------------------------------
def _plural(count, unit):
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def _and(words):
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _duration_words(days, time, business):
    working = "working " if business else ""
    seconds = int(time.total_seconds())
    units = [
        (days, "day"),
        (seconds // 3600, "hour"),
        (seconds % 3600 // 60, "minute"),
        (seconds % 60, "second"),
    ]
    words = [_plural(count, working + unit) for count, unit in units if count]
    return _and(words) if words else _plural(0, working + "minute")


def _day_month(day):
    return f"{day.day} {MONTHS[day.month - 1]}"


def _when(local, dated):
    day = f"{WEEKDAYS[local.weekday()]} {_day_month(local)}" if dated else WEEKDAYS[local.weekday()]
    return f"{day} {local:%H:%M}"


def explain_due(
    start: datetime.datetime,
    duration: datetime.timedelta | str,
    due: datetime.datetime,
    *,
    business: bool,
    calendar: BusinessCalendar,
) -> str:
    """Words for a due time in the calendar's local time, like "due Mon 17:00: 2 working
    days from Thu 15:00; Sat, Sun and 1 Jan skipped". Dates are added when start and due
    are a week or more apart, where a weekday name alone would be ambiguous."""
    schedule = _Schedule(calendar)
    start_local = schedule.local(_aware_utc(start, "start"))
    due_local = schedule.local(_aware_utc(due, "due"))
    if business:
        days, time = split_business_duration(duration)
    else:
        elapsed = parse_duration(duration)
        days, time = elapsed.days, elapsed - datetime.timedelta(days=elapsed.days)
    dated = (due_local.date() - start_local.date()).days >= 7
    text = (
        f"due {_when(due_local, dated)}: {_duration_words(days, time, business)} "
        f"from {_when(start_local, dated)}"
    )
    if not business:
        return text
    skipped = []
    day = start_local.date()
    while day <= due_local.date():
        if schedule.is_holiday(day):
            skipped.append(_day_month(day))
        elif not schedule.is_working_day(day):
            name = WEEKDAYS[day.weekday()]
            skipped.append(f"{name} {_day_month(day)}" if dated else name)
        day += datetime.timedelta(days=1)
    return f"{text}; {_and(skipped)} skipped" if skipped else text
