"""My requests: where each stands, and withdrawing one with a reason."""

import pytest
from django.urls import reverse

from orchestrate.models import InstanceStatus
from tasks_inbox.models import TaskStatus
from tasks_inbox.services.tasks import claim_task

from .conftest import messages_of

pytestmark = pytest.mark.django_db


def test_requests_list_says_where_each_request_stands(login, task, users):
    client = login("alice")
    html = client.get(reverse("inbox:requests")).content.decode()
    assert f"#{task.instance_id}" in html and "Approve laptop" in html
    assert "in the queue of managers" in html and "Withdraw" in html
    claim_task(task.pk, actor=users["bob"])
    html = client.get(reverse("inbox:requests")).content.decode()
    assert "with bob" in html
    assert login("bob").get(reverse("inbox:requests")).context["page"].object_list == []


def test_withdraw_needs_a_reason(login, task):
    response = login("alice").post(
        reverse("inbox:withdraw", args=[task.instance_id]), {"reason": " "}, follow=True
    )
    assert messages_of(response) == ["Say why you withdraw the request."]
    task.instance.refresh_from_db()
    assert task.instance.status == InstanceStatus.RUNNING


def test_withdraw_with_a_reason_cancels_the_request(login, task):
    client = login("alice")
    response = client.post(
        reverse("inbox:withdraw", args=[task.instance_id]),
        {"reason": "Bought it myself"},
        follow=True,
    )
    assert messages_of(response) == [f"Your request #{task.instance_id} was withdrawn."]
    task.refresh_from_db()
    task.instance.refresh_from_db()
    assert task.instance.status == InstanceStatus.CANCELLED
    assert task.status == TaskStatus.CANCELLED
    html = response.content.decode()
    assert "status-cancelled" in html and "Withdraw request" not in html
    # A second try is a conflict, shown as a message.
    response = client.post(
        reverse("inbox:withdraw", args=[task.instance_id]), {"reason": "again"}, follow=True
    )
    assert "already cancelled" in messages_of(response)[0]


def test_only_the_initiator_may_withdraw(login, task):
    response = login("bob").post(
        reverse("inbox:withdraw", args=[task.instance_id]), {"reason": "mine now"}
    )
    assert response.status_code == 404
    task.instance.refresh_from_db()
    assert task.instance.status == InstanceStatus.RUNNING
