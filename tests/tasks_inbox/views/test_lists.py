"""The three lists (mine, queue, done), their filters, bulk decisions and the counts."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tasks_inbox.models import Priority, Task, TaskStatus
from tasks_inbox.services.tasks import claim_task, complete_task, request_info
from tests.tasks_inbox.factories import approval_workflow, start

from .conftest import messages_of

pytestmark = pytest.mark.django_db


def ids(response):
    return [task.pk for task in response.context["page"]]


def test_queue_shows_the_four_eyes_task_to_managers_only(login, task):
    for name in ("bob", "carol"):
        assert ids(login(name).get(reverse("inbox:queue"))) == [task.pk]
    for name in ("alice", "dave", "erin"):
        assert ids(login(name).get(reverse("inbox:queue"))) == []


def test_each_list_holds_the_right_tasks(login, task, users):
    client = login("bob")
    assert ids(client.get(reverse("inbox:mine"))) == []
    claim_task(task.pk, actor=users["bob"])
    assert ids(client.get(reverse("inbox:mine"))) == [task.pk]
    assert ids(client.get(reverse("inbox:queue"))) == []
    complete_task(task.pk, actor=users["bob"], outcome="approve")
    assert ids(client.get(reverse("inbox:mine"))) == []
    response = client.get(reverse("inbox:done"))
    assert ids(response) == [task.pk]
    assert 'name="task_ids"' not in response.content.decode()  # nothing to decide in bulk


def test_list_page_has_three_panes_and_rows_for_htmx(login, task):
    response = login("bob").get(reverse("inbox:queue"))
    html = response.content.decode()
    for pane in ("inbox-filters", "inbox-list", "inbox-detail"):
        assert f'class="{pane}"' in html
    assert f'data-task-id="{task.pk}"' in html and "data-task-link" in html
    assert f'href="/inbox/tasks/{task.pk}/"' in html
    assert 'hx-target=".inbox-detail"' in html
    assert f'hx-push-url="/inbox/queue/?task={task.pk}"' in html
    assert "Select a task" in html
    assert "approval" in html and f"#{task.instance_id}" in html and "managers queue" in html


def test_selected_task_is_shown_in_the_detail_pane(login, task):
    response = login("bob").get(reverse("inbox:queue"), {"task": task.pk})
    html = response.content.decode()
    assert "is-selected" in html and 'aria-current="true"' in html
    assert 'data-shortcut="approve"' in html
    assert f'name="next" value="/inbox/queue/?task={task.pk}"' in html
    assert "Select a task" not in html


def test_an_invisible_selected_task_is_not_an_error(login, task):
    response = login("erin").get(reverse("inbox:queue"), {"task": task.pk})
    assert response.status_code == 200
    assert "This task is not available" in response.content.decode()


def test_filters_and_free_text(broker, login, task, users):
    approval_workflow(key="travel", priority="urgent")
    other = start("travel", users["alice"], item="train to Lyon")
    travel = Task.objects.get(instance=other)
    Task.objects.filter(pk=travel.pk).update(due_at=timezone.now() - datetime.timedelta(hours=1))
    client = login("bob")
    queue = reverse("inbox:queue")
    assert set(ids(client.get(queue))) == {task.pk, travel.pk}
    assert ids(client.get(queue, {"workflow": "travel"})) == [travel.pk]
    assert ids(client.get(queue, {"priority": "urgent"})) == [travel.pk]
    assert ids(client.get(queue, {"priority": "low"})) == []
    assert ids(client.get(queue, {"due": "overdue"})) == [travel.pk]
    assert ids(client.get(queue, {"q": "lyon"})) == [travel.pk]
    assert ids(client.get(queue, {"q": f"#{task.instance_id}"})) == [task.pk]
    assert ids(client.get(queue, {"sort": "priority"})) == [travel.pk, task.pk]
    assert ids(client.get(queue, {"sort": "age"}))[0] == task.pk
    response = client.get(queue, {"priority": "nonsense"})  # a bad value is dropped
    assert response.status_code == 200
    html = client.get(queue, {"due": "overdue"}).content.decode()
    assert "is-overdue" in html and "Overdue" in html


def test_empty_filtered_list_offers_to_clear(login, task):
    html = login("bob").get(reverse("inbox:queue"), {"q": "nothing like it"}).content.decode()
    assert "No task matches these filters" in html


def test_pagination_keeps_the_filters(broker, login, task, users):
    for n in range(26):
        start("approval", users["alice"], item=f"pen {n}")
    Task.objects.update(priority=Priority.HIGH)
    response = login("bob").get(reverse("inbox:queue"), {"priority": "high"})
    assert len(response.context["page"].object_list) == 25
    html = response.content.decode()
    assert "?priority=high&amp;page=2" in html
    response = login("bob").get(reverse("inbox:queue"), {"priority": "high", "page": 2})
    assert len(ids(response)) == 2


def test_bulk_approve_says_what_was_done_and_refused(broker, login, users, approval):
    for item in ("pen", "desk", "chair"):
        start("approval", users["alice"], item=item)
    first, second, third = Task.objects.order_by("pk")
    complete_task(third.pk, actor=users["carol"], outcome="approve")
    response = login("bob").post(
        reverse("inbox:bulk"),
        {
            "task_ids": [first.pk, second.pk, third.pk],
            "outcome": "approve",
            "next": "/inbox/queue/?q=a",
        },
    )
    assert response["Location"] == "/inbox/queue/?q=a"
    response = login("bob").get(response["Location"])
    [message] = messages_of(response)
    assert message.startswith("2 approved, 1 refused:")
    assert f"#{third.pk} already decided by carol" in message
    assert Task.objects.filter(status=TaskStatus.COMPLETED, decided_by=users["bob"]).count() == 2


def test_bulk_reject_needs_a_comment_and_a_selection(login, task):
    client = login("bob")
    response = client.post(
        reverse("inbox:bulk"), {"task_ids": [task.pk], "outcome": "reject"}, follow=True
    )
    assert "0 rejected, 1 refused" in messages_of(response)[0]
    response = client.post(reverse("inbox:bulk"), {"outcome": "approve"}, follow=True)
    assert messages_of(response) == ["Select at least one task."]
    response = client.post(
        reverse("inbox:bulk"),
        {"task_ids": [task.pk], "outcome": "reject", "comment": "No budget"},
        follow=True,
    )
    assert messages_of(response) == ["1 rejected."]


def test_bulk_cannot_decide_a_strangers_tasks(login, task):
    response = login("erin").post(
        reverse("inbox:bulk"), {"task_ids": [task.pk], "outcome": "approve"}, follow=True
    )
    assert "1 refused" in messages_of(response)[0]
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_counts_endpoint_and_nav_badges(login, task, users):
    client = login("bob")
    response = client.get(reverse("inbox:counts"))
    html = response.content.decode()
    assert response.status_code == 200 and 'id="nav-counts"' in html
    assert "(0 tasks)" in html and "(1 task)" in html
    claim_task(task.pk, actor=users["bob"])
    html = client.get(reverse("inbox:counts")).content.decode()
    assert "(1 task)" in html and "(0 tasks)" in html
    assert "(1 task)" in client.get(reverse("inbox:mine")).content.decode()


def test_a_page_shows_its_own_count_and_asks_for_the_others(login, task):
    client = login("bob")
    nav = client.get(reverse("inbox:queue")).content.decode()
    nav = nav[nav.index('id="nav-counts"') : nav.index("</ul>", nav.index('id="nav-counts"'))]
    assert "(1 task)" in nav and "tasks)" not in nav  # the queue's; no count of my tasks yet
    assert 'hx-trigger="load, every 20s"' in nav and 'aria-live="off"' in nav
    counts = client.get(reverse("inbox:counts")).content.decode()
    assert "(0 tasks)" in counts and "(1 task)" in counts
    assert 'hx-trigger="every 20s"' in counts and 'aria-live="polite"' in counts


def test_counts_need_a_login(client):
    assert client.get(reverse("inbox:counts")).status_code == 302


def test_list_queries_do_not_grow_with_the_rows(broker, login, task, users):
    client = login("bob")
    client.get(reverse("inbox:queue"))  # warm up (session, content types)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("inbox:queue"))
    for n in range(5):
        start("approval", users["alice"], item=f"pen {n}")
    with CaptureQueriesContext(connection) as six:
        response = client.get(reverse("inbox:queue"))
    assert len(ids(response)) == 6
    assert len(six) == len(one)


def test_bulk_does_not_answer_questions(login, task, users):
    info = request_info(task.pk, actor=users["bob"], question="Which one?")
    response = login("alice").post(
        reverse("inbox:bulk"),
        {"task_ids": [info.pk], "outcome": "approve", "comment": "yes"},
        follow=True,
    )
    assert messages_of(response) == [
        f"0 approved, 1 refused: #{info.pk} is a question; open it to answer."
    ]
    info.refresh_from_db()
    assert info.status == TaskStatus.CLAIMED
