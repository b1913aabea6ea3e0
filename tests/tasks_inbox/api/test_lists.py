"""The task lists (mine, queue, done), their filters, and one task's fields."""

import pytest

from tasks_inbox.models import Priority, Task
from tasks_inbox.services.tasks import claim_task, complete_task, request_info
from tests.factories import GroupFactory
from tests.tasks_inbox.factories import approval_workflow, start

pytestmark = pytest.mark.django_db

TASKS = "/api/v1/tasks/"


def ids(client, **params):
    response = client.get(TASKS, params)
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def test_a_four_eyes_task_is_in_the_other_managers_queues_only(api, users):
    users["alice"].groups.add(GroupFactory(name="managers"))
    approval_workflow()
    start("approval", users["alice"])
    task = Task.objects.get()

    assert ids(api("alice"), scope="queue") == []
    assert ids(api("bob"), scope="queue") == [task.pk]
    assert ids(api("carol"), scope="queue") == [task.pk]
    assert ids(api("dave"), scope="queue") == []


def test_a_claimed_task_moves_to_the_holders_list_and_out_of_the_queue(api, users, task):
    claim_task(task.pk, actor=users["bob"])

    assert ids(api("bob")) == [task.pk]  # mine is the default scope
    assert ids(api("bob"), scope="mine") == [task.pk]
    assert ids(api("bob"), scope="queue") == []
    assert ids(api("carol"), scope="queue") == []
    assert ids(api("carol"), scope="mine") == []


def test_a_decided_task_is_in_the_deciders_done_list(api, users, task):
    complete_task(task.pk, actor=users["bob"], outcome="approve")

    assert ids(api("bob"), scope="done") == [task.pk]
    assert ids(api("bob"), scope="mine") == []
    assert ids(api("carol"), scope="done") == []


def test_an_unknown_scope_is_a_field_error(api, task):
    response = api("bob").get(TASKS, {"scope": "everything"})

    assert response.status_code == 400
    assert response.json() == {"scope": ['"everything" is not a valid choice.']}


@pytest.mark.parametrize("param", ["priority", "due", "sort"])
def test_an_unknown_filter_value_is_a_field_error(api, task, param):
    response = api("bob").get(TASKS, {"scope": "queue", param: "bogus"})

    assert response.status_code == 400
    assert list(response.json()) == [param]


def test_filters_narrow_the_list(api, users, task):
    approval_workflow("purchase", priority="urgent")
    start("purchase", users["alice"], item="a desk")
    urgent = Task.objects.get(instance__definition__key="purchase")
    bob = api("bob")

    assert ids(bob, scope="queue") == [urgent.pk, task.pk]
    assert ids(bob, scope="queue", workflow="purchase") == [urgent.pk]
    assert ids(bob, scope="queue", priority="urgent") == [urgent.pk]
    assert ids(bob, scope="queue", priority="low") == []
    assert ids(bob, scope="queue", q="desk") == [urgent.pk]
    assert ids(bob, scope="queue", q=f"#{task.pk}") == [task.pk]
    assert ids(bob, scope="queue", sort="priority") == [urgent.pk, task.pk]
    assert ids(bob, scope="queue", sort="age") == [task.pk, urgent.pk]


def test_the_list_is_paginated(api, users, task):
    start("approval", users["alice"])

    response = api("bob").get(TASKS, {"scope": "queue", "page_size": 1})

    body = response.json()
    assert body["count"] == 2
    assert len(body["results"]) == 1
    assert body["next"]


def test_a_row_carries_what_the_inbox_shows(api, task):
    response = api("bob").get(TASKS, {"scope": "queue"})

    [row] = response.json()["results"]
    assert row == {
        "id": task.pk,
        "kind": "decision",
        "title": "Approve laptop",
        "description": "Requested by alice",
        "status": "open",
        "workflow": "approval",
        "step": "review",
        "instance": task.instance_id,
        "assignee": None,
        "candidate_group": "managers",
        "priority": "normal",
        "due_at": None,
        "sla_state": None,
        "at_risk_at": None,
        "due_explanation": "",
        "paused": False,
        "snoozed_until": None,
        "created_at": row["created_at"],
        "outcomes": ["approve", "reject"],
        "comment_required_for": ["reject"],
        "form": [],
        "outcome": "",
        "comment": "",
        "decided_by": None,
        "decided_on_behalf_of": None,
        "parent": None,
        "actions": ["claim", "comment", "complete", "delegate", "request_info"],
    }
    assert row["created_at"].startswith(str(task.created_at.year))


def test_the_detail_adds_the_conversation(api, users, task):
    Task.objects.filter(pk=task.pk).update(priority=Priority.HIGH)
    info = request_info(task.pk, actor=users["bob"], question="Which model?")

    response = api("bob").get(f"{TASKS}{task.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "info_requested"
    assert body["assignee"] == "bob"
    assert body["priority"] == "high"
    assert body["actions"] == ["comment"]
    assert [(c["kind"], c["author"], c["to"], c["text"]) for c in body["conversation"]] == [
        ("question", "bob", "alice", "Which model?")
    ]
    info_body = api("alice").get(f"{TASKS}{info.pk}/").json()
    assert info_body["kind"] == "info"
    assert info_body["parent"] == task.pk
    assert info_body["actions"] == ["comment", "complete"]
    assert info_body["conversation"] == body["conversation"]


def test_a_decided_task_shows_the_decision(api, users, task):
    complete_task(task.pk, actor=users["bob"], outcome="reject", comment="Too dear.")

    body = api("bob").get(f"{TASKS}{task.pk}/").json()

    assert body["status"] == "completed"
    assert (body["outcome"], body["comment"], body["decided_by"]) == (
        "reject",
        "Too dear.",
        "bob",
    )
    assert body["assignee"] == "bob"
    assert body["actions"] == ["comment"]
    assert [(c["kind"], c["text"]) for c in body["conversation"]] == [("decision", "Too dear.")]
