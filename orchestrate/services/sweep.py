"""The periodic sweep: finds due work in the database and sends it to workers.

Beat sends `sweep_due_work` every ORCHESTRATE_SWEEP_SECONDS. Each query touches only due
rows through a partial index; rows are claimed with `select_for_update(skip_locked=True)`
(PostgreSQL), so several sweeps at once share the work instead of repeating it. A row
whose message was lost (broker down, worker died before taking it) is due again once
its `dispatched_at` is older than ORCHESTRATE_REDISPATCH_SECONDS. One failing row is
logged and skipped.
"""

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from orchestrate.engine import dispatch
from orchestrate.models import InstanceStatus, StepRun, StepRunStatus, StepType

from .steps import recover_lost_step

logger = logging.getLogger("orchestrate.sweep")


def _claim(queryset, task_name, now, batch):
    """Mark a batch of due rows dispatched and send them after commit."""
    with transaction.atomic():
        ids = list(
            queryset.select_for_update(skip_locked=True).values_list("pk", flat=True)[:batch]
        )
        if ids:
            StepRun.objects.filter(pk__in=ids).update(dispatched_at=now)
            for pk in ids:
                dispatch.send_on_commit(task_name, pk)
    return len(ids)


def sweep_due_work(*, now=None, batch=None):
    """Send what is due; returns counts by kind of work."""
    now = now or timezone.now()
    batch = batch or settings.ORCHESTRATE_SWEEP_BATCH
    stale = now - datetime.timedelta(seconds=settings.ORCHESTRATE_REDISPATCH_SECONDS)
    not_sent = Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=stale)
    counts = {"lost": 0, "attempts": 0, "waits": 0, "subprocesses": 0}

    lost = StepRun.objects.filter(
        status=StepRunStatus.RUNNING, lease_expires_at__lte=now
    ).values_list("pk", flat=True)[:batch]
    for pk in list(lost):
        try:
            recover_lost_step(pk)
            counts["lost"] += 1
        except Exception:
            logger.exception("sweep: could not recover step run %s", pk)

    running = Q(instance__status=InstanceStatus.RUNNING)
    counts["attempts"] = _claim(
        StepRun.objects.filter(
            running, not_sent, status=StepRunStatus.SCHEDULED, next_attempt_at__lte=now
        ).order_by("next_attempt_at"),
        dispatch.RUN_STEP,
        now,
        batch,
    )
    counts["waits"] = _claim(
        StepRun.objects.filter(
            running, not_sent, status=StepRunStatus.WAITING, due_at__lte=now
        ).order_by("due_at"),
        dispatch.WAKE_STEP,
        now,
        batch,
    )
    counts["subprocesses"] = _claim(
        StepRun.objects.filter(
            running,
            not_sent,
            status=StepRunStatus.WAITING,
            step_type=StepType.SUBPROCESS,
            child_instances__status=InstanceStatus.COMPLETED,
        ),
        dispatch.RESUME_PARENT,
        now,
        batch,
    )
    if any(counts.values()):
        logger.info("sweep sent %s", counts)
    return counts
