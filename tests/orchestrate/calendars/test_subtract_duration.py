"""subtract_duration: the mirror of add_duration, for reminders before a due time."""

import pytest

from orchestrate.engine.calendars import subtract_duration
from tests.orchestrate.calendars.factories import CalendarFactory, utc


@pytest.mark.parametrize(
    ("end", "duration", "expected"),
    [
        (utc(2026, 3, 9, 11), "PT4H", utc(2026, 3, 6, 15)),  # back over the weekend
        (utc(2026, 3, 9, 13), "PT4H", utc(2026, 3, 9, 9)),  # stops at opening
        (utc(2026, 3, 9, 7), "PT1H", utc(2026, 3, 6, 16)),  # from before opening
        (utc(2026, 3, 9, 15), "P1D", utc(2026, 3, 6, 15)),
        (utc(2026, 3, 10, 9), "P1D", utc(2026, 3, 9, 9)),  # opening time counts as inside
        (utc(2026, 3, 7, 11), "P1D", utc(2026, 3, 5, 17)),  # from Saturday: Fri's closing
        (utc(2026, 3, 10, 11), "P1DT4H", utc(2026, 3, 6, 15)),
        (utc(2026, 3, 9, 11), "PT0S", utc(2026, 3, 9, 11)),
    ],
)
def test_subtract_duration(end, duration, expected):
    assert subtract_duration(end, duration, calendar=CalendarFactory.build()) == expected
