"""Time in the task API: the SLA fields, filtering and sorting by SLA state, snoozed
tasks, and snoozing, on a controlled clock."""

import datetime

import pytest
import time_machine
from django.core.management import call_command

from orchestrate.models import AuditEvent, AuditKind
from tasks_inbox.models import Task
from tasks_inbox.services.tasks import claim_task, complete_task, request_info, snooze_task
from tests.tasks_inbox.factories import approval_workflow, start

pytestmark = pytest.mark.django_db

TASKS = "/api/v1/tasks/"
T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)  # a Monday


def at(hours):
    return T0 + datetime.timedelta(hours=hours)


def iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def held(clock, users):
    """alice asks; bob holds the task, due in 8 hours."""
    approval_workflow(due="PT8H", assign={"to": "bob"})
    start("approval", users["alice"])
    return Task.objects.get()


def task_of(key):
    return Task.objects.get(instance__definition__key=key, kind="decision")


def ids(client, **params):
    response = client.get(TASKS, params)
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def test_a_task_carries_its_sla_state_beside_its_due_time(clock, api, held):
    body = api("bob").get(f"{TASKS}{held.pk}/").json()
    assert body["due_at"] == iso(at(8))
    assert body["sla_state"] == "on_track"
    assert body["at_risk_at"] == iso(at(6))
    assert body["due_explanation"] == held.due_explanation != ""
    assert body["paused"] is False
    assert body["snoozed_until"] is None

    clock.move_to(at(6))
    assert api("bob").get(TASKS).json()["results"][0]["sla_state"] == "at_risk"
    clock.move_to(at(8))
    assert api("bob").get(f"{TASKS}{held.pk}/").json()["sla_state"] == "breached"


def test_without_a_due_time_the_sla_state_is_null(api, task):
    body = api("bob").get(f"{TASKS}{task.pk}/").json()
    assert (body["due_at"], body["sla_state"], body["at_risk_at"]) == (None, None, None)
    assert body["due_explanation"] == ""


def test_the_clock_stands_still_while_a_question_waits(clock, api, users, held):
    clock.move_to(at(2))
    request_info(held.pk, actor=users["bob"], question="Which model?")
    clock.move_to(at(9))
    body = api("bob").get(f"{TASKS}{held.pk}/").json()
    assert (body["status"], body["paused"], body["sla_state"]) == (
        "info_requested",
        True,
        "on_track",
    )


def test_the_list_filters_and_sorts_by_sla_state(clock, api, users):
    approval_workflow(key="slow", due="PT10H")
    approval_workflow(key="fast", due="PT2H")
    start("slow", users["alice"])
    start("fast", users["alice"])
    slow, fast = task_of("slow"), task_of("fast")
    clock.move_to(at(1.8))
    bob = api("bob")

    assert ids(bob, scope="queue", sort="sla") == [fast.pk, slow.pk]
    assert ids(bob, scope="queue", sla="at_risk") == [fast.pk]
    assert ids(bob, scope="queue", sla="on_track") == [slow.pk]
    assert ids(bob, scope="queue", sla="breached") == []
    response = bob.get(TASKS, {"sla": "late"})
    assert response.status_code == 400 and "sla" in response.json()


def test_snoozed_tasks_are_left_out_unless_asked_for(clock, api, users, held):
    snooze_task(held.pk, actor=users["bob"], until=at(3))
    bob = api("bob")
    assert ids(bob) == []
    assert ids(bob, snoozed="true") == [held.pk]
    assert ids(bob, snoozed="false") == []
    clock.move_to(at(3))
    assert ids(bob) == [held.pk]


def test_the_holder_snoozes_and_wakes_a_task(clock, api, held):
    bob = api("bob")
    response = bob.post(f"{TASKS}{held.pk}/snooze/", {"until": iso(at(4))}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["snoozed_until"] == iso(at(4))
    event = AuditEvent.objects.get(kind=AuditKind.TASK_SNOOZED)
    assert (event.actor_label, event.data["until"]) == ("bob", at(4).isoformat())

    response = bob.post(f"{TASKS}{held.pk}/snooze/", {"until": None}, format="json")
    assert response.status_code == 200
    assert response.json()["snoozed_until"] is None
    held.refresh_from_db()
    assert held.snoozed_until is None


@pytest.mark.parametrize(
    ("body", "field"),
    [({"until": "2026-03-02T08:00:00Z"}, "until"), ({}, "until"), ({"until": "soon"}, "until")],
)
def test_a_snooze_needs_a_time_in_the_future_or_null(clock, api, held, body, field):
    response = api("bob").post(f"{TASKS}{held.pk}/snooze/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_only_the_holder_snoozes(clock, api, users, task):
    url = f"{TASKS}{task.pk}/snooze/"
    body = {"until": iso(at(2))}
    assert api("bob").post(url, body, format="json").status_code == 409  # nobody holds it
    claim_task(task.pk, actor=users["bob"])
    assert api("carol").post(url, body, format="json").status_code == 409
    assert api("erin").post(url, body, format="json").status_code == 404
    complete_task(task.pk, actor=users["bob"], outcome="approve")
    assert api("bob").post(url, body, format="json").status_code == 409


def test_the_schema_documents_the_sla_fields_and_the_snooze(tmp_path):
    schema = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--file", str(schema))
    text = schema.read_text()
    assert "/api/v1/tasks/{id}/snooze/:" in text
    for name in ("sla_state:", "at_risk_at:", "due_explanation:", "snoozed_until:", "paused:"):
        assert name in text
