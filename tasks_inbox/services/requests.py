"""What initiators do with their requests (instances they started)."""

from django.db import transaction

from orchestrate.engine.walker import lock_instance
from orchestrate.models import AuditEvent, AuditKind, Instance
from orchestrate.services.instances import cancel_instance
from tasks_inbox.models import LIVE_TASK_STATUSES, NotificationKind, Task

from . import notifications
from .errors import TaskConflict, TaskInvalid, TaskNotFound


def withdraw_request(instance_id, *, actor, reason):
    """The initiator withdraws their running request with a reason: the instance is
    cancelled (its open tasks with it), audited, and the people holding them get a mail.
    Only the initiator may; anybody else gets TaskNotFound."""
    reason = (reason or "").strip()
    with transaction.atomic():
        try:
            instance = lock_instance(instance_id)
        except Instance.DoesNotExist:
            raise TaskNotFound("No such request.") from None
        if instance.started_by_id != actor.pk:
            raise TaskNotFound("No such request.")
        if instance.is_ended:
            raise TaskConflict(
                f"This request is already {instance.status}; it cannot be withdrawn."
            )
        if not reason:
            raise TaskInvalid({"reason": "Say why you withdraw the request."})
        AuditEvent.objects.create(
            instance=instance,
            kind=AuditKind.REQUEST_WITHDRAWN,
            actor=actor,
            actor_label=actor.get_username(),
            data={"reason": reason},
        )
        holders = Task.objects.filter(
            instance=instance, status__in=LIVE_TASK_STATUSES, assignee__isnull=False
        ).select_related("assignee")
        for task in holders:
            if task.assignee_id != actor.pk:
                notifications.queue(NotificationKind.WITHDRAWN, task, task.assignee)
        cancel_instance(instance.pk, actor=actor, reason=f"withdrawn by the initiator: {reason}")
        instance.refresh_from_db()
        return instance
