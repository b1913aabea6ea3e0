"""The engine's transaction is what bounds throughput: pin its query count so a
regression shows. A whole inline run is: the instance insert, the step runs and audit
events in one bulk insert each, one instance update, the completion check."""

import itertools

import pytest

from orchestrate.models import InstanceStatus, StepRun
from orchestrate.services.instances import start_instance
from orchestrate.services.steps import run_automated_step
from tests.factories import edges, workflow

pytestmark = pytest.mark.django_db


def reference_workflow(n_steps):
    steps = [{"key": "start", "type": "start"}]
    for i in range(n_steps):
        steps.append(
            {
                "key": f"s{i}",
                "type": "automated",
                "action": "set_variables",
                "params": {"values": {f"v{i}": f"{i} + 1"}},
            }
        )
    steps += [
        {"key": "route", "type": "exclusive"},
        {"key": "big", "type": "end"},
        {"key": "small", "type": "end"},
    ]
    chain = ["start"] + [f"s{i}" for i in range(n_steps)] + ["route"]
    transitions = edges(*[f"{a}>{b}" for a, b in itertools.pairwise(chain)])
    transitions += [
        {"from": "route", "to": "big", "when": "v0 > 100"},
        {"from": "route", "to": "small", "default": True},
    ]
    return workflow(f"ref{n_steps}", steps, transitions)


@pytest.mark.parametrize("n_steps", [3, 12])
def test_an_inline_run_costs_the_same_queries_whatever_its_length(
    broker, django_assert_num_queries, n_steps
):
    reference_workflow(n_steps)
    start_instance(workflow_key=f"ref{n_steps}")  # warm the graph cache
    # the current version with its definition, instance insert, step runs, instance
    # update, audit events, and the savepoint pair of the service's atomic block inside the
    # test transaction (a new instance's audit chain starts empty: no latest hash to read)
    with django_assert_num_queries(7):
        instance, _ = start_instance(workflow_key=f"ref{n_steps}")
    assert instance.status == InstanceStatus.COMPLETED


def test_a_worker_attempt_is_a_fixed_number_of_queries(broker, django_assert_max_num_queries):
    workflow(
        "io",
        [
            {"key": "start", "type": "start"},
            {"key": "call", "type": "automated", "action": "tests_echo_params", "params": {}},
            {
                "key": "calc",
                "type": "automated",
                "action": "set_variables",
                "params": {"values": {"x": "1"}},
            },
            {"key": "end", "type": "end"},
        ],
        edges("start>call", "call>calc", "calc>end"),
    )
    instance, _ = start_instance(workflow_key="io")
    run = StepRun.objects.get(instance=instance, step_key="call")
    # take: lock, update, audit (3); execute: load (1); finish: lock instance, lock run,
    # completion check, step runs insert and update, instance update, audit events (7);
    # two savepoint pairs; and per transaction, the latest audit hash to chain to (2)
    with django_assert_max_num_queries(17):
        run_automated_step(run.pk)
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
