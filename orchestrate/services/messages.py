"""Delivering messages to the instances that wait for them."""

import logging

from django.db import transaction

from orchestrate.engine.walker import Engine, correlation_text, lock_step_run
from orchestrate.models import AuditKind, InstanceStatus, StepRun, StepRunStatus, StepType

logger = logging.getLogger("orchestrate.messages")


def deliver_message(*, name, correlation, payload=None, actor=None):
    """Complete every `message` step waiting for `name` with this correlation key.

    Each instance is handled in its own transaction with its row locked, so a message
    delivered twice at once completes a wait only once. The payload is merged into the
    variables (or put under the step's `output`). Returns the ids of the instances that
    received it (empty when none waits).
    """
    key = correlation_text(correlation)
    waiting = (
        StepRun.objects.filter(
            status=StepRunStatus.WAITING,
            step_type=StepType.MESSAGE,
            message_name=name,
            correlation_key=key,
            instance__status=InstanceStatus.RUNNING,
        )
        .order_by("id")
        .values_list("pk", "instance_id")
    )
    delivered = []
    for step_run_id, instance_id in list(waiting):
        delivered_now = _deliver_one(step_run_id, instance_id, name, key, payload or {}, actor)
        if delivered_now and instance_id not in delivered:
            delivered.append(instance_id)
    return delivered


def _deliver_one(step_run_id, instance_id, name, key, payload, actor):
    with transaction.atomic():
        instance, run = lock_step_run(step_run_id, instance_id)
        if run.status != StepRunStatus.WAITING or instance.status != InstanceStatus.RUNNING:
            return False
        engine = Engine(instance, actor=actor)
        engine.adopt(run)
        step = engine.graph.step(run.step_key)
        engine.event(
            AuditKind.MESSAGE_RECEIVED, run, message=name, correlation=key, payload=payload
        )
        if step.get("output"):
            engine.set_variables({step["output"]: payload})
        elif isinstance(payload, dict):
            engine.set_variables(payload)
        engine.complete_run(run, edges=engine.plain_edges(run.step_key))
        engine.walk()
        engine.finish()
        return True
