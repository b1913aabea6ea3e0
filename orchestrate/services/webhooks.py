"""Outbound webhooks: queueing deliveries of audit events and sending them, signed.

Deliveries are queued by `queue_deliveries`, which `AuditEvent`'s write path calls in the
writing transaction (`orchestrate.models.audit.WRITE_HOOKS`): one `bulk_create` of
`WebhookDelivery` rows when a subscription wants the events, nothing at all otherwise.
The active subscriptions are kept per process (`active_subscriptions`): a change made in
this process applies at once, a change made in another process within
ORCHESTRATE_WEBHOOK_REFRESH_SECONDS (the snapshot is reloaded after the next commit once
it is that old), so a transaction without subscriptions costs no query.

Each row is sent by `deliver_webhook` (a Celery task sent on commit) with a lease, the
HTTP request made outside any transaction, and the answer recorded; failures are retried
with exponential backoff until ORCHESTRATE_WEBHOOK_MAX_ATTEMPTS. `sweep_webhooks` (beat)
takes back rows whose lease ran out and sends due rows whose message was lost.
"""

import datetime
import hashlib
import hmac
import json
import logging
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from orchestrate.engine import dispatch
from orchestrate.models import (
    WEBHOOK_EVENT_KINDS,
    DeliveryStatus,
    Instance,
    WebhookDelivery,
    WebhookSubscription,
)

logger = logging.getLogger("orchestrate.webhooks")

DELIVER_WEBHOOK = "orchestrate.deliver_webhook"
SIGNATURE_HEADER = "X-Orchestrate-Signature"
TIMESTAMP_HEADER = "X-Orchestrate-Timestamp"
DELIVERY_HEADER = "X-Orchestrate-Delivery"
CONTENT_TYPE = "application/cloudevents+json"
RESPONSE_EXCERPT = 1000
_KINDS = frozenset(str(kind) for kind in WEBHOOK_EVENT_KINDS)


# --- the per-process snapshot of active subscriptions -------------------------------


@dataclass(frozen=True)
class _Subscription:
    pk: int
    kinds: frozenset
    workflow_id: int | None


class _Snapshot:
    def __init__(self):
        self.lock = threading.Lock()
        self.subscriptions = None  # None: not loaded in this process yet
        self.loaded_at = 0.0
        # When a reload after commit was last asked for: at most one per refresh period
        # (a rolled-back transaction drops its request; the next period asks again).
        self.refresh_asked_at = None

    def load(self):
        rows = WebhookSubscription.objects.filter(active=True).values_list(
            "pk", "event_types", "workflow_id"
        )
        subscriptions = tuple(
            _Subscription(pk, frozenset(kinds or ()) & _KINDS, workflow_id)
            for pk, kinds, workflow_id in rows
        )
        with self.lock:
            self.subscriptions = subscriptions
            self.loaded_at = time.monotonic()
            self.refresh_asked_at = None
        return subscriptions

    def reset(self, subscriptions=None):
        """Forget what was loaded (None: load again at the next use)."""
        with self.lock:
            self.subscriptions = subscriptions
            self.loaded_at = time.monotonic()
            self.refresh_asked_at = None


_snapshot = _Snapshot()


def reset_subscription_cache(subscriptions=None):
    """Drop this process's snapshot (tests: `reset_subscription_cache(())` means "none")."""
    _snapshot.reset(subscriptions)


def active_subscriptions():
    """The active subscriptions as this process knows them.

    The first call in a process loads them (one query). After that no query is made in
    the caller's transaction: once the snapshot is older than
    ORCHESTRATE_WEBHOOK_REFRESH_SECONDS, it is reloaded after the transaction commits.
    """
    subscriptions = _snapshot.subscriptions
    if subscriptions is None:
        return _snapshot.load()
    now = time.monotonic()
    period = settings.ORCHESTRATE_WEBHOOK_REFRESH_SECONDS
    asked = _snapshot.refresh_asked_at
    if now - _snapshot.loaded_at > period and (asked is None or now - asked > period):
        _snapshot.refresh_asked_at = now
        transaction.on_commit(_refresh_after_commit, robust=True)
    return subscriptions


def _refresh_after_commit():
    try:
        _snapshot.load()
    except Exception:
        logger.warning("could not reload webhook subscriptions", exc_info=True)


@receiver(post_save, sender=WebhookSubscription)
@receiver(post_delete, sender=WebhookSubscription)
def _subscriptions_changed(**kwargs):
    # This process loads them again at its next use; the others within the refresh time.
    _snapshot.reset(None)


# --- queueing ---------------------------------------------------------------------------


