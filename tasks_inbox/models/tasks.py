"""Human tasks: one person's (or one queue's) share of a waiting `human` step.

A human step run owns one decision task, or one per approver with `approvers`. Asking a
question (`request_info`) puts the decision task on hold and creates an `info` task for
the person who must answer; the answer returns the decision task to its assignee.
Transitions only change fields on the task; the services in `tasks_inbox.services` lock
the row, check the rules, save and write the audit record.
"""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django_fsm import FSMField, transition


class TaskStatus(models.TextChoices):
    OPEN = "open"  # in a queue, nobody holds it yet
    CLAIMED = "claimed"  # one person holds it
    INFO_REQUESTED = "info_requested"  # on hold until a question is answered
    COMPLETED = "completed"
    CANCELLED = "cancelled"  # the step no longer needs it (instance ended, quorum reached)
    EXPIRED = "expired"  # the step timed out


LIVE_TASK_STATUSES = (TaskStatus.OPEN, TaskStatus.CLAIMED, TaskStatus.INFO_REQUESTED)


class TaskKind(models.TextChoices):
    DECISION = "decision"  # decide an outcome of the human step
    INFO = "info"  # answer a question asked on another task


class Priority(models.IntegerChoices):
    LOW = 10, "low"
    NORMAL = 20, "normal"
    HIGH = 30, "high"
    URGENT = 40, "urgent"

    @classmethod
    def from_name(cls, name):
        for member in cls:
            if member.label == name:
                return member
        raise ValueError(f"unknown priority {name!r}")


class SlaState(models.TextChoices):
    ON_TRACK = "on_track", "on track"
    AT_RISK = "at_risk", "at risk"
    BREACHED = "breached", "breached"


