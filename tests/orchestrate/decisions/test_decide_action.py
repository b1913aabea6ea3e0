"""The `decide` action in a running workflow: routing on its result, and its failures."""

import pytest

from orchestrate.formats import validate_spec
from orchestrate.models import (
    AuditEvent,
    DecisionTableVersion,
    InstanceStatus,
    StepRun,
    StepRunStatus,
)
from orchestrate.services.definitions import import_workflow
from orchestrate.services.instances import start_instance
from tests.factories import edges, workflow
from tests.orchestrate.decisions.tables import DISCOUNT, table

pytestmark = pytest.mark.django_db


def decide_workflow(*, output=None, on_error=False, table_key="discount"):
    step = {"key": "decide", "type": "automated", "action": "decide"}
    step["params"] = {"table": table_key}
    if output:
        step["output"] = output
    field = f"{output}.discount" if output else "discount"
    steps = [
        {"key": "start", "type": "start"},
        step,
        {"key": "gate", "type": "exclusive"},
        {"key": "generous", "type": "end", "outcome": "generous"},
        {"key": "standard", "type": "end", "outcome": "standard"},
    ]
    transitions = edges(
        "start>decide",
        "decide>gate",
        {"from": "gate", "to": "generous", "when": f"{field} >= 0.1"},
        {"from": "gate", "to": "standard", "default": True},
    )
    if on_error:
        steps.append({"key": "manual", "type": "end", "outcome": "manual"})
        transitions.append({"from": "decide", "to": "manual", "on": "error"})
    spec = {"format": 1, "key": "order", "name": "Order", "steps": steps}
    spec["transitions"] = transitions
    assert validate_spec(spec) == []
    return workflow("order", steps, transitions)


@pytest.mark.parametrize(
    ("tier", "amount", "outcome", "discount"),
    [("gold", 2000, "generous", 0.1), ("gold", 200, "standard", 0.05)],
)
def test_decide_merges_its_outputs_and_an_exclusive_step_routes_on_them(
    broker, tier, amount, outcome, discount
):
    import_workflow(DISCOUNT, publish=True)
    decide_workflow()
    instance, _ = start_instance(
        workflow_key="order", variables={"customer": {"tier": tier}, "amount": amount}
    )
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.outcome == outcome
    assert instance.variables["discount"] == discount
    assert broker.messages == []  # pure: it ran inline


def test_decide_puts_its_outputs_under_output(broker):
    import_workflow(DISCOUNT, publish=True)
    decide_workflow(output="pricing")
    instance, _ = start_instance(
        workflow_key="order", variables={"customer": {"tier": "gold"}, "amount": 5000}
    )
    assert instance.variables["pricing"] == {"discount": 0.1}
    assert instance.outcome == "generous"


def test_decide_evaluates_the_current_published_version(broker):
    import_workflow(DISCOUNT, publish=True)
    rules = [{"when": {}, "then": {"discount": 0.5}}]
    import_workflow(table(rules=rules))  # a draft: not used yet
    decide_workflow()
    variables = {"customer": {"tier": "bronze"}, "amount": 1}
    instance, _ = start_instance(workflow_key="order", variables=variables)
    assert instance.variables["discount"] == 0
    import_workflow(table(rules=rules), publish=True)
    instance, _ = start_instance(workflow_key="order", variables=variables)
    assert instance.variables["discount"] == 0.5


def test_a_unique_violation_is_an_incident_naming_the_rows(broker):
    rules = [
        {"when": {"amount": "< 10"}, "then": {"discount": 0.1}},
        {"when": {"amount": "[5..6]"}, "then": {"discount": 0.2}},
    ]
    import_workflow(table(rules=rules), publish=True)
    # The importer refuses overlapping rules under `unique`; a row edited behind its
    # back is how a table could still break the policy at run time.
    DecisionTableVersion.objects.update(hit_policy="unique")
    decide_workflow()
    variables = {"customer": {"tier": "gold"}, "amount": 5}
    instance, _ = start_instance(workflow_key="order", variables=variables)
    assert instance.status == InstanceStatus.INCIDENT
    run = StepRun.objects.get(instance=instance, step_key="decide")
    assert run.status == StepRunStatus.INCIDENT
    assert run.error == (
        "decision table 'discount' has hit policy unique, but rows 1 and 2 match the input"
    )
    assert AuditEvent.objects.filter(instance=instance, kind="incident.raised").exists()


def test_a_failed_decision_takes_the_error_transition(broker):
    decide_workflow(on_error=True, table_key="missing")
    instance, _ = start_instance(workflow_key="order", variables={"amount": 5})
    assert instance.outcome == "manual"
    assert instance.variables["last_error"] == (
        "no published version of the decision table 'missing'"
    )


def test_the_workflow_validator_checks_decide_params():
    spec = {
        "format": 1,
        "key": "w",
        "name": "W",
        "steps": [
            {"key": "start", "type": "start"},
            {"key": "d", "type": "automated", "action": "decide", "params": {"tabel": "x"}},
            {"key": "end", "type": "end"},
        ],
        "transitions": edges("start>d", "d>end"),
    }
    messages = [str(e) for e in validate_spec(spec)]
    assert (
        "steps[1].params.tabel: unknown key 'tabel' for the action 'decide'; did you mean 'table'?"
    ) in messages
    assert "steps[1].params.table: the action 'decide' needs `table`" in messages
