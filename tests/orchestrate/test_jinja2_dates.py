"""The Jinja2 rows format dates exactly as Django's `date` filter would."""

import datetime

import pytest
from django.template import defaultfilters
from django.utils import timezone, translation

from orchestrate.jinja2 import _STRFTIME, _date

# Every month and weekday, one- and two-digit days and hours, around midnight UTC.
MOMENTS = [
    datetime.datetime(2026, month, day, hour, minute, tzinfo=datetime.UTC)
    for month in range(1, 13)
    for day, hour, minute in ((1, 0, 5), (9, 9, 59), (17, 23, 30), (28, 12, 0))
]


@pytest.mark.parametrize("fmt", [*_STRFTIME, "c", "N j, Y"])
def test_each_format_reads_as_djangos_date_filter(fmt):
    for zone in ("UTC", "Europe/Berlin", "America/New_York"):
        with timezone.override(zone):
            for moment in MOMENTS:
                expected = defaultfilters.date(timezone.localtime(moment), fmt)
                assert _date(moment, fmt) == expected


def test_another_language_gets_djangos_translated_names():
    moment = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.UTC)
    with translation.override("de"):
        assert _date(moment, "j M") == defaultfilters.date(timezone.localtime(moment), "j M")
        assert _date(moment, "j M") == "2 Mär"


def test_no_date_is_empty():
    assert _date(None, "j M") == ""
