"""Escalation levels fire seconds after they are due, with real beat and workers: each
level once, in order, however many sweeps race for it."""

import datetime
import time

import pytest
from django.utils import timezone

from orchestrate.celery import app as celery_app
from orchestrate.models import AuditEvent, AuditKind
from orchestrate.services.instances import start_instance
from tasks_inbox.models import (
    Notification,
    NotificationKind,
    Priority,
    Task,
    TaskTimer,
    TimerStatus,
)
from tests.factories import UserFactory, edges, workflow

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

INSTANCES = 4
SWEEP = "tasks_inbox.sweep_task_timers"
ESCALATION = [
    {"after": "PT2S", "action": "notify", "to": {"user": "lead"}},
    {"after": "PT3S", "action": "raise_priority"},
]
# Beat sends the sweep every 0.5 s (conftest TIMINGS): a level fires well within this.
LATENESS = datetime.timedelta(seconds=5)


def sweeps_done(proc):
    """Sweeps of task timers this worker finished (its log says so at INFO)."""
    return sum(1 for line in proc.log().splitlines() if f"{SWEEP}[" in line and "succeeded" in line)


def race_sweeps_at(moment, count=6):
    """At `moment`, send a handful of sweeps at once, as an extra beat would: the
    workers' processes then fire the same due rows side by side."""
    time.sleep(max((moment - timezone.now()).total_seconds(), 0))
    for _ in range(count):
        celery_app.send_task(SWEEP)


def test_levels_fire_once_each_in_order_with_two_workers_and_beat(cluster):
    alice = UserFactory(username="alice")
    UserFactory(username="bob")
    UserFactory(username="lead")
    workflow(
        "it_escalation",
        [
            {"key": "start", "type": "start"},
            {
                "key": "review",
                "type": "human",
                "title": "Review",
                "assign": {"to": "bob"},
                "due": "PT2S",
                "escalation": ESCALATION,
            },
            {"key": "approved", "type": "end", "outcome": "approved"},
        ],
        edges("start>review", "review>approved:approve"),
    )
    workers = [cluster.start_worker("it1"), cluster.start_worker("it2")]
    beat = cluster.start_beat()
    cluster.wait_for(lambda: SWEEP in beat.log(), "beat to send the first sweep")

    for _ in range(INSTANCES):
        start_instance(workflow_key="it_escalation", actor=alice)
    tasks = list(Task.objects.filter(step_key="review").order_by("pk"))
    assert len(tasks) == INSTANCES
    timers = TaskTimer.objects.filter(task__in=tasks)
    assert timers.count() == 2 * INSTANCES
    for level in (0, 1):
        race_sweeps_at(min(t.due_at for t in timers if t.level == level))

    cluster.wait_for(
        lambda: not timers.exclude(status=TimerStatus.FIRED).exists(), "every level to fire"
    )
    cluster.wait_for(
        lambda: (
            not Notification.objects.filter(kind=NotificationKind.ESCALATED, sent_at=None).exists()
        ),
        "the workers to send the escalation mails",
    )
    # Later sweeps find nothing more to do.
    done = sum(sweeps_done(w) for w in workers)
    cluster.wait_for(lambda: sum(sweeps_done(w) for w in workers) >= done + 2, "two more sweeps")

    for task in tasks:
        fired = list(timers.filter(task=task).order_by("level"))
        assert [(t.level, t.status) for t in fired] == [(0, "fired"), (1, "fired")]
        assert fired[0].fired_at <= fired[1].fired_at
        for timer in fired:
            assert timer.due_at <= timer.fired_at < timer.due_at + LATENESS
        events = AuditEvent.objects.filter(kind=AuditKind.TASK_ESCALATED, data__task=task.pk)
        assert [(e.data["level"], e.data["action"]) for e in events] == [
            (1, "notify"),
            (2, "raise_priority"),
        ]
        assert events[0].data["to"] == ["lead"]
        assert (events[1].data["before"], events[1].data["after"]) == ("normal", "high")
        task.refresh_from_db()
        assert task.priority == Priority.HIGH
        # One mail for the level, sent by a worker after commit.
        mails = Notification.objects.filter(task=task, kind=NotificationKind.ESCALATED)
        assert [m.recipient.username for m in mails] == ["lead"]
    # Both workers took part in the sweeping.
    assert all(sweeps_done(w) > 0 for w in workers)
