"""Running instances and their step runs.

A step run is both a token of the instance (a live branch while it is scheduled, running
or waiting) and the outbox row of background work: `next_attempt_at` says when a worker
should run an automated step, `due_at` when a timer fires or a wait times out. Celery
messages only carry the row's id; the sweep re-sends what no worker picked up.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import FSMField, transition

from .definitions import WorkflowDefinition, WorkflowVersion


class InstanceStatus(models.TextChoices):
    RUNNING = "running"
    SUSPENDED = "suspended"
    INCIDENT = "incident"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


ENDED_INSTANCE_STATUSES = (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED)
LIVE_INSTANCE_STATUSES = (
    InstanceStatus.RUNNING,
    InstanceStatus.SUSPENDED,
    InstanceStatus.INCIDENT,
)


class Instance(models.Model):
    definition = models.ForeignKey(
        WorkflowDefinition, on_delete=models.PROTECT, related_name="instances"
    )
    version = models.ForeignKey(WorkflowVersion, on_delete=models.PROTECT, related_name="instances")
    status = FSMField(default=InstanceStatus.RUNNING, choices=InstanceStatus.choices)
    outcome = models.CharField(max_length=100, blank=True)
    business_key = models.CharField(max_length=200, blank=True)
    variables = models.JSONField(default=dict, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="started_instances",
    )
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    parent_step_run = models.ForeignKey(
        "StepRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="child_instances",
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            # Idempotent start: one instance per workflow and business key, ever.
            models.UniqueConstraint(
                fields=["definition", "business_key"],
                condition=~Q(business_key=""),
                name="instance_business_key_unique",
            )
        ]
        indexes = [
            models.Index(fields=["definition", "status"], name="instance_def_status_idx"),
            models.Index(fields=["status", "-started_at"], name="instance_status_started_idx"),
            # The instances a person started, in the lists' order (the API list and the
            # inbox's "My requests"): a page reads its rows and stops (BENCHMARKS.md).
            models.Index(
                fields=["started_by", "-started_at", "-id"], name="instance_started_by_order_idx"
            ),
            # Every instance in that order: what an auditor, a holder of `view_instance`
            # or a superuser lists (the API and the admin); without it each page sorted
            # all of them (1,000,000: 590 ms; BENCHMARKS.md, "Fourth pass").
            models.Index(fields=["-started_at", "-id"], name="instance_started_order_idx"),
        ]

    def __str__(self):
        return f"{self.definition.key} #{self.pk}"

    @property
    def is_ended(self):
        return self.status in ENDED_INSTANCE_STATUSES

    @transition(
        field=status,
        source=[InstanceStatus.RUNNING, InstanceStatus.SUSPENDED],
        target=InstanceStatus.COMPLETED,
    )
    def complete(self, outcome):
        """No branch is left (or a terminating end was reached). A step that was running
        when the instance was suspended may still finish it."""
        self.outcome = outcome
        self.ended_at = timezone.now()

    @transition(field=status, source=LIVE_INSTANCE_STATUSES, target=InstanceStatus.CANCELLED)
    def cancel(self):
        """Stop for good; live steps are cancelled by the service."""
        self.outcome = "cancelled"
        self.ended_at = timezone.now()

    @transition(
        field=status,
        source=[InstanceStatus.RUNNING, InstanceStatus.SUSPENDED],
        target=InstanceStatus.INCIDENT,
    )
    def raise_incident(self):
        """A step failed for good with no error path: an admin must look."""

    @transition(field=status, source=InstanceStatus.INCIDENT, target=InstanceStatus.RUNNING)
    def resolve_incident(self):
        """An admin retried the failed step."""

    @transition(field=status, source=InstanceStatus.RUNNING, target=InstanceStatus.SUSPENDED)
    def suspend(self):
        """No new step is taken or fired until resumed."""

    @transition(field=status, source=InstanceStatus.SUSPENDED, target=InstanceStatus.RUNNING)
    def resume(self):
        """Work goes on where it stopped."""


class StepRunStatus(models.TextChoices):
    SCHEDULED = "scheduled"  # automated: due for a worker at next_attempt_at
    RUNNING = "running"  # automated: taken by a worker, under a lease
    WAITING = "waiting"  # a wait state: human, timer, message, subprocess, join
    COMPLETED = "completed"
    FAILED = "failed"  # failed for good and took its `on: error` transition
    INCIDENT = "incident"  # failed for good with no error path
    CANCELLED = "cancelled"


LIVE_STEP_STATUSES = (
    StepRunStatus.SCHEDULED,
    StepRunStatus.RUNNING,
    StepRunStatus.WAITING,
    StepRunStatus.INCIDENT,
)


class StepRun(models.Model):
    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="step_runs")
    step_key = models.CharField(max_length=100)
    step_type = models.CharField(max_length=20)
    status = FSMField(default=StepRunStatus.WAITING, choices=StepRunStatus.choices)
    # Index of the transition that brought the token here (joins count arrivals by it).
    via = models.IntegerField(null=True, blank=True)
    # Every attempt of one step run passes the same key to its action, so external
    # calls can be deduplicated; unique in the database.
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    attempt = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    lost_attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    message_name = models.CharField(max_length=200, blank=True)
    correlation_key = models.CharField(max_length=200, blank=True)
    # Joins: transitions (by index) that arrived, and whether a fired first/count join
    # still absorbs the late arrivals of its round.
    arrivals = models.JSONField(default=list, blank=True)
    absorbing = models.BooleanField(default=False)
    outcome = models.CharField(max_length=100, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["instance", "status"], name="steprun_instance_status_idx"),
            # The sweep's queries: each touches only rows that are due.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="scheduled"),
                name="steprun_due_attempt_idx",
            ),
            models.Index(
                fields=["due_at"], condition=Q(status="waiting"), name="steprun_due_wait_idx"
            ),
            models.Index(
                fields=["lease_expires_at"],
                condition=Q(status="running"),
                name="steprun_lease_idx",
            ),
            models.Index(
                fields=["message_name", "correlation_key"],
                condition=Q(status="waiting"),
                name="steprun_message_idx",
            ),
            # Waiting subprocess steps, for the sweep's look for finished children: without
            # it the sweep read every waiting step run (human ones too) each time.
            models.Index(
                fields=["id"],
                condition=Q(status="waiting", step_type="subprocess"),
                name="steprun_wait_subprocess_idx",
            ),
        ]

    def __str__(self):
        return f"{self.step_key} ({self.status})"

    @property
    def is_live(self):
        return self.status in LIVE_STEP_STATUSES

    # --- transitions: fields on self only ------------------------------------------
    @transition(field=status, source=StepRunStatus.WAITING, target=StepRunStatus.SCHEDULED)
    def schedule(self, at):
        """An automated step becomes due for a worker at `at`."""
        self.next_attempt_at = at

    @transition(field=status, source=StepRunStatus.SCHEDULED, target=StepRunStatus.RUNNING)
    def take(self, lease_until):
        """A worker takes the step under a lease; the attempt counter grows."""
        self.attempt += 1
        self.lease_expires_at = lease_until
        self.next_attempt_at = None

    @transition(field=status, source=StepRunStatus.RUNNING, target=StepRunStatus.SCHEDULED)
    def retry_later(self, at, error):
        """An attempt failed and attempts are left: try again at `at`."""
        self.failures += 1
        self.error = error
        self.next_attempt_at = at
        self.lease_expires_at = None
        self.dispatched_at = None

    @transition(field=status, source=StepRunStatus.RUNNING, target=StepRunStatus.SCHEDULED)
    def requeue_lost(self, at):
        """The worker's lease ran out (it died): give the step to another worker."""
        self.lost_attempts += 1
        self.next_attempt_at = at
        self.lease_expires_at = None
        self.dispatched_at = None

    @transition(
        field=status,
        source=[StepRunStatus.WAITING, StepRunStatus.RUNNING, StepRunStatus.SCHEDULED],
        target=StepRunStatus.COMPLETED,
    )
    def complete(self, outcome="", result=None):
        """The step is done; the engine follows its outgoing transitions."""
        self.outcome = outcome
        self.result = result
        self.ended_at = timezone.now()
        self.next_attempt_at = None
        self.due_at = None
        self.lease_expires_at = None

    @transition(
        field=status,
        source=[StepRunStatus.RUNNING, StepRunStatus.SCHEDULED, StepRunStatus.WAITING],
        target=StepRunStatus.FAILED,
    )
    def fail(self, error):
        """Failed for good; the engine takes the `on: error` transition."""
        self.error = error
        self.ended_at = timezone.now()
        self.next_attempt_at = None
        self.due_at = None
        self.lease_expires_at = None

    @transition(
        field=status,
        source=[StepRunStatus.RUNNING, StepRunStatus.SCHEDULED, StepRunStatus.WAITING],
        target=StepRunStatus.INCIDENT,
    )
    def raise_incident(self, error):
        """Failed for good with no error path; an admin may retry it."""
        self.error = error
        self.next_attempt_at = None
        self.due_at = None
        self.lease_expires_at = None

    @transition(field=status, source=StepRunStatus.INCIDENT, target=StepRunStatus.SCHEDULED)
    def retry_incident(self, at):
        """An admin retries the failed step with fresh attempts."""
        self.attempt = 0
        self.failures = 0
        self.lost_attempts = 0
        self.next_attempt_at = at
        self.dispatched_at = None

    @transition(field=status, source=LIVE_STEP_STATUSES, target=StepRunStatus.CANCELLED)
    def cancel(self):
        """The instance was cancelled or a terminating end was reached."""
        self.ended_at = timezone.now()
        self.next_attempt_at = None
        self.due_at = None
        self.lease_expires_at = None
