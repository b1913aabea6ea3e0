"""Query budgets of the lists: a page of 50 rows costs no more queries than a page of 5,
so a query per row (an N+1) shows as a failure. bench/inbox.py times the same pages on a
million tasks; the counts here are the ones it reports."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tasks_inbox.models import Task
from tasks_inbox.services.tasks import claim_task
from tasks_inbox.views import lists
from tests.tasks_inbox.factories import approval_workflow, start

pytestmark = pytest.mark.django_db

PAGE_SIZES = (5, 50)
# The lists: session and user; the person's permissions, absences, groups and grants (once
# per page view; my tasks needs no grants); the workflow filter, saved views, the count,
# the page's ids, its rows (names joined). The navigation's other count is not made by
# the page (htmx asks for it). The same for every page size.
INBOX_QUERIES = 10
# The search looks up first the workflows whose name and the instances whose business key
# hold the text (so the tasks are searched without a join to their instances).
SEARCH_EXTRA_QUERIES = 2
QUEUE_QUERIES = 11
API_TASK_QUERIES = 15


@pytest.fixture
def tasks(users):
    """`tasks(n)`: n requests of alice, each an open task in the managers' queue."""
    approval_workflow()

    def make(count):
        for n in range(count):
            start("approval", users["alice"], item=f"item {n}")
        return list(Task.objects.order_by("id"))

    return make


def rows(response):
    return list(response.context["page"])


@pytest.mark.parametrize("size", PAGE_SIZES)
def test_my_tasks_cost_the_same_queries_for_5_or_50_rows(
    client, users, tasks, monkeypatch, size, django_assert_max_num_queries
):
    monkeypatch.setattr(lists, "PAGE_SIZE", size)
    for task in tasks(size):
        claim_task(task.pk, actor=users["bob"])
    client.force_login(users["bob"])
    with django_assert_max_num_queries(INBOX_QUERIES):
        response = client.get(reverse("inbox:mine"))
    assert len(rows(response)) == size
    assert "item 0" in response.content.decode()


@pytest.mark.parametrize("size", PAGE_SIZES)
@pytest.mark.parametrize(
    ("params", "budget"),
    [
        ({"q": "item"}, INBOX_QUERIES + SEARCH_EXTRA_QUERIES),
        ({"workflow": "approval"}, INBOX_QUERIES),
    ],
)
def test_a_searched_or_filtered_inbox_costs_the_same_queries_for_5_or_50_rows(
    client, users, tasks, monkeypatch, size, params, budget, django_assert_max_num_queries
):
    monkeypatch.setattr(lists, "PAGE_SIZE", size)
    for task in tasks(size):
        claim_task(task.pk, actor=users["bob"])
    client.force_login(users["bob"])
    with django_assert_max_num_queries(budget):
        response = client.get(reverse("inbox:mine"), params)
    assert len(rows(response)) == size


@pytest.mark.parametrize("size", PAGE_SIZES)
def test_the_queue_costs_the_same_queries_for_5_or_50_rows(
    client, users, tasks, monkeypatch, size, django_assert_max_num_queries
):
    monkeypatch.setattr(lists, "PAGE_SIZE", size)
    tasks(size)
    client.force_login(users["carol"])
    with django_assert_max_num_queries(QUEUE_QUERIES):
        response = client.get(reverse("inbox:queue"))
    assert len(rows(response)) == size
    assert "managers" in response.content.decode()


@pytest.mark.parametrize("size", PAGE_SIZES)
@pytest.mark.parametrize("scope", ["queue", "mine"])
def test_the_task_api_costs_the_same_queries_for_5_or_50_rows(
    users, tasks, size, scope, django_assert_max_num_queries
):
    for task in tasks(size):
        if scope == "mine":
            claim_task(task.pk, actor=users["bob"])
    api = APIClient()
    api.force_authenticate(users["bob"])
    with django_assert_max_num_queries(API_TASK_QUERIES):
        response = api.get("/api/v1/tasks/", {"scope": scope, "page_size": size})
    results = response.json()["results"]
    assert len(results) == size
    expected = ["complete", "delegate", "release"] if scope == "mine" else ["claim"]
    assert all(set(expected) <= set(row["actions"]) for row in results)


def test_the_navigation_stops_counting_at_the_limit(client, users, tasks, monkeypatch):
    monkeypatch.setattr("tasks_inbox.selectors.tasks.NAV_COUNT_LIMIT", 3)
    tasks(4)
    client.force_login(users["carol"])
    html = client.get(reverse("inbox:counts")).content.decode()
    assert "2+" in html
    monkeypatch.setattr("tasks_inbox.selectors.tasks.NAV_COUNT_LIMIT", 5)
    html = client.get(reverse("inbox:counts")).content.decode()
    assert ">4<" in html and "2+" not in html


# The task page: session and user, the task, whether the user is excluded, the people
# named on it, the conversation, the timeline and the colleagues to delegate to; the
# full page adds the navigation's reports permission (htmx asks for its counts).
TASK_PANE_QUERIES = 8
TASK_PAGE_QUERIES = 9


@pytest.mark.parametrize("comments", (1, 10))
def test_the_task_page_costs_the_same_queries_for_1_or_10_comments(
    client, broker, users, comments, django_assert_max_num_queries
):
    approval_workflow()
    start("approval", users["alice"])
    task = Task.objects.get()
    claim_task(task.pk, actor=users["bob"])
    client.force_login(users["bob"])
    page = reverse("inbox:task", args=[task.pk])
    for n in range(comments):
        client.post(reverse("inbox:comment", args=[task.pk]), {"text": f"note {n}"})
    with django_assert_max_num_queries(TASK_PANE_QUERIES):
        pane = client.get(page, headers={"HX-Request": "true"}).content.decode()
    with django_assert_max_num_queries(TASK_PAGE_QUERIES):
        html = client.get(page).content.decode()
    for shown in (pane, html):
        assert f"note {comments - 1}" in shown and "commented" in shown
        assert 'value="carol"' in shown and "Release" in shown
