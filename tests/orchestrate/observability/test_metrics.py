"""`/metrics`: figures read from the database at scrape time, in a fixed number of
queries, and who may read them."""

import datetime

import pytest
import time_machine
from prometheus_client.parser import text_string_to_metric_families

from orchestrate.engine.actions import ActionError, register_action
from orchestrate.models import Instance, InstanceStatus, StepRun
from orchestrate.observability.metrics import SCRAPE_QUERIES, render_metrics
from orchestrate.services.instances import start_instance
from orchestrate.services.sweep import sweep_due_work
from tasks_inbox.models import Task
from tests.factories import UserFactory, edges, workflow
from tests.tasks_inbox.factories import approval_workflow, people, start

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 5, 4, 8, 0, tzinfo=datetime.UTC)


@register_action("tests_metrics_flaky")
def flaky(params, ctx):
    """Fails until attempt `succeed_on`."""
    if ctx.attempt < int(params["succeed_on"]):
        raise ActionError(f"attempt {ctx.attempt} refused")
    return {}


def flaky_workflow(key, *, succeed_on, max_attempts):
    return workflow(
        key,
        [
            {"key": "start", "type": "start"},
            {
                "key": "charge",
                "type": "automated",
                "action": "tests_metrics_flaky",
                "params": {"succeed_on": succeed_on},
                "retry": {"max_attempts": max_attempts, "backoff_seconds": 10},
            },
            {"key": "done", "type": "end"},
        ],
        edges("start>charge", "charge>done"),
    )


def at(minutes=0, seconds=0):
    return time_machine.travel(
        T0 + datetime.timedelta(minutes=minutes, seconds=seconds), tick=False
    )