def queue_deliveries(events):
    """Queue one delivery per (event, subscription that wants it), in the caller's
    transaction, with one `bulk_create`; each is sent on commit. No query at all when no
    active subscription wants these kinds of events."""
    subscriptions = active_subscriptions()
    if not subscriptions:
        return []
    wanted = [e for e in events if str(e.kind) in _KINDS and e.pk is not None]
    if not wanted:
        return []
    definitions = _definitions_of(wanted, subscriptions)
    now = timezone.now()
    rows = [
        WebhookDelivery(
            subscription_id=subscription.pk,
            audit_event_id=event.pk,
            event_type=str(event.kind),
            next_attempt_at=now,
            dispatched_at=now,
            created_at=now,
        )
        for event in wanted
        for subscription in subscriptions
        if str(event.kind) in subscription.kinds
        and (
            subscription.workflow_id is None
            or definitions.get(event.instance_id) == subscription.workflow_id
        )
    ]
    if not rows:
        return []
    created = WebhookDelivery.objects.bulk_create(rows)
    for row in created:
        dispatch.send_on_commit(DELIVER_WEBHOOK, row.pk)
    return created


def _definitions_of(events, subscriptions):
    """instance id -> definition id, for the workflow filters: from the instances the
    events carry, with one query for the rest (only when a subscription has a filter)."""
    if all(s.workflow_id is None for s in subscriptions):
        return {}
    known, missing = {}, set()
    for event in events:
        instance = event._state.fields_cache.get("instance")
        if instance is not None:
            known[event.instance_id] = instance.definition_id
        else:
            missing.add(event.instance_id)
    if missing:
        known.update(Instance.objects.filter(pk__in=missing).values_list("pk", "definition_id"))
    return known


# --- the payload and its signature ----------------------------------------------------


def build_payload(delivery):
    """The CloudEvent sent for `delivery` (its id is the delivery's uuid)."""
    event = delivery.audit_event
    instance = event.instance
    data = {
        "instance": {
            "id": instance.pk,
            "workflow": instance.definition.key,
            "version": instance.version.number,
            "business_key": instance.business_key,
        },
        "actor": event.actor_label,
    }
    if event.step_key:
        data["step_key"] = event.step_key
    for name in ("outcome", "error", "task", "level", "action", "to", "decision"):
        if name in (event.data or {}):
            data[name] = event.data[name]
    return {
        "specversion": "1.0",
        "id": str(delivery.uuid),
        "source": f"{settings.ORCHESTRATE_BASE_URL.rstrip('/')}/api/v1/",
        "type": f"orchestrate.{event.kind}",
        "subject": str(instance.pk),
        "time": event.at.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "data": data,
    }


def encode_body(payload):
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def sign(secret, timestamp, body):
    """`sha256=<hex>`: HMAC-SHA256 with `secret` over `<timestamp>.<body>` (bytes)."""
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret, message, hashlib.sha256).hexdigest()


# --- sending ------------------------------------------------------------------------------


def backoff_seconds(attempts):
    """Seconds before the attempt after failure number `attempts` (1, 2, ...)."""
    base = settings.ORCHESTRATE_WEBHOOK_BACKOFF_SECONDS
    return min(base * 2 ** (attempts - 1), settings.ORCHESTRATE_WEBHOOK_MAX_BACKOFF_SECONDS)


@dataclass(frozen=True)
class _Taken:
    delivery_id: int
    attempt: int
    url: str
    secret: bytes
    body: bytes
    uuid: str


