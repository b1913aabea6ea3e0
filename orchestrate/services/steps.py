"""Work on single step runs: automated attempts on workers, due timers and timeouts,
lost leases, and completing a waiting human step.

`run_automated_step` is what a worker does with a `run_step` message. It is idempotent:
a duplicate or late message finds the row no longer scheduled (or not yet due) and
returns. The action runs outside any transaction, under a lease; the result is applied
only if the lease still belongs to this attempt.
"""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from orchestrate.engine import actions, dispatch
from orchestrate.engine.walker import Engine, backoff_delay, lock_step_run, retry_policy
from orchestrate.models import (
    AuditEvent,
    AuditKind,
    InstanceStatus,
    StepRun,
    StepRunStatus,
    StepType,
)

logger = logging.getLogger("orchestrate.steps")


class StepStateError(Exception):
    """The step is not in a state that allows this action (a 409 for the API)."""


@dataclass
class TakenStep:
    step_run_id: int
    instance_id: int
    attempt: int


LEASE_EXPIRED = object()  # take_step_run's answer for a step held by a dead worker


def _lease_seconds():
    return datetime.timedelta(seconds=settings.ORCHESTRATE_STEP_LEASE_SECONDS)


def take_step_run(step_run_id, *, worker="worker"):
    """Take a due automated step under a lease (one short transaction).

    Returns a TakenStep, or None when there is nothing to do: the row is not scheduled
    (a duplicate message), not due yet, or its instance is not running; LEASE_EXPIRED
    when the worker holding it died.
    """
    now = timezone.now()
    with transaction.atomic():
        run = (
            StepRun.objects.select_for_update(of=("self",))
            .select_related("instance")
            .filter(pk=step_run_id)
            .first()
        )
        if run is None:
            return None
        if run.status == StepRunStatus.RUNNING and run.lease_expires_at <= now:
            return LEASE_EXPIRED
        if run.status != StepRunStatus.SCHEDULED:
            return None
        if run.next_attempt_at and run.next_attempt_at > now:
            return None
        if run.instance.status != InstanceStatus.RUNNING:
            return None
        run.take(now + _lease_seconds())
        run.save(
            update_fields=[
                "status",
                "attempt",
                "lease_expires_at",
                "next_attempt_at",
                "lost_attempts",
                "dispatched_at",
            ]
        )
        AuditEvent.objects.create(
            instance_id=run.instance_id,
            step_run=run,
            step_key=run.step_key,
            kind=AuditKind.STEP_TAKEN,
            actor_label=worker,
            data={"attempt": run.attempt, "lease_until": run.lease_expires_at.isoformat()},
        )
        return TakenStep(step_run_id=run.pk, instance_id=run.instance_id, attempt=run.attempt)


def execute_taken_step(taken):
    """Run the action of a taken step outside any transaction: (result, error)."""
    run = StepRun.objects.select_related("instance__version", "instance__started_by").get(
        pk=taken.step_run_id
    )
    engine = Engine(run.instance)
    step = engine.graph.step(run.step_key)
    spec = actions.get_action(step.get("action", ""))
    if spec is None:
        return None, f"unknown action '{step.get('action')}'"
    try:
        return engine.call_action(run, step, spec), None
    except Exception as exc:  # any failure of an action is a failed attempt
        logger.info("step %s attempt %s failed: %s", run.pk, taken.attempt, exc)
        from orchestrate.engine.walker import _error_text

        return None, _error_text(exc)


def finish_step_attempt(taken, *, result=None, error=None, worker="worker"):
    """Apply an attempt's result (locks the instance, then the step run).

    Success completes the step and walks on; a failure schedules the next attempt with
    exponential backoff, or after the last one takes `on: error` or raises an incident.
    Does nothing if the lease was lost to another worker meanwhile.
    """
    with transaction.atomic():
        instance, run = lock_step_run(taken.step_run_id, taken.instance_id)
        if run.status != StepRunStatus.RUNNING or run.attempt != taken.attempt:
            logger.warning("step %s attempt %s: lease lost, result dropped", run.pk, taken.attempt)
            return instance
        engine = Engine(instance, actor_label=worker)
        engine.adopt(run)
        step = engine.graph.step(run.step_key)
        if error is None:
            engine.event(AuditKind.ACTION_SUCCEEDED, run, attempt=run.attempt)
            engine.apply_result(step, result)
            from orchestrate.engine.walker import _json_safe

            engine.complete_run(
                run, result=_json_safe(result), edges=engine.plain_edges(run.step_key)
            )
            engine.walk()
        else:
            engine.event(AuditKind.ACTION_FAILED, run, attempt=run.attempt, error=error)
            failures = run.failures + 1
            if failures < int(retry_policy(step)["max_attempts"]):
                at = engine.now + datetime.timedelta(seconds=backoff_delay(step, failures))
                run.retry_later(at, error)
                engine.touch(run)
                engine.event(
                    AuditKind.STEP_ENTERED, run, status=run.status, next_attempt_at=at.isoformat()
                )
            else:
                run.failures = failures
                engine.fail_for_good(run, error)
                engine.walk()
        return engine.finish()