class Task(models.Model):
    step_run = models.ForeignKey(
        "orchestrate.StepRun", on_delete=models.CASCADE, related_name="tasks"
    )
    # Denormalised from the step run for the inbox's queries and filters.
    instance = models.ForeignKey(
        "orchestrate.Instance", on_delete=models.CASCADE, related_name="tasks"
    )
    # The instance's workflow, for the inbox's workflow filter: a person's 20,000 tasks
    # are filtered on their own rows instead of each joined to its instance (24 ms per
    # query; BENCHMARKS.md, "Fourth pass"). An instance never changes workflow. No index
    # and no cascade of its own: a workflow with tasks has instances, which protect it.
    definition = models.ForeignKey(
        "orchestrate.WorkflowDefinition",
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        editable=False,
    )
    step_key = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=TaskKind.choices, default=TaskKind.DECISION)
    # For an `info` task: the decision task whose question it answers.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="info_tasks"
    )
    status = FSMField(default=TaskStatus.OPEN, choices=TaskStatus.choices, protected=False)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    candidate_group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    candidate_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="candidate_tasks"
    )
    # Separation of duties: these people may neither see nor decide the task.
    excluded_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="excluded_tasks"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tasks",
    )
    priority = models.IntegerField(choices=Priority.choices, default=Priority.NORMAL)
    due_at = models.DateTimeField(null=True, blank=True)
    # What the step asks for, copied from the published version when the task is made.
    outcomes = models.JSONField(default=list, blank=True)
    comment_required_for = models.JSONField(default=list, blank=True)
    form = models.JSONField(default=list, blank=True)
    can_request_info = models.BooleanField(default=True)
    # The decision.
    outcome = models.CharField(max_length=100, blank=True)
    comment = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="decided_tasks",
    )
    # Set when a substitute decided for the person named here.
    decided_on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # SLA: from `at_risk_at` the task is at risk (its last quarter, or its first
    # reminder), from `due_at` breached. While a question waits for its answer the clock
    # stops (`paused_at`); on the answer the due times move on by the pause.
    at_risk_at = models.DateTimeField(null=True, blank=True)
    due_explanation = models.CharField(max_length=300, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(default=0)
    business = models.BooleanField(default=False)
    calendar_key = models.CharField(max_length=100, blank=True)
    # The assignee hid the task from the default inbox view until then (clock runs on).
    snoozed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["assignee", "status"],
                name="task_assignee_live_idx",
                condition=Q(status__in=["open", "claimed", "info_requested"]),
            ),
            models.Index(
                fields=["candidate_group", "status"],
                name="task_group_open_idx",
                condition=Q(status="open"),
            ),
            models.Index(fields=["decided_by", "-completed_at"], name="task_decided_idx"),
            models.Index(fields=["step_run", "status"], name="task_step_run_idx"),
            # The inbox (a person's live tasks) and the queue (a group's open tasks) in
            # the lists' default order: a page reads its rows and stops (bench/inbox.py).
            # The inbox's three indexes also carry what its filter reads besides (the
            # snoozed exclusion: `snoozed_until`, `status`), so its count and the ids of
            # any of its pages, the last one included, come from the index alone.
            models.Index(
                fields=["assignee", "-created_at", "-id"],
                name="task_assignee_live_order_idx",
                condition=Q(status__in=["open", "claimed", "info_requested"]),
                include=["snoozed_until", "status"],
            ),
            models.Index(
                fields=["candidate_group", "-created_at", "-id"],
                name="task_group_open_order_idx",
                condition=Q(status="open"),
            ),
            # The queue by due date: its group's rule reads its page in order and stops
            # (`UnionIds`); without it PostgreSQL walked every live task by due date
            # looking for the group's (121,271 rows, 88 ms; BENCHMARKS.md).
            models.Index(
                fields=["candidate_group", "due_at", "-priority", "created_at", "id"],
                name="task_group_open_due_idx",
                condition=Q(status="open"),
            ),
            # The inbox's two other sorts (`SORTS` in tasks_inbox/selectors/tasks.py),
            # column for column with their ORDER BY, directions and NULLs included
            # (ASC puts NULL due dates last, DESC puts them first, as in the index): a
            # page reads 25 entries instead of sorting 20,000 tasks (BENCHMARKS.md).
            models.Index(
                fields=["assignee", "due_at", "-priority", "created_at", "id"],
                name="task_assignee_live_due_idx",
                condition=Q(status__in=["open", "claimed", "info_requested"]),
                include=["snoozed_until", "status"],
            ),
            models.Index(
                fields=["assignee", "-priority", "due_at", "created_at", "id"],
                name="task_assignee_live_prio_idx",
                condition=Q(status__in=["open", "claimed", "info_requested"]),
                include=["snoozed_until", "status"],
            ),
            # The overdue digest looks for live tasks past their due time.
            models.Index(
                fields=["due_at"],
                name="task_live_due_idx",
                condition=Q(status__in=["open", "claimed", "info_requested"]),
            ),
            # Every open task in each of the lists' orders: the queue of a superuser or of a
            # holder of the model-wide permissions. Without them a page sorted all the open
            # tasks or walked every live one by due date (100,000 open among 400,000 live:
            # 36 ms; BENCHMARKS.md, "Fourth pass").
            models.Index(
                fields=["-created_at", "-id"],
                name="task_open_order_idx",
                condition=Q(status="open"),
            ),
            models.Index(
                fields=["due_at", "-priority", "created_at", "id"],
                name="task_open_due_idx",
                condition=Q(status="open"),
            ),
            models.Index(
                fields=["-priority", "due_at", "created_at", "id"],
                name="task_open_prio_idx",
                condition=Q(status="open"),
            ),
        ]

    def __str__(self):
        return f"Task #{self.pk}: {self.title}"

    def get_absolute_url(self):
        return reverse("inbox:task", args=[self.pk])

    @property
    def is_live(self):
        return self.status in LIVE_TASK_STATUSES

    @property
    def priority_name(self):
        return Priority(self.priority).label

    @property
    def is_overdue(self):
        return self.due_at is not None and self.is_live and self.due_at < timezone.now()

    def sla_state(self, now=None):
        """on_track, at_risk or breached (None without a due time); frozen while paused."""
        if self.due_at is None:
            return None
        at = self.paused_at or self.completed_at or now or timezone.now()
        if at >= self.due_at:
            return SlaState.BREACHED
        if self.at_risk_at is not None and at >= self.at_risk_at:
            return SlaState.AT_RISK
        return SlaState.ON_TRACK

    def needs_comment(self, outcome):
        return outcome in self.comment_required_for

    # --- transitions ---------------------------------------------------------------
    @transition(field=status, source=TaskStatus.OPEN, target=TaskStatus.CLAIMED)
    def claim(self, user, now):
        """A candidate takes the task from the queue (never snoozed by someone before)."""
        self.assignee = user
        self.claimed_at = now
        self.snoozed_until = None

    @transition(field=status, source=TaskStatus.CLAIMED, target=TaskStatus.OPEN)
    def release(self):
        """The assignee gives the task back to its queue (their snooze goes with them)."""
        self.assignee = None
        self.claimed_at = None
        self.snoozed_until = None

    @transition(
        field=status,
        source=[TaskStatus.OPEN, TaskStatus.CLAIMED],
        target=TaskStatus.CLAIMED,
    )
    def assign(self, user, now):
        """The task goes to one person (delegation, escalation, substitution), without
        the previous holder's snooze."""
        self.assignee = user
        self.claimed_at = now
        self.snoozed_until = None

    @transition(
        field=status,
        source=[TaskStatus.OPEN, TaskStatus.CLAIMED],
        target=TaskStatus.OPEN,
    )
    def requeue(self, group):
        """Escalation moves the task to another group's queue."""
        self.candidate_group = group
        self.assignee = None
        self.claimed_at = None
        self.snoozed_until = None

    @transition(field=status, source=TaskStatus.CLAIMED, target=TaskStatus.INFO_REQUESTED)
    def hold_for_info(self, now):
        """A question was asked: the task waits for the answer; its SLA clock stops."""
        self.paused_at = now

    @transition(field=status, source=TaskStatus.INFO_REQUESTED, target=TaskStatus.CLAIMED)
    def resume_after_info(self, now):
        """The answer came: the task is back with the same assignee; the clock runs."""
        self.paused_seconds += int((now - self.paused_at).total_seconds()) if self.paused_at else 0
        self.paused_at = None

    @transition(
        field=status,
        source=[TaskStatus.OPEN, TaskStatus.CLAIMED],
        target=TaskStatus.COMPLETED,
    )
    def complete(self, *, outcome, comment, data, by, on_behalf_of, now):
        """Record the decision."""
        self.outcome = outcome
        self.comment = comment
        self.data = data
        self.decided_by = by
        self.decided_on_behalf_of = on_behalf_of
        self.completed_at = now
        if self.assignee_id is None:
            self.assignee = by

    @transition(field=status, source=LIVE_TASK_STATUSES, target=TaskStatus.CANCELLED)
    def cancel(self, now):
        """The step no longer needs the task."""
        self.completed_at = now

    @transition(field=status, source=LIVE_TASK_STATUSES, target=TaskStatus.EXPIRED)
    def expire(self, now):
        """The step timed out before anyone decided."""
        self.completed_at = now


class CommentKind(models.TextChoices):
    COMMENT = "comment"
    QUESTION = "question"
    ANSWER = "answer"
    DECISION = "decision"


class TaskComment(models.Model):
    """One entry of a task's conversation: comments, questions and answers."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="comments")
    kind = models.CharField(max_length=20, choices=CommentKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who the question is for (questions only).
    addressee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_label = models.CharField(max_length=300)
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.kind} by {self.author_label}"
