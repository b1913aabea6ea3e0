"""Who gets the task of a human step: groups, one person, strategies, separation of
duties, approvers and absence."""

import datetime

import pytest
from django.utils import timezone

from orchestrate.models import AuditEvent, AuditKind, InstanceStatus, StepRun
from orchestrate.services.instances import cancel_instance
from tasks_inbox.models import Priority, Profile, Task, TaskStatus
from tasks_inbox.services.tasks import complete_task
from tests.factories import edges, workflow
from tests.tasks_inbox.factories import approval_workflow, people, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def users():
    return people()


def test_group_task_waits_in_the_queue_with_rendered_title_and_due(broker, users):
    approval_workflow(due="P2D", priority="high")
    before = timezone.now()
    instance = start("approval", users["alice"], item="a laptop")
    task = Task.objects.get()
    assert task.status == TaskStatus.OPEN
    assert task.assignee is None
    assert task.candidate_group.name == "managers"
    assert task.title == "Approve a laptop"
    assert task.description == "Requested by alice"
    assert task.priority == Priority.HIGH
    assert before + datetime.timedelta(days=2) <= task.due_at
    assert task.outcomes == ["approve", "reject"]
    assert task.instance == instance
    assert task.step_run == StepRun.objects.get(step_key="review")
    created = AuditEvent.objects.get(kind=AuditKind.TASK_CREATED)
    assert created.data["candidate_group"] == "managers"


def test_to_assigns_one_person_from_a_template(broker, users):
    approval_workflow(assign={"to": "{{ approver }}"})
    start("approval", users["alice"], approver="dave")
    task = Task.objects.get()
    assert task.status == TaskStatus.CLAIMED
    assert task.assignee == users["dave"]


def test_unknown_assignee_is_an_incident_with_the_reason(broker, users):
    approval_workflow(assign={"to": "{{ approver }}"})
    instance = start("approval", users["alice"], approver="nobody")
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.INCIDENT
    assert "there is no user 'nobody'" in StepRun.objects.get(step_key="review").error
    assert not Task.objects.exists()


def test_unknown_group_is_an_incident(broker, users):
    approval_workflow(assign={"group": "auditors"})
    instance = start("approval", users["alice"])
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.INCIDENT
    assert "no group 'auditors'" in StepRun.objects.get(step_key="review").error


def test_initiator_is_excluded_and_a_group_of_only_the_initiator_is_an_incident(broker, users):
    approval_workflow(assign={"group": "directors", "exclude": ["initiator"]})
    instance = start("approval", users["dave"])
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.INCIDENT
    assert "nobody in group 'directors'" in StepRun.objects.get(step_key="review").error


def test_round_robin_takes_turns_among_members(broker, users):
    approval_workflow(assign={"group": "managers", "strategy": "round_robin"})
    for _ in range(3):
        start("approval", users["alice"])
    assignees = [t.assignee.username for t in Task.objects.order_by("id")]
    assert assignees == ["bob", "carol", "bob"]


def test_round_robin_skips_the_excluded_initiator(broker, users):
    approval_workflow(
        assign={"group": "managers", "strategy": "round_robin", "exclude": ["initiator"]}
    )
    start("approval", users["bob"])
    start("approval", users["bob"])
    assert [t.assignee.username for t in Task.objects.order_by("id")] == ["carol", "carol"]


def test_least_loaded_picks_the_member_with_fewest_live_tasks(broker, users):
    approval_workflow(key="other", assign={"to": "bob"})
    start("other", users["alice"])
    start("other", users["alice"])
    approval_workflow(assign={"group": "managers", "strategy": "least_loaded"})
    start("approval", users["alice"])
    assert Task.objects.filter(step_key="review").latest("id").assignee == users["carol"]


def test_previous_approvers_are_excluded_from_the_next_step(broker, users):
    users["carol"].groups.add(users["dave"].groups.get())  # carol is a director too
    workflow(
        "two_levels",
        [
            {"key": "start", "type": "start"},
            {"key": "first", "type": "human", "assign": {"group": "managers"}},
            {
                "key": "second",
                "type": "human",
                "assign": {"group": "directors", "exclude": ["previous_approvers"]},
            },
            {"key": "end", "type": "end"},
        ],
        edges("start>first", "first>second:approve", "second>end:approve"),
    )
    start("two_levels", users["alice"])
    first = Task.objects.get(step_key="first")
    complete_task(first.pk, actor=users["carol"], outcome="approve")
    second = Task.objects.get(step_key="second")
    assert list(second.excluded_users.all()) == [users["carol"]]


def test_approvers_get_one_task_each(broker, users):
    approval_workflow(approvers={"users": ["bob", "carol", "dave"], "policy": "all"})
    start("approval", users["alice"])
    tasks = Task.objects.order_by("assignee__username")
    assert [t.assignee.username for t in tasks] == ["bob", "carol", "dave"]
    assert all(t.status == TaskStatus.CLAIMED for t in tasks)


