"""Operating instances in the admin: find them, read their timeline, act through the
services (suspend, resume, change variables with a reason)."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orchestrate.models import AuditEvent, AuditKind, InstanceStatus
from orchestrate.services.instances import start_instance
from tests.factories import edges, version_from_spec, waiting_workflow, workflow

pytestmark = pytest.mark.django_db


@pytest.fixture
def instances(broker):
    waiting_workflow(amount={"type": "number"})
    return [
        start_instance(workflow_key="waiting", variables={"ref": ref, "amount": 5})[0]
        for ref in ("ACME-7", "GLOBEX-9")
    ]


CHANGELIST = reverse("admin:orchestrate_instance_changelist")


def test_search_finds_text_in_the_variables(root_client, instances):
    response = root_client.get(CHANGELIST, {"q": "globex"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [instances[1]]


def test_the_instance_page_shows_the_audit_timeline(root_client, instances):
    url = reverse("admin:orchestrate_instance_change", args=[instances[0].pk])
    html = root_client.get(url).content.decode()
    assert "Audit timeline" in html
    assert "instance.started" in html
    assert "Change variables" in html


def test_suspend_and_resume_actions_call_the_services(root_client, instances):
    ids = [str(i.pk) for i in instances]
    root_client.post(CHANGELIST, {"action": "suspend_selected", "_selected_action": ids})
    assert {i.status for i in type(instances[0]).objects.all()} == {InstanceStatus.SUSPENDED}
    response = root_client.post(
        CHANGELIST, {"action": "suspend_selected", "_selected_action": ids[:1]}, follow=True
    )
    assert "only a running instance can be suspended" in response.content.decode()
    root_client.post(CHANGELIST, {"action": "resume_selected", "_selected_action": ids})
    assert {i.status for i in type(instances[0]).objects.all()} == {InstanceStatus.RUNNING}
    kinds = AuditEvent.objects.filter(actor__username="root").values_list("kind", flat=True)
    assert list(kinds).count(AuditKind.INSTANCE_SUSPENDED) == 2


def test_changing_variables_needs_valid_json_a_right_type_and_a_reason(root_client, instances):
    instance = instances[0]
    url = reverse("admin:orchestrate_instance_variables", args=[instance.pk])
    assert root_client.get(url).status_code == 200
    response = root_client.post(url, {"variables": "{oops", "reason": "x"})
    assert "Not valid JSON" in response.content.decode()
    response = root_client.post(url, {"variables": '{"amount": "many"}', "reason": "x"})
    assert "amount:" in response.content.decode()
    response = root_client.post(url, {"variables": '{"amount": 7}', "reason": ""})
    assert "Say why the variables change." in response.content.decode()
    response = root_client.post(url, {"variables": json.dumps({"amount": 7}), "reason": "fix"})
    assert response.status_code == 302
    instance.refresh_from_db()
    assert instance.variables["amount"] == 7
    event = AuditEvent.objects.filter(kind=AuditKind.VARIABLES_CHANGED).last()
    assert (event.actor_label, event.data["reason"]) == ("root", "fix")


def test_moving_instances_shows_a_dry_run_then_moves(root_client, instances):
    v2 = workflow(
        "waiting",
        [
            {"key": "start", "type": "start"},
            {"key": "await_go", "type": "message", "name": "go", "correlate": "ref"},
            {"key": "end", "type": "end"},
        ],
        edges("start>await_go", "await_go>end"),
        variables={"ref": {"type": "string"}, "amount": {"type": "number"}},
    )
    ids = [str(i.pk) for i in instances]
    base = {"action": "migrate_selected", "_selected_action": ids, "to_version": v2.pk}
    page = root_client.post(CHANGELIST, {**base, "dry_run": "1"}).content.decode()
    assert "refused: the active step &#x27;wait&#x27; has no counterpart" in page
    page = root_client.post(
        CHANGELIST, {**base, "mapping": '{"wait": "await_go"}', "dry_run": "1"}
    ).content.decode()
    assert "wait → await_go" in page
    assert {i.version_id for i in type(instances[0]).objects.all()} != {v2.pk}
    root_client.post(CHANGELIST, {**base, "mapping": '{"wait": "await_go"}', "apply": "1"})
    assert {i.version_id for i in type(instances[0]).objects.all()} == {v2.pk}


def test_the_instance_list_costs_the_same_queries_for_2_or_12_instances(root_client, instances):
    def shown():
        with CaptureQueriesContext(connection) as queries:
            response = root_client.get(CHANGELIST)
        assert response.status_code == 200
        return len(response.context["cl"].result_list), len(queries)

    rows, few = shown()
    spec = instances[0].version.definition.versions.get().to_spec()
    version_from_spec(spec)  # a second version: one more choice in the version filter
    for n in range(10):
        start_instance(workflow_key="waiting", variables={"ref": f"R-{n}", "amount": 1})
    more_rows, many = shown()
    assert (rows, more_rows) == (2, 12)
    assert many == few
    assert "waiting v2" in root_client.get(CHANGELIST).content.decode()
