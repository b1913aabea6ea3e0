"""Business calendars: the working hours and holidays that `business: true` durations count.

A workflow version names its calendar by key (`WorkflowVersion.calendar`; blank means the
default calendar). The arithmetic lives in `orchestrate.engine.calendars`; this module keeps
the rows and the validation of their working hours, which the arithmetic reuses.
"""

import itertools
import re
import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models

from .definitions import KEY_VALIDATOR

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
_TIME = re.compile(r"^(\d\d):(\d\d)$")

WORKING_HOURS_HELP = (
    'Per weekday a list of [start, end] times (HH:MM, "24:00" allowed as an end), e.g. '
    '{"mon": [["09:00", "12:00"], ["13:00", "17:00"]], "tue": [["09:00", "17:00"]], ..., '
    '"sat": [], "sun": []}. A day that is left out has no working hours.'
)


def default_working_hours():
    """Monday to Friday, 09:00-17:00."""
    return {day: [["09:00", "17:00"]] if day not in ("sat", "sun") else [] for day in DAY_KEYS}


def _minutes(text, *, is_end):
    """Minutes after midnight of an "HH:MM" text, or None when it is no such time."""
    match = _TIME.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    hours, minutes = int(match[1]), int(match[2])
    if (hours, minutes) == (24, 0) and is_end:
        return MINUTES_PER_DAY
    if hours > 23 or minutes > 59:
        return None
    return hours * 60 + minutes


def parse_working_hours(value):
    """The working hours as {weekday (0 = Monday): [(start, end) in minutes]} and a list of
    problems; the intervals are only usable when the list is empty."""
    if not isinstance(value, dict):
        return {}, ['Give the working hours as {"mon": [["09:00", "17:00"]], ...}.']
    problems = []
    unknown = [str(key) for key in value if key not in DAY_KEYS]
    if unknown:
        problems.append(
            f"Unknown day {', '.join(repr(k) for k in unknown)}; use {', '.join(DAY_KEYS)}."
        )
    hours = {}
    for weekday, day in enumerate(DAY_KEYS):
        intervals = value.get(day) or []
        if not isinstance(intervals, list):
            problems.append(f'{day}: give a list of intervals like [["09:00", "17:00"]].')
            continue
        parsed = []
        for interval in intervals:
            if not (isinstance(interval, list | tuple) and len(interval) == 2):
                problems.append(f"{day}: {interval!r} is not a [start, end] pair.")
                continue
            start, end = _minutes(interval[0], is_end=False), _minutes(interval[1], is_end=True)
            if start is None or end is None:
                bad = interval[0] if start is None else interval[1]
                problems.append(f"{day}: {bad!r} is not a time like 09:00.")
            elif start >= end:
                problems.append(f"{day}: {interval[0]}-{interval[1]} does not end after it starts.")
            else:
                parsed.append((start, end, f"{interval[0]}-{interval[1]}"))
        for (start, end, label), (next_start, _, next_label) in itertools.pairwise(parsed):
            if next_start < start:
                problems.append(f"{day}: list {next_label} before {label} (in order of time).")
            elif next_start < end:
                problems.append(f"{day}: {next_label} overlaps {label}.")
        hours[weekday] = [(start, end) for start, end, _ in parsed]
    if not problems and not any(hours.values()):
        problems.append("Give at least one working interval in the week.")
    return hours, problems


class BusinessCalendar(models.Model):
    key = models.SlugField(max_length=100, unique=True, validators=[KEY_VALIDATOR])
    name = models.CharField(max_length=200)
    time_zone = models.CharField(
        max_length=64, default="UTC", help_text="An IANA time zone, like Europe/Berlin."
    )
    is_default = models.BooleanField(
        default=False, help_text="Used by workflows that name no calendar. Exactly one."
    )
    working_hours = models.JSONField(default=default_working_hours, help_text=WORKING_HOURS_HELP)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="one_default_calendar",
                violation_error_message="There is already a default calendar.",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.key})"

    def clean(self):
        errors = {}
        try:
            zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            errors["time_zone"] = (
                f"{self.time_zone!r} is not an IANA time zone (like Europe/Berlin)."
            )
        _, problems = parse_working_hours(self.working_hours)
        if problems:
            errors["working_hours"] = problems
        if self.is_default:
            # Reported on the field, so that the constraint check (which would say the same
            # less precisely) is skipped by `full_clean` and by admin forms.
            other = BusinessCalendar.objects.filter(is_default=True).exclude(pk=self.pk).first()
            if other is not None:
                errors["is_default"] = (
                    f"{other} is already the default calendar; only one calendar can be."
                )
        if errors:
            raise ValidationError(errors)


class Holiday(models.Model):
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField()
    name = models.CharField(max_length=200, blank=True)
    yearly = models.BooleanField(
        default=False, help_text="Every year on the same day and month (the year is ignored)."
    )

    class Meta:
        ordering = ["calendar", "date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="holiday_date_unique")
        ]

    def __str__(self):
        when = f"{self.date:%d %b} every year" if self.yearly else f"{self.date:%Y-%m-%d}"
        return f"{self.name} ({when})" if self.name else when
