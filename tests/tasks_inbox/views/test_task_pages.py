"""The task page and the actions on it: who may, the happy path, and errors shown as
people should see them (a message on the page, never an error page)."""

from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from orchestrate.models import InstanceStatus
from tasks_inbox.models import Profile, Task, TaskKind, TaskStatus
from tasks_inbox.services.tasks import claim_task, complete_task
from tests.tasks_inbox.factories import approval_workflow, people, start

from .conftest import messages_of

pytestmark = pytest.mark.django_db


def url(name, task):
    return reverse(f"inbox:{name}", args=[task.pk])


def test_task_page_shows_the_task_and_its_buttons(login, task):
    response = login("bob").get(url("task", task))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1" in html and "Approve laptop" in html
    assert "Requested by" in html and "alice" in html
    for button in ("Claim", "Approve", "Reject", "Request information", "Delegate"):
        assert button in html
    assert 'data-shortcut="approve"' in html and 'data-shortcut="reject"' in html
    assert 'name="outcome" value="reject"' in html
    assert "Required to reject." in html
    assert 'value="carol"' in html  # a colleague to delegate to
    assert 'value="alice"' not in html  # excluded: separation of duties


def test_htmx_request_gets_only_the_detail_partial(login, task):
    response = login("bob").get(url("task", task), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and f'data-task-id="{task.pk}"' in html
    assert "<h2" in html
    assert "HX-Request" in response["Vary"]


def test_claim_then_approve_moves_the_instance_on(login, task):
    client = login("bob")
    response = client.post(url("claim", task), follow=True)
    assert "You took “Approve laptop”." in messages_of(response)
    task.refresh_from_db()
    assert task.status == TaskStatus.CLAIMED and task.assignee.username == "bob"
    assert "Release" in response.content.decode()

    response = client.post(url("complete", task), {"outcome": "approve"})
    assert response.status_code == 302
    assert response["Location"] == reverse("inbox:mine")
    task.refresh_from_db()
    task.instance.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED and task.outcome == "approve"
    assert task.instance.status == InstanceStatus.COMPLETED
    assert task.instance.outcome == "approved"


def test_approve_from_the_list_goes_back_to_the_list_without_the_task(login, task):
    back = f"/inbox/queue/?priority=normal&task={task.pk}"
    response = login("bob").post(url("complete", task), {"outcome": "approve", "next": back})
    assert response["Location"] == "/inbox/queue/?priority=normal"


def test_reject_without_a_comment_is_refused_next_to_the_comment_field(login, task):
    response = login("bob").post(url("complete", task), {"outcome": "reject"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "A comment is required to reject." in html
    assert f'id="task{task.pk}-comment_error"' in html or "field-error" in html
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN

    response = login("bob").post(
        url("complete", task), {"outcome": "reject", "comment": "Too expensive"}
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.outcome == "reject" and task.comment == "Too expensive"


def test_a_task_decided_by_someone_else_says_so(login, task, users):
    complete_task(task.pk, actor=users["carol"], outcome="approve")
    response = login("bob").post(url("complete", task), {"outcome": "approve"}, follow=True)
    assert response.status_code == 200
    assert "This task was already decided by carol: approve." in messages_of(response)
    html = response.content.decode()
    assert "This task was already decided by carol: approve." in html
    assert 'data-shortcut="approve"' not in html  # no decision buttons any more


def test_a_task_held_by_a_colleague_shows_who_and_offers_no_decision(login, task, users):
    claim_task(task.pk, actor=users["carol"])
    response = login("bob").get(url("task", task))
    html = response.content.decode()
    assert "carol is working on this task." in html
    assert 'name="outcome"' not in html
    response = login("bob").post(url("claim", task), follow=True)
    assert "This task was already claimed by carol." in messages_of(response)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("claim", {}),
        ("release", {}),
        ("complete", {"outcome": "approve"}),
        ("request-info", {"question": "Why?"}),
        ("delegate", {"to": "bob"}),
        ("comment", {"text": "Hello"}),
    ],
)
def test_a_stranger_gets_404_for_every_action(login, task, name, data):
    client = login("erin")
    assert client.get(url("task", task)).status_code == 404
    response = client.post(url(name, task), data)
    assert response.status_code == 404
    assert "Not found" in response.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN and not task.comments.exists()


def test_the_initiator_cannot_see_the_four_eyes_task(login, task):
    assert login("alice").get(url("task", task)).status_code == 404


def test_pages_need_a_login(client, task):
    response = client.get(url("task", task))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_request_information_and_answer(login, task, users):
    response = login("bob").post(
        url("request-info", task), {"question": "Which model?", "to": ""}, follow=True
    )
    assert "Your question went to alice." in messages_of(response)
    task.refresh_from_db()
    assert task.status == TaskStatus.INFO_REQUESTED
    assert "This task waits for the answer to a question." in response.content.decode()

    info = Task.objects.get(kind=TaskKind.INFO)
    client = login("alice")
    page = client.get(url("task", info)).content.decode()
    assert "Which model?" in page and "Send answer" in page and ">Answer<" in page
    client.post(url("comment", info), {"text": "Let me check with the team."})
    assert "Let me check with the team." in client.get(url("task", info)).content.decode()
    response = client.post(url("complete", info), {"comment": ""})
    assert response.status_code == 400
    assert "Write your answer." in response.content.decode()
    client.post(url("complete", info), {"comment": "The 14 inch one"})
    task.refresh_from_db()
    assert task.status == TaskStatus.CLAIMED
    page = login("bob").get(url("task", task)).content.decode()
    assert "The 14 inch one" in page and "msg-answer" in page
    assert "Let me check with the team." in page


def test_request_information_errors_stay_on_the_page(login, task):
    response = login("bob").post(url("request-info", task), {"question": "", "to": "nobody"})
    assert response.status_code == 400
    text = unescape(response.content.decode())
    assert "Write your question." in text and "There is no user 'nobody'." in text


def test_delegate_to_a_colleague(login, task, users):
    response = login("bob").post(url("delegate", task), {"to": "carol", "comment": "Yours"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.assignee == users["carol"]
    # carol holds the task now: bob, a candidate, gets a message, not an error page.
    response = login("bob").post(url("delegate", task), {"to": "dave"}, follow=True)
    assert "carol is working on this task." in messages_of(response)


def test_delegate_to_the_excluded_initiator_is_refused_on_the_field(login, task):
    response = login("bob").post(url("delegate", task), {"to": "alice"})
    assert response.status_code == 400
    assert "may not take this task (separation of duties)" in response.content.decode()


def test_comment_is_added_and_escaped(login, task):
    client = login("bob")
    response = client.post(url("comment", task), {"text": "<script>alert(1)</script>"}, follow=True)
    assert "Your comment was added." in messages_of(response)
    html = response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html
    response = client.post(url("comment", task), {"text": ""})
    assert response.status_code == 400 and "Write a comment." in response.content.decode()


def test_timeline_tells_what_happened(login, task, users):
    claim_task(task.pk, actor=users["carol"])
    html = login("carol").get(url("task", task)).content.decode()
    assert 'class="timeline"' in html
    assert "started the request" in html and "claimed the task" in html


def test_next_must_be_a_local_url(login, task):
    response = login("bob").post(url("claim", task), {"next": "https://evil.example/"})
    assert response["Location"] == url("task", task)


def test_step_form_fields_are_rendered_and_checked(broker, login, users):
    approval_workflow(
        key="costs",
        form=[
            {"name": "cost_centre", "type": "string", "label": "Cost centre", "required": True},
            {"name": "amount", "type": "number", "min": 1},
            {"name": "urgent", "type": "boolean"},
            {"name": "deliver_on", "type": "date"},
        ],
    )
    start("costs", users["alice"])
    task = Task.objects.get()
    client = login("bob")
    html = client.get(url("task", task)).content.decode()
    assert 'type="number"' in html and 'type="date"' in html and 'type="checkbox"' in html
    assert 'class="required">Cost centre' in html
    response = client.post(url("complete", task), {"outcome": "approve", "data_amount": "0"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "This field is required." in html and "Must be at least 1." in html
    response = client.post(
        url("complete", task),
        {"outcome": "approve", "data_cost_centre": "CC-1", "data_amount": "12.5"},
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.data["cost_centre"] == "CC-1" and task.data["amount"] == 12.5


def test_a_substitute_sees_whom_they_act_for(broker, client):

    from tests.tasks_inbox.factories import approval_workflow, start

    users = people()
    approval_workflow(key="direct", approvers={"users": ["dave"], "policy": "all"})
    start("direct", users["alice"])
    today = timezone.localdate()
    Profile.objects.create(
        user=users["dave"], absent_from=today, absent_until=today, substitute=users["erin"]
    )
    task = Task.objects.get(step_key="review")
    client.force_login(users["erin"])
    listing = client.get("/inbox/")
    assert "for dave (away)" in listing.content.decode()
    page = client.get(f"/inbox/tasks/{task.pk}/")
    assert "dave is away: you act on their behalf" in page.content.decode()