def scrape(now):
    """{(name, labels as a sorted tuple): value} of one scrape."""
    samples = {}
    for family in text_string_to_metric_families(render_metrics(now).decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples[(name, tuple(sorted(labels.items())))]


@pytest.fixture
def busy(broker, settings):
    """At T0: three approvals (due in an hour; one of them started 90 minutes later),
    a payment that succeeds on its second attempt 11 s later, one that keeps failing
    (next attempt due at T0 + 10 s, never swept) and one that became an incident."""
    settings.ORCHESTRATE_METRICS_WINDOW_SECONDS = 86400
    users = people()
    approval_workflow(due="PT1H")
    flaky_workflow("pay", succeed_on=2, max_attempts=3)
    flaky_workflow("flaky", succeed_on=99, max_attempts=3)
    flaky_workflow("broken", succeed_on=99, max_attempts=1)
    with at():
        start("approval", users["alice"])
        start("approval", users["alice"])
        for key in ("pay", "flaky", "broken"):
            start_instance(workflow_key=key)
        broker.drain()
    with at(seconds=11):
        sweep_due_work()
        # Only pay's second attempt runs: flaky's stays due (sent, never taken).
        pay_charge = StepRun.objects.get(instance__definition__key="pay", step_key="charge")
        broker.messages = [("orchestrate.run_step", pay_charge.pk)]
        broker.drain()
    with at(minutes=90):
        start("approval", users["alice"])
    return users


def test_a_scrape_reports_instances_tasks_steps_and_lag(busy):
    assert Instance.objects.get(definition__key="pay").status == InstanceStatus.COMPLETED
    samples = scrape(T0 + datetime.timedelta(minutes=100))

    assert value(samples, "orchestrate_instances", workflow="approval", status="running") == 3
    assert value(samples, "orchestrate_instances", workflow="pay", status="completed") == 1
    assert value(samples, "orchestrate_instances", workflow="broken", status="incident") == 1
    assert value(samples, "orchestrate_incidents", workflow="broken") == 1
    assert value(samples, "orchestrate_incidents", workflow="approval") == 0

    assert value(samples, "orchestrate_tasks_open", workflow="approval", step="review") == 3
    # The two started at T0 are 40 minutes past due; the third has 50 minutes left.
    assert value(samples, "orchestrate_tasks_overdue", workflow="approval", step="review") == 2

    charge = {"workflow": "pay", "step": "charge"}
    assert value(samples, "orchestrate_step_duration_seconds_count", **charge) == 1
    assert value(samples, "orchestrate_step_duration_seconds_sum", **charge) == 11
    assert value(samples, "orchestrate_step_duration_seconds_bucket", le="5.0", **charge) == 0
    assert value(samples, "orchestrate_step_duration_seconds_bucket", le="30.0", **charge) == 1
    assert value(samples, "orchestrate_step_retries_recent", **charge) == 1
    assert value(samples, "orchestrate_steps_retrying", workflow="flaky", step="charge") == 1

    # flaky's second attempt was due at T0 + 10 s and no sweep has sent it since.
    assert value(samples, "orchestrate_sweep_lag_seconds", kind="step_attempts") == 100 * 60 - 10
    assert value(samples, "orchestrate_sweep_lag_seconds", kind="step_timers") == 0


def test_a_paused_clock_keeps_a_task_from_turning_overdue(busy):
    task = Task.objects.filter(instance__definition__key="approval").order_by("pk").first()
    Task.objects.filter(pk=task.pk).update(
        status="info_requested", paused_at=T0 + datetime.timedelta(minutes=30)
    )
    samples = scrape(T0 + datetime.timedelta(minutes=100))
    assert value(samples, "orchestrate_tasks_open", workflow="approval", step="review") == 3
    assert value(samples, "orchestrate_tasks_overdue", workflow="approval", step="review") == 1


def test_step_runs_that_ended_before_the_window_are_left_out(busy, settings):
    settings.ORCHESTRATE_METRICS_WINDOW_SECONDS = 600
    samples = scrape(T0 + datetime.timedelta(minutes=100))
    assert (
        "orchestrate_step_duration_seconds_count",
        (("step", "charge"), ("workflow", "pay")),
    ) not in samples


def test_a_scrape_takes_a_fixed_number_of_queries(busy, django_assert_num_queries):
    with django_assert_num_queries(SCRAPE_QUERIES):
        render_metrics(T0 + datetime.timedelta(minutes=100))
    # More of everything costs no query more.
    with at(minutes=95):
        for _ in range(3):
            start("approval", busy["alice"])
    with django_assert_num_queries(SCRAPE_QUERIES):
        render_metrics(T0 + datetime.timedelta(minutes=100))


def test_an_empty_database_gives_zero_lag_and_no_labelled_samples():
    samples = scrape(None)
    assert value(samples, "orchestrate_sweep_lag_seconds", kind="task_timers") == 0
    assert not [key for key in samples if key[0] == "orchestrate_instances"]


# --- access ---------------------------------------------------------------------------


def test_without_a_token_this_machine_may_read_the_metrics(client):
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert b"orchestrate_sweep_lag_seconds" in response.content


def test_without_a_token_other_machines_are_refused_unless_staff(client):
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403
    client.force_login(UserFactory(username="viewer"))
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403
    client.force_login(UserFactory(username="operator", is_staff=True))
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200


def test_with_a_token_only_its_bearer_may_read_the_metrics(client, settings):
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    refused = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"].startswith("Bearer")
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer guess", REMOTE_ADDR="127.0.0.1")
    assert wrong.status_code == 401
    client.force_login(UserFactory(username="operator", is_staff=True))
    assert client.get("/metrics").status_code == 401
    right = client.get(
        "/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token", REMOTE_ADDR="10.1.2.3"
    )
    assert right.status_code == 200


def test_metrics_answer_only_get(client):
    assert client.post("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 405


def test_behind_a_local_proxy_only_clients_on_this_machine_read_the_metrics(client, settings):
    settings.ORCHESTRATE_TRUSTED_PROXIES = 1
    remote = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.1.2.3")
    local = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert (remote.status_code, local.status_code) == (403, 200)
