"""Celery tasks: thin wrappers that pass ids to services. Every one is idempotent."""

import socket

from celery import shared_task

from orchestrate.services import instances, steps, sweep

_WORKER = f"worker@{socket.gethostname()}"


@shared_task(name="orchestrate.run_step")
def run_step(step_run_id):
    steps.run_automated_step(step_run_id, worker=_WORKER)


@shared_task(name="orchestrate.wake_step")
def wake_step(step_run_id):
    steps.wake_step_run(step_run_id)


@shared_task(name="orchestrate.resume_parent")
def resume_parent(step_run_id):
    instances.resume_parent(step_run_id)


@shared_task(name="orchestrate.sweep_due_work")
def sweep_due_work():
    sweep.sweep_due_work()
