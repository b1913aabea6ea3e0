"""What each person sees in their lists, and how many queries a list costs."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm

from orchestrate.services.instances import start_instance
from tasks_inbox.models import Task
from tasks_inbox.selectors.access import visible_tasks
from tasks_inbox.selectors.tasks import (
    counts_for,
    done_for,
    filter_tasks,
    inbox_for,
    queue_for,
    requests_for,
    rows_for_page,
)
from tasks_inbox.services.tasks import claim_task, complete_task, request_info
from tests.services import require_postgres
from tests.tasks_inbox.factories import approval_workflow, people, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def users(broker):
    users = people()
    approval_workflow()
    return users


def test_lists_follow_the_task_from_queue_to_inbox_to_done(users):
    start("approval", users["alice"])
    task = Task.objects.get()
    assert list(queue_for(users["bob"])) == [task]
    assert list(queue_for(users["carol"])) == [task]
    assert list(queue_for(users["alice"])) == []  # four-eyes: the initiator
    assert list(queue_for(users["dave"])) == []
    claim_task(task.pk, actor=users["bob"])
    assert list(inbox_for(users["bob"])) == [task]
    assert list(queue_for(users["carol"])) == []
    assert counts_for(users["bob"]) == {"mine": 1, "queue": 0}
    complete_task(task.pk, actor=users["bob"], outcome="approve")
    assert list(inbox_for(users["bob"])) == []
    assert list(done_for(users["bob"])) == [task]
    assert list(done_for(users["carol"])) == []


def test_a_manager_who_is_the_initiator_never_sees_the_task(users):
    users["alice"].groups.add(users["bob"].groups.get())
    start("approval", users["alice"])
    assert list(visible_tasks(users["alice"])) == []


def test_granted_permission_and_superusers_see_it(users):
    start("approval", users["alice"])
    task = Task.objects.get()
    assert list(visible_tasks(users["erin"])) == []
    assign_perm("tasks_inbox.view_task", users["erin"], task)
    assert list(visible_tasks(users["erin"])) == [task]
    users["dave"].is_superuser = True
    users["dave"].save()
    assert list(visible_tasks(users["dave"])) == [task]


def test_filters_and_free_text(users):
    start("approval", users["alice"], item="standing desk")
    start("approval", users["alice"], item="monitor")
    bob = users["bob"]
    assert [t.title for t in filter_tasks(queue_for(bob), {"q": "desk"})] == [
        "Approve standing desk"
    ]
    assert filter_tasks(queue_for(bob), {"workflow": "approval"}).count() == 2
    assert filter_tasks(queue_for(bob), {"workflow": "other"}).count() == 0
    assert filter_tasks(queue_for(bob), {"priority": "urgent"}).count() == 0
    assert filter_tasks(queue_for(bob), {"priority": "normal"}).count() == 2
    assert filter_tasks(queue_for(bob), {"due": "overdue"}).count() == 0


def _keyed(user, key, business_key, **variables):
    instance, _ = start_instance(
        workflow_key=key,
        variables={"item": "laptop", **variables},
        business_key=business_key,
        actor=user,
    )
    return Task.objects.get(instance=instance)


def _found(user, text):
    return sorted(t.pk for t in filter_tasks(queue_for(user), {"q": text}))


def test_the_search_finds_a_task_by_each_thing_a_row_shows(users):
    approval_workflow("expenses")
    alice, bob = users["alice"], users["bob"]
    desk = _keyed(alice, "approval", "PO-7781", item="standing desk")
    trip = _keyed(alice, "expenses", "TRIP-31", item="train to Lyon")
    other = _keyed(alice, "approval", "XY", item="monitor")
    assert _found(bob, "standing") == [desk.pk]  # title
    assert _found(bob, "requested by ALICE") == sorted([desk.pk, trip.pk, other.pk])
    assert _found(bob, "po-778") == [desk.pk]  # business key, any case
    assert _found(bob, "xy") == [other.pk]  # a key too short for trigrams
    assert _found(bob, "expen") == [trip.pk]  # workflow name
    assert _found(bob, "nothing like it") == []
    # A question's task has a number of its own and its request's instance number.
    claim_task(trip.pk, actor=bob)
    question = request_info(trip.pk, actor=bob, question="Which one?")
    assert question.pk not in {desk.instance_id, trip.instance_id, other.instance_id}
    asked = filter_tasks(inbox_for(alice), {"q": f"#{question.pk}"})
    assert list(asked) == [question]  # task number
    asked = filter_tasks(inbox_for(alice), {"q": str(trip.instance_id)})
    assert list(asked) == [question]  # instance number
    # What the search finds stays within what the person may see.
    assert filter_tasks(queue_for(users["dave"]), {"q": "PO-7781"}).count() == 0


def test_the_workflow_filter_lists_that_workflows_tasks_questions_included(users):
    approval_workflow("expenses")
    alice, bob = users["alice"], users["bob"]
    desk = _keyed(alice, "approval", "PO-1", item="desk")
    trip = _keyed(alice, "expenses", "TRIP-1", item="trip")
    assert list(filter_tasks(queue_for(bob), {"workflow": "expenses"})) == [trip]
    assert list(filter_tasks(queue_for(bob), {"workflow": "approval"})) == [desk]
    claim_task(trip.pk, actor=bob)
    question = request_info(trip.pk, actor=bob, question="Which train?")
    assert list(filter_tasks(inbox_for(alice), {"workflow": "expenses"})) == [question]
    assert list(filter_tasks(inbox_for(alice), {"workflow": "approval"})) == []


def test_the_search_finds_keys_shared_by_more_instances_than_it_names(users, monkeypatch):
    from tasks_inbox.selectors import tasks as selectors

    monkeypatch.setattr(selectors, "_KEY_MATCHES", 1)
    first = _keyed(users["alice"], "approval", "BATCH-1")
    second = _keyed(users["alice"], "approval", "BATCH-2")
    _keyed(users["alice"], "approval", "SOLO-1")
    assert _found(users["bob"], "batch") == sorted([first.pk, second.pk])
    assert _found(users["bob"], "solo") == [Task.objects.get(instance__business_key="SOLO-1").pk]


def test_the_search_has_its_trigram_indexes_on_postgresql(db):
    require_postgres()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indisvalid AND c.relname LIKE %s",
            ["%_trgm_idx"],
        )
        names = {name for (name,) in cursor.fetchall()}
    assert names == {
        "instance_business_key_trgm_idx",
        "task_title_trgm_idx",
        "task_description_trgm_idx",
    }


def test_a_list_costs_the_same_few_queries_for_many_tasks(users):
    def shown():
        # As the list pages do: a page of ids, then those rows with what a row shows.
        ids = list(queue_for(users["bob"]).values_list("pk", flat=True))
        return [(t.title, t.workflow_name, t.queue_name, t.holder_name) for t in rows_for_page(ids)]

    for _ in range(3):
        start("approval", users["alice"])
    with CaptureQueriesContext(connection) as few:
        rows = shown()
    for _ in range(10):
        start("approval", users["alice"])
    with CaptureQueriesContext(connection) as many:
        more = shown()
    assert len(rows) == 3
    assert len(more) == 13
    assert len(many) == len(few)


def test_my_requests_show_who_holds_each_task_now(users):
    instance = start("approval", users["alice"])
    task = Task.objects.get()
    claim_task(task.pk, actor=users["carol"])
    [request] = requests_for(users["alice"])
    assert request == instance
    assert [t.assignee for t in request.live_tasks] == [users["carol"]]
    assert list(requests_for(users["bob"])) == []


@pytest.mark.parametrize("sort", [None, "due", "-due", "priority", "age", "-age", "sla"])
def test_the_queue_and_done_pages_list_each_visible_task_once_in_order(users, sort):
    """The queue and done lists page the union of the visibility rules (`UnionIds`):
    page by page they hold what the plain query holds, in the same order, and count it."""
    from django.core.paginator import Paginator

    from tasks_inbox.selectors.tasks import list_ids, tasks_for

    approval_workflow(key="board", assign={"group": "directors"})
    mine = [start("approval", users["alice"]) for _ in range(7)]
    board = [start("board", users["alice"]) for _ in range(4)]
    bob = users["bob"]
    tasks = {i.pk: Task.objects.get(instance=i) for i in [*mine, *board]}
    by_instance = [tasks[i.pk] for i in [*mine, *board]]
    # Rules overlap: bob is a candidate of his own group's task and of a board task, and
    # granted another board task; priorities and due times differ.
    by_instance[0].candidate_users.add(bob)
    by_instance[7].candidate_users.add(bob)
    assign_perm("tasks_inbox.view_task", bob, by_instance[8])
    for n, task in enumerate(by_instance):
        Task.objects.filter(pk=task.pk).update(priority=(10, 20, 30)[n % 3])
    Task.objects.filter(pk=by_instance[2].pk).update(due_at=None)
    for task in by_instance[3:5]:
        claim_task(task.pk, actor=bob)
        complete_task(task.pk, actor=bob, outcome="approve")
    params = {"sort": sort} if sort else {}
    for scope in ("queue", "done"):
        expected = list(
            filter_tasks(tasks_for(bob, scope), params, snoozable=False).values_list(
                "pk", flat=True
            )
        )
        paginator = Paginator(list_ids(bob, scope, params), 3)
        shown = [pk for number in paginator.page_range for pk in paginator.page(number)]
        assert paginator.count == len(expected)
        assert shown == expected
    assert len(expected) == 2  # done: the two bob decided
    queue = list(list_ids(bob, "queue", params)[0:100])
    # His group's open tasks, and the board's task naming him and the one granted to him.
    assert sorted(queue) == sorted(by_instance[n].pk for n in (0, 1, 2, 5, 6, 7, 8))


@pytest.mark.parametrize("sort", [None, "due", "-due", "priority", "age", "sla"])
def test_a_substitutes_inbox_pages_both_peoples_tasks_in_order(users, sort):
    """Standing in for carol, bob's inbox holds his tasks and hers: paged one person at a
    time in their own index and merged (`UnionIds`), as the plain query lists them."""
    import datetime

    from django.core.paginator import Paginator
    from django.utils import timezone

    from tasks_inbox.models import Profile
    from tasks_inbox.selectors.tasks import list_ids

    bob, carol = users["bob"], users["carol"]
    tasks = [Task.objects.get(instance=start("approval", users["alice"])) for _ in range(9)]
    for n, task in enumerate(tasks):
        claim_task(task.pk, actor=(bob, carol)[n % 2])
        Task.objects.filter(pk=task.pk).update(priority=(10, 20, 30)[n % 3])
    Task.objects.filter(pk=tasks[4].pk).update(due_at=None)
    today = timezone.localdate()
    Profile.objects.create(
        user=carol,
        absent_from=today - datetime.timedelta(days=1),
        absent_until=today + datetime.timedelta(days=1),
        substitute=bob,
    )
    params = {"sort": sort} if sort else {}
    expected = list(filter_tasks(inbox_for(bob), params).values_list("pk", flat=True))
    paginator = Paginator(list_ids(bob, "mine", params), 2)
    shown = [pk for number in paginator.page_range for pk in paginator.page(number)]
    assert paginator.count == 9
    assert shown == expected
    assert sorted(shown) == sorted(task.pk for task in tasks)
