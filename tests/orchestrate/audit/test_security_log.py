"""The security log: sign-ins, failed sign-ins, sign-outs, refused requests and admin
changes, each with who, what, when and from where; and the client address behind
proxies, which the audit trail of decisions carries too."""

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from orchestrate.models import BusinessCalendar, SecurityEvent
from orchestrate.security import client_address
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.5"


def events(kind):
    return list(SecurityEvent.objects.filter(kind=kind).order_by("id"))


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        (0, "198.51.100.1", "", "198.51.100.1"),
        # Without trusted proxies a forwarded header is the client's word: ignored.
        (0, "198.51.100.1", "203.0.113.9", "198.51.100.1"),
        (1, "10.0.0.1", "203.0.113.9", "203.0.113.9"),
        # What the client put in front itself is not believed.
        (1, "10.0.0.1", "1.2.3.4, 203.0.113.9", "203.0.113.9"),
        (2, "10.0.0.2", "1.2.3.4, 203.0.113.9, 10.0.0.1", "203.0.113.9"),
        # Fewer hops than proxies configured: the request bypassed them.
        (2, "198.51.100.1", "203.0.113.9", "198.51.100.1"),
        (1, "10.0.0.1", "not-an-address", "10.0.0.1"),
        (1, "10.0.0.1", "2001:DB8::1", "2001:db8::1"),
    ],
)
def test_the_client_address_behind_the_configured_proxies(
    settings, proxies, remote, forwarded, expected
):
    settings.ORCHESTRATE_TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected


def test_sign_in_failure_success_and_sign_out_are_logged_with_the_address():
    UserFactory(username="bob", password="right-horse-battery")
    browser = Client(REMOTE_ADDR=ADDRESS)
    browser.post(reverse("login"), {"username": "bob", "password": "wrong"})
    browser.post(reverse("login"), {"username": "bob", "password": "right-horse-battery"})
    browser.post(reverse("logout"))

    [failed] = events("login.failed")
    assert (failed.actor_id, failed.actor_label, failed.address) == (None, "bob", ADDRESS)
    assert "wrong" not in str(vars(failed))  # never the password
    [signed_in] = events("login.succeeded")
    [signed_out] = events("logout")
    for event in (signed_in, signed_out):
        assert (event.actor.username, event.address, event.method) == ("bob", ADDRESS, "POST")
    assert signed_in.at.tzinfo is not None and signed_in.at.utcoffset().total_seconds() == 0


def test_a_refused_page_and_a_refused_api_call_are_logged(client):
    client.force_login(UserFactory(username="erin"))
    response = client.get("/reports/", REMOTE_ADDR=ADDRESS)
    assert response.status_code == 403
    anonymous = Client(REMOTE_ADDR="198.51.100.8").get("/api/v1/instances/")
    assert anonymous.status_code in (401, 403)

    page, api = events("permission.denied")
    assert (page.actor_label, page.address, page.method, page.path) == (
        "erin",
        ADDRESS,
        "GET",
        "/reports/",
    )
    assert page.message == "HTTP 403"
    assert (api.actor_id, api.actor_label, api.address, api.path) == (
        None,
        "anonymous",
        "198.51.100.8",
        "/api/v1/instances/",
    )


def test_admin_changes_are_logged_with_the_object_and_the_address(root_client):
    calendars = [
        BusinessCalendar.objects.create(key=f"office{n}", name=f"Office {n}") for n in (1, 2)
    ]
    changelist = reverse("admin:orchestrate_businesscalendar_changelist")
    root_client.post(
        changelist,
        {
            "action": "delete_selected",
            "_selected_action": [c.pk for c in calendars],
            "post": "yes",
        },
        REMOTE_ADDR=ADDRESS,
    )
    assert not BusinessCalendar.objects.filter(pk__in=[c.pk for c in calendars]).exists()

    deleted = events("admin.deleted")
    assert sorted(e.target for e in deleted) == sorted(
        f"orchestrate.businesscalendar:{c.pk}" for c in calendars
    )
    assert {(e.actor_label, e.address, e.path) for e in deleted} == {("root", ADDRESS, changelist)}
    assert sorted(e.target_repr for e in deleted) == sorted(str(c) for c in calendars)


def test_the_security_log_is_read_only_in_the_admin(root_client):
    event = SecurityEvent.objects.create(kind="login.failed", actor_label="<b>bob</b>")
    listing = root_client.get(reverse("admin:orchestrate_securityevent_changelist"))
    assert listing.status_code == 200
    assert "&lt;b&gt;bob&lt;/b&gt;" in listing.content.decode()
    page = root_client.get(reverse("admin:orchestrate_securityevent_change", args=[event.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    delete = root_client.post(
        reverse("admin:orchestrate_securityevent_delete", args=[event.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    assert SecurityEvent.objects.filter(pk=event.pk).exists()


def test_the_app_cannot_change_the_security_log_either():
    event = SecurityEvent.objects.create(kind="login.failed", actor_label="bob")
    for attempt in (
        lambda: SecurityEvent.objects.update(actor_label="x"),
        lambda: SecurityEvent.objects.all().delete(),
        event.delete,
        event.save,
    ):
        with pytest.raises(PermissionError, match="append-only"):
            attempt()
