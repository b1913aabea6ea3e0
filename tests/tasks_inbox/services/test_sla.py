"""Due times, SLA state, reminders, escalation levels, the pause for a question, snooze
and the overdue digest, on a controlled clock."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from orchestrate.models import AuditEvent, AuditKind, InstanceStatus
from tasks_inbox.models import Priority, Profile, SlaState, Task, TaskStatus, TaskTimer
from tasks_inbox.services import sla
from tasks_inbox.services.errors import TaskConflict, TaskInvalid
from tasks_inbox.services.tasks import (
    claim_task,
    complete_task,
    delegate_task,
    release_task,
    request_info,
    snooze_task,
)
from tests.tasks_inbox.factories import approval_workflow, start

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)  # a Monday
HOUR = datetime.timedelta(hours=1)


def at(hours):
    return T0 + datetime.timedelta(hours=hours)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def task_of(key="approval"):
    return Task.objects.get(instance__definition__key=key, kind="decision")


def sweep(clock, hours):
    clock.move_to(at(hours))
    return sla.fire_due_timers(now=timezone.now())


def test_due_and_sla_state_move_from_on_track_to_at_risk_to_breached(clock, users):
    approval_workflow(due="PT8H")
    start("approval", users["alice"])
    task = task_of()
    assert task.due_at == at(8)
    assert task.at_risk_at == at(6)  # the last quarter
    assert task.sla_state(at(5)) == SlaState.ON_TRACK
    assert task.sla_state(at(6)) == SlaState.AT_RISK
    assert task.sla_state(at(8)) == SlaState.BREACHED
    assert task.due_explanation.startswith("due ")


def test_a_reminder_makes_the_task_at_risk_and_mails_the_holder(clock, users, broker, mailoutbox):
    approval_workflow(due="PT8H", reminders=["PT4H"], assign={"to": "bob"})
    start("approval", users["alice"])
    broker.drain()
    mailoutbox.clear()
    task = task_of()
    assert task.at_risk_at == at(4)
    assert sweep(clock, 3.9) == 0
    assert sweep(clock, 4) == 1
    assert sweep(clock, 5) == 0  # once
    broker.drain()
    assert [m.subject for m in mailoutbox] == ["Reminder: Approve laptop"]
    event = AuditEvent.objects.get(kind=AuditKind.TASK_REMINDED)
    assert event.data == {"task": task.pk, "level": 1}


ESCALATION = [
    {"after": "PT2H", "action": "notify", "to": {"user": "dave"}},
    {"after": "PT4H", "action": "raise_priority"},
    {"after": "PT6H", "action": "reassign", "to": {"group": "directors"}},
    {"after": "PT8H", "action": "complete", "outcome": "reject"},
]


def test_escalation_levels_fire_once_each_in_order(clock, users, broker, mailoutbox):
    approval_workflow(due="PT4H", escalation=ESCALATION)
    instance = start("approval", users["alice"])
    task = task_of()
    claim_task(task.pk, actor=users["bob"])
    broker.drain()
    assert sweep(clock, 2) == 1
    broker.drain()
    assert mailoutbox[-1].subject == "Late: Approve laptop"
    assert mailoutbox[-1].to == ["dave@example.com"]
    assert sweep(clock, 4) == 1
    task.refresh_from_db()
    assert task.priority == Priority.HIGH
    assert sweep(clock, 6) == 1
    task.refresh_from_db()
    assert (task.status, task.assignee, task.candidate_group.name) == (
        TaskStatus.OPEN,
        None,
        "directors",
    )
    assert sweep(clock, 8) == 1
    instance.refresh_from_db()
    assert instance.outcome == "rejected"
    task.refresh_from_db()
    assert (task.status, task.outcome, task.decided_by) == (TaskStatus.COMPLETED, "reject", None)
    assert instance.variables["decisions"]["review"]["by"] == "escalation"
    levels = [
        (e.data["level"], e.data["action"])
        for e in AuditEvent.objects.filter(kind=AuditKind.TASK_ESCALATED)
    ]
    assert levels == [(1, "notify"), (2, "raise_priority"), (3, "reassign"), (4, "complete")]
    assert sweep(clock, 20) == 0


def test_a_late_sweep_fires_every_due_level_in_order(clock, users):
    approval_workflow(due="PT4H", escalation=ESCALATION[:3])
    start("approval", users["alice"])
    assert sweep(clock, 7) == 3
    assert [t.level for t in TaskTimer.objects.order_by("fired_at", "id")] == [0, 1, 2]


def test_a_task_decided_meanwhile_is_left_alone(clock, users):
    approval_workflow(due="PT4H", escalation=ESCALATION)
    start("approval", users["alice"])
    task = task_of()
    complete_task(task.pk, actor=users["bob"], outcome="approve")
    assert sweep(clock, 10) == 0
    assert set(TaskTimer.objects.values_list("status", flat=True)) == {"skipped"}
    assert not AuditEvent.objects.filter(kind=AuditKind.TASK_ESCALATED).exists()


def test_a_cancelled_request_skips_its_timers(clock, users):
    from tasks_inbox.services.requests import withdraw_request

    approval_workflow(due="PT4H", escalation=ESCALATION)
    instance = start("approval", users["alice"])
    withdraw_request(instance.pk, actor=users["alice"], reason="no longer needed")
    assert set(TaskTimer.objects.values_list("status", flat=True)) == {"skipped"}
    assert sweep(clock, 10) == 0


def test_escalating_to_the_assignees_manager(clock, users, broker, mailoutbox):
    Profile.objects.create(user=users["bob"], manager=users["dave"])
    approval_workflow(
        due="PT4H",
        assign={"to": "bob"},
        escalation=[{"after": "PT1H", "action": "notify", "to": {"manager": "assignee"}}],
    )
    start("approval", users["alice"])
    broker.drain()
    mailoutbox.clear()
    sweep(clock, 1)
    broker.drain()
    assert [m.to for m in mailoutbox] == [["dave@example.com"]]


def test_reassigning_to_a_named_user_from_a_template(clock, users):
    approval_workflow(
        due="PT4H",
        escalation=[{"after": "PT1H", "action": "reassign", "to": {"user": "{{ backup }}"}}],
    )
    start("approval", users["alice"], backup="carol")
    sweep(clock, 1)
    task = task_of()
    assert (task.status, task.assignee) == (TaskStatus.CLAIMED, users["carol"])


def test_the_clock_stops_while_a_question_waits(clock, users):
    approval_workflow(due="PT8H", escalation=[{"after": "PT6H", "action": "raise_priority"}])
    start("approval", users["alice"])
    task = task_of()
    claim_task(task.pk, actor=users["bob"])
    clock.move_to(at(2))
    info = request_info(task.pk, actor=users["bob"], question="Which model?")
    task.refresh_from_db()
    assert task.sla_state(at(30)) == SlaState.ON_TRACK  # frozen as of the question
    assert sweep(clock, 7) == 0  # the level waits too
    clock.move_to(at(5))
    complete_task(info.pk, actor=users["alice"], comment="The X1")
    task.refresh_from_db()
    assert task.paused_seconds == 3 * 3600
    assert task.due_at == at(11)
    assert task.at_risk_at == at(9)
    assert TaskTimer.objects.get().due_at == at(9)
    kinds = list(AuditEvent.objects.filter(kind__startswith="sla.").values_list("kind", flat=True))
    assert kinds == [AuditKind.SLA_PAUSED, AuditKind.SLA_RESUMED]
    assert AuditEvent.objects.get(kind=AuditKind.SLA_RESUMED).data["paused_seconds"] == 10800
    assert sweep(clock, 8.9) == 0
    assert sweep(clock, 9) == 1


def test_snooze_hides_the_task_from_the_default_inbox_view(clock, users):
    from tasks_inbox.selectors.tasks import filter_tasks, inbox_for

    approval_workflow(assign={"to": "bob"})
    start("approval", users["alice"])
    task = task_of()
    with pytest.raises(TaskInvalid):
        snooze_task(task.pk, actor=users["bob"], until=at(-1))
    snooze_task(task.pk, actor=users["bob"], until=at(3))
    assert list(filter_tasks(inbox_for(users["bob"]), {})) == []
    assert list(filter_tasks(inbox_for(users["bob"]), {"snoozed": "1"})) == [task]
    clock.move_to(at(3))
    assert list(filter_tasks(inbox_for(users["bob"]), {})) == [task]
    assert AuditEvent.objects.get(kind=AuditKind.TASK_SNOOZED).data["until"] == at(3).isoformat()


def test_a_snooze_is_the_holders_and_ends_when_the_task_changes_hands(clock, users):
    from tasks_inbox.selectors.tasks import filter_tasks, inbox_for, queue_for

    approval_workflow()
    start("approval", users["alice"])
    task = task_of()
    claim_task(task.pk, actor=users["bob"])
    snooze_task(task.pk, actor=users["bob"], until=at(3))
    release_task(task.pk, actor=users["bob"])
    # Back in the queue, the task is there for carol to take, not hidden until bob's time.
    assert list(filter_tasks(queue_for(users["carol"]), {})) == [task]
    claim_task(task.pk, actor=users["carol"])
    snooze_task(task.pk, actor=users["carol"], until=at(3))
    delegate_task(task.pk, actor=users["carol"], to=users["bob"])
    assert list(filter_tasks(inbox_for(users["bob"]), {})) == [task]
    task.refresh_from_db()
    assert task.snoozed_until is None


def test_only_the_holder_snoozes(clock, users):
    approval_workflow()
    start("approval", users["alice"])
    with pytest.raises(TaskConflict, match="Only the person holding"):
        snooze_task(task_of().pk, actor=users["bob"], until=at(2))


def test_sorting_and_filtering_by_sla_state(clock, users):
    from tasks_inbox.selectors.tasks import filter_tasks, queue_for

    approval_workflow(key="slow", due="PT10H")
    approval_workflow(key="fast", due="PT2H")
    start("slow", users["alice"])
    start("fast", users["alice"])
    clock.move_to(at(1.8))
    ordered = [
        t.instance.definition.key for t in filter_tasks(queue_for(users["bob"]), {"sort": "sla"})
    ]
    assert ordered == ["fast", "slow"]
    at_risk = filter_tasks(queue_for(users["bob"]), {"sla": "at_risk"})
    assert [t.instance.definition.key for t in at_risk] == ["fast"]


def test_one_overdue_digest_per_person_and_day(clock, users, broker, mailoutbox):
    approval_workflow(due="PT1H", assign={"to": "bob"})
    start("approval", users["alice"], item="a desk")
    start("approval", users["alice"], item="a chair")
    broker.drain()
    mailoutbox.clear()
    clock.move_to(at(2))
    assert sla.queue_overdue_digests(now=timezone.now()) == 1
    assert sla.queue_overdue_digests(now=timezone.now()) == 0
    broker.drain()
    [mail] = mailoutbox
    assert mail.subject == "2 overdue tasks in your inbox"
    assert "Approve a desk" in mail.body and "Approve a chair" in mail.body
    clock.move_to(at(26))
    assert sla.queue_overdue_digests(now=timezone.now()) == 1


def test_business_due_times_skip_the_weekend_and_explain_it(users):
    friday = datetime.datetime(2026, 3, 6, 15, 0, tzinfo=datetime.UTC)
    approval_workflow(due="PT4H", business=True, reminders=["PT1H"])
    with time_machine.travel(friday, tick=False):
        start("approval", users["alice"])
    task = task_of()
    # Fri 15-17 is two working hours; two more on Monday from 09:00 (default calendar).
    assert task.due_at == datetime.datetime(2026, 3, 9, 11, 0, tzinfo=datetime.UTC)
    assert TaskTimer.objects.get().due_at == datetime.datetime(
        2026, 3, 9, 10, 0, tzinfo=datetime.UTC
    )
    assert "Sat" in task.due_explanation and "Sun" in task.due_explanation
    assert task.business


def test_a_workflow_naming_an_unknown_calendar_gets_an_incident(users):
    from orchestrate.models import StepRun

    version = approval_workflow(due="P1D", business=True)
    version.calendar = "moon"
    version.save(update_fields=["calendar"])
    instance = start("approval", users["alice"])
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.INCIDENT
    assert "moon" in StepRun.objects.get(step_key="review").error
