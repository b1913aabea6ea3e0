"""Starting, reading, listing, auditing and cancelling instances through the API."""

import pytest

from orchestrate.models import AuditEvent, Instance, InstanceStatus, VersionStatus
from orchestrate.services.instances import start_instance
from tests.factories import version_from_spec

pytestmark = pytest.mark.django_db

INSTANCES = "/api/v1/instances/"


def detail_url(instance_id, action=""):
    return f"{INSTANCES}{instance_id}/{action + '/' if action else ''}"


def start_order(actor, order_id, **kwargs):
    instance, _ = start_instance(
        workflow_key="order", variables={"order_id": order_id}, actor=actor, **kwargs
    )
    return instance


# --- start ----------------------------------------------------------------------------


def test_start_creates_an_instance_and_answers_201(api, alice, order_workflow):
    response = api.post(
        INSTANCES,
        {"workflow": "order", "variables": {"order_id": "A-1"}, "business_key": "A-1"},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    instance = Instance.objects.get(pk=body["id"])
    assert instance.started_by == alice
    assert body["workflow"] == "order"
    assert body["version"] == order_workflow.number
    assert body["status"] == "running"
    assert body["business_key"] == "A-1"
    assert body["variables"] == {"order_id": "A-1"}
    assert body["started_by"] == "alice"
    assert body["ended_at"] is None
    assert [step["step"] for step in body["active_steps"]] == ["wait"]


def test_start_applies_declared_defaults(api, priced_workflow):
    response = api.post(
        INSTANCES, {"workflow": "priced", "variables": {"amount": 12.5}}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["variables"] == {"amount": 12.5, "currency": "EUR"}
    assert response.json()["status"] == "completed"


def test_start_with_a_known_business_key_returns_the_existing_instance_with_200(
    api, order_workflow
):
    body = {"workflow": "order", "variables": {"order_id": "A-1"}, "business_key": "A-1"}
    first = api.post(INSTANCES, body, format="json")

    again = api.post(INSTANCES, body, format="json")

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Instance.objects.filter(business_key="A-1").count() == 1


def test_start_of_an_unknown_workflow_is_400_on_workflow(api):
    response = api.post(INSTANCES, {"workflow": "nope"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"workflow": ["no workflow 'nope'"]}


def test_start_of_a_workflow_with_only_a_draft_is_400_on_workflow(api):
    version_from_spec(
        {
            "key": "drafty",
            "steps": [{"key": "start", "type": "start"}, {"key": "done", "type": "end"}],
            "transitions": [{"from": "start", "to": "done"}],
        },
        status=VersionStatus.DRAFT,
    )

    response = api.post(INSTANCES, {"workflow": "drafty"}, format="json")

    assert response.status_code == 400
    assert "no published version" in response.json()["workflow"][0]
    assert not Instance.objects.exists()


def test_start_with_invalid_variables_is_400_per_variable(api, priced_workflow):
    response = api.post(
        INSTANCES,
        {"workflow": "priced", "variables": {"currency": 3}},
        format="json",
    )

    assert response.status_code == 400
    errors = response.json()["variables"]
    assert errors == {
        "amount": ["This variable is required."],
        "currency": ["Must be a string; got 3."],
    }
    assert not Instance.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"variables": {}}, "workflow"),
        ({"workflow": ""}, "workflow"),
        ({"workflow": "order", "variables": ["order_id"]}, "variables"),
        ({"workflow": "order", "variables": "order_id=1"}, "variables"),
        ({"workflow": "order", "business_key": "k" * 201}, "business_key"),
    ],
)
def test_start_refuses_malformed_input_with_field_errors(api, order_workflow, body, field):
    response = api.post(INSTANCES, body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not Instance.objects.exists()


# --- detail ---------------------------------------------------------------------------


def test_detail_shows_the_live_steps(api, alice, order_workflow):
    instance = start_order(alice, "A-1", business_key="A-1")

    response = api.get(detail_url(instance.pk))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == instance.pk
    assert body["status"] == "running"
    assert body["outcome"] == ""
    assert body["started_at"]
    [step] = body["active_steps"]
    run = instance.step_runs.get(step_key="wait")
    assert step == {
        "id": run.pk,
        "step": "wait",
        "type": "message",
        "status": "waiting",
        "due_at": None,
        "next_attempt_at": None,
        "attempt": 0,
        "error": "",
    }


def test_detail_of_an_unknown_instance_is_404(api):
    assert api.get(detail_url(999999)).status_code == 404
    assert api.get(f"{INSTANCES}abc/").status_code == 404


# --- list -----------------------------------------------------------------------------


def test_list_is_newest_first_and_filters(api, alice, order_workflow, priced_workflow):
    first = start_order(alice, "A-1", business_key="A-1")
    second = start_order(alice, "A-2", business_key="A-2")
    priced, _ = start_instance(workflow_key="priced", variables={"amount": 1}, actor=alice)

    def ids(query=""):
        response = api.get(INSTANCES + query)
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [priced.pk, second.pk, first.pk]
    assert ids("?workflow=order") == [second.pk, first.pk]
    assert ids("?status=completed") == [priced.pk]
    assert ids("?status=running&workflow=priced") == []
    assert ids("?business_key=A-1") == [first.pk]
    assert api.get(INSTANCES + "?status=bogus").status_code == 400


def test_list_is_paginated(api, alice, order_workflow):
    instances = [start_order(alice, f"A-{n}") for n in range(5)]
    newest_first = [i.pk for i in reversed(instances)]

    page1 = api.get(INSTANCES + "?page_size=2").json()
    page3 = api.get(INSTANCES + "?page_size=2&page=3").json()

    assert page1["count"] == 5
    assert [row["id"] for row in page1["results"]] == newest_first[:2]
    assert page1["next"].endswith("page=2&page_size=2")
    assert page1["previous"] is None
    assert [row["id"] for row in page3["results"]] == newest_first[4:]
    assert page3["next"] is None


@pytest.mark.parametrize("size", [2, 12])
def test_list_queries_do_not_grow_with_the_page(
    api, alice, order_workflow, django_assert_max_num_queries, size
):
    for n in range(size):
        start_order(alice, f"A-{n}")

    # alice's model permissions (user, group), the workflows granted to her, the count,
    # the page (workflow, version and starter joined), the live step runs
    with django_assert_max_num_queries(6):
        response = api.get(INSTANCES)

    assert len(response.json()["results"]) == size
    assert all(len(row["active_steps"]) == 1 for row in response.json()["results"])


# --- history --------------------------------------------------------------------------


def test_history_is_the_audit_trail_in_order(api, alice, order_workflow):
    instance = start_order(alice, "A-1")

    response = api.get(detail_url(instance.pk, "history"))

    assert response.status_code == 200
    body = response.json()
    events = list(AuditEvent.objects.filter(instance=instance).order_by("at", "id"))
    assert body["count"] == len(events)
    assert [row["id"] for row in body["results"]] == [e.pk for e in events]
    started = body["results"][0]
    assert started["kind"] == "instance.started"
    assert started["actor"] == "alice"
    assert set(started) == {"id", "at", "kind", "step", "actor", "data"}
    assert any(row["kind"] == "step.entered" and row["step"] == "wait" for row in body["results"])


def test_history_is_paginated(api, alice, order_workflow):
    instance = start_order(alice, "A-1")
    total = AuditEvent.objects.filter(instance=instance).count()

    body = api.get(detail_url(instance.pk, "history") + "?page_size=1").json()

    assert body["count"] == total > 1
    assert len(body["results"]) == 1
    assert body["next"]


# --- cancel ---------------------------------------------------------------------------


def test_cancel_then_cancel_again_is_409(api, alice, order_workflow):
    instance = start_order(alice, "A-1")

    response = api.post(detail_url(instance.pk, "cancel"), {"reason": "duplicate"}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["outcome"] == "cancelled"
    assert response.json()["active_steps"] == []
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.CANCELLED
    cancelled = AuditEvent.objects.get(instance=instance, kind="instance.cancelled")
    assert cancelled.data["reason"] == "duplicate"
    assert cancelled.actor_label == "alice"

    again = api.post(detail_url(instance.pk, "cancel"), format="json")

    assert again.status_code == 409
    assert again.json() == {"detail": "the instance is already cancelled"}


def test_cancel_without_a_body(api, alice, order_workflow):
    instance = start_order(alice, "A-1")

    response = api.post(detail_url(instance.pk, "cancel"))

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
