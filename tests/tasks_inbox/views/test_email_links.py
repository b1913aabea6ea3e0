"""The approve/reject links of assignment mails: a confirmation page, then the same
checks as the inbox, once, before the link expires, for its recipient only."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from orchestrate.models import AuditEvent, AuditKind
from tasks_inbox.models import ActionLink, TaskStatus
from tasks_inbox.services.notifications import make_action_link
from tasks_inbox.services.tasks import claim_task, complete_task
from tests.tasks_inbox.factories import approval_workflow, start

from .conftest import messages_of

pytestmark = pytest.mark.django_db


def link_for(task, user, outcome):
    url = make_action_link(task, user, outcome)
    return url[url.index("/inbox/") :]


@pytest.fixture
def held(task, users):
    """The task, held by bob."""
    claim_task(task.pk, actor=users["bob"])
    task.refresh_from_db()
    return task


def test_the_assignment_mail_carries_links_that_open_a_confirmation(broker, login, users, approval):
    approval_workflow(key="direct", assign={"to": "bob"})
    start("direct", users["alice"])
    broker.drain()
    [message] = mail.outbox
    url = next(line.split(": ", 1)[1] for line in message.body.splitlines() if "Approve: " in line)
    response = login("bob").get(url[url.index("/inbox/") :])
    assert response.status_code == 200
    assert "Approve “Approve laptop”?" in response.content.decode()


def test_get_only_shows_a_confirmation(login, held, users):
    url = link_for(held, users["bob"], "approve")
    response = login("bob").get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Approve “Approve laptop”?" in html and ">Approve</button>" in html
    held.refresh_from_db()
    assert held.status == TaskStatus.CLAIMED
    assert ActionLink.objects.get().used_at is None


def test_post_approves_once(login, held, users):
    url = link_for(held, users["bob"], "approve")
    client = login("bob")
    response = client.post(url, {"comment": "Fine"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("inbox:task", args=[held.pk])
    assert messages_of(response) == ["Approved: “Approve laptop”."]
    held.refresh_from_db()
    assert held.status == TaskStatus.COMPLETED and held.outcome == "approve"
    assert ActionLink.objects.get().used_at is not None
    event = AuditEvent.objects.get(kind=AuditKind.TASK_COMPLETED)
    assert event.data["channel"] == "email"

    response = client.post(url, {"comment": "again"})
    assert response.status_code == 410
    assert "This link was already used." in response.content.decode()
    assert client.get(url).status_code == 410


def test_reject_link_needs_a_comment_on_the_confirmation_page(login, held, users):
    url = link_for(held, users["bob"], "reject")
    client = login("bob")
    response = client.post(url, {"comment": ""})
    assert response.status_code == 400
    assert "A comment is required to reject." in response.content.decode()
    assert ActionLink.objects.get().used_at is None
    response = client.post(url, {"comment": "No budget"})
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.outcome == "reject"


def test_expired_link_is_refused(login, held, users):
    url = link_for(held, users["bob"], "approve")
    ActionLink.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    response = login("bob").post(url)
    assert response.status_code == 410
    assert "This link has expired." in response.content.decode()
    held.refresh_from_db()
    assert held.status == TaskStatus.CLAIMED


def test_someone_elses_link_is_refused(login, held, users):
    url = link_for(held, users["bob"], "approve")
    for method in ("get", "post"):
        response = getattr(login("carol"), method)(url)
        assert response.status_code == 403
        assert "This link was sent to someone else." in response.content.decode()
    held.refresh_from_db()
    assert held.status == TaskStatus.CLAIMED


def test_forged_link_is_refused(login, users):
    response = login("bob").get(reverse("inbox:email-action", args=["not-a-token"]))
    assert response.status_code == 410
    assert "This link is not valid." in response.content.decode()


def test_link_of_a_task_decided_meanwhile_shows_why(login, held, users):
    url = link_for(held, users["bob"], "approve")
    complete_task(held.pk, actor=users["bob"], outcome="approve")
    html = login("bob").get(url).content.decode()
    assert "This task was already decided by you: approve." in html
    assert ">Approve</button>" not in html


def test_link_needs_a_login(client, held, users):
    url = link_for(held, users["bob"], "approve")
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
