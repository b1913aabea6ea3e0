"""A synchronous stand-in for the broker and workers in service tests.

Services send "look at row N" messages after commit; the `broker` fixture records them
instead, and `drain()` runs them the way a worker would (the real task functions), until
nothing is left. Integration tests use real workers instead.
"""

import pytest

from orchestrate import tasks
from orchestrate.engine import dispatch
from orchestrate.services.webhooks import DELIVER_WEBHOOK
from tasks_inbox import tasks as inbox_tasks
from tasks_inbox.services.notifications import SEND_NOTIFICATION
from tasks_inbox.services.sla import SEND_DIGEST

_TASKS = {
    dispatch.RUN_STEP: tasks.run_step,
    dispatch.WAKE_STEP: tasks.wake_step,
    dispatch.RESUME_PARENT: tasks.resume_parent,
    DELIVER_WEBHOOK: tasks.deliver_webhook,
    SEND_NOTIFICATION: inbox_tasks.send_notification,
    SEND_DIGEST: inbox_tasks.send_digest,
}


class Broker:
    def __init__(self):
        self.messages = []
        self.sent = []

    def record(self, task_name, object_id):
        self.messages.append((task_name, object_id))
        self.sent.append((task_name, object_id))

    def drain(self, limit=500):
        """Run queued messages (and those they cause) in order; returns how many ran."""
        ran = 0
        while self.messages:
            task_name, object_id = self.messages.pop(0)
            _TASKS[task_name](object_id)
            ran += 1
            if ran > limit:
                raise AssertionError("messages keep coming: a loop?")
        return ran

    def names(self):
        return [name for name, _ in self.messages]


@pytest.fixture
def broker(monkeypatch):
    b = Broker()
    # Tests run inside one transaction that never commits, so record at the call.
    monkeypatch.setattr(dispatch, "send_on_commit", b.record)
    monkeypatch.setattr(dispatch, "send_now", b.record)
    return b
