"""Automated steps on workers: attempts, retries with backoff, on: error, incidents,
leases of workers that died, and idempotency keys."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from orchestrate.engine.actions import ActionError, register_action
from orchestrate.models import AuditEvent, InstanceStatus, StepRun, StepRunStatus
from orchestrate.services.instances import InstanceStateError, retry_incident, start_instance
from orchestrate.services.steps import run_automated_step, take_step_run
from orchestrate.services.sweep import sweep_due_work
from tests.factories import edges, workflow

pytestmark = pytest.mark.django_db

CALLS = []


@register_action("tests_flaky")
def flaky(params, ctx):
    """Fails until attempt `succeed_on`; records every call."""
    CALLS.append((ctx.step_key, ctx.idempotency_key, ctx.attempt))
    if ctx.attempt < int(params.get("succeed_on", 99)):
        raise ActionError(f"attempt {ctx.attempt} refused")
    return {"charged": True}


@pytest.fixture(autouse=True)
def _reset_calls():
    CALLS.clear()


def flaky_workflow(succeed_on, *, on_error=False, retry=None):
    step = {
        "key": "charge",
        "type": "automated",
        "action": "tests_flaky",
        "params": {"succeed_on": succeed_on},
    }
    if retry:
        step["retry"] = retry
    steps = [
        {"key": "start", "type": "start"},
        step,
        {"key": "done", "type": "end", "outcome": "paid"},
    ]
    transitions = edges("start>charge", "charge>done")
    if on_error:
        steps.append({"key": "manual", "type": "end", "outcome": "manual"})
        transitions.append({"from": "charge", "to": "manual", "on": "error"})
    return workflow("pay", steps, transitions)


def charge_run(instance):
    return StepRun.objects.get(instance=instance, step_key="charge")


def advance(seconds):
    return time_machine.travel(timezone.now() + datetime.timedelta(seconds=seconds), tick=False)


def test_an_automated_step_is_a_scheduled_row_sent_after_commit(broker):
    flaky_workflow(succeed_on=1)
    instance, _ = start_instance(workflow_key="pay")
    run = charge_run(instance)
    assert run.status == StepRunStatus.SCHEDULED
    assert broker.messages == [("orchestrate.run_step", run.pk)]
    broker.drain()
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["charged"] is True
    assert len(CALLS) == 1


def test_failed_attempts_retry_with_exponential_backoff_from_the_database(broker):
    flaky_workflow(
        succeed_on=3, retry={"max_attempts": 3, "backoff_seconds": 10, "backoff_factor": 3}
    )
    start = datetime.datetime(2026, 5, 4, 8, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        instance, _ = start_instance(workflow_key="pay")
        broker.drain()
        run = charge_run(instance)
        assert run.status == StepRunStatus.SCHEDULED
        assert run.next_attempt_at == start + datetime.timedelta(seconds=10)
        assert run.error == "attempt 1 refused"
        sweep_due_work()
        assert broker.messages == []  # not due yet: nothing in the broker
    with time_machine.travel(start + datetime.timedelta(seconds=11), tick=False):
        sweep_due_work()
        broker.drain()
        run.refresh_from_db()
        # second failure: 10 s * 3
        assert run.next_attempt_at == start + datetime.timedelta(seconds=11 + 30)
    with time_machine.travel(start + datetime.timedelta(seconds=45), tick=False):
        sweep_due_work()
        broker.drain()
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    keys = {key for _, key, _ in CALLS}
    assert len(keys) == 1  # every attempt of the run carries the same idempotency key
    assert [a for *_, a in CALLS] == [1, 2, 3]
    failed = AuditEvent.objects.filter(instance=instance, kind="action.failed").count()
    assert failed == 2


def test_backoff_is_capped_by_max_backoff_seconds(broker):
    flaky_workflow(
        succeed_on=99,
        retry={
            "max_attempts": 5,
            "backoff_seconds": 100,
            "backoff_factor": 10,
            "max_backoff_seconds": 300,
        },
    )
    instance, _ = start_instance(workflow_key="pay")
    broker.drain()
    with advance(101):
        sweep_due_work()
        broker.drain()
        run = charge_run(instance)
        assert run.next_attempt_at == timezone.now() + datetime.timedelta(seconds=300)


def test_after_the_last_attempt_the_error_transition_is_taken_with_last_error(broker):
    flaky_workflow(succeed_on=99, on_error=True, retry={"max_attempts": 2, "backoff_seconds": 1})
    instance, _ = start_instance(workflow_key="pay")
    broker.drain()
    with advance(2):
        sweep_due_work()
        broker.drain()
    instance.refresh_from_db()
    assert instance.outcome == "manual"
    assert instance.variables["last_error"] == "attempt 2 refused"
    assert charge_run(instance).status == StepRunStatus.FAILED


SWITCH = {"fail": True}


@register_action("tests_switch")
def switch(params, ctx):
    CALLS.append((ctx.step_key, ctx.idempotency_key, ctx.attempt))
    if SWITCH["fail"]:
        raise ActionError("the ledger is closed")
    return {"booked": True}


def test_without_error_transition_the_instance_stops_with_an_incident_an_admin_retries(broker):
    SWITCH["fail"] = True
    workflow(
        "book",
        [
            {"key": "start", "type": "start"},
            {
                "key": "charge",
                "type": "automated",
                "action": "tests_switch",
                "retry": {"max_attempts": 2, "backoff_seconds": 1},
            },
            {"key": "done", "type": "end"},
        ],
        edges("start>charge", "charge>done"),
    )
    instance, _ = start_instance(workflow_key="book")
    broker.drain()
    with advance(2):
        sweep_due_work()
        broker.drain()
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.INCIDENT
    run = charge_run(instance)
    assert run.status == StepRunStatus.INCIDENT
    assert run.error == "the ledger is closed"
    assert AuditEvent.objects.filter(instance=instance, kind="incident.raised").count() == 1
    # Nothing is sent while the incident stands.
    with advance(3600):
        sweep_due_work()
    assert broker.messages == []
    SWITCH["fail"] = False
    retry_incident(instance.pk)
    assert broker.names() == ["orchestrate.run_step"]
    broker.drain()
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.variables["booked"] is True
    assert AuditEvent.objects.filter(instance=instance, kind="incident.retried").count() == 1
    with pytest.raises(InstanceStateError):
        retry_incident(instance.pk)


def test_duplicate_messages_run_an_attempt_once(broker):
    flaky_workflow(succeed_on=1)
    instance, _ = start_instance(workflow_key="pay")
    run = charge_run(instance)
    run_automated_step(run.pk)
    run_automated_step(run.pk)  # the broker delivered it twice
    assert len(CALLS) == 1
    assert StepRun.objects.filter(instance=instance, step_key="done").count() == 1


def test_a_step_taken_by_a_worker_that_died_is_requeued_after_its_lease(broker, settings):
    settings.ORCHESTRATE_STEP_LEASE_SECONDS = 60
    flaky_workflow(succeed_on=1)
    instance, _ = start_instance(workflow_key="pay")
    run = charge_run(instance)
    taken = take_step_run(run.pk)  # ... and the worker dies here
    assert taken.attempt == 1
    broker.messages.clear()
    sweep_due_work()
    assert broker.messages == []  # the lease still holds
    with advance(61):
        sweep_due_work()
        assert broker.names() == ["orchestrate.run_step"]
        broker.drain()
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert AuditEvent.objects.filter(instance=instance, kind="step.lost").count() == 1
    assert charge_run(instance).lost_attempts == 1


def test_a_late_result_of_a_lost_lease_is_dropped(broker, settings):
    from orchestrate.services.steps import finish_step_attempt

    settings.ORCHESTRATE_STEP_LEASE_SECONDS = 60
    flaky_workflow(succeed_on=1)
    instance, _ = start_instance(workflow_key="pay")
    run = charge_run(instance)
    slow = take_step_run(run.pk)
    with advance(61):
        sweep_due_work()
        broker.drain()  # another worker did it
    finish_step_attempt(slow, result={"charged": "late"})
    instance.refresh_from_db()
    assert instance.variables["charged"] is True
    assert StepRun.objects.filter(instance=instance, step_key="done").count() == 1


def test_a_step_lost_too_often_becomes_an_incident_instead_of_looping(broker, settings):
    settings.ORCHESTRATE_STEP_LEASE_SECONDS = 10
    settings.ORCHESTRATE_MAX_LOST_ATTEMPTS = 3
    flaky_workflow(succeed_on=1)
    instance, _ = start_instance(workflow_key="pay")
    run = charge_run(instance)
    now = timezone.now()
    for lost in range(1, 4):
        with time_machine.travel(now + datetime.timedelta(seconds=20 * (lost - 1)), tick=False):
            assert take_step_run(run.pk) is not None  # a worker takes it and dies
        broker.messages.clear()
        with time_machine.travel(now + datetime.timedelta(seconds=20 * lost), tick=False):
            sweep_due_work()
        run.refresh_from_db()
        assert run.lost_attempts == lost
    instance.refresh_from_db()
    assert run.status == StepRunStatus.INCIDENT
    assert "lost by 3 workers" in run.error
    assert instance.status == InstanceStatus.INCIDENT
    assert broker.messages == []
    assert CALLS == []


def test_pure_action_failure_takes_error_path_without_retrying(broker):
    workflow(
        "pure_fail",
        [
            {"key": "start", "type": "start"},
            {
                "key": "calc",
                "type": "automated",
                "action": "set_variables",
                "params": {"values": {"x": "1 / zero"}},
            },
            {"key": "ok", "type": "end"},
            {"key": "bad", "type": "end", "outcome": "bad"},
        ],
        edges("start>calc", "calc>ok", {"from": "calc", "to": "bad", "on": "error"}),
    )
    instance, _ = start_instance(workflow_key="pure_fail", variables={"zero": 0})
    assert instance.outcome == "bad"
    assert instance.variables["last_error"]


def test_each_step_run_has_its_own_unique_idempotency_key(broker):
    flaky_workflow(succeed_on=1)
    a, _ = start_instance(workflow_key="pay")
    b, _ = start_instance(workflow_key="pay")
    keys = set(StepRun.objects.values_list("idempotency_key", flat=True))
    assert len(keys) == StepRun.objects.count()
    assert charge_run(a).idempotency_key != charge_run(b).idempotency_key


def test_a_step_finishing_while_suspended_applies_and_an_incident_stays_retryable(broker):
    from orchestrate.services.instances import resume_instance, suspend_instance
    from orchestrate.services.steps import finish_step_attempt

    flaky_workflow(succeed_on=1)
    instance, _ = start_instance(workflow_key="pay")
    taken = take_step_run(charge_run(instance).pk)
    suspend_instance(instance.pk)
    finish_step_attempt(taken, result={"charged": True})
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED

    instance, _ = start_instance(workflow_key="pay")
    suspend_instance(instance.pk)
    with pytest.raises(InstanceStateError):
        suspend_instance(instance.pk)
    sweep_due_work()
    broker.messages.clear()
    run = charge_run(instance)
    assert take_step_run(run.pk) is None  # nothing is taken while suspended
    resume_instance(instance.pk)
    assert broker.names() == ["orchestrate.run_step"]
    broker.drain()
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
