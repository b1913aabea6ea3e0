"""The admin: tasks are read and released here, never edited into another state."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from tasks_inbox.models import (
    ActionLink,
    Notification,
    NotificationKind,
    Profile,
    SavedView,
    TaskStatus,
)
from tasks_inbox.services.tasks import claim_task, complete_task, request_info
from tests.tasks_inbox.factories import start

pytestmark = pytest.mark.django_db

TASKS = "/admin/tasks_inbox/task/"


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_task_list_renders_with_filters_and_search(admin_client, tasks):
    listing = admin_client.get(TASKS)
    searched = admin_client.get(TASKS, {"q": "desk"})
    filtered = admin_client.get(TASKS, {"status__exact": "open", "kind__exact": "decision"})

    assert listing.status_code == 200
    assert "Approve a laptop" in listing.text and "Approve a desk" in listing.text
    assert "Approve a desk" in searched.text and "Approve a laptop" not in searched.text
    assert filtered.status_code == 200
    assert list(listing.context["cl"].result_list) == list(reversed(tasks))


def test_the_task_list_queries_do_not_grow_with_the_rows(
    admin_client, users, tasks, django_assert_max_num_queries
):
    for _ in range(5):
        start("approval", users["alice"])
    with django_assert_max_num_queries(8):
        assert admin_client.get(TASKS).status_code == 200


def test_the_change_page_shows_the_task_and_its_conversation(admin_client, users, tasks):
    task = tasks[0]
    request_info(task.pk, actor=users["bob"], question="Which model?")

    response = admin_client.get(f"{TASKS}{task.pk}/change/")

    assert response.status_code == 200
    assert "Which model?" in response.text
    assert "Object permissions" in response.text
    form = response.context["adminform"].form
    assert set(form.fields) == {"title", "description", "priority", "due_at"}
    assert 'name="status"' not in response.text


def test_saving_the_change_page_never_changes_the_status(admin_client, tasks):
    task = tasks[0]

    response = admin_client.post(
        f"{TASKS}{task.pk}/change/",
        {
            "title": "Approve a better laptop",
            "description": task.description,
            "priority": 30,
            "due_at_0": "",
            "due_at_1": "",
            "status": "completed",
            "outcome": "approve",
            "comments-TOTAL_FORMS": "0",
            "comments-INITIAL_FORMS": "0",
            "timers-TOTAL_FORMS": "0",
            "timers-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    task.refresh_from_db()
    assert (task.title, task.priority) == ("Approve a better laptop", 30)
    assert (task.status, task.outcome) == (TaskStatus.OPEN, "")


def test_tasks_cannot_be_added_or_deleted_here(admin_client, tasks):
    assert admin_client.get(f"{TASKS}add/").status_code == 403
    assert admin_client.get(f"{TASKS}{tasks[0].pk}/delete/").status_code == 403


def test_release_action_releases_and_reports_refusals(admin_client, users, tasks):
    held, open_task = tasks
    claim_task(held.pk, actor=users["bob"])

    response = admin_client.post(
        TASKS,
        {"action": "release_selected", "_selected_action": [held.pk, open_task.pk]},
        follow=True,
    )

    assert response.status_code == 200
    held.refresh_from_db()
    assert (held.status, held.assignee) == (TaskStatus.OPEN, None)
    assert messages_of(response) == [
        "1 task released.",
        f"Not released: #{open_task.pk}: Nobody holds this task; there is nothing to release.",
    ]


def test_release_action_refuses_a_decided_task(admin_client, users, tasks):
    complete_task(tasks[0].pk, actor=users["bob"], outcome="approve")

    response = admin_client.post(
        TASKS, {"action": "release_selected", "_selected_action": [tasks[0].pk]}, follow=True
    )

    assert messages_of(response) == [
        f"Not released: #{tasks[0].pk}: This task was already decided by bob: approve."
    ]


def test_object_permissions_are_granted_per_task(admin_client, users, tasks):
    task = tasks[0]
    erin = users["erin"]
    page = admin_client.get(f"{TASKS}{task.pk}/permissions/")

    response = admin_client.post(
        f"{TASKS}{task.pk}/permissions/user-manage/{erin.pk}/",
        {"permissions": ["view_task"]},
    )

    assert page.status_code == 200
    assert response.status_code == 302
    assert erin.has_perm("tasks_inbox.view_task", task)
    assert not erin.has_perm("tasks_inbox.view_task", tasks[1])


def test_a_profile_with_the_absence_ending_before_it_starts_is_refused(admin_client, users):
    response = admin_client.post(
        "/admin/tasks_inbox/profile/add/",
        {
            "user": users["bob"].pk,
            "absent_from": "2030-01-10",
            "absent_until": "2030-01-05",
            "substitute": users["carol"].pk,
        },
    )

    assert response.status_code == 200
    assert "The last day of absence comes before the first." in response.text
    assert not Profile.objects.exists()


def test_a_valid_profile_is_saved(admin_client, users):
    response = admin_client.post(
        "/admin/tasks_inbox/profile/add/",
        {
            "user": users["bob"].pk,
            "absent_from": "2030-01-05",
            "absent_until": "2030-01-10",
            "substitute": users["carol"].pk,
        },
    )

    assert response.status_code == 302
    assert Profile.objects.get().substitute == users["carol"]


def test_the_other_lists_render(admin_client, users, tasks):
    task = tasks[0]
    Profile.objects.create(user=users["bob"])
    SavedView.objects.create(owner=users["bob"], name="Urgent", params={"priority": "urgent"})
    Notification.objects.create(kind=NotificationKind.ASSIGNED, task=task, recipient=users["bob"])
    link = ActionLink.objects.create(
        task=task,
        user=users["bob"],
        outcome="approve",
        expires_at=timezone.now() + datetime.timedelta(days=1),
    )

    for model in ("profile", "savedview", "notification", "actionlink"):
        response = admin_client.get(f"/admin/tasks_inbox/{model}/")
        assert response.status_code == 200, model
    links = admin_client.get("/admin/tasks_inbox/actionlink/")
    link_page = admin_client.get(f"/admin/tasks_inbox/actionlink/{link.pk}/change/")
    assert "approve" in links.text
    assert str(link.token) not in links.text
    assert link_page.status_code == 200
    assert str(link.token) not in link_page.text


def test_the_outbox_is_read_only(admin_client, users, tasks):
    note = Notification.objects.create(
        kind=NotificationKind.ASSIGNED, task=tasks[0], recipient=users["bob"]
    )

    page = admin_client.get(f"/admin/tasks_inbox/notification/{note.pk}/change/")

    assert page.status_code == 200
    assert 'name="attempts"' not in page.text
    assert admin_client.get("/admin/tasks_inbox/notification/add/").status_code == 403
