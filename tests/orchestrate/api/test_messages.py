"""Delivering messages to waiting instances through the API."""

import pytest

from orchestrate.models import AuditEvent
from orchestrate.services.instances import start_instance

pytestmark = pytest.mark.django_db

MESSAGES = "/api/v1/messages/"


def start_order(actor, order_id):
    instance, _ = start_instance(
        workflow_key="order", variables={"order_id": order_id}, actor=actor
    )
    return instance


def test_a_message_completes_the_waiting_instance(api, alice, order_workflow):
    waiting = start_order(alice, "A-1")
    other = start_order(alice, "A-2")

    response = api.post(
        MESSAGES,
        {"name": "paid", "correlation": "A-1", "payload": {"paid_amount": 40}},
        format="json",
    )

    assert response.status_code == 202
    assert response.json() == {"delivered_to": [waiting.pk]}
    body = api.get(f"/api/v1/instances/{waiting.pk}/").json()
    assert body["status"] == "completed"
    assert body["outcome"] == "paid"
    assert body["variables"]["paid_amount"] == 40
    assert body["active_steps"] == []
    received = AuditEvent.objects.get(instance=waiting, kind="message.received")
    assert received.actor_label == "alice"
    assert api.get(f"/api/v1/instances/{other.pk}/").json()["status"] == "running"


def test_a_numeric_correlation_matches_its_text(api, alice, order_workflow):
    waiting = start_order(alice, "42")

    response = api.post(MESSAGES, {"name": "paid", "correlation": 42}, format="json")

    assert response.status_code == 202
    assert response.json() == {"delivered_to": [waiting.pk]}


def test_a_message_nobody_waits_for_is_404(api, alice, order_workflow):
    start_order(alice, "A-1")

    response = api.post(MESSAGES, {"name": "paid", "correlation": "B-7"}, format="json")

    assert response.status_code == 404
    assert response.json() == {
        "detail": "No instance waits for message 'paid' with correlation 'B-7'."
    }


def test_a_second_delivery_of_the_same_message_is_404(api, alice, order_workflow):
    start_order(alice, "A-1")
    body = {"name": "paid", "correlation": "A-1"}

    assert api.post(MESSAGES, body, format="json").status_code == 202
    assert api.post(MESSAGES, body, format="json").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"correlation": "A-1"}, "name"),
        ({"name": "paid"}, "correlation"),
        ({"name": "paid", "correlation": ""}, "correlation"),
        ({"name": "paid", "correlation": True}, "correlation"),
        ({"name": "paid", "correlation": ["A-1"]}, "correlation"),
        ({"name": "paid", "correlation": "A-1", "payload": [1, 2]}, "payload"),
    ],
)
def test_malformed_messages_are_400(api, order_workflow, body, field):
    response = api.post(MESSAGES, body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
