"""Due reminders and escalation levels of tasks, one row each: the row says what is due.

Rows are written when the task is made; the sweep fires the due ones (a partial index on
`due_at` of pending rows keeps its cost in line with the work that is due), each exactly
once, in order, in the same transaction as its effect. A task that closes skips its
pending rows; a pause for a question moves them on.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone


class TimerKind(models.TextChoices):
    REMINDER = "reminder"
    ESCALATION = "escalation"


class TimerStatus(models.TextChoices):
    PENDING = "pending"
    FIRED = "fired"
    SKIPPED = "skipped"  # the task closed first


class TaskTimer(models.Model):
    task = models.ForeignKey("tasks_inbox.Task", on_delete=models.CASCADE, related_name="timers")
    kind = models.CharField(max_length=20, choices=TimerKind.choices)
    # Position in the step's `reminders` or `escalation` list (levels fire in this order).
    level = models.PositiveIntegerField()
    # The escalation level as written in the step ({after, action, to, outcome}).
    spec = models.JSONField(default=dict, blank=True)
    due_at = models.DateTimeField()
    status = models.CharField(
        max_length=20, choices=TimerStatus.choices, default=TimerStatus.PENDING
    )
    fired_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "kind", "level"], name="task_timer_level_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["due_at"], name="task_timer_pending_idx", condition=Q(status="pending")
            )
        ]

    def __str__(self):
        return (
            f"{self.kind} {self.level + 1} of task {self.task_id} at {self.due_at:%Y-%m-%d %H:%M}"
        )

    @property
    def label(self):
        return f"{self.kind} level {self.level + 1}"


class DigestLog(models.Model):
    """At most one overdue digest per person and day: the unique row is the guard, and
    the outbox of the mail (`sent_at`)."""

    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    task_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="digest_user_day_unique")
        ]

    def __str__(self):
        return f"digest of {self.user} for {self.day}"
