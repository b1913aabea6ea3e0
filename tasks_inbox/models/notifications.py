"""The outbox of e-mails about tasks: a row per mail, sent by a worker after commit.

The row says what is due, so a lost Celery message loses no mail: the sweep sends rows
that are still unsent after a while. Sending is idempotent (`sent_at`).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class NotificationKind(models.TextChoices):
    ASSIGNED = "assigned"  # a task was given to you
    QUESTION = "question"  # someone asks you a question on a task
    ANSWERED = "answered"  # your question was answered
    DECIDED = "decided"  # a task of your request was decided
    WITHDRAWN = "withdrawn"  # the request of your task was withdrawn
    REMINDER = "reminder"  # your task is due soon
    ESCALATED = "escalated"  # a task is late and you are its escalation


class Notification(models.Model):
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    task = models.ForeignKey(
        "tasks_inbox.Task", on_delete=models.CASCADE, related_name="notifications"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["created_at"], name="notification_unsent_idx", condition=Q(sent_at=None)
            )
        ]

    def __str__(self):
        return f"{self.kind} mail to {self.recipient} about task {self.task_id}"


class ActionLink(models.Model):
    """A signed link in an assignment mail that decides a task with one outcome.

    The mail carries `signing.dumps(token)`; the row makes it single-use (`used_at`) and
    expiring (`expires_at`). Opening it only shows a confirmation page; the decision goes
    through `complete_task`, with exactly the checks of the inbox.
    """

    token = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    task = models.ForeignKey(
        "tasks_inbox.Task", on_delete=models.CASCADE, related_name="action_links"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    outcome = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.outcome} link for task {self.task_id} ({self.user})"
