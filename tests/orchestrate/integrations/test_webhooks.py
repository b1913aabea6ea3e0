"""Outbound webhooks: audit events of subscribed kinds become signed CloudEvent POSTs,
queued in the writing transaction and retried from the database."""

import datetime
import hashlib
import hmac
import json
import time

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from orchestrate.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from orchestrate.services import webhooks
from orchestrate.services.instances import start_instance
from tasks_inbox.models import Task
from tasks_inbox.services.sla import fire_due_timers
from tasks_inbox.services.tasks import claim_task, complete_task
from tests.factories import edges, workflow
from tests.tasks_inbox.factories import approval_workflow, people, start

from .conftest import SECRET

pytestmark = pytest.mark.django_db


def verify(secret, body, headers, tolerance=300):
    """The receiver's check, as docs/integrations.md shows it."""
    timestamp = headers["X-Orchestrate-Timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    signed = timestamp.encode() + b"." + body
    expected = "sha256=" + hmac.new(secret, signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-Orchestrate-Signature"])


def quick(key="quick"):
    """start → end: an instance that starts and completes in one transaction."""
    return workflow(
        key, [{"key": "start", "type": "start"}, {"key": "end", "type": "end"}], edges("start>end")
    )


def only_delivery():
    return WebhookDelivery.objects.get()


def test_a_started_and_completed_instance_is_delivered_signed(broker, receiver, subscribe):
    subscription = subscribe("instance.started", "instance.completed")
    version = quick()

    instance, _ = start_instance(workflow_key="quick", business_key="B-1")

    deliveries = list(WebhookDelivery.objects.order_by("id"))
    assert [d.event_type for d in deliveries] == ["instance.started", "instance.completed"]
    assert broker.names() == [webhooks.DELIVER_WEBHOOK] * 2
    broker.drain()
    assert len(receiver.requests) == 2
    for request in receiver.requests:
        assert verify(SECRET.encode(), request["body"], request["headers"])
        assert request["headers"]["Content-Type"] == "application/cloudevents+json"
    started = json.loads(receiver.requests[0]["body"])
    assert started == {
        "specversion": "1.0",
        "id": str(deliveries[0].uuid),
        "source": started["source"],
        "type": "orchestrate.instance.started",
        "subject": str(instance.pk),
        "time": started["time"],
        "datacontenttype": "application/json",
        "data": {
            "instance": {
                "id": instance.pk,
                "workflow": "quick",
                "version": version.number,
                "business_key": "B-1",
            },
            "actor": "system",
        },
    }
    completed = json.loads(receiver.requests[1]["body"])
    assert completed["type"] == "orchestrate.instance.completed"
    assert completed["data"]["outcome"] == "completed"
    assert receiver.requests[0]["headers"]["X-Orchestrate-Delivery"] == str(deliveries[0].uuid)
    for delivery in WebhookDelivery.objects.all():
        assert delivery.status == DeliveryStatus.DELIVERED
        assert delivery.attempts == 1
        assert delivery.last_status_code == 200
        assert delivery.subscription == subscription


def test_a_tampered_body_does_not_verify(broker, receiver, subscribe):
    subscribe("instance.started")
    quick()
    start_instance(workflow_key="quick")
    broker.drain()

    request = receiver.requests[0]
    tampered = request["body"].replace(b'"quick"', b'"other"')

    assert verify(SECRET.encode(), request["body"], request["headers"])
    assert not verify(SECRET.encode(), tampered, request["headers"])
    assert not verify(b"another-secret", request["body"], request["headers"])


def test_task_events_carry_the_task(broker, receiver, subscribe):
    subscribe("task.created", "task.completed")
    users = people()
    approval_workflow()
    start("approval", users["alice"])
    task = Task.objects.get()
    claim_task(task.pk, actor=users["bob"])
    complete_task(task.pk, actor=users["bob"], outcome="approve")

    broker.drain()

    assert all(verify(SECRET.encode(), r["body"], r["headers"]) for r in receiver.requests)
    bodies = [json.loads(r["body"]) for r in receiver.requests]
    assert [b["type"] for b in bodies] == ["orchestrate.task.created", "orchestrate.task.completed"]
    assert all(b["data"]["task"] == task.pk for b in bodies)
    assert all(b["data"]["step_key"] == "review" for b in bodies)
    assert bodies[1]["data"]["actor"] == "bob"


def test_only_active_subscriptions_for_the_kind_and_workflow_get_deliveries(subscribe):
    quick("quick")
    other = quick("other")
    subscribe("instance.started", active=False)
    subscribe("incident.raised")
    wanted = subscribe("instance.completed", workflow=other.definition)

    start_instance(workflow_key="quick")
    start_instance(workflow_key="other")

    assert [(d.subscription, d.event_type) for d in WebhookDelivery.objects.all()] == [
        (wanted, "instance.completed")
    ]


def test_without_subscriptions_the_engine_costs_no_extra_query(broker, django_assert_num_queries):
    quick()
    start_instance(workflow_key="quick")  # warm the caches
    # the same count as tests/orchestrate/engine/test_query_budget.py pins
    with django_assert_num_queries(7):
        start_instance(workflow_key="quick")
    assert not WebhookDelivery.objects.exists()


def test_with_a_subscription_the_deliveries_are_one_insert(
    broker, subscribe, django_assert_num_queries
):
    subscribe("instance.started", "instance.completed")
    quick()
    start_instance(workflow_key="quick")  # warm the caches (and load the subscription)

    with django_assert_num_queries(8):
        start_instance(workflow_key="quick")
    assert WebhookDelivery.objects.count() == 4


def test_a_failing_receiver_is_retried_with_backoff_until_it_answers(
    broker, receiver, subscribe, settings
):
    settings.ORCHESTRATE_WEBHOOK_BACKOFF_SECONDS = 10
    receiver.statuses = [500, 503]
    subscribe("instance.started")
    quick()
    start_instance(workflow_key="quick")
    delivery = only_delivery()
    t0 = timezone.now() + datetime.timedelta(seconds=1)

    assert webhooks.deliver_webhook(delivery.pk, now=t0) == DeliveryStatus.PENDING
    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert delivery.last_status_code == 500
    assert delivery.last_response == "receiver says no"
    assert delivery.error == "the receiver answered 500"
    assert delivery.next_attempt_at == t0 + datetime.timedelta(seconds=10)

    # Not due yet: neither the worker nor the sweep sends it.
    assert webhooks.deliver_webhook(delivery.pk, now=t0 + datetime.timedelta(seconds=9)) is None
    broker.messages.clear()
    assert webhooks.sweep_webhooks(now=t0 + datetime.timedelta(seconds=9))["sent"] == 0
    assert len(receiver.requests) == 1

    t1 = t0 + datetime.timedelta(seconds=10)
    assert webhooks.sweep_webhooks(now=t1)["sent"] == 1
    assert broker.messages == [(webhooks.DELIVER_WEBHOOK, delivery.pk)]
    webhooks.deliver_webhook(delivery.pk, now=t1)
    delivery.refresh_from_db()
    assert delivery.last_status_code == 503
    assert delivery.next_attempt_at == t1 + datetime.timedelta(seconds=20)  # doubled

    t2 = t1 + datetime.timedelta(seconds=20)
    assert webhooks.deliver_webhook(delivery.pk, now=t2) == DeliveryStatus.DELIVERED
    delivery.refresh_from_db()
    assert delivery.attempts == 3
    assert delivery.last_status_code == 200
    assert delivery.error == ""
    assert len(receiver.requests) == 3
    # Every attempt sends the same event.
    assert len({r["body"] for r in receiver.requests}) == 1


def test_a_delivery_fails_for_good_after_the_last_attempt(receiver, subscribe, settings):
    settings.ORCHESTRATE_WEBHOOK_MAX_ATTEMPTS = 2
    receiver.statuses = [500, 500]
    subscribe("instance.started")
    quick()
    start_instance(workflow_key="quick")
    delivery = only_delivery()
    later = timezone.now() + datetime.timedelta(hours=2)

    webhooks.deliver_webhook(delivery.pk)
    assert webhooks.deliver_webhook(delivery.pk, now=later) == DeliveryStatus.FAILED
    assert webhooks.sweep_webhooks(now=later + datetime.timedelta(days=1))["sent"] == 0
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 2


def test_an_unreachable_receiver_is_an_error_to_retry(subscribe):
    subscribe("instance.started", url="http://127.0.0.1:9/closed")
    quick()
    start_instance(workflow_key="quick")

    assert webhooks.deliver_webhook(only_delivery().pk) == DeliveryStatus.PENDING
    delivery = only_delivery()
    assert delivery.last_status_code is None
    assert "ConnectionError" in delivery.error


def test_a_lost_worker_is_replaced_when_its_lease_runs_out(broker, receiver, subscribe, settings):
    settings.ORCHESTRATE_WEBHOOK_LEASE_SECONDS = 60
    subscribe("instance.started")
    quick()
    start_instance(workflow_key="quick")
    delivery = only_delivery()
    now = timezone.now()
    # A worker takes the delivery and dies before it answers.
    webhooks._take(delivery.pk, now)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERING
    broker.messages.clear()

    assert webhooks.sweep_webhooks(now=now + datetime.timedelta(seconds=59)) == {
        "lost": 0,
        "sent": 0,
    }
    later = now + datetime.timedelta(seconds=61)
    assert webhooks.sweep_webhooks(now=later) == {"lost": 1, "sent": 1}
    assert broker.messages == [(webhooks.DELIVER_WEBHOOK, delivery.pk)]
    webhooks.deliver_webhook(delivery.pk, now=later)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 2  # the lost attempt counts
    assert len(receiver.requests) == 1


def test_the_sweep_sends_again_a_due_delivery_whose_message_was_lost(broker, subscribe, settings):
    settings.ORCHESTRATE_REDISPATCH_SECONDS = 30
    subscribe("instance.started")
    quick()
    start_instance(workflow_key="quick")
    delivery = only_delivery()
    broker.messages.clear()  # the broker lost it

    assert webhooks.sweep_webhooks(now=timezone.now())["sent"] == 0  # sent just now
    later = timezone.now() + datetime.timedelta(seconds=31)
    assert webhooks.sweep_webhooks(now=later)["sent"] == 1
    assert broker.messages == [(webhooks.DELIVER_WEBHOOK, delivery.pk)]


def test_a_delivered_delivery_is_not_sent_twice(broker, receiver, subscribe):
    subscribe("instance.started")
    quick()
    start_instance(workflow_key="quick")
    delivery = only_delivery()
    webhooks.deliver_webhook(delivery.pk)

    assert webhooks.deliver_webhook(delivery.pk) is None
    assert len(receiver.requests) == 1


def test_only_http_and_https_urls_are_taken(subscribe):
    subscription = WebhookSubscription(
        name="ftp", url="ftp://example.com/x", secret=SECRET, event_types=["instance.started"]
    )
    with pytest.raises(ValidationError) as caught:
        subscription.full_clean()
    assert "url" in caught.value.message_dict
    # A row stored some other way is still refused when sending.
    subscribe("instance.started", url="file:///etc/passwd")
    quick()
    start_instance(workflow_key="quick")

    webhooks.deliver_webhook(only_delivery().pk)

    assert "only http and https URLs" in only_delivery().error


def test_retry_now_sends_failed_and_pending_deliveries_again(broker, receiver, subscribe, settings):
    settings.ORCHESTRATE_WEBHOOK_MAX_ATTEMPTS = 1
    receiver.statuses = [500]
    subscribe("instance.started")
    quick()
    start_instance(workflow_key="quick")
    delivery = only_delivery()
    webhooks.deliver_webhook(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    broker.messages.clear()

    assert webhooks.retry_deliveries_now([delivery.pk]) == 1
    broker.drain()

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert webhooks.retry_deliveries_now([delivery.pk]) == 0


def test_a_subscription_change_applies_at_once_in_this_process(subscribe):
    quick()
    start_instance(workflow_key="quick")
    subscription = subscribe("instance.started")

    start_instance(workflow_key="quick")
    subscription.active = False
    subscription.save()
    start_instance(workflow_key="quick")

    assert WebhookDelivery.objects.count() == 1


def test_another_process_change_is_seen_after_the_refresh_time(subscribe, settings):
    quick()
    start_instance(workflow_key="quick")  # this process knows: no subscription
    settings.ORCHESTRATE_WEBHOOK_REFRESH_SECONDS = 0
    # Another process adds a subscription (no signal reaches this one).
    WebhookSubscription.objects.bulk_create(
        [
            WebhookSubscription(
                name="x", url="http://127.0.0.1:9/", secret=SECRET, event_types=["instance.started"]
            )
        ]
    )
    # The stale snapshot is used, and reloaded once the transaction commits.
    with pytest.MonkeyPatch.context() as patch:
        callbacks = []
        patch.setattr(
            webhooks.transaction, "on_commit", lambda func, robust=False: callbacks.append(func)
        )
        start_instance(workflow_key="quick")
    assert not WebhookDelivery.objects.exists()
    for callback in callbacks:
        callback()

    start_instance(workflow_key="quick")

    assert WebhookDelivery.objects.count() == 1


def test_an_escalation_of_a_filtered_workflow_is_delivered(broker, receiver, subscribe):
    users = people()
    version = approval_workflow(
        due="PT4H", escalation=[{"after": "PT1H", "action": "raise_priority"}]
    )
    subscribe("task.escalated", workflow=version.definition)
    instance = start("approval", users["alice"])

    assert fire_due_timers(now=timezone.now() + datetime.timedelta(hours=6)) == 1
    broker.drain()

    (request,) = receiver.requests
    assert verify(SECRET.encode(), request["body"], request["headers"])
    body = json.loads(request["body"])
    assert body["type"] == "orchestrate.task.escalated"
    assert body["subject"] == str(instance.pk)
    assert body["data"]["action"] == "raise_priority"
    assert body["data"]["instance"]["workflow"] == "approval"


def test_an_incident_is_delivered_with_its_error(broker, receiver, subscribe):
    subscribe("incident.raised")
    workflow(
        "broken",
        [
            {"key": "start", "type": "start"},
            {"key": "call", "type": "automated", "action": "no_such_action"},
            {"key": "end", "type": "end"},
        ],
        edges("start>call", "call>end"),
    )
    start_instance(workflow_key="broken")

    broker.drain()

    (request,) = receiver.requests
    assert verify(SECRET.encode(), request["body"], request["headers"])
    body = json.loads(request["body"])
    assert body["type"] == "orchestrate.incident.raised"
    assert body["data"]["step_key"] == "call"
    assert body["data"]["error"] == "unknown action 'no_such_action'"


def _instance_runs_through():
    quick()
    start_instance(workflow_key="quick")


def _task_is_created():
    approval_workflow()
    start("approval", people()["alice"])


def _task_is_decided():
    users = people()
    approval_workflow()
    start("approval", users["alice"])
    task = Task.objects.get()
    claim_task(task.pk, actor=users["bob"])
    complete_task(task.pk, actor=users["bob"], outcome="approve")


def _task_is_escalated():
    approval_workflow(due="PT4H", escalation=[{"after": "PT1H", "action": "raise_priority"}])
    start("approval", people()["alice"])
    fire_due_timers(now=timezone.now() + datetime.timedelta(hours=6))


def _step_fails():
    workflow(
        "broken",
        [
            {"key": "start", "type": "start"},
            {"key": "call", "type": "automated", "action": "no_such_action"},
            {"key": "end", "type": "end"},
        ],
        edges("start>call", "call>end"),
    )
    start_instance(workflow_key="broken")


@pytest.mark.parametrize(
    ("event_type", "happen"),
    [
        ("instance.started", _instance_runs_through),
        ("instance.completed", _instance_runs_through),
        ("task.created", _task_is_created),
        ("task.completed", _task_is_decided),
        ("task.escalated", _task_is_escalated),
        ("incident.raised", _step_fails),
    ],
)
def test_each_event_type_is_delivered_signed_to_its_subscriber(
    broker, receiver, subscribe, event_type, happen
):
    subscribe(event_type)

    happen()
    broker.drain()

    (request,) = receiver.requests
    assert verify(SECRET.encode(), request["body"], request["headers"])
    assert json.loads(request["body"])["type"] == f"orchestrate.{event_type}"
    delivery = only_delivery()
    assert (delivery.event_type, delivery.status) == (event_type, DeliveryStatus.DELIVERED)
    assert (delivery.last_status_code, delivery.last_response) == (200, "ok")
