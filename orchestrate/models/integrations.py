"""Events in and out: CloudEvents received on the API, webhook subscriptions and the
deliveries that are due to them.

A `WebhookDelivery` row is the outbox: it is written in the transaction of the audit event
it reports (see `orchestrate.services.webhooks`), so the database always says what is
still to be sent.
"""

import hashlib
import json
import uuid

from django.conf import settings
from django.core.validators import URLValidator
from django.db import models
from django.utils import timezone

from orchestrate import secret_box

from .audit import WRITE_HOOKS, AuditKind

# The audit kinds a subscription may ask for; the delivered CloudEvent type is
# `orchestrate.<kind>`.
WEBHOOK_EVENT_KINDS = (
    AuditKind.INSTANCE_STARTED,
    AuditKind.INSTANCE_COMPLETED,
    AuditKind.TASK_CREATED,
    AuditKind.TASK_COMPLETED,
    AuditKind.TASK_ESCALATED,
    AuditKind.INCIDENT_RAISED,
)


class InboundEvent(models.Model):
    """A CloudEvent received on `POST /api/v1/events/`; (source, id) is unique, as the
    CloudEvents spec defines an event's identity, so a redelivered event is ignored."""

    # SHA-256 of (source, id), unique: an index on the two long texts themselves could
    # outgrow PostgreSQL's limit for an index row.
    identity = models.CharField(max_length=64, unique=True, editable=False)
    source = models.CharField(max_length=500)
    event_id = models.CharField(max_length=500)
    type = models.CharField(max_length=200)
    subject = models.CharField(max_length=500, blank=True)
    time = models.DateTimeField(null=True, blank=True)
    # The whole event as received (attributes, extensions and data).
    body = models.JSONField(default=dict)
    # What it did: {"started": [...], "delivered_to": [...]}.
    outcome = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return f"{self.type} {self.event_id} from {self.source}"

    @staticmethod
    def identity_of(source, event_id):
        """The value of `identity` for an event's source and id."""
        text = json.dumps([source, event_id], ensure_ascii=True)
        return hashlib.sha256(text.encode()).hexdigest()


class WebhookSubscription(models.Model):
    """Where to send which events. The secret is stored encrypted (`orchestrate.secret_box`):
    assign the plain secret and `save` encrypts it; `signing_secret()` is the one place that
    decrypts it. Nothing shows it back."""

    name = models.CharField(max_length=200)
    url = models.URLField(
        max_length=1000,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="An http or https URL that accepts POST requests.",
    )
    secret = models.TextField(help_text="Signs every delivery (HMAC-SHA256); stored encrypted.")
    event_types = models.JSONField(
        default=list, help_text="Audit kinds to send, such as instance.started."
    )
    workflow = models.ForeignKey(
        "orchestrate.WorkflowDefinition",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhook_subscriptions",
        help_text="Only events of this workflow's instances (all workflows when empty).",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if self.secret and not secret_box.is_encrypted(self.secret):
            self.secret = secret_box.encrypt(self.secret)
        super().save(*args, **kwargs)

    def signing_secret(self):
        """The secret that signs deliveries, as bytes."""
        return secret_box.decrypt(self.secret).encode()


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    DELIVERING = "delivering"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookDelivery(models.Model):
    """One audit event to send to one subscription, with its attempts so far."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    audit_event = models.ForeignKey(
        "orchestrate.AuditEvent", on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    # An audit kind of WEBHOOK_EVENT_KINDS (no choices: a new audit kind needs no migration).
    event_type = models.CharField(max_length=40)
    status = models.CharField(
        max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # When the last "deliver row N" message was sent; the sweep sends it again when stale.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    # A worker holds a delivering row until then; after that the sweep takes it back.
    lease_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_response = models.TextField(blank=True)
    error = models.TextField(blank=True)
    # The exact body sent (fixed at the first attempt, so retries send the same bytes).
    payload = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            # The sweep's two questions: what is due, and whose lease ran out.
            models.Index(fields=["status", "next_attempt_at"], name="webhook_due_idx"),
            models.Index(fields=["status", "lease_until"], name="webhook_lease_idx"),
        ]

    def __str__(self):
        return f"{self.event_type} to {self.subscription} ({self.status})"


def _queue_webhook_deliveries(events):
    # Imported here: services import the models.
    from orchestrate.services.webhooks import queue_deliveries

    queue_deliveries(events)


WRITE_HOOKS.append(_queue_webhook_deliveries)
