"""Read-only queries for the inbox pages and the API, always limited to what the user
may see (`access.visible_tasks`), with their joins chosen on purpose."""

import datetime

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Exists, F, OuterRef, Prefetch, Q
from django.db.models.query import EmptyQuerySet
from django.utils import timezone

from orchestrate.models import AuditEvent, Instance, InstanceStatus, WorkflowDefinition
from tasks_inbox.models import (
    LIVE_TASK_STATUSES,
    Priority,
    SavedView,
    Task,
    TaskComment,
    TaskStatus,
)
from tasks_inbox.services.errors import TaskNotFound
from tasks_inbox.services.sla import sla_rank

from .access import (
    assigned_arms,
    assigned_tasks,
    group_ids_of,
    role_for,
    visible_arms,
    visible_task_ids,
    visible_tasks,
)

SCOPES = ("mine", "queue", "done")
SORTS = {
    "due": ("due_at", "-priority", "created_at"),
    "-due": ("-due_at", "-priority", "-created_at"),
    "priority": ("-priority", "due_at", "created_at"),
    "age": ("created_at",),
    "-age": ("-created_at",),
}
DUE_CHOICES = ("overdue", "today", "week")
SLA_STATES = ("on_track", "at_risk", "breached")  # in the order of `sla_rank`

# Loaded for the rows of one page only (`rows_for_page`), not joined in the list's query:
# joined, PostgreSQL joins every matching row before a sort that no index serves
# (`sort=due` on 20,000 tasks: 290 ms), where the page alone needs 25 look-ups.
ROW_RELATED = ("instance__definition", "assignee", "candidate_group")


def inbox_for(user):
    """Live tasks held by the user, or by someone absent whom they substitute. Holding a
    task is enough to see it, so the list needs no other visibility rule: it reads the
    index `task_assignee_live_order_idx` in the list's order and stops at the page."""
    return assigned_tasks(user).filter(status__in=LIVE_TASK_STATUSES)


def queue_for(user):
    """Open tasks in the user's queues (their groups or named as candidate) they may claim."""
    return visible_tasks(user, status=TaskStatus.OPEN)


def done_for(user):
    """Tasks the user decided (or answered), newest first."""
    return visible_tasks(user, decided_by=user, status=TaskStatus.COMPLETED)


def rows_for_page(ids):
    """The tasks of one page of a list, in the order of `ids`, with what a row shows
    besides the task's own fields as `workflow_name`, `holder_name` and `queue_name`, in
    one query. A list pages through ids only: its page is then read from the index alone,
    and only these rows are joined. Names rather than related objects: building the four
    related models of 25 rows was most of the cost of the rows."""
    rows = (
        Task.objects.only(*_ROW_FIELDS)
        .order_by()
        .annotate(
            workflow_name=F("instance__definition__name"),
            holder_name=F("assignee__username"),
            queue_name=F("candidate_group__name"),
        )
        .in_bulk(ids)
    )
    return [rows[pk] for pk in ids if pk in rows]


# What a row shows (templates/jinja2/tasks_inbox/task_rows.html): loading only these
# leaves out the JSON of the tasks' forms and data.
_ROW_FIELDS = (
    *("title", "instance", "status", "outcome", "priority", "created_at", "completed_at"),
    *("due_at", "at_risk_at", "paused_at", "snoozed_until", "assignee", "candidate_group"),
)


