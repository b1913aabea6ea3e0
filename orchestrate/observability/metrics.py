"""Prometheus figures, read from the database at scrape time.

The database is the source of truth and the web and worker processes are separate, so
nothing is counted in memory: every scrape runs a fixed number of aggregate queries
(`SCRAPE_QUERIES`) and loads no row into Python. Each query says which index it relies
on. Step durations and retries look at a recent window only: step runs that ended in the
last ORCHESTRATE_METRICS_WINDOW_SECONDS among the newest ORCHESTRATE_METRICS_STEP_RUNS
(a primary-key range, as `ended_at` has no index).
"""

import datetime

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Min, Q, Sum
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily

from orchestrate.models import Instance, InstanceStatus, StepRun, StepRunStatus
from tasks_inbox.models import LIVE_TASK_STATUSES, Task, TaskTimer, TimerStatus

# Upper bounds (seconds) of the step-duration buckets: automated steps take seconds,
# human steps hours or days.
DURATION_BUCKETS = (1, 5, 30, 60, 300, 1800, 3600, 14400, 86400, 604800)
SCRAPE_QUERIES = 7

WORKFLOW = "instance__definition__key"


def instance_counts():
    """{(workflow, status): count} of all instances (index instance_def_status_idx)."""
    rows = (
        Instance.objects.values_list("definition__key", "status").annotate(n=Count("pk")).order_by()
    )
    return {(workflow, status): n for workflow, status, n in rows}


def task_counts(now):
    """{(workflow, step): (open, overdue)} of live tasks (open, claimed or waiting for an
    answer; partial index task_live_due_idx). Overdue: past `due_at`; a task whose clock
    is paused counts only if it was already past due when the pause began."""
    overdue = Q(due_at__lt=now) & (Q(paused_at=None) | Q(due_at__lte=F("paused_at")))
    rows = (
        Task.objects.filter(status__in=LIVE_TASK_STATUSES)
        .values_list(WORKFLOW, "step_key")
        .annotate(open=Count("pk"), overdue=Count("pk", filter=overdue))
        .order_by()
    )
    return {(workflow, step): (n_open, n_overdue) for workflow, step, n_open, n_overdue in rows}


def recent_step_runs(now):
    """Step runs that ended (completed or failed) in the window, among the newest ones."""
    newest = StepRun.objects.aggregate(newest=Max("pk"))["newest"] or 0
    since = now - datetime.timedelta(seconds=settings.ORCHESTRATE_METRICS_WINDOW_SECONDS)
    return StepRun.objects.filter(
        pk__gt=newest - settings.ORCHESTRATE_METRICS_STEP_RUNS,
        status__in=(StepRunStatus.COMPLETED, StepRunStatus.FAILED),
        ended_at__gte=since,
    )


def step_run_figures(now):
    """{(workflow, step): {count, seconds, buckets: [cumulative count per bound],
    retries}} of the recent step runs, aggregated in SQL."""
    duration = ExpressionWrapper(F("ended_at") - F("created_at"), output_field=DurationField())
    buckets = {
        f"le_{bound}": Count("pk", filter=Q(duration__lte=datetime.timedelta(seconds=bound)))
        for bound in DURATION_BUCKETS
    }
    rows = (
        recent_step_runs(now)
        .annotate(duration=duration)
        .values(WORKFLOW, "step_key")
        .annotate(
            count=Count("pk"),
            total=Sum("duration"),
            retries=Sum(F("attempt") - 1, filter=Q(attempt__gt=1)),
            **buckets,
        )
        .order_by()
    )
    figures = {}
    for row in rows:
        total = row["total"] or datetime.timedelta(0)
        figures[(row[WORKFLOW], row["step_key"])] = {
            "count": row["count"],
            "seconds": total.total_seconds(),
            "buckets": [row[f"le_{bound}"] for bound in DURATION_BUCKETS],
            "retries": row["retries"] or 0,
        }
    return figures


