"""The Jinja2 rows format dates exactly as Django's `date` filter would."""

import datetime

import pytest
from django.template import defaultfilters, engines
from django.utils import timezone, translation

from orchestrate.jinja2 import _STRFTIME, date_context

# Every month and weekday, one- and two-digit days and hours, around midnight UTC.
MOMENTS = [
    datetime.datetime(2026, month, day, hour, minute, tzinfo=datetime.UTC)
    for month in range(1, 13)
    for day, hour, minute in ((1, 0, 5), (9, 9, 59), (17, 23, 30), (28, 12, 0))
]


def jinja_date(moment, fmt, **context):
    template = engines["jinja2"].from_string("{{ moment|date(fmt) }}")
    return template.render({"moment": moment, "fmt": fmt, **context})


def django_date(moment, fmt):
    # As the Django template language shows it: in the current time zone, escaped.
    return (
        engines["django"]
        .from_string("{{ moment|date:fmt }}")
        .render({"moment": moment, "fmt": fmt})
    )


@pytest.mark.parametrize("fmt", [*_STRFTIME, "c", "N j, Y"])
@pytest.mark.parametrize("given", [True, False], ids=["zone given", "zone asked"])
def test_each_format_reads_as_djangos_date_filter(fmt, given):
    for zone in ("UTC", "Europe/Berlin", "America/New_York"):
        with timezone.override(zone):
            context = date_context() if given else {}
            for moment in MOMENTS:
                assert jinja_date(moment, fmt, **context) == django_date(moment, fmt)


def test_another_language_gets_djangos_translated_names():
    moment = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.UTC)
    with translation.override("de"):
        assert jinja_date(moment, "j M", **date_context()) == "2 Mär"
        assert jinja_date(moment, "j M") == defaultfilters.date(timezone.localtime(moment), "j M")


def test_no_date_is_empty():
    assert jinja_date(None, "j M") == ""
