"""What people do with a task through the API: claim, release, complete, ask, delegate."""

import pytest

from orchestrate.models import AuditEvent, AuditKind, InstanceStatus
from tasks_inbox.models import Task, TaskStatus
from tasks_inbox.services.tasks import claim_task, complete_task
from tests.tasks_inbox.factories import approval_workflow, start

pytestmark = pytest.mark.django_db

TASKS = "/api/v1/tasks/"


def post(client, task, action, body=None):
    return client.post(f"{TASKS}{task.pk}/{action}/", body or {}, format="json")


def test_claim_gives_the_task_to_the_claimer(api, task):
    response = post(api("bob"), task, "claim")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"], body["assignee"]) == (task.pk, "claimed", "bob")
    assert body["actions"] == ["comment", "complete", "delegate", "release", "request_info"]
    assert body["conversation"] == []


def test_claiming_a_task_someone_else_holds_is_a_conflict(api, users, task):
    claim_task(task.pk, actor=users["bob"])

    response = post(api("carol"), task, "claim")

    assert response.status_code == 409
    assert response.json() == {"detail": "This task was already claimed by bob."}
    task.refresh_from_db()
    assert task.assignee == users["bob"]


def test_release_puts_the_task_back_in_the_queue(api, users, task):
    claim_task(task.pk, actor=users["bob"])

    response = post(api("bob"), task, "release")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["assignee"]) == ("open", None)
    assert AuditEvent.objects.filter(kind=AuditKind.TASK_RELEASED).count() == 1


def test_releasing_an_open_task_is_a_conflict(api, task):
    response = post(api("bob"), task, "release")

    assert response.status_code == 409
    assert response.json() == {"detail": "Nobody holds this task; there is nothing to release."}


def test_complete_decides_the_task_and_moves_the_instance_on(api, task):
    response = post(api("bob"), task, "complete", {"outcome": "approve", "comment": "Fine."})

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["outcome"], body["comment"], body["decided_by"]) == (
        "completed",
        "approve",
        "Fine.",
        "bob",
    )
    task.instance.refresh_from_db()
    assert (task.instance.status, task.instance.outcome) == (InstanceStatus.COMPLETED, "approved")
    completed = AuditEvent.objects.get(kind=AuditKind.TASK_COMPLETED)
    assert completed.data["channel"] == "api"


def test_completing_a_decided_task_names_the_decider(api, users, task):
    complete_task(task.pk, actor=users["bob"], outcome="approve")

    response = post(api("carol"), task, "complete", {"outcome": "reject", "comment": "No."})

    assert response.status_code == 409
    assert response.json() == {"detail": "This task was already decided by bob: approve."}


def test_reject_without_a_comment_is_a_field_error(api, task):
    response = post(api("bob"), task, "complete", {"outcome": "reject"})

    assert response.status_code == 400
    assert response.json() == {"comment": ["A comment is required to reject."]}
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_an_unknown_outcome_is_a_field_error(api, task):
    response = post(api("bob"), task, "complete", {"outcome": "maybe"})

    assert response.status_code == 400
    assert response.json() == {"outcome": ["Choose one of: approve, reject."]}


def test_wrong_types_are_field_errors_before_the_service_runs(api, task):
    response = post(
        api("bob"), task, "complete", {"outcome": ["approve"], "comment": {}, "data": "x"}
    )

    assert response.status_code == 400
    assert set(response.json()) == {"outcome", "comment", "data"}
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_form_errors_come_under_data(api, users):
    approval_workflow(
        "costed",
        form=[{"name": "cost_centre", "type": "string", "required": True}],
    )
    start("costed", users["alice"])
    task = Task.objects.get()
    bob = api("bob")

    missing = post(bob, task, "complete", {"outcome": "approve", "data": {"colour": "red"}})
    given = post(bob, task, "complete", {"outcome": "approve", "data": {"cost_centre": "IT-1"}})

    assert missing.status_code == 400
    assert missing.json() == {
        "data": {
            "colour": ["This task has no such field."],
            "cost_centre": ["This field is required."],
        }
    }
    assert given.status_code == 200
    task.instance.refresh_from_db()
    assert task.instance.variables["cost_centre"] == "IT-1"


def test_a_question_goes_to_the_initiator_and_the_answer_returns_the_task(api, users, task):
    claim_task(task.pk, actor=users["bob"])

    asked = post(api("bob"), task, "request-info", {"question": "Which model?"})

    assert asked.status_code == 201
    info = asked.json()
    assert (info["kind"], info["parent"], info["assignee"], info["status"]) == (
        "info",
        task.pk,
        "alice",
        "claimed",
    )
    assert info["description"] == "Which model?"
    task.refresh_from_db()
    assert task.status == TaskStatus.INFO_REQUESTED
    alice = api("alice")
    mine = alice.get(TASKS).json()["results"]
    assert [row["id"] for row in mine] == [info["id"]]

    answered = alice.post(
        f"{TASKS}{info['id']}/complete/", {"comment": "The 14-inch one."}, format="json"
    )

    assert answered.status_code == 200
    assert (answered.json()["status"], answered.json()["outcome"]) == ("completed", "answer")
    back = api("bob").get(f"{TASKS}{task.pk}/").json()
    assert (back["status"], back["assignee"]) == ("claimed", "bob")
    assert [(c["kind"], c["author"], c["text"]) for c in back["conversation"]] == [
        ("question", "bob", "Which model?"),
        ("answer", "alice", "The 14-inch one."),
    ]
    assert alice.get(TASKS).json()["results"] == []


def test_an_answer_needs_text(api, users, task):
    claim_task(task.pk, actor=users["bob"])
    info = post(api("bob"), task, "request-info", {"question": "Which model?"}).json()

    response = api("alice").post(f"{TASKS}{info['id']}/complete/", {}, format="json")

    assert response.status_code == 400
    assert response.json() == {"comment": ["Write your answer."]}


def test_a_question_to_an_unknown_person_is_a_field_error(api, task):
    response = post(api("bob"), task, "request-info", {"question": "Which?", "to": "nobody"})

    assert response.status_code == 400
    assert response.json() == {"to": ["There is no user 'nobody'."]}
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_a_blank_question_is_a_field_error(api, task):
    response = post(api("bob"), task, "request-info", {"question": "  "})

    assert response.status_code == 400
    assert response.json() == {"question": ["Write your question."]}


def test_delegate_hands_the_task_to_a_colleague(api, users, task):
    response = post(api("bob"), task, "delegate", {"to": "dave"})

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["assignee"]) == ("claimed", "dave")
    assert [row["id"] for row in api("dave").get(TASKS).json()["results"]] == [task.pk]
    delegated = AuditEvent.objects.get(kind=AuditKind.TASK_DELEGATED)
    assert delegated.data["to"] == "dave"


def test_delegating_to_an_unknown_person_is_a_field_error(api, task):
    response = post(api("bob"), task, "delegate", {"to": "nobody"})

    assert response.status_code == 400
    assert response.json() == {"to": ["There is no user 'nobody'."]}


def test_delegate_needs_a_person(api, task):
    response = post(api("bob"), task, "delegate", {})

    assert response.status_code == 400
    assert response.json() == {"to": ["This field is required."]}
