"""The audit trail in the admin: visible, with its hashes, and read-only even for a
superuser."""

import pytest

from orchestrate.models import AuditEvent

pytestmark = pytest.mark.django_db

EVENTS = "/admin/orchestrate/auditevent/"


@pytest.fixture
def event(instance):
    return AuditEvent.objects.filter(instance=instance).first()


def test_the_list_and_an_event_show_read_only(admin_client, event):
    assert admin_client.get(EVENTS).status_code == 200
    page = admin_client.get(f"{EVENTS}{event.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    assert event.hash in html and 'name="_save"' not in html
    assert "delete_selected" not in admin_client.get(EVENTS).content.decode()


def test_a_superuser_can_neither_change_nor_delete(admin_client, event):
    before = (event.data, event.hash)
    changed = admin_client.post(f"{EVENTS}{event.pk}/change/", {"actor_label": "x"})
    assert changed.status_code == 403
    assert admin_client.get(f"{EVENTS}{event.pk}/delete/").status_code == 403
    assert admin_client.post(f"{EVENTS}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.get(f"{EVENTS}add/").status_code == 403
    event = AuditEvent.objects.get(pk=event.pk)
    assert (event.data, event.hash) == before