def _take(delivery_id, now):
    """Lease a due pending delivery for one attempt; None if it is not due (idempotent)."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("subscription")
            .filter(pk=delivery_id)
            .first()
        )
        if (
            delivery is None
            or delivery.status != DeliveryStatus.PENDING
            or delivery.next_attempt_at > now
        ):
            return None
        if delivery.payload is None:
            full = WebhookDelivery.objects.select_related(
                "audit_event__instance__definition", "audit_event__instance__version"
            ).get(pk=delivery.pk)
            delivery.payload = build_payload(full)
        delivery.status = DeliveryStatus.DELIVERING
        delivery.attempts += 1
        delivery.lease_until = now + datetime.timedelta(
            seconds=settings.ORCHESTRATE_WEBHOOK_LEASE_SECONDS
        )
        delivery.save(update_fields=["status", "attempts", "lease_until", "payload"])
        subscription = delivery.subscription
        return _Taken(
            delivery_id=delivery.pk,
            attempt=delivery.attempts,
            url=subscription.url,
            secret=subscription.signing_secret(),
            body=encode_body(delivery.payload),
            uuid=str(delivery.uuid),
        )


def _post(taken):
    """POST the signed body; returns (status code or None, response excerpt, error)."""
    if urlsplit(taken.url).scheme not in ("http", "https"):
        return None, "", f"refused: only http and https URLs are allowed, not {taken.url!r}"
    timestamp = int(time.time())
    headers = {
        "Content-Type": CONTENT_TYPE,
        SIGNATURE_HEADER: sign(taken.secret, timestamp, taken.body),
        TIMESTAMP_HEADER: str(timestamp),
        DELIVERY_HEADER: taken.uuid,
        "User-Agent": "Orchestrate-Webhooks/1",
    }
    try:
        response = requests.post(
            taken.url,
            data=taken.body,
            headers=headers,
            timeout=settings.ORCHESTRATE_WEBHOOK_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        return None, "", f"{exc.__class__.__name__}: {exc}"[:2000]
    excerpt = response.text[:RESPONSE_EXCERPT]
    if 200 <= response.status_code < 300:
        return response.status_code, excerpt, ""
    return response.status_code, excerpt, f"the receiver answered {response.status_code}"


def deliver_webhook(delivery_id, *, now=None):
    """Send one due delivery and record the answer. Idempotent: a row that is not pending
    and due is left alone. A 2xx answer delivers it; anything else (another status, a
    timeout, a refused connection) schedules the next attempt with backoff, or fails it
    for good after ORCHESTRATE_WEBHOOK_MAX_ATTEMPTS. Returns the new status or None."""
    now = now or timezone.now()
    taken = _take(delivery_id, now)
    if taken is None:
        return None
    status_code, excerpt, error = _post(taken)
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=taken.delivery_id)
        if delivery.status != DeliveryStatus.DELIVERING or delivery.attempts != taken.attempt:
            # The lease ran out and the sweep gave the row to another attempt.
            return None
        delivery.last_status_code = status_code
        delivery.last_response = excerpt
        delivery.error = error
        delivery.lease_until = None
        if not error:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = timezone.now()
        elif delivery.attempts >= settings.ORCHESTRATE_WEBHOOK_MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
        else:
            delivery.status = DeliveryStatus.PENDING
            # Counted from the start of the attempt.
            delivery.next_attempt_at = now + datetime.timedelta(
                seconds=backoff_seconds(delivery.attempts)
            )
            delivery.dispatched_at = None  # the sweep sends it when it is due
        delivery.save()
    if error:
        logger.info("webhook delivery %s attempt %s: %s", delivery.pk, taken.attempt, error)
    return delivery.status


def sweep_webhooks(*, now=None, batch=None):
    """Take back deliveries whose lease ran out (the worker is presumed dead; the attempt
    counts) and send due ones whose message is not out. Returns counts."""
    now = now or timezone.now()
    batch = batch or settings.ORCHESTRATE_SWEEP_BATCH
    stale = now - datetime.timedelta(seconds=settings.ORCHESTRATE_REDISPATCH_SECONDS)
    with transaction.atomic():
        lost = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.DELIVERING, lease_until__lte=now)
            .values_list("pk", flat=True)[:batch]
        )
        WebhookDelivery.objects.filter(pk__in=lost).update(
            status=DeliveryStatus.PENDING,
            lease_until=None,
            next_attempt_at=now,
            dispatched_at=None,
            error="the lease ran out before the attempt finished",
        )
    with transaction.atomic():
        due = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(
                Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=stale),
                status=DeliveryStatus.PENDING,
                next_attempt_at__lte=now,
            )
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:batch]
        )
        WebhookDelivery.objects.filter(pk__in=due).update(dispatched_at=now)
        for pk in due:
            dispatch.send_on_commit(DELIVER_WEBHOOK, pk)
    counts = {"lost": len(lost), "sent": len(due)}
    if any(counts.values()):
        logger.info("webhook sweep %s", counts)
    return counts


def retry_deliveries_now(delivery_ids):
    """Make pending or failed deliveries due now and send them (the admin's "retry now").
    A failed one gets one more attempt. Delivered and delivering rows are left alone.
    Returns how many were sent."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            WebhookDelivery.objects.select_for_update()
            .filter(
                pk__in=delivery_ids,
                status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED],
            )
            .values_list("pk", flat=True)
        )
        WebhookDelivery.objects.filter(pk__in=ids).update(
            status=DeliveryStatus.PENDING, next_attempt_at=now, dispatched_at=now
        )
        for pk in ids:
            dispatch.send_on_commit(DELIVER_WEBHOOK, pk)
    return len(ids)


__all__ = [
    "DELIVER_WEBHOOK",
    "active_subscriptions",
    "build_payload",
    "deliver_webhook",
    "queue_deliveries",
    "reset_subscription_cache",
    "retry_deliveries_now",
    "sign",
    "sweep_webhooks",
]