def retrying_counts():
    """{(workflow, step): count} of automated steps that failed at least once and wait for
    or run their next attempt (partial indexes steprun_due_attempt_idx, steprun_lease_idx)."""
    rows = (
        StepRun.objects.filter(
            Q(status=StepRunStatus.SCHEDULED) | Q(status=StepRunStatus.RUNNING), failures__gt=0
        )
        .values_list(WORKFLOW, "step_key")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {(workflow, step): n for workflow, step, n in rows}


def sweep_lag(now):
    """{kind: seconds} how long the oldest due work has waited for the sweep or a worker
    (0 when nothing is due): what `sweep_due_work` and `fire_due_timers` look for, through
    the same partial indexes."""
    running = Q(instance__status=InstanceStatus.RUNNING)
    attempts = running & Q(status=StepRunStatus.SCHEDULED, next_attempt_at__lte=now)
    waits = running & Q(status=StepRunStatus.WAITING, due_at__lte=now)
    leases = Q(status=StepRunStatus.RUNNING, lease_expires_at__lte=now)
    oldest = StepRun.objects.filter(attempts | waits | leases).aggregate(
        step_attempts=Min("next_attempt_at", filter=attempts),
        step_timers=Min("due_at", filter=waits),
        expired_leases=Min("lease_expires_at", filter=leases),
    )
    oldest["task_timers"] = TaskTimer.objects.filter(
        status=TimerStatus.PENDING, due_at__lte=now
    ).aggregate(oldest=Min("due_at"))["oldest"]
    return {
        kind: max((now - at).total_seconds(), 0.0) if at is not None else 0.0
        for kind, at in oldest.items()
    }


class DatabaseCollector:
    """A prometheus_client collector that reads the figures above at each scrape."""

    def __init__(self, now=None):
        self.now = now

    def describe(self):
        # Registering must not query the database.
        return []

    def collect(self):
        now = self.now or timezone.now()
        yield from self._instances(instance_counts())
        yield from self._tasks(task_counts(now))
        yield from self._steps(step_run_figures(now), retrying_counts())
        lag = GaugeMetricFamily(
            "orchestrate_sweep_lag_seconds",
            "Age of the oldest due work not yet done, by kind (0: nothing is due).",
            labels=["kind"],
        )
        for kind, seconds in sorted(sweep_lag(now).items()):
            lag.add_metric([kind], seconds)
        yield lag

    def _instances(self, counts):
        instances = GaugeMetricFamily(
            "orchestrate_instances",
            "Instances by workflow and status.",
            labels=["workflow", "status"],
        )
        incidents = GaugeMetricFamily(
            "orchestrate_incidents",
            "Instances stopped by an incident (a step failed with no error path).",
            labels=["workflow"],
        )
        for (workflow, status), n in sorted(counts.items()):
            instances.add_metric([workflow, status], n)
        for workflow in sorted({workflow for workflow, _ in counts}):
            incidents.add_metric([workflow], counts.get((workflow, InstanceStatus.INCIDENT), 0))
        yield instances
        yield incidents

    def _tasks(self, counts):
        labels = ["workflow", "step"]
        tasks_open = GaugeMetricFamily(
            "orchestrate_tasks_open",
            "Tasks not yet decided (open, claimed or waiting for an answer).",
            labels=labels,
        )
        overdue = GaugeMetricFamily(
            "orchestrate_tasks_overdue", "Undecided tasks past their due time.", labels=labels
        )
        for key, (n_open, n_overdue) in sorted(counts.items()):
            tasks_open.add_metric(list(key), n_open)
            overdue.add_metric(list(key), n_overdue)
        yield tasks_open
        yield overdue

    def _steps(self, figures, retrying):
        labels = ["workflow", "step"]
        durations = HistogramMetricFamily(
            "orchestrate_step_duration_seconds",
            "From entering a step to leaving it, of step runs that ended in the recent "
            "window (ORCHESTRATE_METRICS_WINDOW_SECONDS).",
            labels=labels,
        )
        retries = GaugeMetricFamily(
            "orchestrate_step_retries_recent",
            "Attempts beyond the first of step runs that ended in the recent window.",
            labels=labels,
        )
        for key, figure in sorted(figures.items()):
            buckets = [
                (str(float(bound)), n)
                for bound, n in zip(DURATION_BUCKETS, figure["buckets"], strict=True)
            ]
            buckets.append(("+Inf", figure["count"]))
            durations.add_metric(list(key), buckets, sum_value=figure["seconds"])
            retries.add_metric(list(key), figure["retries"])
        retrying_now = GaugeMetricFamily(
            "orchestrate_steps_retrying",
            "Automated steps that failed at least once and wait for or run another attempt.",
            labels=labels,
        )
        for key, n in sorted(retrying.items()):
            retrying_now.add_metric(list(key), n)
        yield durations
        yield retries
        yield retrying_now


def render_metrics(now=None):
    """The text exposition of one scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(now))
    return generate_latest(registry)
