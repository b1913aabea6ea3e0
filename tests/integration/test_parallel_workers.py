"""Several workers side by side: no step runs twice, and branches that reach a join at
the same moment join exactly once."""

import itertools
import os
from collections import Counter, defaultdict

import pytest

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

BRANCHES = ("left", "middle", "right")
INSTANCES = 20


def test_two_workers_join_parallel_branches_exactly_once(cluster):
    # The branches take the same time, so they tend to finish (and reach the join) together.
    branch_steps = [
        {"key": key, "type": "automated", "action": "slow_record", "params": {"seconds": 0.3}}
        for key in BRANCHES
    ]
    workflow(
        "it_fan_out",
        [
            {"key": "start", "type": "start"},
            {"key": "fork", "type": "parallel"},
            *branch_steps,
            {"key": "together", "type": "join", "mode": "all"},
            {"key": "after", "type": "automated", "action": "slow_record"},
            {"key": "end", "type": "end"},
        ],
        edges(
            "start>fork",
            *(f"fork>{key}" for key in BRANCHES),
            *(f"{key}>together" for key in BRANCHES),
            "together>after",
            "after>end",
        ),
    )
    workers = [cluster.start_worker("it1"), cluster.start_worker("it2")]
    ids = [start_instance(workflow_key="it_fan_out")[0].pk for _ in range(INSTANCES)]

    cluster.wait_for(
        lambda: (
            not Instance.objects.filter(pk__in=ids)
            .exclude(status=InstanceStatus.COMPLETED)
            .exists()
        ),
        "every instance to complete",
    )

    automated = (*BRANCHES, "after")
    for pk in ids:
        runs = Counter(StepRun.objects.filter(instance_id=pk).values_list("step_key", "status"))
        assert runs == {
            (key, StepRunStatus.COMPLETED): 1
            for key in ("start", "fork", *BRANCHES, "together", "after", "end")
        }
        join = StepRun.objects.get(instance_id=pk, step_key="together")
        assert len(join.arrivals) == len(BRANCHES)

    # Every automated step was taken once and its action ran once.
    log = cluster.action_log()
    for phase in ("started", "finished"):
        done = Counter(
            (row["instance_id"], row["step_key"]) for row in log if row["phase"] == phase
        )
        assert done == {(pk, key): 1 for pk in ids for key in automated}
    taken = Counter(
        AuditEvent.objects.filter(kind=AuditKind.STEP_TAKEN, instance_id__in=ids).values_list(
            "step_run_id", flat=True
        )
    )
    assert len(taken) == len(ids) * len(automated)
    assert set(taken.values()) == {1}

    # The race was on: in some instances two branches finished within a few milliseconds
    # (on different processes) and met at the join together.
    finished_at = defaultdict(list)
    for row in log:
        if row["phase"] == "finished" and row["step_key"] in BRANCHES:
            finished_at[row["instance_id"]].append(row["at"])
    close = [
        pk
        for pk, times in finished_at.items()
        if min((b - a).total_seconds() for a, b in itertools.pairwise(sorted(times))) < 0.05
    ]
    assert close, "no two branches reached the join at about the same moment"

    # Both workers did some of it (a child's process group is its worker's).
    groups = {os.getpgid(pid) for pid in {row["pid"] for row in log}}
    assert groups == {worker.popen.pid for worker in workers}
