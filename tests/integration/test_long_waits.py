"""Long waits live in the database, not in the broker as ETA or countdown messages."""

import datetime

import pytest
from django.utils import timezone

from orchestrate.models import Instance, InstanceStatus, StepRun, StepRunStatus
from orchestrate.services.instances import start_instance
from tests.factories import edges, workflow

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_long_timer_and_a_long_retry_backoff_leave_no_message_in_the_broker(cluster):
    workflow(
        "it_long_timer",
        [
            {"key": "start", "type": "start"},
            {"key": "prepare", "type": "automated", "action": "slow_record"},
            {"key": "wait_a_day", "type": "timer", "duration": "P1D"},
            {"key": "end", "type": "end"},
        ],
        edges("start>prepare", "prepare>wait_a_day", "wait_a_day>end"),
    )
    workflow(
        "it_long_backoff",
        [
            {"key": "start", "type": "start"},
            {
                "key": "flaky",
                "type": "automated",
                "action": "always_fail",
                "retry": {
                    "max_attempts": 3,
                    "backoff_seconds": 3600,
                    "max_backoff_seconds": 7200,
                },
            },
            {"key": "end", "type": "end"},
        ],
        edges("start>flaky", "flaky>end"),
    )
    cluster.start_worker()
    before = timezone.now()
    timer_instance, _ = start_instance(workflow_key="it_long_timer")
    backoff_instance, _ = start_instance(workflow_key="it_long_backoff")

    timer = cluster.wait_for(
        lambda: StepRun.objects.filter(
            instance=timer_instance, step_key="wait_a_day", status=StepRunStatus.WAITING
        ).first(),
        "the timer to be entered",
    )
    retry = cluster.wait_for(
        lambda: StepRun.objects.filter(
            instance=backoff_instance, step_key="flaky", status=StepRunStatus.SCHEDULED, failures=1
        ).first(),
        "the first attempt to fail",
    )
    # Every message has been taken and acknowledged: nothing waits in the queue, and
    # the worker holds nothing back for later (a held ETA message stays unacked).
    cluster.wait_for(
        lambda: cluster.queued() == 0 and cluster.unacked() == 0, "the broker to be empty"
    )

    day = datetime.timedelta(days=1)
    assert before + day <= timer.due_at <= timezone.now() + day
    hour = datetime.timedelta(hours=1)
    assert before + hour <= retry.next_attempt_at <= timezone.now() + hour
    assert retry.attempt == 1
    for instance in (timer_instance, backoff_instance):
        assert Instance.objects.get(pk=instance.pk).status == InstanceStatus.RUNNING
    assert [row["step_key"] for row in cluster.action_log()].count("flaky") == 1
