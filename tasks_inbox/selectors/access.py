"""Who may see and act on a task. The one place these rules live: the selectors limit
querysets with `visible_tasks`, and the services ask `role_for` before every action.

A person sees a task as its assignee, a candidate (one of its users, or a member of its
group, while it is open), the substitute of an absent assignee or candidate, its decider,
or with a granted django-guardian permission (`view_task` to see, `change_task` to act).
People excluded by separation of duties see nothing, whatever else holds.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q
from guardian.core import ObjectPermissionChecker
from guardian.models import GroupObjectPermission, UserObjectPermission

from tasks_inbox.models import Profile, Task, TaskStatus

User = get_user_model()

# The access facts of a person (whom they stand in for, their groups, their permissions)
# read once per page view instead of once per list, count and row: a list page asked for
# them up to five times. Only while `reading_access_once()` is active, which the
# middleware opens for GET and HEAD requests; actions (POST) and code outside a request
# always read afresh.
_memo = ContextVar("access_memo", default=None)


@contextmanager
def reading_access_once():
    """Within this block each access fact of a person is read at most once."""
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def _remembered(key, compute):
    memo = _memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


class AccessMemoMiddleware:
    """Reads each person's access facts once per GET or HEAD request (see `_memo`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        with reading_access_once():
            return self.get_response(request)


def absent_principals(user, day=None):
    """Ids of people who are absent on `day` and named `user` as substitute."""

    def read():
        return list(
            Profile.objects.filter(Profile.absent_filter(day=day), substitute=user).values_list(
                "user_id", flat=True
            )
        )

    return _remembered(("absent", user.pk, day), read)


def _memberships(user):
    """{person id: [(group id, group name)...] by name} of the user and the absent people
    they substitute."""
    people = [user.pk, *absent_principals(user)]

    def read():
        groups = {person: [] for person in people}
        rows = User.groups.through.objects.filter(user_id__in=people).order_by("group__name")
        for person, group, name in rows.values_list("user_id", "group_id", "group__name"):
            groups[person].append((group, name))
        return groups

    return _remembered(("groups", user.pk), read)


def groups_of(user):
    """(id, name) of the user's own groups, by name (read once per page view, `_memo`)."""
    return _memberships(user)[user.pk]


def group_ids_of(user):
    """Ids of the user's own groups."""
    return [group for group, _name in groups_of(user)]


def _people_and_groups(user):
    """The user and the absent people they substitute, and all their groups' ids."""
    memberships = _memberships(user)
    return list(memberships), [group for groups in memberships.values() for group, _ in groups]


def _excluded(user):
    return Task.excluded_users.through.objects.filter(user_id=user.pk).values("task_id")


def _has_global_task_perm(user):
    """Whether a model-wide `view_task`/`change_task` is granted to the user or a group of
    theirs. In a page view, from the auth backend's per-user cache, which the page's
    navigation (`perms`) fills anyway; elsewhere one query each time, so that code
    outside a request (and a test granting a permission) never reads a stale cache."""
    if _memo.get() is not None:
        return user.has_perm("tasks_inbox.view_task") or user.has_perm("tasks_inbox.change_task")
    return (
        Permission.objects.filter(Q(user=user) | Q(group__user=user), **_TASK_PERMS)
        .values("pk")
        .exists()
    )


_TASK_PERMS = {
    "content_type__app_label": "tasks_inbox",
    "content_type__model": "task",
    "codename__in": ("view_task", "change_task"),
}


def _granted_ids(user):
    """Ids of the tasks on which django-guardian grants the user (or one of their groups)
    `view_task` or `change_task`; read from guardian's tables in one query (usually no
    rows), since its `get_objects_for_user` queryset scans the task table."""

    def read():
        perms = {f"permission__{name}": value for name, value in _TASK_PERMS.items()}
        by_user = UserObjectPermission.objects.filter(user=user, **perms).values_list(
            "object_pk", flat=True
        )
        by_group = GroupObjectPermission.objects.filter(group__user=user, **perms).values_list(
            "object_pk", flat=True
        )
        return sorted({int(pk) for pk in by_user.union(by_group)})

    return _remembered(("granted", user.pk), read)