def run_automated_step(step_run_id, *, worker="worker"):
    """Take, execute and finish one automated step (what a worker does). Idempotent."""
    taken = take_step_run(step_run_id, worker=worker)
    if taken is LEASE_EXPIRED:
        # The worker that held it died; this message is the broker's redelivery.
        recover_lost_step(step_run_id, send=False)
        taken = take_step_run(step_run_id, worker=worker)
    if taken is None:
        return None
    result, error = execute_taken_step(taken)
    return finish_step_attempt(taken, result=result, error=error, worker=worker)


def recover_lost_step(step_run_id, *, send=True):
    """A worker died holding the step (its lease ran out): requeue it for another
    worker, or raise an incident once it was lost too often (a poison step)."""
    now = timezone.now()
    with transaction.atomic():
        instance, run = lock_step_run(step_run_id)
        if run is None:
            return None
        engine = Engine(instance, actor_label="sweep")
        engine.adopt(run)
        if run.status == StepRunStatus.RUNNING and run.lease_expires_at <= now:
            run.requeue_lost(now)
            engine.touch(run)
            engine.event(
                AuditKind.STEP_LOST, run, attempt=run.attempt, lost_attempts=run.lost_attempts
            )
        if (
            run.status != StepRunStatus.SCHEDULED
            or run.lost_attempts < settings.ORCHESTRATE_MAX_LOST_ATTEMPTS
        ):
            if send and run.status == StepRunStatus.SCHEDULED and run.pk in engine.dirty:
                run.dispatched_at = now
                engine.sends.append((dispatch.RUN_STEP, run))
            return engine.finish()
        engine.raise_incident(
            run,
            f"the step was lost by {run.lost_attempts} workers that stopped while running it",
        )
        return engine.finish()


def wake_step_run(step_run_id):
    """A waiting step is due: a timer fires, a message or human step times out.
    Idempotent: a step that no longer waits, or is not due yet, is left alone."""
    now = timezone.now()
    with transaction.atomic():
        instance, run = lock_step_run(step_run_id)
        if run is None:
            return None
        if (
            run.status != StepRunStatus.WAITING
            or run.due_at is None
            or run.due_at > now
            or instance.status != InstanceStatus.RUNNING
        ):
            return None
        engine = Engine(instance, actor_label="timer", now=now)
        engine.adopt(run)
        if run.step_type == StepType.TIMER:
            engine.event(AuditKind.TIMER_FIRED, run, due_at=run.due_at.isoformat())
            engine.complete_run(run, edges=engine.plain_edges(run.step_key))
        else:
            engine.complete_run(run, outcome="timeout")
        engine.walk()
        return engine.finish()


def complete_waiting_step(
    step_run_id, *, outcome="", data=None, actor=None, actor_label=None, output=None
):
    """Complete a waiting human step with `outcome`, merging `data` into the variables.

    The human-task services build on this; it locks the instance and the step run and
    raises StepStateError when the step no longer waits (someone else was first).
    """
    with transaction.atomic():
        instance, run = lock_step_run(step_run_id)
        if run is None:
            raise StepStateError("no such step")
        if run.status != StepRunStatus.WAITING or run.step_type != StepType.HUMAN:
            raise StepStateError(f"the step '{run.step_key}' is {run.status}, it no longer waits")
        if instance.is_ended:
            raise StepStateError(f"the instance is {instance.status}")
        engine = Engine(instance, actor=actor, actor_label=actor_label)
        engine.adopt(run)
        if data:
            engine.set_variables(data)
        if output is not None:
            engine.set_variables(output)
        engine.complete_run(run, outcome=outcome)
        engine.walk()
        return engine.finish()
