"""Withdrawing a request, the mails about tasks and their one-time action links."""

import datetime

import pytest
from django.core import signing
from django.utils import timezone

from orchestrate.models import AuditEvent, AuditKind, InstanceStatus
from tasks_inbox.models import ActionLink, Notification, Task, TaskStatus
from tasks_inbox.services.errors import TaskConflict, TaskInvalid, TaskNotFound
from tasks_inbox.services.notifications import (
    LINK_SALT,
    LinkInvalid,
    make_action_link,
    read_action_link,
    send_notification,
    sweep_unsent,
)
from tasks_inbox.services.requests import withdraw_request
from tasks_inbox.services.tasks import complete_task
from tests.tasks_inbox.factories import approval_workflow, people, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def users():
    return people()


def test_the_initiator_withdraws_with_a_reason(broker, users, mailoutbox):
    approval_workflow(assign={"to": "dave"})
    instance = start("approval", users["alice"])
    broker.drain()
    with pytest.raises(TaskInvalid) as refused:
        withdraw_request(instance.pk, actor=users["alice"], reason="  ")
    assert refused.value.errors == {"reason": "Say why you withdraw the request."}
    withdraw_request(instance.pk, actor=users["alice"], reason="bought it myself")
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.CANCELLED
    assert Task.objects.get().status == TaskStatus.CANCELLED
    event = AuditEvent.objects.get(kind=AuditKind.REQUEST_WITHDRAWN)
    assert event.data == {"reason": "bought it myself"}
    broker.drain()
    assert mailoutbox[-1].subject.startswith("Withdrawn:")
    assert mailoutbox[-1].to == ["dave@example.com"]
    with pytest.raises(TaskConflict, match="already cancelled"):
        withdraw_request(instance.pk, actor=users["alice"], reason="again")


def test_only_the_initiator_may_withdraw(broker, users):
    approval_workflow()
    instance = start("approval", users["alice"])
    with pytest.raises(TaskNotFound):
        withdraw_request(instance.pk, actor=users["bob"], reason="mine now")


def test_assignment_mail_has_a_link_to_the_task_and_one_per_outcome(broker, users, mailoutbox):
    approval_workflow(assign={"to": "dave"})
    start("approval", users["alice"])
    broker.drain()
    [mail] = mailoutbox
    task = Task.objects.get()
    assert mail.subject == "New task: Approve laptop"
    assert mail.to == ["dave@example.com"]
    assert f"/inbox/tasks/{task.pk}/" in mail.body
    assert "Approve: http" in mail.body
    assert "Reject: http" in mail.body
    assert ActionLink.objects.filter(task=task, user=users["dave"]).count() == 2
    assert Notification.objects.get().sent_at is not None


def test_group_tasks_mail_nobody_until_someone_holds_them(broker, users, mailoutbox):
    approval_workflow()
    start("approval", users["alice"])
    broker.drain()
    assert mailoutbox == []


def test_the_initiator_hears_of_the_decision(broker, users, mailoutbox):
    approval_workflow()
    start("approval", users["alice"])
    task = Task.objects.get()
    complete_task(task.pk, actor=users["bob"], outcome="reject", comment="over budget")
    broker.drain()
    [mail] = mailoutbox
    assert mail.to == ["alice@example.com"]
    assert mail.subject == "Decided (reject): Approve laptop"
    assert "over budget" in mail.body
    assert "/inbox/requests/" in mail.body


def test_sending_is_idempotent_and_a_lost_message_is_sent_by_the_sweep(broker, users, mailoutbox):
    approval_workflow(assign={"to": "dave"})
    start("approval", users["alice"])
    broker.messages.clear()  # the message is lost
    notification = Notification.objects.get()
    assert sweep_unsent(older_than_seconds=60) == 0  # too fresh to be called lost
    Notification.objects.filter(pk=notification.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=5)
    )
    assert sweep_unsent(older_than_seconds=60) == 1
    broker.drain()
    assert len(mailoutbox) == 1
    assert send_notification(notification.pk) is False
    assert len(mailoutbox) == 1


def test_a_mail_that_cannot_be_sent_is_kept_with_its_error(broker, users, settings):
    settings.EMAIL_BACKEND = "tests.tasks_inbox.services.test_requests_and_mail.BrokenBackend"
    approval_workflow(assign={"to": "dave"})
    start("approval", users["alice"])
    broker.drain()
    notification = Notification.objects.get()
    assert notification.sent_at is None
    assert notification.attempts == 1
    assert "ConnectionRefusedError" in notification.error


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp is down")


def _token(url):
    return url.rstrip("/").rsplit("/", 1)[-1]


def test_action_links_are_signed_expiring_and_single_use(broker, users):
    approval_workflow(assign={"to": "dave"})
    start("approval", users["alice"])
    task = Task.objects.get()
    url = make_action_link(task, users["dave"], "approve")
    link = read_action_link(_token(url))
    assert (link.task, link.user, link.outcome) == (task, users["dave"], "approve")

    with pytest.raises(LinkInvalid, match="not valid"):
        read_action_link(_token(url)[:-2] + "xx")
    with pytest.raises(LinkInvalid, match="not valid"):
        read_action_link(signing.dumps("00000000-0000-0000-0000-000000000000", salt=LINK_SALT))
    later = timezone.now() + datetime.timedelta(days=30)
    with pytest.raises(LinkInvalid, match="expired"):
        read_action_link(_token(url), now=later)
    link.used_at = timezone.now()
    link.save()
    with pytest.raises(LinkInvalid, match="already used"):
        read_action_link(_token(url))
