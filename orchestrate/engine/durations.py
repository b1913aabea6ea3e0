"""Durations of the format: ISO 8601 (`PT30M`, `P2D`, `P1DT4H`) or a number of seconds."""

import datetime

import isodate


class DurationError(ValueError):
    pass


def parse_duration(value):
    """Return a timedelta; raises DurationError with a readable message."""
    if isinstance(value, bool):
        raise DurationError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        if value < 0:
            raise DurationError("a duration cannot be negative")
        return datetime.timedelta(seconds=value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return datetime.timedelta(seconds=float(text))
        except ValueError:
            pass
        try:
            parsed = isodate.parse_duration(text)
        except (isodate.ISO8601Error, ValueError):
            raise DurationError(
                f"{value!r} is not an ISO 8601 duration (like PT30M, P2D) or seconds"
            ) from None
        if isinstance(parsed, isodate.Duration):
            # Months and years have no fixed length; count them as 30 and 365 days.
            parsed = (
                datetime.timedelta(days=float(parsed.years) * 365 + float(parsed.months) * 30)
                + parsed.tdelta
            )
        if parsed < datetime.timedelta(0):
            raise DurationError("a duration cannot be negative")
        return parsed
    raise DurationError(f"{value!r} is not a duration")
