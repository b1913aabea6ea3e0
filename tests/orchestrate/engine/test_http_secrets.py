"""`http_request` sends secrets it reads from the workers' environment at the moment of
sending (`secret_headers: {Authorization: "Bearer ${secret:ERP_TOKEN}"}`): the definition,
the variables, the audit trail and the error messages only ever hold the reference."""

import json

import pytest

from orchestrate.engine import actions
from orchestrate.models import AuditEvent, InstanceStatus, StepRun
from orchestrate.services.instances import start_instance
from tests.factories import edges, workflow

pytestmark = pytest.mark.django_db

SECRET = "s3cr3t-erp-token-4711"


class _Answer:
    status_code = 200
    text = "{}"

    def json(self):
        return {"ok": True}


@pytest.fixture
def sent(monkeypatch):
    calls = []

    def record(method, url, *, headers, json=None, timeout=None):
        calls.append(headers)
        return _Answer()

    monkeypatch.setattr(actions.requests, "request", record)
    return calls


def erp_workflow(headers=None):
    params = {
        "url": "https://erp.example/orders",
        "method": "POST",
        "secret_headers": {"Authorization": "Bearer ${secret:erp_token}"},
        "headers": headers or {},
    }
    return workflow(
        "erp",
        [
            {"key": "start", "type": "start"},
            {
                "key": "call",
                "type": "automated",
                "action": "http_request",
                "params": params,
                "retry": {"max_attempts": 1},
            },
            {"key": "end", "type": "end"},
        ],
        edges("start>call", "call>end"),
        variables={"note": {"type": "string"}},
    )


def stored_text(instance):
    """Everything the database keeps about the instance, as text."""
    instance.refresh_from_db()
    rows = [instance.variables, instance.version.to_spec()]
    rows += list(AuditEvent.objects.filter(instance=instance).values())
    rows += list(StepRun.objects.filter(instance=instance).values())
    return json.dumps(rows, default=str)


def test_the_secret_is_sent_from_the_environment_and_stored_nowhere(broker, sent, monkeypatch):
    monkeypatch.setenv("ORCHESTRATE_SECRET_ERP_TOKEN", SECRET)
    erp_workflow()
    instance, _ = start_instance(workflow_key="erp", variables={"note": "x"})
    broker.drain()

    assert sent[0]["Authorization"] == f"Bearer {SECRET}"
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    text = stored_text(instance)
    assert SECRET not in text and "${secret:erp_token}" in text


def test_a_missing_secret_fails_the_step_naming_the_variable_to_set(broker, sent, monkeypatch):
    monkeypatch.delenv("ORCHESTRATE_SECRET_ERP_TOKEN", raising=False)
    erp_workflow()
    instance, _ = start_instance(workflow_key="erp", variables={"note": "x"})
    broker.drain()

    instance.refresh_from_db()
    assert instance.status == InstanceStatus.INCIDENT
    run = instance.step_runs.get(step_key="call")
    assert "environment variable ORCHESTRATE_SECRET_ERP_TOKEN" in run.error
    assert sent == []


def test_a_reference_coming_from_the_variables_is_not_resolved(broker, sent, monkeypatch):
    monkeypatch.setenv("ORCHESTRATE_SECRET_ERP_TOKEN", SECRET)
    erp_workflow(headers={"X-Note": "{{ note }}"})
    start_instance(workflow_key="erp", variables={"note": "${secret:erp_token}"})
    broker.drain()

    assert sent[0]["X-Note"] == "${secret:erp_token}"
    assert SECRET not in json.dumps(sent[0]["X-Note"])
