"""JSON log lines carry the ids of the work being done, and only while it is done."""

import datetime
import io
import json
import logging

import pytest
from django.utils import timezone

from orchestrate.engine.actions import ActionError, register_action
from orchestrate.models import StepRun
from orchestrate.observability.logging import (
    ContextFilter,
    JsonFormatter,
    LogContextMiddleware,
    bind_log_context,
    current_log_context,
    log_context,
)
from orchestrate.services.instances import start_instance
from orchestrate.tasks import run_step
from tasks_inbox.models import Notification, NotificationKind, Task
from tasks_inbox.services import notifications, sla
from tasks_inbox.services.tasks import claim_task, complete_task
from tasks_inbox.tasks import send_notification
from tests.factories import edges, workflow
from tests.tasks_inbox.factories import approval_workflow, people, start


@register_action("tests_logging_refuse")
def refuse(params, ctx):
    raise ActionError("the bank said no")


@pytest.fixture(autouse=True)
def _own_scope():
    """Each test starts with no ids, whatever earlier code bound outside a scope."""
    with log_context():
        yield


@pytest.fixture
def lines():
    """JSON lines written through the production formatter and filter, as dicts."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


def test_a_line_is_one_json_object_with_the_ids_in_scope(lines):
    log = logging.getLogger("tests.observability")
    with log_context(instance_id=7, task_id=12):
        log.warning("looked at %s", "it")
    log.warning("outside")
    inside, outside = lines()
    assert inside["message"] == "looked at it"
    assert inside["level"] == "WARNING"
    assert inside["logger"] == "tests.observability"
    assert inside["instance_id"] == 7
    assert inside["task_id"] == 12
    assert "step_key" not in inside
    assert inside["time"].endswith("+00:00")
    assert "instance_id" not in outside


def test_an_exception_is_logged_with_its_traceback(lines):
    try:
        raise ValueError("broken")
    except ValueError:
        logging.getLogger("tests.observability").exception("it failed")
    (line,) = lines()
    assert "ValueError: broken" in line["exc_info"]


def test_a_scope_starts_with_its_own_ids_and_forgets_what_was_bound_in_it():
    bind_log_context(instance_id=1)
    with log_context(step_run_id=3):
        bind_log_context(instance_id=5, task_id=None)
        assert current_log_context() == {"step_run_id": 3, "instance_id": 5}
    assert current_log_context() == {"instance_id": 1}


@pytest.mark.django_db
def test_a_worker_logs_a_failed_attempt_with_its_instance_and_step(broker, lines):
    workflow(
        "refused",
        [
            {"key": "start", "type": "start"},
            {"key": "charge", "type": "automated", "action": "tests_logging_refuse"},
            {"key": "done", "type": "end"},
        ],
        edges("start>charge", "charge>done"),
    )
    instance, _ = start_instance(workflow_key="refused")
    run = StepRun.objects.get(instance=instance, step_key="charge")
    before = current_log_context()
    run_step(run.pk)
    failed = [line for line in lines() if "failed" in line["message"]]
    assert failed
    assert failed[0]["instance_id"] == instance.pk
    assert failed[0]["step_run_id"] == run.pk
    assert failed[0]["step_key"] == "charge"
    # The task's scope ended with it.
    assert current_log_context() == before


def test_ids_bound_while_handling_a_request_do_not_outlive_it():
    def view(request):
        bind_log_context(instance_id=5)
        return current_log_context()

    bind_log_context(task_id=2)  # left over from work outside any scope
    assert LogContextMiddleware(view)(request=None) == {"instance_id": 5}
    assert current_log_context() == {"task_id": 2}


@pytest.mark.django_db
def test_a_mail_that_cannot_be_sent_is_logged_with_its_task(broker, lines, monkeypatch):
    users = people()
    approval_workflow()
    start("approval", users["alice"])
    task = Task.objects.get()
    claim_task(task.pk, actor=users["bob"])
    complete_task(task.pk, actor=users["bob"], outcome="approve")
    decided = Notification.objects.get(kind=NotificationKind.DECIDED)

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("the mail server is down")

    monkeypatch.setattr(notifications, "send_mail", refuse)
    send_notification(decided.pk)

    (line,) = [line for line in lines() if "could not send" in line["message"]]
    assert line["task_id"] == task.pk
    assert "the mail server is down" in line["exc_info"]


@pytest.mark.django_db
def test_each_failing_task_timer_is_logged_with_its_own_task(broker, lines, monkeypatch):
    users = people()
    approval_workflow(due="PT4H", escalation=[{"after": "PT1H", "action": "raise_priority"}])
    first = start("approval", users["alice"])
    second = start("approval", users["alice"], item="a desk")

    def fail(timer, instance, run, task, now):
        raise RuntimeError(f"cannot escalate task {task.pk}")

    monkeypatch.setattr(sla, "_fire", fail)
    assert sla.fire_due_timers(now=timezone.now() + datetime.timedelta(hours=6)) == 0

    failed = [line for line in lines() if "could not fire" in line["message"]]
    tasks = {task.instance_id: task.pk for task in Task.objects.all()}
    assert [(line["task_id"], line["instance_id"]) for line in failed] == [
        (tasks[first.pk], first.pk),
        (tasks[second.pk], second.pk),
    ]
    assert all(f"cannot escalate task {line['task_id']}" in line["exc_info"] for line in failed)
    assert "task_id" not in current_log_context()
