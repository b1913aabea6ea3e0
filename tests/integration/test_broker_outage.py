"""Redis stops for a while: work waits in the database and goes on once it is back.

This test shuts down the machine's Redis server (every Redis database on it); the
`redis_server` fixture starts it again whatever happens.
"""

import time

import pytest

from orchestrate.models import Instance, InstanceStatus, StepRun, StepRunStatus
from orchestrate.services.instances import start_instance
from tests.factories import edges, workflow

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

OUTAGE_SECONDS = 3
# A start must not wait for the broker: the send fails fast and the sweep sends later.
START_SECONDS_AT_MOST = 2


def test_stopping_redis_delays_work_but_loses_none(cluster, redis_server):
    workflow(
        "it_outage",
        [
            {"key": "start", "type": "start"},
            {"key": "a", "type": "automated", "action": "slow_record", "params": {"seconds": 1}},
            {"key": "b", "type": "automated", "action": "slow_record", "params": {"seconds": 0.1}},
            {"key": "end", "type": "end"},
        ],
        edges("start>a", "a>b", "b>end"),
    )
    cluster.start_beat()
    cluster.start_worker("it1")
    before = [start_instance(workflow_key="it_outage")[0].pk for _ in range(4)]
    # Redis goes away while actions run: their results land after it is gone.
    cluster.wait_for(
        lambda: StepRun.objects.filter(status=StepRunStatus.RUNNING).exists(),
        "a step to be running",
    )

    redis_server.stop()
    try:
        during = []
        for _ in range(4):
            started = time.monotonic()
            instance, created = start_instance(workflow_key="it_outage")
            assert created
            assert time.monotonic() - started < START_SECONDS_AT_MOST
            during.append(instance.pk)
        for pk in during:
            assert Instance.objects.get(pk=pk).status == InstanceStatus.RUNNING
            run = StepRun.objects.get(instance_id=pk, step_key="a")
            assert run.status == StepRunStatus.SCHEDULED
        time.sleep(OUTAGE_SECONDS)
        # Nothing started without a broker.
        assert not [row for row in cluster.action_log() if row["instance_id"] in during]
    finally:
        redis_server.start()

    ids = before + during
    cluster.wait_for(
        lambda: (
            not Instance.objects.filter(pk__in=ids)
            .exclude(status=InstanceStatus.COMPLETED)
            .exists()
        ),
        "every instance to complete after Redis came back",
    )
    for pk in ids:
        runs = StepRun.objects.filter(instance_id=pk)
        assert sorted(runs.values_list("step_key", "status")) == [
            ("a", StepRunStatus.COMPLETED),
            ("b", StepRunStatus.COMPLETED),
            ("end", StepRunStatus.COMPLETED),
            ("start", StepRunStatus.COMPLETED),
        ]
    # Every action finished exactly once: nothing ran twice, even across the outage.
    finished = [
        (row["instance_id"], row["step_key"])
        for row in cluster.action_log()
        if row["phase"] == "finished"
    ]
    assert sorted(finished) == sorted((pk, key) for pk in ids for key in ("a", "b"))
