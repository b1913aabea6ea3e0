"""Each step type and gateway of the format, driven through the services."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from orchestrate.models import AuditEvent, InstanceStatus, StepRun, StepRunStatus
from orchestrate.services.instances import (
    InstanceStateError,
    VariablesInvalid,
    cancel_instance,
    start_instance,
)
from orchestrate.services.messages import deliver_message
from orchestrate.services.steps import complete_waiting_step
from orchestrate.services.sweep import sweep_due_work
from tests.factories import GroupFactory, UserFactory, edges, workflow

pytestmark = pytest.mark.django_db


def runs(instance, key=None):
    qs = StepRun.objects.filter(instance=instance)
    if key:
        qs = qs.filter(step_key=key)
    return list(qs.order_by("id"))


def waiting(instance, key):
    return StepRun.objects.get(instance=instance, step_key=key, status=StepRunStatus.WAITING)


def routing_workflow():
    return workflow(
        "route",
        [
            {"key": "start", "type": "start"},
            {"key": "gate", "type": "exclusive"},
            {"key": "big", "type": "end", "outcome": "big"},
            {"key": "eu", "type": "end", "outcome": "eu"},
            {"key": "small", "type": "end", "outcome": "small"},
        ],
        edges(
            "start>gate",
            {"from": "gate", "to": "big", "when": "amount > 10000"},
            {"from": "gate", "to": "eu", "when": 'region == "EU"'},
            {"from": "gate", "to": "small", "default": True},
        ),
    )


@pytest.mark.parametrize(
    ("variables", "outcome"),
    [
        ({"amount": 20000, "region": "EU"}, "big"),  # first condition in file order wins
        ({"amount": 50, "region": "EU"}, "eu"),
        ({"amount": 50, "region": "US"}, "small"),  # the default
    ],
)
def test_exclusive_takes_first_true_condition_else_default(broker, variables, outcome):
    routing_workflow()
    instance, _ = start_instance(workflow_key="route", variables=variables)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.outcome == outcome


def test_exclusive_without_match_or_default_is_an_incident(broker):
    workflow(
        "nodefault",
        [
            {"key": "start", "type": "start"},
            {"key": "gate", "type": "exclusive"},
            {"key": "big", "type": "end"},
        ],
        edges("start>gate", {"from": "gate", "to": "big", "when": "amount > 10"}),
    )
    instance, _ = start_instance(workflow_key="nodefault", variables={"amount": 1})
    assert instance.status == InstanceStatus.INCIDENT
    gate = runs(instance, "gate")[0]
    assert gate.status == StepRunStatus.INCIDENT
    assert "no condition holds" in gate.error


def test_condition_on_missing_variable_is_an_incident_with_the_reason(broker):
    routing_workflow()
    instance, _ = start_instance(workflow_key="route", variables={"region": "EU"})
    assert instance.status == InstanceStatus.INCIDENT
    assert "amount" in runs(instance, "gate")[0].error


def inclusive_workflow():
    return workflow(
        "incl",
        [
            {"key": "start", "type": "start"},
            {"key": "split", "type": "inclusive"},
            {
                "key": "a",
                "type": "automated",
                "action": "set_variables",
                "params": {"values": {"did_a": "true"}},
            },
            {
                "key": "b",
                "type": "automated",
                "action": "set_variables",
                "params": {"values": {"did_b": "true"}},
            },
            {
                "key": "c",
                "type": "automated",
                "action": "set_variables",
                "params": {"values": {"did_c": "true"}},
            },
            {"key": "merge", "type": "join", "mode": "active"},
            {"key": "end", "type": "end"},
        ],
        edges(
            "start>split",
            {"from": "split", "to": "a", "when": "x > 1"},
            {"from": "split", "to": "b", "when": "x > 2"},
            {"from": "split", "to": "c", "default": True},
            "a>merge",
            "b>merge",
            "c>merge",
            "merge>end",
        ),
    )


@pytest.mark.parametrize(
    ("x", "done"),
    [(5, {"did_a", "did_b"}), (2, {"did_a"}), (0, {"did_c"})],
)
def test_inclusive_takes_every_true_branch_and_active_join_waits_for_them(broker, x, done):
    inclusive_workflow()
    instance, _ = start_instance(workflow_key="incl", variables={"x": x})
    assert instance.status == InstanceStatus.COMPLETED
    assert {k for k in instance.variables if k.startswith("did_")} == done
    merges = [r for r in runs(instance, "merge") if r.status == StepRunStatus.COMPLETED]
    assert len(merges) == 1
    assert len(runs(instance, "end")) == 1


def test_active_join_waits_for_a_branch_still_waiting(broker):
    workflow(
        "incl_wait",
        [
            {"key": "start", "type": "start"},
            {"key": "split", "type": "inclusive"},
            {"key": "fast", "type": "automated", "action": "log", "params": {"message": "hi"}},
            {"key": "slow", "type": "message", "name": "go", "correlate": "ref"},
            {"key": "merge", "type": "join", "mode": "active"},
            {"key": "end", "type": "end"},
        ],
        edges(
            "start>split",
            {"from": "split", "to": "fast", "when": "true"},
            {"from": "split", "to": "slow", "when": "true"},
            "fast>merge",
            "slow>merge",
            "merge>end",
        ),
    )
    instance, _ = start_instance(workflow_key="incl_wait", variables={"ref": "r1"})
    assert instance.status == InstanceStatus.RUNNING
    assert waiting(instance, "merge").arrivals
    deliver_message(name="go", correlation="r1")
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert len(runs(instance, "end")) == 1


def parallel_join_workflow(key, mode, count=None):
    join = {"key": "join", "type": "join", "mode": mode}
    if count:
        join["count"] = count
    return workflow(
        key,
        [
            {"key": "start", "type": "start"},
            {"key": "fork", "type": "parallel"},
            {"key": "w1", "type": "message", "name": "m1", "correlate": "ref"},
            {"key": "w2", "type": "message", "name": "m2", "correlate": "ref"},
            {"key": "w3", "type": "message", "name": "m3", "correlate": "ref"},
            join,
            {
                "key": "after",
                "type": "automated",
                "action": "set_variables",
                "params": {"values": {"after_count": "1"}},
            },
            {"key": "end", "type": "end"},
        ],
        edges(
            "start>fork",
            "fork>w1",
            "fork>w2",
            "fork>w3",
            "w1>join",
            "w2>join",
            "w3>join",
            "join>after",
            "after>end",
        ),
    )


def test_parallel_and_join_all_waits_for_every_branch(broker):
    parallel_join_workflow("pall", "all")
    instance, _ = start_instance(workflow_key="pall", variables={"ref": "p"})
    assert {r.step_key for r in runs(instance) if r.status == StepRunStatus.WAITING} == {
        "w1",
        "w2",
        "w3",
    }
    deliver_message(name="m1", correlation="p")
    deliver_message(name="m3", correlation="p")
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RUNNING
    assert "after_count" not in instance.variables
    deliver_message(name="m2", correlation="p")
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["after_count"] == 1


def test_join_first_continues_once_and_absorbs_later_arrivals(broker):
    parallel_join_workflow("pfirst", "first")
    instance, _ = start_instance(workflow_key="pfirst", variables={"ref": "f"})
    deliver_message(name="m2", correlation="f")
    instance.refresh_from_db()
    assert instance.variables["after_count"] == 1
    # The other branches still wait; when they arrive they are absorbed.
    assert instance.status == InstanceStatus.RUNNING
    deliver_message(name="m1", correlation="f")
    deliver_message(name="m3", correlation="f")
    instance.refresh_from_db()
    assert instance.variables["after_count"] == 1
    assert instance.status == InstanceStatus.COMPLETED
    assert len(runs(instance, "after")) == 1


def test_join_count_continues_after_n_arrivals(broker):
    parallel_join_workflow("pcount", "count", count=2)
    instance, _ = start_instance(workflow_key="pcount", variables={"ref": "c"})
    deliver_message(name="m1", correlation="c")
    instance.refresh_from_db()
    assert "after_count" not in instance.variables
    deliver_message(name="m3", correlation="c")
    instance.refresh_from_db()
    assert instance.variables["after_count"] == 1
    deliver_message(name="m2", correlation="c")
    instance.refresh_from_db()
    assert instance.variables["after_count"] == 1
    assert instance.status == InstanceStatus.COMPLETED


def test_parallel_pure_branches_join_exactly_once_in_one_walk(broker):
    workflow(
        "pure_par",
        [
            {"key": "start", "type": "start"},
            {"key": "fork", "type": "parallel"},
            {"key": "a", "type": "automated", "action": "log", "params": {"message": "a"}},
            {"key": "b", "type": "automated", "action": "log", "params": {"message": "b"}},
            {"key": "join", "type": "join"},
            {"key": "end", "type": "end", "outcome": "joined"},
        ],
        edges("start>fork", "fork>a", "fork>b", "a>join", "b>join", "join>end"),
    )
    instance, _ = start_instance(workflow_key="pure_par")
    assert instance.status == InstanceStatus.COMPLETED
    assert len(runs(instance, "join")) == 1
    assert len(runs(instance, "end")) == 1


def test_plain_end_consumes_its_branch_and_last_end_gives_the_outcome(broker):
    workflow(
        "two_ends",
        [
            {"key": "start", "type": "start"},
            {"key": "fork", "type": "parallel"},
            {"key": "quick", "type": "end", "outcome": "quick"},
            {"key": "wait", "type": "message", "name": "done", "correlate": "ref"},
            {"key": "late", "type": "end", "outcome": "late"},
        ],
        edges("start>fork", "fork>quick", "fork>wait", "wait>late"),
    )
    instance, _ = start_instance(workflow_key="two_ends", variables={"ref": 7})
    assert instance.status == InstanceStatus.RUNNING
    deliver_message(name="done", correlation=7)
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.outcome == "late"


@pytest.fixture
def managers():
    group = GroupFactory(name="managers")
    UserFactory(username="manager").groups.add(group)
    return group


def test_terminating_end_cancels_every_other_live_step(broker, managers):
    workflow(
        "terminate",
        [
            {"key": "start", "type": "start"},
            {"key": "fork", "type": "parallel"},
            {"key": "wait", "type": "message", "name": "never", "correlate": "ref"},
            {"key": "approve", "type": "human", "assign": {"group": "managers"}},
            {"key": "stop", "type": "message", "name": "stop", "correlate": "ref"},
            {"key": "kill", "type": "end", "outcome": "stopped", "terminate": True},
            {"key": "end", "type": "end"},
        ],
        edges(
            "start>fork",
            "fork>wait",
            "fork>approve",
            "fork>stop",
            "stop>kill",
            "wait>end",
            "approve>end",
        ),
    )
    instance, _ = start_instance(workflow_key="terminate", variables={"ref": "t"})
    deliver_message(name="stop", correlation="t")
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.outcome == "stopped"
    statuses = {r.step_key: r.status for r in runs(instance)}
    assert statuses["wait"] == StepRunStatus.CANCELLED
    assert statuses["approve"] == StepRunStatus.CANCELLED
    cancelled = AuditEvent.objects.filter(instance=instance, kind="step.cancelled")
    assert sorted(cancelled.values_list("step_key", flat=True)) == ["approve", "wait"]


def timer_workflow(**timer):
    return workflow(
        "timed",
        [
            {"key": "start", "type": "start"},
            {"key": "pause", "type": "timer", **timer},
            {"key": "end", "type": "end"},
        ],
        edges("start>pause", "pause>end"),
    )


def test_timer_waits_in_the_database_and_the_sweep_fires_it(broker):
    timer_workflow(duration="PT30M")
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC), tick=False):
        instance, _ = start_instance(workflow_key="timed")
        pause = waiting(instance, "pause")
        assert pause.due_at == timezone.now() + datetime.timedelta(minutes=30)
        assert broker.messages == []  # no ETA message in the broker
        sweep_due_work()
        assert broker.messages == []
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, 31, tzinfo=datetime.UTC), tick=False):
        sweep_due_work()
        assert broker.names() == ["orchestrate.wake_step"]
        broker.drain()
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert AuditEvent.objects.filter(instance=instance, kind="timer.fired").count() == 1


def test_timer_until_expression(broker):
    timer_workflow(until="timestamp(deadline)")
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC), tick=False):
        instance, _ = start_instance(
            workflow_key="timed", variables={"deadline": "2026-03-05T12:00:00Z"}
        )
    assert waiting(instance, "pause").due_at == datetime.datetime(
        2026, 3, 5, 12, tzinfo=datetime.UTC
    )


def test_timer_until_in_the_past_fires_at_once(broker):
    timer_workflow(until='timestamp("2020-01-01T00:00:00Z")')
    instance, _ = start_instance(workflow_key="timed")
    assert instance.status == InstanceStatus.COMPLETED


def test_a_wake_message_that_comes_twice_fires_the_timer_once(broker):
    timer_workflow(duration="PT1S")
    instance, _ = start_instance(workflow_key="timed")
    run = waiting(instance, "pause")
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=5)):
        sweep_due_work()
        broker.messages.append(broker.messages[0])  # the broker redelivers it
        broker.drain()
    assert AuditEvent.objects.filter(step_run=run, kind="timer.fired").count() == 1
    assert len(runs(instance, "end")) == 1


def message_workflow(timeout=None, output=None):
    wait = {"key": "wait", "type": "message", "name": "contract_signed", "correlate": "vendor_id"}
    if timeout:
        wait["timeout"] = timeout
    if output:
        wait["output"] = output
    transitions = edges("start>wait", "wait>signed")
    steps = [
        {"key": "start", "type": "start"},
        wait,
        {"key": "signed", "type": "end", "outcome": "signed"},
    ]
    if timeout:
        steps.append({"key": "expired", "type": "end", "outcome": "expired"})
        transitions.append({"from": "wait", "to": "expired", "on": "timeout"})
    return workflow("contract", steps, transitions)


def test_message_is_delivered_by_correlation_and_payload_merged(broker):
    message_workflow()
    one, _ = start_instance(workflow_key="contract", variables={"vendor_id": 42})
    two, _ = start_instance(workflow_key="contract", variables={"vendor_id": 43})
    delivered = deliver_message(
        name="contract_signed", correlation="42", payload={"signed_by": "Ann"}
    )
    assert delivered == [one.pk]
    one.refresh_from_db()
    two.refresh_from_db()
    assert one.status == InstanceStatus.COMPLETED
    assert one.variables["signed_by"] == "Ann"
    assert two.status == InstanceStatus.RUNNING
    assert deliver_message(name="contract_signed", correlation="42") == []
    assert deliver_message(name="other", correlation="43") == []


def test_message_payload_under_output(broker):
    message_workflow(output="contract")
    instance, _ = start_instance(workflow_key="contract", variables={"vendor_id": "v"})
    deliver_message(name="contract_signed", correlation="v", payload={"pages": 3})
    instance.refresh_from_db()
    assert instance.variables["contract"] == {"pages": 3}


def test_message_timeout_takes_the_timeout_transition(broker):
    message_workflow(timeout="P7D")
    instance, _ = start_instance(workflow_key="contract", variables={"vendor_id": 1})
    with time_machine.travel(timezone.now() + datetime.timedelta(days=7, seconds=1)):
        sweep_due_work()
        broker.drain()
    instance.refresh_from_db()
    assert instance.outcome == "expired"
    assert deliver_message(name="contract_signed", correlation=1) == []


def test_human_step_waits_and_completes_with_its_outcome(broker, managers):
    workflow(
        "approve",
        [
            {"key": "start", "type": "start"},
            {"key": "review", "type": "human", "assign": {"group": "managers"}},
            {"key": "yes", "type": "end", "outcome": "approved"},
            {"key": "no", "type": "end", "outcome": "rejected"},
        ],
        edges(
            "start>review",
            {"from": "review", "to": "yes", "on": "approve"},
            {"from": "review", "to": "no", "on": "reject"},
        ),
    )
    instance, _ = start_instance(workflow_key="approve")
    run = waiting(instance, "review")
    complete_waiting_step(run.pk, outcome="reject", data={"reason": "too dear"})
    instance.refresh_from_db()
    assert instance.outcome == "rejected"
    assert instance.variables["reason"] == "too dear"


def test_subprocess_runs_child_and_puts_its_variables_under_output(broker):
    workflow(
        "child",
        [
            {"key": "start", "type": "start"},
            {
                "key": "calc",
                "type": "automated",
                "action": "set_variables",
                "params": {"values": {"doubled": "n * 2"}},
            },
            {"key": "wait", "type": "message", "name": "child_go", "correlate": "n"},
            {"key": "end", "type": "end", "outcome": "ok"},
        ],
        edges("start>calc", "calc>wait", "wait>end"),
    )
    workflow(
        "parent",
        [
            {"key": "start", "type": "start"},
            {
                "key": "sub",
                "type": "subprocess",
                "workflow": "child",
                "variables": {"n": "amount + 1"},
                "output": "child_result",
            },
            {"key": "good", "type": "end", "outcome": "child_ok"},
            {"key": "other", "type": "end", "outcome": "child_other"},
        ],
        edges(
            "start>sub",
            {"from": "sub", "to": "good", "on": "ok"},
            {"from": "sub", "to": "other", "default": True},
        ),
    )
    parent, _ = start_instance(workflow_key="parent", variables={"amount": 4})
    sub = waiting(parent, "sub")
    child = sub.child_instances.get()
    assert child.variables["doubled"] == 10
    deliver_message(name="child_go", correlation=5)
    assert broker.names() == ["orchestrate.resume_parent"]
    broker.drain()
    parent.refresh_from_db()
    assert parent.status == InstanceStatus.COMPLETED
    assert parent.outcome == "child_ok"
    assert parent.variables["child_result"]["doubled"] == 10


def test_lost_resume_message_is_sent_again_by_the_sweep(broker):
    test_subprocess_setup = workflow(
        "kid",
        [
            {"key": "start", "type": "start"},
            {"key": "w", "type": "message", "name": "kid_go", "correlate": "k"},
            {"key": "end", "type": "end"},
        ],
        edges("start>w", "w>end"),
    )
    assert test_subprocess_setup
    workflow(
        "mom",
        [
            {"key": "start", "type": "start"},
            {"key": "sub", "type": "subprocess", "workflow": "kid", "variables": {"k": "1"}},
            {"key": "end", "type": "end"},
        ],
        edges("start>sub", "sub>end"),
    )
    parent, _ = start_instance(workflow_key="mom")
    deliver_message(name="kid_go", correlation=1)
    broker.messages.clear()  # the message is lost
    sweep_due_work()
    assert broker.names() == ["orchestrate.resume_parent"]
    broker.drain()
    parent.refresh_from_db()
    assert parent.status == InstanceStatus.COMPLETED


def test_subprocess_child_finishing_inline_completes_parent_step_at_once(broker):
    workflow(
        "inline_child",
        [{"key": "start", "type": "start"}, {"key": "end", "type": "end", "outcome": "fine"}],
        edges("start>end"),
    )
    workflow(
        "inline_parent",
        [
            {"key": "start", "type": "start"},
            {"key": "sub", "type": "subprocess", "workflow": "inline_child"},
            {"key": "end", "type": "end"},
        ],
        edges("start>sub", "sub>end"),
    )
    parent, _ = start_instance(workflow_key="inline_parent")
    assert parent.status == InstanceStatus.COMPLETED
    assert runs(parent, "sub")[0].outcome == "fine"


def test_cancel_cancels_live_steps_and_child_instances(broker):
    workflow(
        "c_child",
        [
            {"key": "start", "type": "start"},
            {"key": "w", "type": "message", "name": "x", "correlate": "1"},
            {"key": "end", "type": "end"},
        ],
        edges("start>w", "w>end"),
    )
    workflow(
        "c_parent",
        [
            {"key": "start", "type": "start"},
            {"key": "sub", "type": "subprocess", "workflow": "c_child"},
            {"key": "end", "type": "end"},
        ],
        edges("start>sub", "sub>end"),
    )
    parent, _ = start_instance(workflow_key="c_parent")
    child = waiting(parent, "sub").child_instances.get()
    cancel_instance(parent.pk, reason="not needed")
    parent.refresh_from_db()
    child.refresh_from_db()
    assert parent.status == InstanceStatus.CANCELLED
    assert child.status == InstanceStatus.CANCELLED
    assert runs(parent, "sub")[0].status == StepRunStatus.CANCELLED
    with pytest.raises(InstanceStateError):
        cancel_instance(parent.pk)
    event = AuditEvent.objects.get(instance=parent, kind="instance.cancelled")
    assert event.data == {"reason": "not needed"}


def test_start_variables_are_checked_against_declarations(broker):
    workflow(
        "typed",
        [{"key": "start", "type": "start"}, {"key": "end", "type": "end"}],
        edges("start>end"),
        variables={
            "amount": {"type": "number", "required": True},
            "count": {"type": "integer", "default": 1},
            "when": {"type": "date"},
            "tags": {"type": "list"},
        },
    )
    with pytest.raises(VariablesInvalid) as err:
        start_instance(
            workflow_key="typed", variables={"when": "yesterday", "tags": "a", "count": 1.5}
        )
    assert set(err.value.errors) == {"amount", "when", "tags", "count"}
    assert "required" in err.value.errors["amount"]
    assert not StepRun.objects.exists()
    instance, _ = start_instance(workflow_key="typed", variables={"amount": 3, "extra": "ok"})
    assert instance.variables == {"amount": 3, "count": 1, "extra": "ok"}


def test_same_business_key_returns_the_existing_instance(broker):
    routing_workflow()
    first, created = start_instance(
        workflow_key="route", variables={"amount": 1, "region": "US"}, business_key="PO-1"
    )
    again, created_again = start_instance(
        workflow_key="route", variables={"amount": 99999}, business_key="PO-1"
    )
    assert created and not created_again
    assert again.pk == first.pk
    assert again.outcome == "small"


def test_params_are_rendered_as_templates(broker):
    workflow(
        "tmpl",
        [
            {"key": "start", "type": "start"},
            {
                "key": "call",
                "type": "automated",
                "action": "tests_echo_params",
                "output": "out",
                "params": {
                    "text": "Order {{ item }} for {{ customer.name }}",
                    "n": "{{ amount }}",
                    "missing": "[{{ nope }}]",
                },
            },
            {"key": "end", "type": "end"},
        ],
        edges("start>call", "call>end"),
    )
    instance, _ = start_instance(
        workflow_key="tmpl", variables={"item": "desk", "amount": 250, "customer": {"name": "Ann"}}
    )
    broker.drain()
    instance.refresh_from_db()
    echo = instance.variables["out"]["echo"]
    assert echo == {"text": "Order desk for Ann", "n": 250, "missing": "[]"}


def test_a_business_timer_waits_working_time_of_the_default_calendar(broker):
    friday = datetime.datetime(2026, 3, 6, 16, 0, tzinfo=datetime.UTC)
    workflow(
        "office_timer",
        [
            {"key": "start", "type": "start"},
            {"key": "wait", "type": "timer", "duration": "PT2H", "business": True},
            {"key": "end", "type": "end"},
        ],
        edges("start>wait", "wait>end"),
    )
    with time_machine.travel(friday, tick=False):
        instance, _ = start_instance(workflow_key="office_timer")
    run = StepRun.objects.get(instance=instance, step_key="wait")
    # One working hour on Friday (to 17:00), one on Monday from 09:00.
    assert run.due_at == datetime.datetime(2026, 3, 9, 10, 0, tzinfo=datetime.UTC)
