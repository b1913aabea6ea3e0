"""The calendar admin: list, add with holidays, and the one-default rule."""

import pytest

from orchestrate.models import BusinessCalendar
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CALENDARS = "/admin/orchestrate/businesscalendar/"


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    return client


def form(**fields):
    data = {
        "key": "berlin-office",
        "name": "Berlin office",
        "time_zone": "Europe/Berlin",
        "working_hours": '{"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]]}',
        "holidays-TOTAL_FORMS": "1",
        "holidays-INITIAL_FORMS": "0",
        "holidays-MIN_NUM_FORMS": "0",
        "holidays-MAX_NUM_FORMS": "1000",
        "holidays-0-date": "2026-12-25",
        "holidays-0-name": "Christmas",
        "holidays-0-yearly": "on",
    }
    return {**data, **fields}


def test_the_list_shows_key_name_zone_and_default(admin_client):
    response = admin_client.get(CALENDARS)

    assert response.status_code == 200
    assert list(response.context["cl"].list_display) == [
        "action_checkbox",
        "key",
        "name",
        "time_zone",
        "is_default",
    ]
    assert "Default (Mon\N{EN DASH}Fri 09:00\N{EN DASH}17:00, UTC)" in response.text


def test_the_add_page_shows_the_format_of_working_hours(admin_client):
    response = admin_client.get(f"{CALENDARS}add/")

    assert response.status_code == 200
    assert "Per weekday a list of [start, end] times" in response.text
    assert "holidays-0-date" in response.text


def test_a_calendar_is_added_with_its_holidays(admin_client):
    response = admin_client.post(f"{CALENDARS}add/", form())

    assert response.status_code == 302
    calendar = BusinessCalendar.objects.get(key="berlin-office")
    holiday = calendar.holidays.get()
    assert (holiday.name, holiday.yearly) == ("Christmas", True)


def test_bad_hours_and_a_second_default_are_reported_on_the_form(admin_client):
    response = admin_client.post(
        f"{CALENDARS}add/",
        form(working_hours='{"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}', is_default="on"),
    )

    errors = response.context["adminform"].form.errors
    assert response.status_code == 200
    assert errors["working_hours"] == ["mon: 12:00-17:00 overlaps 09:00-13:00."]
    assert len(errors["is_default"]) == 1
    assert "is already the default calendar" in errors["is_default"][0]
    assert "__all__" not in errors
    assert not BusinessCalendar.objects.filter(key="berlin-office").exists()
