"""Celery tasks of the inbox: thin wrappers that pass ids to services."""

from celery import shared_task

from orchestrate.observability.logging import log_context
from tasks_inbox.services import notifications, sla


@shared_task(name=notifications.SEND_NOTIFICATION)
def send_notification(notification_id):
    with log_context():
        notifications.send_notification(notification_id)


@shared_task(name="tasks_inbox.sweep_notifications")
def sweep_notifications():
    with log_context():
        notifications.sweep_unsent()


@shared_task(name="tasks_inbox.sweep_task_timers")
def sweep_task_timers():
    with log_context():
        sla.fire_due_timers()


@shared_task(name="tasks_inbox.queue_overdue_digests")
def queue_overdue_digests():
    with log_context():
        sla.queue_overdue_digests()


@shared_task(name=sla.SEND_DIGEST)
def send_digest(digest_id):
    with log_context():
        sla.send_digest(digest_id)
