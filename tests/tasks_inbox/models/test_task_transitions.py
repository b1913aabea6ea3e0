"""Which task transitions each status allows (and which it refuses)."""

import pytest
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from tasks_inbox.models import Task, TaskStatus

NOW = timezone.now()

CALLS = {
    "claim": lambda t: t.claim(None, NOW),
    "release": lambda t: t.release(),
    "assign": lambda t: t.assign(None, NOW),
    "requeue": lambda t: t.requeue(None),
    "hold_for_info": lambda t: t.hold_for_info(NOW),
    "resume_after_info": lambda t: t.resume_after_info(NOW),
    "complete": lambda t: t.complete(
        outcome="approve", comment="", data={}, by=None, on_behalf_of=None, now=NOW
    ),
    "cancel": lambda t: t.cancel(NOW),
    "expire": lambda t: t.expire(NOW),
}

ALLOWED = {
    TaskStatus.OPEN: {"claim": "claimed", "assign": "claimed", "requeue": "open",
                      "complete": "completed",
                      "cancel": "cancelled", "expire": "expired"},
    TaskStatus.CLAIMED: {"release": "open", "assign": "claimed", "requeue": "open",
                         "hold_for_info": "info_requested",
                         "complete": "completed", "cancel": "cancelled", "expire": "expired"},
    TaskStatus.INFO_REQUESTED: {"resume_after_info": "claimed", "cancel": "cancelled",
                                "expire": "expired"},
    TaskStatus.COMPLETED: {},
    TaskStatus.CANCELLED: {},
    TaskStatus.EXPIRED: {},
}  # fmt: skip


@pytest.mark.parametrize("status", list(ALLOWED))
@pytest.mark.parametrize("name", list(CALLS))
def test_transition_table(status, name):
    task = Task(status=status)
    target = ALLOWED[status].get(name)
    if target is None:
        with pytest.raises(TransitionNotAllowed):
            CALLS[name](task)
    else:
        CALLS[name](task)
        assert task.status == target