def test_approvers_from_a_group(broker, users):
    approval_workflow(approvers={"group": "managers", "policy": "any"})
    start("approval", users["alice"])
    assert sorted(t.assignee.username for t in Task.objects.all()) == ["bob", "carol"]


def test_absent_person_hands_new_tasks_to_the_substitute(broker, users):
    today = timezone.localdate()
    Profile.objects.create(
        user=users["dave"],
        absent_from=today - datetime.timedelta(days=1),
        absent_until=today + datetime.timedelta(days=3),
        substitute=users["erin"],
    )
    approval_workflow(assign={"to": "dave"})
    start("approval", users["alice"])
    task = Task.objects.get()
    assert task.assignee == users["erin"]
    event = AuditEvent.objects.get(kind=AuditKind.TASK_SUBSTITUTED)
    assert event.data == {"task": task.pk, "absent": "dave", "substitute": "erin"}


def test_absence_in_the_future_changes_nothing(broker, users):
    today = timezone.localdate()
    Profile.objects.create(
        user=users["dave"],
        absent_from=today + datetime.timedelta(days=5),
        absent_until=today + datetime.timedelta(days=9),
        substitute=users["erin"],
    )
    approval_workflow(assign={"to": "dave"})
    start("approval", users["alice"])
    assert Task.objects.get().assignee == users["dave"]


def test_cancelling_the_instance_cancels_its_tasks(broker, users):
    approval_workflow()
    instance = start("approval", users["alice"])
    cancel_instance(instance.pk, actor=users["alice"], reason="not needed")
    task = Task.objects.get()
    assert task.status == TaskStatus.CANCELLED
    assert AuditEvent.objects.filter(kind=AuditKind.TASK_CANCELLED).count() == 1


def _time_out(run):
    from orchestrate.services.steps import wake_step_run

    run.due_at = timezone.now() - datetime.timedelta(seconds=1)
    run.save(update_fields=["due_at"])
    wake_step_run(run.pk)


def test_a_step_timeout_expires_the_task_and_takes_the_timeout_path(broker, users):
    workflow(
        "timed",
        [
            {"key": "start", "type": "start"},
            {"key": "review", "type": "human", "assign": {"group": "managers"}, "timeout": "PT1H"},
            {"key": "done", "type": "end"},
            {"key": "late", "type": "end", "outcome": "late"},
        ],
        edges("start>review", "review>done:approve", "review>late:timeout"),
    )
    instance = start("timed", users["alice"])
    _time_out(StepRun.objects.get(step_key="review"))
    assert Task.objects.get().status == TaskStatus.EXPIRED
    instance.refresh_from_db()
    assert instance.outcome == "late"
    assert AuditEvent.objects.get(kind=AuditKind.TASK_EXPIRED).data["reason"] == (
        "the step timed out"
    )


def test_a_timeout_without_a_path_is_an_incident_and_closes_the_task(broker, users):
    approval_workflow(timeout="PT1H")
    instance = start("approval", users["alice"])
    run = StepRun.objects.get(step_key="review")
    _time_out(run)
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.INCIDENT
    run.refresh_from_db()
    assert run.error == "no transition from 'review' for outcome 'timeout'"
    assert Task.objects.get().status == TaskStatus.CANCELLED


def test_retrying_an_incident_on_a_human_step_makes_a_fresh_task(broker, users):
    from orchestrate.services.instances import retry_incident

    approval_workflow(assign={"to": "{{ approver }}"})
    instance = start("approval", users["alice"], approver="nobody")
    instance.variables["approver"] = "dave"
    instance.save(update_fields=["variables"])
    retry_incident(instance.pk, actor=users["dave"])
    task = Task.objects.get()
    assert task.assignee == users["dave"]
    assert task.status == TaskStatus.CLAIMED


def test_an_absent_approver_keeps_the_vote_and_the_substitute_casts_it(broker, users):
    from tasks_inbox.selectors.tasks import inbox_for

    today = timezone.localdate()
    Profile.objects.create(
        user=users["carol"], absent_from=today, absent_until=today, substitute=users["erin"]
    )
    approval_workflow(approvers={"users": ["bob", "carol"], "policy": "all"})
    instance = start("approval", users["alice"])
    carols = Task.objects.get(assignee=users["carol"])
    assert list(inbox_for(users["erin"])) == [carols]
    complete_task(carols.pk, actor=users["erin"], outcome="approve")
    complete_task(Task.objects.get(assignee=users["bob"]).pk, actor=users["bob"], outcome="approve")
    instance.refresh_from_db()
    votes = instance.variables["decisions"]["review"]
    assert [(v["by"], v.get("on_behalf_of")) for v in votes] == [("erin", "carol"), ("bob", None)]
