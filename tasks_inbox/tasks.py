"""Celery tasks of the inbox: thin wrappers that pass ids to services."""

from celery import shared_task

from tasks_inbox.services import notifications, sla


@shared_task(name=notifications.SEND_NOTIFICATION)
def send_notification(notification_id):
    notifications.send_notification(notification_id)


@shared_task(name="tasks_inbox.sweep_notifications")
def sweep_notifications():
    notifications.sweep_unsent()


@shared_task(name="tasks_inbox.sweep_task_timers")
def sweep_task_timers():
    sla.fire_due_timers()


@shared_task(name="tasks_inbox.queue_overdue_digests")
def queue_overdue_digests():
    sla.queue_overdue_digests()


@shared_task(name=sla.SEND_DIGEST)
def send_digest(digest_id):
    sla.send_digest(digest_id)
