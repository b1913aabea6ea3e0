"""Workers that die: nothing is lost, nothing completed runs again, and a step that keeps
killing its worker becomes an incident instead of looping."""

import time
from collections import Counter, defaultdict

import pytest
from django.conf import settings

from orchestrate.models import (
    AuditEvent,
    AuditKind,
    Instance,
    InstanceStatus,
    StepRun,
    StepRunStatus,
)
from orchestrate.services.instances import start_instance
from tests.factories import edges, workflow

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def two_slow_steps(key, seconds_a=1.5, seconds_b=0.2):
    return workflow(
        key,
        [
            {"key": "start", "type": "start"},
            {
                "key": "a",
                "type": "automated",
                "action": "slow_record",
                "params": {"seconds": seconds_a},
            },
            {
                "key": "b",
                "type": "automated",
                "action": "slow_record",
                "params": {"seconds": seconds_b},
            },
            {"key": "end", "type": "end"},
        ],
        edges("start>a", "a>b", "b>end"),
    )


def test_a_worker_killed_mid_run_loses_no_instance_and_repeats_no_completed_step(cluster):
    two_slow_steps("it_crash")
    cluster.start_beat()
    first = cluster.start_worker("it1")
    ids = [
        start_instance(workflow_key="it_crash", business_key=f"crash-{n}")[0].pk for n in range(10)
    ]

    def mid_run():
        # Some step already completed, and an action is running right now.
        log = cluster.action_log()
        finished = {row["step_run_id"] for row in log if row["phase"] == "finished"}
        busy = [
            row for row in log if row["phase"] == "started" and row["step_run_id"] not in finished
        ]
        return finished and busy

    cluster.wait_for(mid_run, "a step to complete and another to be running")
    assert cluster.other_connections() > 0  # the worker's connections are told apart
    cluster.kill(first)
    # Once PostgreSQL has closed the dead worker's connections, whatever it was writing
    # is committed or rolled back: the rows show where it stopped.
    cluster.wait_for(
        lambda: cluster.other_connections() == 0, "the dead worker's connections to close"
    )
    interrupted = set(
        StepRun.objects.filter(instance_id__in=ids, status=StepRunStatus.RUNNING).values_list(
            "pk", flat=True
        )
    )
    assert interrupted, "the worker died holding no step"

    cluster.start_worker("it2")
    cluster.wait_for(
        lambda: (
            not Instance.objects.filter(pk__in=ids)
            .exclude(status=InstanceStatus.COMPLETED)
            .exists()
        ),
        "every instance to complete",
    )

    runs = {run.pk: run for run in StepRun.objects.filter(instance_id__in=ids)}
    per_step = Counter((run.instance_id, run.step_key, run.status) for run in runs.values())
    for instance_id in ids:
        for step_key in ("start", "a", "b", "end"):
            assert per_step[(instance_id, step_key, StepRunStatus.COMPLETED)] == 1
    assert len(runs) == 4 * len(ids)

    log = cluster.action_log()
    by_run = defaultdict(list)
    for row in log:
        by_run[row["step_run_id"]].append(row)
    for pk, rows in by_run.items():
        run = runs[pk]
        started = [row["attempt"] for row in rows if row["phase"] == "started"]
        finished = [row for row in rows if row["phase"] == "finished"]
        # Each attempt (a lease) runs the action at most once; a new attempt only after a
        # worker lost the previous one.
        assert len(started) == len(set(started)), f"an attempt of {run} ran twice"
        # ...and every attempt passed the step run's key, to deduplicate outside calls.
        assert {row["idempotency_key"] for row in rows} == {str(run.idempotency_key)}
        assert len(started) <= run.attempt == 1 + run.lost_attempts
        assert 1 <= len(finished) <= 1 + run.lost_attempts
        # Nothing ran after the step completed, and the result is the last attempt's.
        assert all(row["at"] <= run.ended_at for row in rows)
        instance_variables = Instance.objects.get(pk=run.instance_id).variables
        assert instance_variables[f"{run.step_key}_attempt"] == run.attempt

    a_done = {run.instance_id: run.ended_at for run in runs.values() if run.step_key == "a"}
    for row in log:
        if row["step_key"] == "b":
            assert row["at"] >= a_done[row["instance_id"]], "b ran before a completed"

    lost = AuditEvent.objects.filter(kind=AuditKind.STEP_LOST, instance_id__in=ids)
    assert set(lost.values_list("step_run_id", flat=True)) == interrupted
    for pk in interrupted:
        assert runs[pk].lost_attempts == 1
        assert runs[pk].attempt == 2
    succeeded = Counter(
        AuditEvent.objects.filter(kind=AuditKind.ACTION_SUCCEEDED, instance_id__in=ids).values_list(
            "step_run_id", flat=True
        )
    )
    assert set(succeeded.values()) == {1}
    assert len(succeeded) == 2 * len(ids)


def test_a_step_that_kills_its_worker_becomes_an_incident_instead_of_looping(cluster):
    workflow(
        "it_poison",
        [
            {"key": "start", "type": "start"},
            {"key": "poison", "type": "automated", "action": "kill_own_process"},
            {"key": "end", "type": "end"},
        ],
        edges("start>poison", "poison>end"),
    )
    two_slow_steps("it_healthy", seconds_a=0, seconds_b=0)
    cluster.start_beat()
    worker = cluster.start_worker("it1")
    instance, _ = start_instance(workflow_key="it_poison")

    cluster.wait_for(
        lambda: Instance.objects.get(pk=instance.pk).status == InstanceStatus.INCIDENT,
        "the poison step to become an incident",
    )
    run = StepRun.objects.get(instance=instance, step_key="poison")
    assert run.status == StepRunStatus.INCIDENT
    assert run.lost_attempts == 3
    assert run.attempt == 3
    assert "lost by 3 workers" in run.error
    kinds = Counter(AuditEvent.objects.filter(step_run=run).values_list("kind", flat=True))
    assert kinds[AuditKind.STEP_TAKEN] == 3
    assert kinds[AuditKind.STEP_LOST] == 3
    assert kinds[AuditKind.INCIDENT_RAISED] == 1
    assert [row["attempt"] for row in cluster.action_log()] == [1, 2, 3]

    # The redelivered message and the sweep leave the incident alone: no fourth attempt.
    time.sleep(settings.ORCHESTRATE_STEP_LEASE_SECONDS + 1)
    assert [row["attempt"] for row in cluster.action_log()] == [1, 2, 3]
    assert StepRun.objects.get(pk=run.pk).status == StepRunStatus.INCIDENT

    # The worker replaced its killed children and goes on working.
    assert worker.alive()
    assert "exited with 'signal 9 (SIGKILL)'" in worker.log()
    healthy, _ = start_instance(workflow_key="it_healthy")
    cluster.wait_for(
        lambda: Instance.objects.get(pk=healthy.pk).status == InstanceStatus.COMPLETED,
        "a healthy instance to complete",
    )