def _visible_arms(user, where):
    """The tasks `user` sees that match `where`, one queryset per rule; their UNION
    (`visible_task_ids`) is what the user sees.

    Each arm filters on one indexed column with `where` pushed into it, so PostgreSQL
    reads only the rows of that rule (the queue: the open tasks of the user's groups, by
    the partial index of open tasks per group), never the whole table. One WHERE with
    the rules OR-ed scanned every open task and ran the permission subquery per row:
    16 s with 100,000 open tasks (bench/inbox.py). UNION also removes duplicates, so no DISTINCT."""
    people, group_ids = _people_and_groups(user)
    # Candidates keep seeing a task once someone claimed or decided it, so that a
    # colleague who was faster is shown as such instead of a missing page.
    candidate = Task.candidate_users.through.objects.filter(user_id__in=people).values("task_id")
    arms = [Q(candidate_group__in=group_ids), Q(pk__in=candidate)]
    if where.get("status") != TaskStatus.OPEN:
        # An open task has no assignee (claiming sets both, releasing clears both) and
        # no decider (a decided task is completed for good), so the queue skips these
        # arms: PostgreSQL intersected the user's 20,000 held tasks with every open task
        # to find none (7 ms, bench/inbox.py).
        arms[:0] = [Q(assignee__in=people), Q(decided_by=user)]
    granted = _granted_ids(user)
    if granted:
        arms.append(Q(pk__in=granted))
    tasks = Task.objects.filter(**where).exclude(pk__in=_excluded(user)).order_by()
    return [tasks.filter(arm) for arm in arms]


def visible_arms(user, **where):
    """The tasks `user` may see among those matching `where`, as one queryset per rule
    (their union, without duplicates, is `visible_tasks`): for a list that filters, sorts
    and pages each rule's rows in its own index and merges them (`UnionIds`)."""
    if not user.is_authenticated or not user.is_active:
        return []
    if user.is_superuser:
        return [Task.objects.filter(**where)]
    if _has_global_task_perm(user):
        return [Task.objects.filter(**where).exclude(pk__in=_excluded(user))]
    return _visible_arms(user, where)


def visible_task_ids(user, **where):
    """The ids (`values("pk")`) of the tasks `user` may see among those matching `where`:
    the union of `visible_arms`, for counting them without reading their rows."""
    arms = visible_arms(user, **where)
    if not arms:
        return Task.objects.none().values("pk")
    first, *rest = (arm.values("pk") for arm in arms)
    return first.union(*rest) if rest else first


def visible_tasks(user, **where):
    """Every task `user` may see, narrowed by the field lookups `where` (a queryset
    without duplicates). Pass a list's own conditions (`status="open"`) as `where` rather
    than filtering the result: they then narrow each rule's index read."""
    if not user.is_authenticated or not user.is_active:
        return Task.objects.none()
    if user.is_superuser:
        return Task.objects.filter(**where)
    if _has_global_task_perm(user):
        return Task.objects.filter(**where).exclude(pk__in=_excluded(user))
    # `where` and the exclusion only inside the arms: a condition outside makes the planner
    # read every row that matches it (all open tasks, or the whole primary key) to
    # hash-join it with the few ids of the arms, instead of fetching those ids by key.
    return Task.objects.filter(pk__in=visible_task_ids(user, **where))


def assigned_tasks(user):
    """Tasks held by the user or by someone absent whom they substitute: visible by that
    alone, so this needs none of the other rules (only separation of duties)."""
    if not user.is_authenticated or not user.is_active:
        return Task.objects.none()
    people = [user.pk, *absent_principals(user)]
    return Task.objects.filter(assignee__in=people).exclude(pk__in=_excluded(user))


def assigned_arms(user):
    """`assigned_tasks` as one queryset per person (the user, each absent person they
    stand in for), for a list that pages each in its own index (`UnionIds`): with two
    assignees no index returns the rows in order (a substitute's inbox by due date walked
    every live task by due date: 194 ms, bench/inbox.py)."""
    if not user.is_authenticated or not user.is_active:
        return []
    excluded = _excluded(user)
    people = [user.pk, *absent_principals(user)]
    return [Task.objects.filter(assignee=person).exclude(pk__in=excluded) for person in people]


@dataclass(frozen=True)
class Role:
    """How `user` stands to a task: which kind of access, and for whom."""

    kind: str  # assignee | candidate | granted | viewer | none
    on_behalf_of: object = None  # the absent person a substitute acts for

    @property
    def can_act(self):
        return self.kind in ("assignee", "candidate", "granted")


NO_ROLE = Role("none")


def _is_member(user, group_id):
    return group_id is not None and user.groups.filter(pk=group_id).exists()


