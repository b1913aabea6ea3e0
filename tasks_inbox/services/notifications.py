"""E-mail about tasks: queued as `Notification` rows in the caller's transaction, sent by
a worker after commit (`send_notification`), re-sent by the sweep if a message is lost.

Assignment mails carry signed, single-use, expiring links (`ActionLink`) that open a
confirmation page for one outcome.
"""

import datetime
import logging

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from orchestrate.engine import dispatch
from orchestrate.observability.logging import bind_log_context
from tasks_inbox.models import ActionLink, Notification, NotificationKind, TaskKind

logger = logging.getLogger("tasks_inbox.notifications")

SEND_NOTIFICATION = "tasks_inbox.send_notification"
LINK_SALT = "tasks_inbox.action-link"
MAX_ATTEMPTS = 5


def queue(kind, task, recipient):
    """Write the mail's outbox row and send it after commit (nothing if no address)."""
    if recipient is None or not recipient.email:
        return None
    notification = Notification.objects.create(kind=kind, task=task, recipient=recipient)
    dispatch.send_on_commit(SEND_NOTIFICATION, notification.pk)
    return notification


def absolute(path):
    return settings.ORCHESTRATE_BASE_URL.rstrip("/") + path


def make_action_link(task, user, outcome, *, now=None):
    """A signed URL deciding `task` with `outcome` as `user`, valid for a while, once."""
    now = now or timezone.now()
    link = ActionLink.objects.create(
        task=task,
        user=user,
        outcome=outcome,
        expires_at=now + datetime.timedelta(hours=settings.ORCHESTRATE_ACTION_LINK_HOURS),
    )
    signed = signing.dumps(str(link.token), salt=LINK_SALT)
    return absolute(reverse("inbox:email-action", args=[signed]))


class LinkInvalid(Exception):
    """The link is forged, expired or used."""


def read_action_link(signed, *, now=None):
    """The ActionLink behind a signed token, or LinkInvalid with a reason a person can read."""
    try:
        token = signing.loads(signed, salt=LINK_SALT)
    except signing.BadSignature:
        raise LinkInvalid(
            "This link is not valid. Open the task from your inbox instead."
        ) from None
    link = ActionLink.objects.select_related("task", "user").filter(token=token).first()
    if link is None:
        raise LinkInvalid("This link is not valid. Open the task from your inbox instead.")
    if link.used_at is not None:
        raise LinkInvalid("This link was already used. Open the task from your inbox instead.")
    if link.expires_at <= (now or timezone.now()):
        raise LinkInvalid("This link has expired. Open the task from your inbox instead.")
    return link


def _links_for(notification):
    task = notification.task
    if task.kind != TaskKind.DECISION or not task.is_live or _needs_form(task):
        return []
    return [
        (outcome.capitalize(), make_action_link(task, notification.recipient, outcome))
        for outcome in task.outcomes
    ]


def _needs_form(task):
    return any(field.get("required") for field in task.form)


SUBJECTS = {
    NotificationKind.ASSIGNED: "New task: {title}",
    NotificationKind.QUESTION: "{title}",
    NotificationKind.ANSWERED: "Your question was answered: {title}",
    NotificationKind.DECIDED: "Decided ({outcome}): {title}",
    NotificationKind.WITHDRAWN: "Withdrawn: {title}",
    NotificationKind.REMINDER: "Reminder: {title}",
    NotificationKind.ESCALATED: "Late: {title}",
}


def render_mail(notification):
    task = notification.task
    context = {
        "notification": notification,
        "task": task,
        "recipient": notification.recipient,
        # The initiator may not see the task itself (four-eyes): they get their requests.
        "task_url": absolute(
            reverse("inbox:requests")
            if notification.kind in (NotificationKind.DECIDED, NotificationKind.WITHDRAWN)
            else reverse("inbox:task", args=[task.pk])
        ),
        "links": _links_for(notification) if notification.kind == NotificationKind.ASSIGNED else [],
    }
    subject = SUBJECTS[notification.kind].format(title=task.title, outcome=task.outcome)
    body = render_to_string(f"tasks_inbox/email/{notification.kind}.txt", context)
    return subject[:200], body


def send_notification(notification_id):
    """Send one queued mail. Idempotent: a row already sent is left alone."""
    with transaction.atomic():
        notification = (
            # Only the outbox row: the task may be locked by a decision or an escalation.
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("task", "recipient")
            .filter(pk=notification_id, sent_at=None)
            .first()
        )
        if notification is None or notification.attempts >= MAX_ATTEMPTS:
            return False
        bind_log_context(task_id=notification.task_id)
        notification.attempts += 1
        try:
            subject, body = render_mail(notification)
            send_mail(subject, body, None, [notification.recipient.email])
        except Exception as exc:
            logger.warning("could not send notification %s", notification_id, exc_info=True)
            notification.error = f"{exc.__class__.__name__}: {exc}"[:2000]
            notification.save(update_fields=["attempts", "error"])
            return False
        notification.sent_at = timezone.now()
        notification.error = ""
        notification.save(update_fields=["attempts", "error", "sent_at"])
        return True


def sweep_unsent(*, older_than_seconds=30, limit=100):
    """Re-send mails whose message was lost (still unsent after a while)."""
    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    ids = list(
        Notification.objects.filter(
            sent_at=None, created_at__lte=cutoff, attempts__lt=MAX_ATTEMPTS
        ).values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        dispatch.send_now(SEND_NOTIFICATION, pk)
    return len(ids)
