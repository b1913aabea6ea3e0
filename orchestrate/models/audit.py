"""The append-only audit trail of instances: every transition, variable change, decision
and action attempt, with actor, time and the client address of the request that caused
it (on PostgreSQL a trigger refuses UPDATE and DELETE, see migration 0010)."""

from django.conf import settings
from django.db import models
from django.db.models import Max
from django.utils import timezone

from orchestrate import audit_chain
from orchestrate.security import current_address

# Called as hook(events) with the events just inserted (with their ids), inside the
# writing transaction: the one place where side effects of audit events start (webhook
# deliveries, see orchestrate/models/integrations.py). A hook must cost no query when it
# has nothing to do, since every service transaction writes events.
WRITE_HOOKS: list = []


def _after_write(events):
    for hook in WRITE_HOOKS:
        hook(events)


class AuditKind(models.TextChoices):
    INSTANCE_STARTED = "instance.started"
    INSTANCE_COMPLETED = "instance.completed"
    INSTANCE_CANCELLED = "instance.cancelled"
    INSTANCE_SUSPENDED = "instance.suspended"
    INSTANCE_RESUMED = "instance.resumed"
    INSTANCE_MIGRATED = "instance.migrated"
    INCIDENT_RAISED = "incident.raised"
    INCIDENT_RETRIED = "incident.retried"
    STEP_ENTERED = "step.entered"
    STEP_COMPLETED = "step.completed"
    STEP_FAILED = "step.failed"
    STEP_CANCELLED = "step.cancelled"
    STEP_TAKEN = "step.taken"
    STEP_LOST = "step.lost"
    ACTION_SUCCEEDED = "action.succeeded"
    ACTION_FAILED = "action.failed"
    VARIABLES_CHANGED = "variables.changed"
    MESSAGE_RECEIVED = "message.received"
    TIMER_FIRED = "timer.fired"
    TRANSITION_TAKEN = "transition.taken"
    TASK_CREATED = "task.created"
    TASK_CLAIMED = "task.claimed"
    TASK_RELEASED = "task.released"
    TASK_DELEGATED = "task.delegated"
    TASK_SUBSTITUTED = "task.substituted"
    TASK_INFO_REQUESTED = "task.info_requested"
    TASK_INFO_ANSWERED = "task.info_answered"
    TASK_COMMENTED = "task.commented"
    TASK_COMPLETED = "task.completed"
    TASK_CANCELLED = "task.cancelled"
    TASK_EXPIRED = "task.expired"
    REQUEST_WITHDRAWN = "request.withdrawn"
    TASK_REMINDED = "task.reminded"
    TASK_ESCALATED = "task.escalated"
    TASK_SNOOZED = "task.snoozed"
    SLA_PAUSED = "sla.paused"
    SLA_RESUMED = "sla.resumed"


def _last_hashes(model, instance_ids, using=None):
    """The hash of the latest event (by id) of each instance, in one query.

    Writers hold the instance's row lock, so no other transaction appends to these chains
    until ours commits. The `(instance, id)` index makes the lookup a short index scan.
    """
    events = model._base_manager.db_manager(using)
    latest = (
        events.filter(instance_id__in=instance_ids)
        .values("instance_id")
        .annotate(last=Max("id"))
        .values("last")
    )
    return dict(events.filter(pk__in=latest).values_list("instance_id", "hash"))


class AuditQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, new_chains=(), **kwargs):
        """Insert new events chained to their instances' latest events (one more query).

        `new_chains`: ids of instances created in this transaction that have no stored
        event yet (the engine's first write for an instance it started); their chains start
        empty, so their latest hash is not read.
        """
        objs = list(objs)
        address = current_address()
        for obj in objs:
            # Events may point at step runs inserted earlier in this transaction.
            obj._prepare_related_fields_for_save(operation_name="bulk_create")
            if obj.address is None:
                obj.address = address
        instance_ids = {obj.instance_id for obj in objs}
        stored = instance_ids.difference(new_chains)
        last = _last_hashes(self.model, stored, self.db) if stored else {}
        for instance_id in instance_ids:
            audit_chain.chain(
                [obj for obj in objs if obj.instance_id == instance_id],
                last.get(instance_id, ""),
            )
        created = super().bulk_create(objs, *args, **kwargs)
        _after_write(created)
        return created

    def update(self, **kwargs):
        raise PermissionError("The audit trail is append-only.")

    def delete(self):
        raise PermissionError("The audit trail is append-only.")


class AuditEvent(models.Model):
    instance = models.ForeignKey(
        "orchestrate.Instance", on_delete=models.CASCADE, related_name="audit_events"
    )
    step_run = models.ForeignKey(
        "orchestrate.StepRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
    )
    kind = models.CharField(max_length=40, choices=AuditKind.choices)
    step_key = models.CharField(max_length=100, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # Who acted, as text: a username, or "system" / "worker" / "sweep".
    actor_label = models.CharField(max_length=150, default="system")
    at = models.DateTimeField(default=timezone.now)
    data = models.JSONField(default=dict, blank=True)
    # Where the request that wrote it came from (None for workers, timers and commands).
    address = models.GenericIPAddressField(null=True, blank=True, editable=False)
    # The tamper-evident chain, filled on insert (see orchestrate/audit_chain.py).
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["instance", "at"], name="audit_instance_at_idx"),
            # Finds the latest event of an instance when the next one is chained to it.
            models.Index(fields=["instance", "id"], name="audit_instance_id_idx"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.kind} {self.step_key}".strip()

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise PermissionError("The audit trail is append-only.")
        if self.pk is None or kwargs.get("force_insert"):
            self._prepare_related_fields_for_save(operation_name="save")
            if self.address is None:
                self.address = current_address()
            last = _last_hashes(type(self), [self.instance_id], kwargs.get("using"))
            audit_chain.chain([self], last.get(self.instance_id, ""))
        super().save(*args, **kwargs)
        _after_write([self])

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit trail is append-only.")
