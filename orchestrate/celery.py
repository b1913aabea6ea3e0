"""The Celery app: `celery -A orchestrate worker` and `celery -A orchestrate beat`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrate.settings")

app = Celery("orchestrate")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def setup_periodic_tasks(sender, **kwargs):
    """Beat sends the sweep every ORCHESTRATE_SWEEP_SECONDS; it finds what is due."""
    from django.conf import settings

    sender.add_periodic_task(
        settings.ORCHESTRATE_SWEEP_SECONDS,
        sender.signature("orchestrate.sweep_due_work"),
        name="sweep due work",
    )
    # Webhook deliveries that are due again, or whose worker's lease ran out.
    sender.add_periodic_task(
        settings.ORCHESTRATE_SWEEP_SECONDS,
        sender.signature("orchestrate.sweep_webhooks"),
        name="send due webhook deliveries",
    )
    # Reminders and escalation levels that are due.
    sender.add_periodic_task(
        settings.ORCHESTRATE_SWEEP_SECONDS,
        sender.signature("tasks_inbox.sweep_task_timers"),
        name="fire due task timers",
    )
    # The daily overdue digests (each person gets at most one a day).
    sender.add_periodic_task(
        300.0,
        sender.signature("tasks_inbox.queue_overdue_digests"),
        name="queue overdue digests",
    )
    # Mails whose message was lost are sent again (the outbox row says what is unsent).
    sender.add_periodic_task(
        30.0,
        sender.signature("tasks_inbox.sweep_notifications"),
        name="send lost task mails",
    )


def load_sending():
    """Import now what sending the first message would: the broker's transport and its
    client library, the message and result classes (about 55 ms, paid otherwise by the
    first request of each web process that starts work). Connects to nothing."""
    import celery.canvas
    import celery.events.dispatcher
    import celery.result  # noqa: F401

    app.backend  # noqa: B018 (each resolved here imports its classes)
    app.events  # noqa: B018
    connection = app.connection_for_write()
    try:
        connection.transport  # noqa: B018
    finally:
        connection.release()
