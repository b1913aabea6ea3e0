"""Celery tasks: thin wrappers that pass ids to services. Every one is idempotent."""

import socket

from celery import shared_task

from orchestrate.observability.logging import log_context
from orchestrate.services import instances, steps, sweep, webhooks

_WORKER = f"worker@{socket.gethostname()}"


@shared_task(name="orchestrate.run_step")
def run_step(step_run_id):
    with log_context(step_run_id=step_run_id):
        steps.run_automated_step(step_run_id, worker=_WORKER)


@shared_task(name="orchestrate.wake_step")
def wake_step(step_run_id):
    with log_context(step_run_id=step_run_id):
        steps.wake_step_run(step_run_id)


@shared_task(name="orchestrate.resume_parent")
def resume_parent(step_run_id):
    with log_context(step_run_id=step_run_id):
        instances.resume_parent(step_run_id)


@shared_task(name="orchestrate.sweep_due_work")
def sweep_due_work():
    with log_context():
        sweep.sweep_due_work()


@shared_task(name="orchestrate.deliver_webhook")
def deliver_webhook(delivery_id):
    webhooks.deliver_webhook(delivery_id)


@shared_task(name="orchestrate.sweep_webhooks")
def sweep_webhooks():
    webhooks.sweep_webhooks()