def _decide_role(user, task, *, excluded, substitutes, is_candidate, has_perm):
    """The rules of how `user` stands to `task`, written once for `role_for` (one task,
    facts read as needed) and `prime_roles` (a page, facts read for all rows at once).

    The facts are functions: `excluded()` the ids excluded by separation of duties,
    `substitutes()` {id: user} of the absent people `user` stands in for, `is_candidate(id)`
    whether that person is a candidate (user or group member), `has_perm(codename)`
    whether `user` holds it globally or on this task."""
    if user.pk in excluded():
        return NO_ROLE
    if task.assignee_id == user.pk:
        return Role("assignee")
    absent = substitutes()
    if task.assignee_id in absent:
        # The assignee cannot be excluded: nobody assigns an excluded person.
        return Role("assignee", on_behalf_of=absent[task.assignee_id])
    if is_candidate(user.pk):
        return Role("candidate")
    for principal in absent.values():
        if principal.pk not in excluded() and is_candidate(principal.pk):
            return Role("candidate", on_behalf_of=principal)
    if user.is_superuser or has_perm("change_task"):
        return Role("granted")
    if task.decided_by_id == user.pk or has_perm("view_task"):
        return Role("viewer")
    return NO_ROLE


def _once(compute):
    """`compute()` the first time it is asked for, the same value afterwards."""
    value = []

    def get():
        if not value:
            value.append(compute())
        return value[0]

    return get


def role_for(user, task, *, day=None):
    """The role of `user` on `task` (whose row the caller has loaded, maybe locked)."""
    if not user.is_authenticated or not user.is_active:
        return NO_ROLE
    primed = getattr(task, "_primed_roles", {})
    if day is None and user.pk in primed:
        return primed[user.pk]
    candidate_ids = _once(lambda: set(task.candidate_users.values_list("pk", flat=True)))
    people = {user.pk: user}

    def substitutes():
        principals = User.objects.filter(pk__in=absent_principals(user, day=day))
        found = {principal.pk: principal for principal in principals}
        people.update(found)
        return found

    def is_candidate(person_id):
        return person_id in candidate_ids() or _is_member(
            people[person_id], task.candidate_group_id
        )

    return _decide_role(
        user,
        task,
        excluded=_once(lambda: set(task.excluded_users.values_list("pk", flat=True))),
        substitutes=_once(substitutes),
        is_candidate=is_candidate,
        has_perm=lambda codename: (
            user.has_perm(f"tasks_inbox.{codename}")
            or user.has_perm(f"tasks_inbox.{codename}", task)
        ),
    )


def prime_roles(user, tasks):
    """Work out `user`'s role on each task of a page in a fixed number of queries and keep
    it on the task objects, so `role_for` (and `available_actions`) cost no query per row.
    The rules are those of `role_for`. Only for read-only lists: the services lock and load
    their rows afresh, so a primed role never decides an action."""
    tasks = [task for task in tasks if task.pk is not None]
    if not tasks or not user.is_authenticated or not user.is_active:
        return
    ids = [task.pk for task in tasks]
    excluded, candidates = {}, {}
    for task_id, user_id in Task.excluded_users.through.objects.filter(task_id__in=ids).values_list(
        "task_id", "user_id"
    ):
        excluded.setdefault(task_id, set()).add(user_id)
    for task_id, user_id in Task.candidate_users.through.objects.filter(
        task_id__in=ids
    ).values_list("task_id", "user_id"):
        candidates.setdefault(task_id, set()).add(user_id)
    principals = absent_principals(user)
    substitutes_for = {p.pk: p for p in User.objects.filter(pk__in=principals)}
    groups = {}
    for user_id, group_id in User.groups.through.objects.filter(
        user_id__in=[user.pk, *principals]
    ).values_list("user_id", "group_id"):
        groups.setdefault(user_id, set()).add(group_id)
    checker = ObjectPermissionChecker(user)
    checker.prefetch_perms(tasks)
    for task in tasks:
        role = _decide_role(
            user,
            task,
            excluded=lambda task=task: excluded.get(task.pk, set()),
            substitutes=lambda: substitutes_for,
            is_candidate=lambda person_id, task=task: (
                person_id in candidates.get(task.pk, ())
                or task.candidate_group_id in groups.get(person_id, ())
            ),
            has_perm=lambda codename, task=task: (
                user.has_perm(f"tasks_inbox.{codename}") or checker.has_perm(codename, task)
            ),
        )
        task._primed_roles = {**getattr(task, "_primed_roles", {}), user.pk: role}


def actor_label(user, role):
    """'carol', or 'carol on behalf of bob' for a substitute."""
    name = user.get_username()
    if role.on_behalf_of is not None:
        return f"{name} on behalf of {role.on_behalf_of.get_username()}"
    return name