class UnionIds:
    """The ids of a list whose tasks are the union of several querysets (one per
    visibility rule, `access.visible_arms`, or per person held for), each filtered and
    ordered alike, for a `Paginator`. It counts the union itself, and takes a page by
    cutting each queryset at the page's end in its own order (an index read that stops)
    and sorting only those rows: `id IN (UNION ...) ORDER BY ... LIMIT` fetched every
    row of the union by key to sort them (2,000 open tasks of a group queue: 13 ms)."""

    def __init__(self, arms, ordering, *, disjoint=False):
        # A rule that can match nothing (no groups) is left out: `union` would drop it
        # itself, and could hand back a lone part already cut to the page.
        self.arms = [arm for arm in arms if not isinstance(arm, EmptyQuerySet)]
        self.ordering = [field.replace("pk", "id") for field in ordering]
        # No task in two of the querysets (one per assignee): counted without removing
        # duplicates (hashing a person's 20,000 ids doubled the count's time).
        self.disjoint = disjoint

    def count(self):
        if not self.arms:
            return 0
        first, *rest = (arm.order_by().values("pk") for arm in self.arms)
        return first.union(*rest, all=self.disjoint).count() if rest else first.count()

    def __getitem__(self, page):
        if not self.arms or page.stop <= page.start:  # an empty list's page 1: [0:0]
            return []
        keys = (field.lstrip("-") for field in self.ordering)
        columns = ["id", *dict.fromkeys(key for key in keys if key != "id")]
        if len(self.arms) == 1:
            return list(self.arms[0].order_by(*self.ordering).values_list("id", flat=True)[page])
        parts = (arm.values_list(*columns) for arm in self.arms)
        if connection.features.supports_slicing_ordering_in_compound:  # not SQLite
            parts = (part.order_by(*self.ordering)[: page.stop] for part in parts)
        else:
            parts = (part.order_by() for part in parts)
        first, *rest = parts
        rows = first.union(*rest).order_by(*self.ordering)[page]
        return [row[0] for row in rows]


# Where the visible rules meet each list, and the list's order without a `sort`.
# Where the visible rules meet each list, and the list's order without a `sort`.
_UNION_LISTS = {
    "mine": ({"status__in": LIVE_TASK_STATUSES}, ("-created_at", "-id")),
    "queue": ({"status": TaskStatus.OPEN}, ("-created_at", "-id")),
    "done": ({"status": TaskStatus.COMPLETED}, ("-completed_at", "-id")),
}


def list_ids(user, scope, params):
    """The ids of the tasks of a list (`scope`) with its filters and sort (`params`), in
    order, for a `Paginator`: the union of the list's rules, each paged in its own index
    (`UnionIds`), unless the sort is an expression (SLA). My tasks: one rule per person
    held for (the user and each absent person they stand in for); the queue and done:
    the visibility rules."""
    where, default = _UNION_LISTS[scope]
    if scope == "mine":
        rules = [rule.filter(**where) for rule in assigned_arms(user)]
    else:
        if scope == "done":
            where = {**where, "decided_by": user}
        rules = visible_arms(user, **where)
    snoozable = scope == "mine"
    text = (params.get("q") or "").strip()
    found = {"match": text_match(text)} if text else {}  # once for every rule
    arms = [
        filter_tasks(arm.order_by(*default), params, snoozable=snoozable, **found) for arm in rules
    ]
    ordering = arms[0].query.order_by if arms else ()
    if not arms or not all(isinstance(field, str) for field in ordering):
        tasks = filter_tasks(tasks_for(user, scope), params, snoozable=snoozable, **found)
        return tasks.values_list("pk", flat=True)
    return UnionIds(arms, ordering, disjoint=scope == "mine")


def tasks_for(user, scope):
    if scope == "queue":
        return queue_for(user)
    if scope == "done":
        return done_for(user).order_by("-completed_at", "-id")
    return inbox_for(user)


# The navigation counts at most this many tasks and then says "999+": counting every one
# of 20,000 open tasks on each page view cost more than the rest of the page's queries.
NAV_COUNT_LIMIT = 1000


def counts_for(user):
    """The numbers in the navigation (`nav_label` of each): how many tasks each list
    shows unfiltered (snoozed tasks left out, as the lists do), exact below
    NAV_COUNT_LIMIT. Asked for by the navigation itself (`/inbox/counts/`, by htmx), not
    by every page: the queue's count reads each visibility rule's index."""
    lists = {
        "mine": lambda: filter_tasks(inbox_for(user), {}).values("pk"),
        # The ids of the visible open tasks, counted as they come from their indexes:
        # the queue has no snoozed tasks (a snooze ends when its holder lets go).
        "queue": lambda: visible_task_ids(user, status=TaskStatus.OPEN),
    }
    return {
        key: nav_label(ids().order_by()[:NAV_COUNT_LIMIT].count()) for key, ids in lists.items()
    }


def nav_label(count):
    """A count as the navigation shows it: exact below NAV_COUNT_LIMIT, else '999+'."""
    return count if count < NAV_COUNT_LIMIT else f"{NAV_COUNT_LIMIT - 1}+"


