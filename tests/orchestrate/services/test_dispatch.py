"""Messages leave only after commit, and a broker that is down loses no work: the row
is the outbox and the sweep sends it again."""

import datetime

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from orchestrate.engine import dispatch
from orchestrate.models import Instance, StepRun, StepRunStatus
from orchestrate.services.instances import start_instance
from orchestrate.services.sweep import sweep_due_work
from tests.factories import edges, workflow

pytestmark = pytest.mark.django_db(transaction=True)


def io_workflow():
    workflow(
        "io_flow",
        [
            {"key": "start", "type": "start"},
            {"key": "call", "type": "automated", "action": "tests_echo_params"},
            {"key": "end", "type": "end"},
        ],
        edges("start>call", "call>end"),
    )


@pytest.fixture
def sent(monkeypatch):
    calls = []

    class App:
        def send_task(self, name, args):
            calls.append((name, args[0], transaction.get_connection().in_atomic_block))

    monkeypatch.setattr("orchestrate.celery.app", App())
    return calls


def test_the_message_is_sent_after_commit_and_never_for_a_rollback(sent):
    io_workflow()
    with pytest.raises(RuntimeError), transaction.atomic():
        start_instance(workflow_key="io_flow")
        assert sent == []
        raise RuntimeError("the caller's transaction fails")
    assert sent == []
    assert not Instance.objects.exists()
    instance, _ = start_instance(workflow_key="io_flow")
    run = StepRun.objects.get(instance=instance, step_key="call")
    assert sent == [("orchestrate.run_step", run.pk, False)]


def test_a_broker_that_is_down_fails_no_start_and_the_sweep_sends_later(monkeypatch):
    io_workflow()

    class DownApp:
        def send_task(self, name, args):
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("orchestrate.celery.app", DownApp())
    instance, created = start_instance(workflow_key="io_flow")
    assert created
    run = StepRun.objects.get(instance=instance, step_key="call")
    assert run.status == StepRunStatus.SCHEDULED
    recorded = []
    monkeypatch.setattr(dispatch, "send_now", lambda name, pk: recorded.append((name, pk)))
    sweep_due_work()
    assert recorded == []  # sent a moment ago: not stale yet
    later = timezone.now() + datetime.timedelta(seconds=31)
    with time_machine.travel(later, tick=False):
        sweep_due_work()
    assert recorded == [("orchestrate.run_step", run.pk)]
