"""Sending Celery messages after commit.

A message only says "look at row N"; the row says what is due. If the broker is down
when the transaction commits, the send fails, is logged, and the sweep sends it later
(the row's `dispatched_at` goes stale), so no work is lost.
"""

import logging
from functools import partial

from django.db import transaction

logger = logging.getLogger("orchestrate.dispatch")

RUN_STEP = "orchestrate.run_step"
WAKE_STEP = "orchestrate.wake_step"
RESUME_PARENT = "orchestrate.resume_parent"


def send_now(task_name, object_id):
    """Send one message; a broker failure is logged, never raised."""
    from orchestrate.celery import app

    try:
        app.send_task(task_name, args=[object_id])
    except Exception:
        logger.warning(
            "could not send %s(%s); the sweep will send it again",
            task_name,
            object_id,
            exc_info=True,
        )


def send_on_commit(task_name, object_id):
    """Send `task_name(object_id)` once the current transaction commits."""
    transaction.on_commit(partial(send_now, task_name, object_id), robust=True)