def filter_tasks(tasks, params, *, now=None, snoozable=True, match=None):
    """Apply the inbox filters: workflow (key), priority (name), due, q (free text), sort.
    `snoozable=False` for lists that hold no snoozed task (the queue, done: a snooze is
    the holder's and ends when they let go), which then skip that condition. `match`:
    the search's condition, `text_match(q)`, if already made."""
    now = now or timezone.now()
    workflow = params.get("workflow")
    if workflow:
        tasks = tasks.filter(definition__key=workflow)
    priority = params.get("priority")
    if priority:
        try:
            tasks = tasks.filter(priority=Priority.from_name(priority))
        except ValueError:
            tasks = tasks.none()
    due = params.get("due")
    if due == "overdue":
        tasks = tasks.filter(due_at__lt=now, status__in=LIVE_TASK_STATUSES)
    elif due == "today":
        end = timezone.localtime(now).replace(hour=23, minute=59, second=59)
        tasks = tasks.filter(due_at__lte=end)
    elif due == "week":
        tasks = tasks.filter(due_at__lte=now + datetime.timedelta(days=7))
    text = (params.get("q") or "").strip()
    if text:
        tasks = tasks.filter(match if match is not None else text_match(text))
    snoozed = Q(snoozed_until__gt=now, status__in=LIVE_TASK_STATUSES)
    # Snoozed tasks are hidden unless asked for (`snoozed=1` lists only them).
    if params.get("snoozed") == "1":
        tasks = tasks.filter(snoozed) if snoozable else tasks.none()
    elif snoozable:
        tasks = tasks.exclude(snoozed)
    sla = params.get("sla")
    if sla in SLA_STATES:
        tasks = tasks.annotate(sla_rank=sla_rank()).filter(sla_rank=SLA_STATES.index(sla))
    sort = params.get("sort")
    if sort == "sla":
        tasks = tasks.annotate(sla_rank=sla_rank()).order_by(
            "-sla_rank", F("due_at").asc(nulls_last=True), "id"
        )
    elif sort in SORTS:
        tasks = tasks.order_by(*SORTS[sort], "id")
    return tasks


# A term shorter than this has no trigram, so the search indexes cannot serve it.
_TRIGRAM_MIN = 3
# At most this many instances found by their business key are named in the search.
_KEY_MATCHES = 500


def text_match(text):
    """The free-text search: `text` in a task's title or description, its instance's
    business key or its workflow's name, or the number of the task or its instance.
    The business keys and workflow names are looked up first (each one small query), so
    that the tasks are searched without joining each of them to its instance (a person
    with 20,000 tasks: 20,000 look-ups, 35 ms per query): on PostgreSQL the title,
    description and instance conditions are then each an index (trigram indexes, see
    migrations tasks_inbox 0009 and orchestrate 0014) and the person's tasks another,
    combined as bitmaps. A term of one or two letters, or one that names many instances,
    keeps the join."""
    match = Q(title__icontains=text) | Q(description__icontains=text)
    number = text.lstrip("#")
    if number.isdigit():
        match |= Q(pk=int(number)) | Q(instance_id=int(number))
    workflows = WorkflowDefinition.objects.filter(name__icontains=text).values_list("pk")
    if workflows := [pk for (pk,) in workflows]:
        match |= Q(definition_id__in=workflows)
    if len(text) < _TRIGRAM_MIN:
        return match | Q(instance__business_key__icontains=text)
    keys = Instance.objects.filter(business_key__icontains=text).order_by().values_list("pk")
    instances = [pk for (pk,) in keys[: _KEY_MATCHES + 1]]
    if len(instances) > _KEY_MATCHES:
        return match | Q(instance__business_key__icontains=text)
    return match | Q(instance_id__in=instances) if instances else match


def workflows_for(user):
    """(key, name) of the workflows that have instances, for the filter. Not only those
    with tasks the user can see: finding those reads every task the user ever saw (tens
    of thousands of rows joined to their instances on each page view), while this is one
    index probe per workflow. Choosing a workflow still lists only visible tasks."""
    started = Instance.objects.filter(definition=OuterRef("pk"))
    return list(
        WorkflowDefinition.objects.filter(Exists(started))
        .order_by("name", "key")
        .values_list("key", "name")
    )


