"""The task services: every rule of deciding, claiming, asking and handing over."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from guardian.shortcuts import assign_perm

from orchestrate.models import AuditEvent, AuditKind, InstanceStatus
from orchestrate.services.instances import suspend_instance
from tasks_inbox.models import CommentKind, Profile, Task, TaskComment, TaskKind, TaskStatus
from tasks_inbox.services.errors import TaskConflict, TaskForbidden, TaskInvalid, TaskNotFound
from tasks_inbox.services.tasks import (
    add_comment,
    claim_task,
    complete_task,
    complete_tasks,
    delegate_task,
    release_task,
    request_info,
    summarize,
)
from tests.tasks_inbox.factories import approval_workflow, people, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def users():
    return people()


@pytest.fixture
def task(broker, users):
    approval_workflow()
    start("approval", users["alice"])
    return Task.objects.get()


def refreshed(task):
    return Task.objects.get(pk=task.pk)


# --- claim and release ---------------------------------------------------------------------
def test_a_candidate_claims_and_releases(task, users):
    claim_task(task.pk, actor=users["bob"])
    assert refreshed(task).status == TaskStatus.CLAIMED
    assert refreshed(task).assignee == users["bob"]
    release_task(task.pk, actor=users["bob"])
    assert refreshed(task).status == TaskStatus.OPEN
    assert refreshed(task).assignee is None
    kinds = list(
        AuditEvent.objects.filter(kind__startswith="task.").values_list("kind", "actor_label")
    )
    assert kinds[-2:] == [(AuditKind.TASK_CLAIMED, "bob"), (AuditKind.TASK_RELEASED, "bob")]


def test_claiming_a_task_someone_holds_names_them(task, users):
    claim_task(task.pk, actor=users["bob"])
    with pytest.raises(TaskConflict, match="already claimed by bob"):
        claim_task(task.pk, actor=users["carol"])
    assert claim_task(task.pk, actor=users["bob"]).assignee == users["bob"]  # idempotent


def test_only_the_holder_releases(task, users):
    claim_task(task.pk, actor=users["bob"])
    with pytest.raises(TaskConflict, match="bob is working on this task"):
        release_task(task.pk, actor=users["carol"])


def test_a_directly_assigned_task_cannot_be_released(broker, users):
    approval_workflow(assign={"to": "dave"})
    start("approval", users["alice"])
    with pytest.raises(TaskConflict, match="delegate it instead"):
        release_task(Task.objects.get().pk, actor=users["dave"])


# --- deciding ---------------------------------------------------------------------------------
def test_approve_moves_the_instance_on_and_records_the_decision(task, users):
    complete_task(task.pk, actor=users["bob"], outcome="approve", comment="fine")
    task = refreshed(task)
    assert task.status == TaskStatus.COMPLETED
    assert (task.outcome, task.decided_by, task.comment) == ("approve", users["bob"], "fine")
    instance = task.instance
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.outcome == "approved"
    decision = instance.variables["decisions"]["review"]
    assert decision["outcome"] == "approve"
    assert decision["by"] == "bob"
    assert decision["comment"] == "fine"
    assert TaskComment.objects.get(task=task).kind == CommentKind.DECISION


def test_reject_needs_a_comment_and_nothing_is_written_without_one(task, users):
    with pytest.raises(TaskInvalid) as refused:
        complete_task(task.pk, actor=users["bob"], outcome="reject")
    assert refused.value.errors == {"comment": "A comment is required to reject."}
    assert refreshed(task).status == TaskStatus.OPEN
    assert not AuditEvent.objects.filter(kind=AuditKind.TASK_COMPLETED).exists()
    complete_task(task.pk, actor=users["bob"], outcome="reject", comment="too expensive")
    task.instance.refresh_from_db()
    assert task.instance.outcome == "rejected"


def test_an_outcome_the_step_does_not_have_is_refused(task, users):
    with pytest.raises(TaskInvalid) as refused:
        complete_task(task.pk, actor=users["bob"], outcome="maybe")
    assert refused.value.errors["outcome"] == "Choose one of: approve, reject."


def test_custom_outcomes(broker, users):
    approval_workflow(outcomes=["approve", "reject", "escalate"])
    start("approval", users["alice"])
    task = Task.objects.get()
    assert task.outcomes == ["approve", "reject", "escalate"]


def test_form_values_are_validated_and_merged_into_the_variables(broker, users):
    approval_workflow(
        form=[
            {"name": "cost_center", "type": "string", "label": "Cost centre", "required": True},
            {"name": "approved_amount", "type": "number", "min": 0},
        ]
    )
    instance = start("approval", users["alice"])
    task = Task.objects.get()
    with pytest.raises(TaskInvalid) as refused:
        complete_task(
            task.pk, actor=users["bob"], outcome="approve", data={"approved_amount": "-3"}
        )
    assert refused.value.errors == {
        "cost_center": "This field is required.",
        "approved_amount": "Must be at least 0.",
    }
    with pytest.raises(TaskInvalid) as refused:
        complete_task(
            task.pk,
            actor=users["bob"],
            outcome="approve",
            data={"cost_center": "CC-1", "approved_amount": "lots"},
        )
    assert refused.value.errors == {"approved_amount": "Enter a number."}
    complete_task(
        task.pk,
        actor=users["bob"],
        outcome="approve",
        data={"cost_center": " CC-7 ", "approved_amount": "1200.5"},
    )
    instance.refresh_from_db()
    assert instance.variables["cost_center"] == "CC-7"
    assert instance.variables["approved_amount"] == 1200.5


def test_a_rejection_does_not_need_the_required_form_fields(broker, users):
    approval_workflow(form=[{"name": "cost_center", "required": True}])
    start("approval", users["alice"])
    task = Task.objects.get()
    complete_task(task.pk, actor=users["bob"], outcome="reject", comment="no")
    assert refreshed(task).status == TaskStatus.COMPLETED


def test_unknown_form_fields_are_refused(task, users):
    with pytest.raises(TaskInvalid) as refused:
        complete_task(task.pk, actor=users["bob"], outcome="approve", data={"x": 1})
    assert refused.value.errors == {"x": "This task has no such field."}


def test_a_decided_task_says_who_decided_it(task, users):
    complete_task(task.pk, actor=users["bob"], outcome="approve")
    with pytest.raises(TaskConflict, match=r"already decided by bob: approve"):
        complete_task(task.pk, actor=users["carol"], outcome="approve")
    with pytest.raises(TaskConflict, match=r"already decided by you"):
        complete_task(task.pk, actor=users["bob"], outcome="approve")


def test_a_candidate_cannot_decide_a_task_a_colleague_holds(task, users):
    claim_task(task.pk, actor=users["bob"])
    with pytest.raises(TaskConflict, match="bob is working on this task"):
        complete_task(task.pk, actor=users["carol"], outcome="approve")


def test_an_open_task_is_claimed_by_deciding_it(task, users):
    complete_task(task.pk, actor=users["carol"], outcome="approve")
    assert refreshed(task).assignee == users["carol"]


def test_a_suspended_workflow_takes_no_decision(task, users):
    suspend_instance(task.instance_id, actor=users["dave"])
    with pytest.raises(TaskConflict, match="suspended"):
        complete_task(task.pk, actor=users["bob"], outcome="approve")


# --- four-eyes and visibility ---------------------------------------------------------------
def test_the_excluded_initiator_cannot_see_or_do_anything(task, users):
    alice = users["alice"]
    alice.groups.add(users["bob"].groups.get())  # alice is a manager herself
    for action in ACTIONS:
        with pytest.raises(TaskNotFound):
            action(task.pk, alice)


ACTIONS = [
    lambda pk, u: claim_task(pk, actor=u),
    lambda pk, u: release_task(pk, actor=u),
    lambda pk, u: complete_task(pk, actor=u, outcome="approve"),
    lambda pk, u: request_info(pk, actor=u, question="?"),
    lambda pk, u: delegate_task(pk, actor=u, to="carol"),
    lambda pk, u: add_comment(pk, actor=u, text="hello"),
]


@pytest.mark.parametrize(
    "action", ACTIONS, ids=["claim", "release", "complete", "ask", "delegate", "comment"]
)
def test_a_stranger_gets_not_found_for_every_action(task, users, action):
    with pytest.raises(TaskNotFound):
        action(task.pk, users["erin"])
    assert refreshed(task).status == TaskStatus.OPEN


def test_a_granted_view_permission_shows_but_does_not_allow_acting(task, users):
    assign_perm("tasks_inbox.view_task", users["erin"], task)
    with pytest.raises(TaskForbidden):
        claim_task(task.pk, actor=users["erin"])
    add_comment(task.pk, actor=users["erin"], text="following this")


def test_a_granted_change_permission_allows_acting(task, users):
    assign_perm("tasks_inbox.change_task", users["erin"], task)
    complete_task(task.pk, actor=users["erin"], outcome="approve")
    assert refreshed(task).decided_by == users["erin"]


def test_a_global_change_permission_allows_acting_on_every_task(task, users):
    users["erin"].user_permissions.add(Permission.objects.get(codename="change_task"))
    claim_task(task.pk, actor=users["erin"])
    assert refreshed(task).assignee == users["erin"]


def test_delegating_to_an_excluded_person_is_refused(task, users):
    with pytest.raises(TaskInvalid) as refused:
        delegate_task(task.pk, actor=users["bob"], to="alice")
    assert refused.value.errors == {"to": "alice may not take this task (separation of duties)."}


# --- delegation and substitutes -------------------------------------------------------------
def test_delegating_hands_the_task_over_and_mails_the_colleague(task, users, broker, mailoutbox):
    claim_task(task.pk, actor=users["bob"])
    delegate_task(task.pk, actor=users["bob"], to="dave", comment="you know this vendor")
    task = refreshed(task)
    assert task.assignee == users["dave"]
    assert task.status == TaskStatus.CLAIMED
    event = AuditEvent.objects.get(kind=AuditKind.TASK_DELEGATED)
    assert event.data["previous"] == "bob"
    assert event.data["to"] == "dave"
    broker.drain()
    assert [m.to for m in mailoutbox] == [["dave@example.com"]]
    complete_task(task.pk, actor=users["dave"], outcome="approve")


def test_delegating_to_nobody_known_is_refused(task, users):
    with pytest.raises(TaskInvalid) as refused:
        delegate_task(task.pk, actor=users["bob"], to="zed")
    assert refused.value.errors == {"to": "There is no user 'zed'."}


def away(user, substitute):
    today = timezone.localdate()
    return Profile.objects.create(
        user=user,
        absent_from=today,
        absent_until=today + datetime.timedelta(days=2),
        substitute=substitute,
    )


def test_a_substitute_decides_on_behalf_of_the_absent_assignee(broker, users):
    approval_workflow(assign={"to": "dave"})
    instance = start("approval", users["alice"])
    away(users["dave"], users["erin"])
    task = Task.objects.get()
    complete_task(task.pk, actor=users["erin"], outcome="approve")
    task = refreshed(task)
    assert task.decided_by == users["erin"]
    assert task.decided_on_behalf_of == users["dave"]
    event = AuditEvent.objects.get(kind=AuditKind.TASK_COMPLETED)
    assert event.actor_label == "erin on behalf of dave"
    instance.refresh_from_db()
    assert instance.variables["decisions"]["review"]["on_behalf_of"] == "dave"


def test_a_substitute_claims_from_the_absent_persons_queue(task, users):
    away(users["bob"], users["erin"])
    claim_task(task.pk, actor=users["erin"])
    assert AuditEvent.objects.get(kind=AuditKind.TASK_CLAIMED).actor_label == (
        "erin on behalf of bob"
    )


def test_a_substitute_is_nobody_once_the_absence_is_over(broker, users):
    approval_workflow(assign={"to": "dave"})
    start("approval", users["alice"])
    profile = away(users["dave"], users["erin"])
    profile.absent_until = timezone.localdate() - datetime.timedelta(days=1)
    profile.absent_from = profile.absent_until - datetime.timedelta(days=3)
    profile.save()
    with pytest.raises(TaskNotFound):
        complete_task(Task.objects.get().pk, actor=users["erin"], outcome="approve")


# --- request information ---------------------------------------------------------------------
def test_question_goes_to_the_initiator_and_the_answer_returns_the_task(
    task, users, broker, mailoutbox
):
    claim_task(task.pk, actor=users["bob"])
    info = request_info(task.pk, actor=users["bob"], question="Which model exactly?")
    assert refreshed(task).status == TaskStatus.INFO_REQUESTED
    assert (info.kind, info.assignee, info.parent_id) == (TaskKind.INFO, users["alice"], task.pk)
    broker.drain()
    assert mailoutbox[-1].to == ["alice@example.com"]
    with pytest.raises(TaskConflict, match="waits for the answer"):
        complete_task(task.pk, actor=users["bob"], outcome="approve")
    with pytest.raises(TaskInvalid):
        complete_task(info.pk, actor=users["alice"])
    complete_task(info.pk, actor=users["alice"], comment="The X1 Carbon")
    task = refreshed(task)
    assert task.status == TaskStatus.CLAIMED
    assert task.assignee == users["bob"]
    conversation = list(TaskComment.objects.filter(task=task).values_list("kind", "text"))
    assert conversation == [
        (CommentKind.QUESTION, "Which model exactly?"),
        (CommentKind.ANSWER, "The X1 Carbon"),
    ]
    broker.drain()
    assert mailoutbox[-1].to == ["bob@example.com"]
    complete_task(task.pk, actor=users["bob"], outcome="approve")


def test_question_to_a_named_person(task, users):
    info = request_info(task.pk, actor=users["bob"], question="Budget?", to="dave")
    assert info.assignee == users["dave"]
    assert refreshed(task).assignee == users["bob"]  # asking claims an open task


def test_question_without_text_or_to_oneself_is_refused(task, users):
    with pytest.raises(TaskInvalid) as refused:
        request_info(task.pk, actor=users["bob"], question=" ", to="bob")
    assert refused.value.errors == {
        "question": "Write your question.",
        "to": "You cannot ask yourself; name someone else.",
    }


def test_a_step_may_forbid_questions(broker, users):
    approval_workflow(request_info=False)
    start("approval", users["alice"])
    with pytest.raises(TaskConflict, match="does not allow questions"):
        request_info(Task.objects.get().pk, actor=users["bob"], question="?")


def test_request_info_to_from_the_step(broker, users):
    approval_workflow(request_info={"to": "{{ buyer }}"})
    start("approval", users["alice"], buyer="dave")
    info = request_info(Task.objects.get(kind="decision").pk, actor=users["bob"], question="?")
    assert info.assignee == users["dave"]


# --- approvers --------------------------------------------------------------------------------
def test_policy_all_needs_every_approval(broker, users):
    approval_workflow(approvers={"users": ["bob", "carol"], "policy": "all"})
    instance = start("approval", users["alice"])
    bob_task = Task.objects.get(assignee=users["bob"])
    carol_task = Task.objects.get(assignee=users["carol"])
    complete_task(bob_task.pk, actor=users["bob"], outcome="approve")
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RUNNING
    assert [d["by"] for d in instance.variables["decisions"]["review"]] == ["bob"]
    complete_task(carol_task.pk, actor=users["carol"], outcome="approve")
    instance.refresh_from_db()
    assert instance.outcome == "approved"
    assert [d["by"] for d in instance.variables["decisions"]["review"]] == ["bob", "carol"]


def test_one_rejection_rejects_and_cancels_the_other_tasks(broker, users):
    approval_workflow(approvers={"users": ["bob", "carol", "dave"], "policy": "all"})
    instance = start("approval", users["alice"])
    complete_task(
        Task.objects.get(assignee=users["carol"]).pk,
        actor=users["carol"],
        outcome="reject",
        comment="no",
    )
    instance.refresh_from_db()
    assert instance.outcome == "rejected"
    statuses = dict(Task.objects.values_list("assignee__username", "status"))
    assert statuses == {"bob": "cancelled", "carol": "completed", "dave": "cancelled"}


def test_policy_any_and_quorum(broker, users):
    approval_workflow(
        approvers={"users": ["bob", "carol", "dave"], "policy": "quorum", "quorum": 2}
    )
    instance = start("approval", users["alice"])
    complete_task(Task.objects.get(assignee=users["bob"]).pk, actor=users["bob"], outcome="approve")
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RUNNING
    complete_task(
        Task.objects.get(assignee=users["dave"]).pk, actor=users["dave"], outcome="approve"
    )
    instance.refresh_from_db()
    assert instance.outcome == "approved"
    assert Task.objects.get(assignee=users["carol"]).status == TaskStatus.CANCELLED

    approval_workflow(key="any", approvers={"users": ["bob", "carol"], "policy": "any"})
    other = start("any", users["alice"])
    task = Task.objects.get(instance=other, assignee=users["carol"])
    complete_task(task.pk, actor=users["carol"], outcome="approve")
    other.refresh_from_db()
    assert other.outcome == "approved"


# --- bulk ---------------------------------------------------------------------------------------
def test_bulk_approve_checks_each_task_on_its_own(broker, users):
    approval_workflow()
    for _ in range(3):
        start("approval", users["alice"])
    first, second, third = Task.objects.order_by("id")
    complete_task(third.pk, actor=users["carol"], outcome="approve")
    results = complete_tasks([first.pk, second.pk, third.pk], actor=users["bob"], outcome="approve")
    assert [r.ok for r in results] == [True, True, False]
    assert summarize(results, "approve") == (
        f"2 approved, 1 refused: #{third.pk} already decided by carol: approve."
    )
    assert (
        AuditEvent.objects.filter(kind=AuditKind.TASK_COMPLETED, data__channel="bulk").count() == 2
    )


def test_bulk_refuses_tasks_that_need_their_form(broker, users):
    approval_workflow(form=[{"name": "cost_center", "required": True}])
    start("approval", users["alice"])
    [result] = complete_tasks([Task.objects.get().pk], actor=users["bob"], outcome="approve")
    assert not result.ok
    assert "form" in result.message
