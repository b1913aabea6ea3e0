"""Two people deciding the same task at the same moment: exactly one wins, the other is
told who was first. Needs PostgreSQL (real row locks across connections)."""

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from orchestrate.models import AuditEvent, AuditKind, InstanceStatus
from tasks_inbox.models import Task, TaskStatus, TaskTimer
from tasks_inbox.services.errors import TaskConflict
from tasks_inbox.services.sla import fire_due_timers
from tasks_inbox.services.tasks import claim_task, complete_task
from tests.services import require_postgres
from tests.tasks_inbox.factories import approval_workflow, people, start

pytestmark = pytest.mark.django_db(transaction=True)


def _race(*calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            call()
            results[index] = "ok"
        except TaskConflict as exc:
            results[index] = exc.message
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_approvals_at_once_exactly_one_wins(broker):
    require_postgres()
    users = people()
    approval_workflow()
    instance = start("approval", users["alice"])
    task = Task.objects.get()
    results = _race(
        lambda: complete_task(task.pk, actor=users["bob"], outcome="approve"),
        lambda: complete_task(task.pk, actor=users["carol"], outcome="approve"),
    )
    assert results.count("ok") == 1
    [loser] = [r for r in results if r != "ok"]
    winner = Task.objects.get().decided_by.username
    assert loser == f"This task was already decided by {winner}: approve."
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert AuditEvent.objects.filter(kind=AuditKind.TASK_COMPLETED).count() == 1
    assert AuditEvent.objects.filter(kind=AuditKind.INSTANCE_COMPLETED).count() == 1


def test_two_claims_at_once_exactly_one_holds_it(broker):
    require_postgres()
    users = people()
    approval_workflow()
    start("approval", users["alice"])
    task = Task.objects.get()
    results = _race(
        lambda: claim_task(task.pk, actor=users["bob"]),
        lambda: claim_task(task.pk, actor=users["carol"]),
    )
    assert results.count("ok") == 1
    task.refresh_from_db()
    assert task.status == TaskStatus.CLAIMED
    assert results.count(f"This task was already claimed by {task.assignee.username}.") == 1


def test_two_sweeps_at_once_fire_each_level_exactly_once(broker):
    require_postgres()
    users = people()
    approval_workflow(
        escalation=[
            {"after": "PT1M", "action": "raise_priority"},
            {"after": "PT2M", "action": "raise_priority"},
        ]
    )
    for _ in range(5):
        start("approval", users["alice"])
    later = timezone.now() + datetime.timedelta(minutes=5)
    results = _race(
        lambda: fire_due_timers(now=later),
        lambda: fire_due_timers(now=later),
        lambda: fire_due_timers(now=later),
    )
    assert results == ["ok", "ok", "ok"]
    assert AuditEvent.objects.filter(kind=AuditKind.TASK_ESCALATED).count() == 10
    assert set(TaskTimer.objects.values_list("status", flat=True)) == {"fired"}
    assert set(Task.objects.values_list("priority", flat=True)) == {40}  # normal → urgent