def task_for_user(user, task_id):
    """The task with what its page shows (workflow, queue, the people named on it), or
    TaskNotFound if the user may not see it. The user's role is kept on the task (as
    `prime_roles` does for a list), so the page's `role_for` and `available_actions` ask
    the database nothing more; the services load the task and the role afresh."""
    task = (
        Task.objects.select_related("instance__definition", "instance__version", "candidate_group")
        .filter(pk=task_id)
        .first()
    )
    if task is None:
        raise TaskNotFound()
    role = role_for(user, task)
    if role.kind == "none":
        raise TaskNotFound()
    task._primed_roles = {user.pk: role}
    # The people in one query rather than four more joins: with ten tables PostgreSQL
    # spent 8-16 ms planning the order of a 0.3 ms query (bench/inbox.py). The parent
    # (shown on a question's page only) is read when asked for.
    people_ids = {task.assignee_id, task.decided_by_id, task.decided_on_behalf_of_id}
    people_ids.add(task.instance.started_by_id)
    people = get_user_model().objects.in_bulk(people_ids - {None})
    task.assignee = people.get(task.assignee_id)
    task.decided_by = people.get(task.decided_by_id)
    task.decided_on_behalf_of = people.get(task.decided_on_behalf_of_id)
    task.instance.started_by = people.get(task.instance.started_by_id)
    return task


def available_actions(user, task):
    """Which buttons to show: a subset of claim, release, complete, request_info,
    delegate, comment. The services check again; this only decides what is offered."""
    role = role_for(user, task)
    if role.kind == "none":
        return set()
    actions = {"comment"}
    if not role.can_act or task.status not in (TaskStatus.OPEN, TaskStatus.CLAIMED):
        return actions
    held_by_other = task.status == TaskStatus.CLAIMED and role.kind == "candidate"
    if held_by_other:
        return actions
    if task.kind == "info":
        return actions | {"complete"}
    actions |= {"complete", "delegate"}
    if task.status == TaskStatus.OPEN:
        actions.add("claim")
    elif task.candidate_group_id is not None or task.candidate_users.exists():
        actions.add("release")
    if task.can_request_info:
        actions.add("request_info")
    return actions


def conversation_for(task):
    """The conversation shown on a task; an info task shares its parent's. Comments
    written on an info task belong to it too (its addressee may not see the parent)."""
    owner_id = task.parent_id or task.pk
    # The author is shown by `author_label`, the addressee by name.
    return TaskComment.objects.filter(
        Q(task_id=owner_id) | Q(task__parent_id=owner_id)
    ).select_related("addressee")


def timeline_for(task, kinds=None):
    """The instance's audit trail, oldest first (who did what, when; the actor by
    `actor_label`), only the events of `kinds` if given: a page leaves the engine's steps
    and variables to the admin's audit trail, and need not read them."""
    events = AuditEvent.objects.filter(instance_id=task.instance_id)
    return events.filter(kind__in=kinds) if kinds is not None else events


def visible_variables(task):
    """The instance variables worth showing on the task: declared ones first (with their
    labels), then the rest; `decisions` and private names (leading _) are left out."""
    version = task.instance.version
    variables = task.instance.variables or {}
    shown, seen = [], set()
    for name, rules in version.ordered_variables().items():
        if name in variables:
            shown.append(((rules or {}).get("label") or name, variables[name]))
            seen.add(name)
    for name, value in variables.items():
        if name in seen or name == "decisions" or name.startswith("_"):
            continue
        shown.append((name, value))
    return shown


def requests_for(user):
    """Instances the user started, newest first, each with its live tasks (who holds
    them now) prefetched as `live_tasks`."""
    live = Task.objects.filter(status__in=LIVE_TASK_STATUSES).select_related(
        "assignee", "candidate_group"
    )
    return (
        Instance.objects.filter(started_by=user)
        .select_related("definition", "version")
        .prefetch_related(Prefetch("tasks", queryset=live, to_attr="live_tasks"))
        .order_by("-started_at", "-id")
    )


def request_for_user(user, instance_id):
    instance = requests_for(user).filter(pk=instance_id).first()
    if instance is None:
        raise TaskNotFound("No such request.")
    return instance


def can_withdraw(instance):
    return instance.status not in (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED)


def saved_views_for(user):
    """The user's own views and those shared with their groups."""
    shared = Q(shared_with__in=group_ids_of(user))
    return SavedView.objects.filter(Q(owner=user) | shared).select_related("owner", "shared_with")
