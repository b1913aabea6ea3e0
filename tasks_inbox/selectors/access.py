"""Who may see and act on a task. The one place these rules live: the selectors limit
querysets with `visible_tasks`, and the services ask `role_for` before every action.

A person sees a task as its assignee, a candidate (one of its users, or a member of its
group, while it is open), the substitute of an absent assignee or candidate, its decider,
or with a granted django-guardian permission (`view_task` to see, `change_task` to act).
People excluded by separation of duties see nothing, whatever else holds.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Q
from guardian.shortcuts import get_objects_for_user

from tasks_inbox.models import Profile, Task

User = get_user_model()


def absent_principals(user, day=None):
    """Ids of people who are absent on `day` and named `user` as substitute."""
    return list(
        Profile.objects.filter(Profile.absent_filter(day=day), substitute=user).values_list(
            "user_id", flat=True
        )
    )


def _candidate_q(user_ids, group_ids):
    # Candidates keep seeing a task once someone claimed or decided it, so that a
    # colleague who was faster is shown as such instead of a missing page.
    return Q(candidate_users__in=user_ids) | Q(candidate_group__in=group_ids)


def visible_tasks(user):
    """Every task `user` may see (a queryset, possibly with duplicates removed)."""
    if not user.is_authenticated or not user.is_active:
        return Task.objects.none()
    if user.is_superuser:
        return Task.objects.all()
    people = [user.pk, *absent_principals(user)]
    group_ids = list(
        User.groups.through.objects.filter(user_id__in=people).values_list("group_id", flat=True)
    )
    granted = get_objects_for_user(
        user,
        ["tasks_inbox.view_task", "tasks_inbox.change_task"],
        klass=Task,
        any_perm=True,
        with_superuser=False,
        accept_global_perms=True,
    ).values("pk")
    personal = (
        Q(assignee__in=people)
        | Q(decided_by=user)
        | _candidate_q(people, group_ids)
        | Q(pk__in=granted)
    )
    excluded = Task.excluded_users.through.objects.filter(user_id=user.pk).values("task_id")
    ids = Task.objects.filter(personal).exclude(pk__in=excluded).values("pk")
    return Task.objects.filter(pk__in=ids)


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


def role_for(user, task, *, day=None):
    """The role of `user` on `task` (whose row the caller has loaded, maybe locked)."""
    if not user.is_authenticated or not user.is_active:
        return NO_ROLE
    if task.excluded_users.filter(pk=user.pk).exists():
        return NO_ROLE
    if task.assignee_id == user.pk:
        return Role("assignee")
    principals = absent_principals(user, day=day)
    if task.assignee_id is not None and task.assignee_id in principals:
        # The assignee cannot be excluded: nobody assigns an excluded person.
        return Role("assignee", on_behalf_of=User.objects.get(pk=task.assignee_id))
    candidate_ids = set(task.candidate_users.values_list("pk", flat=True))
    if user.pk in candidate_ids or _is_member(user, task.candidate_group_id):
        return Role("candidate")
    excluded = set(task.excluded_users.values_list("pk", flat=True))
    for principal in User.objects.filter(pk__in=principals).exclude(pk__in=excluded):
        if principal.pk in candidate_ids or _is_member(principal, task.candidate_group_id):
            return Role("candidate", on_behalf_of=principal)
    # A global permission (Django's) or one on this task (guardian's).
    if (
        user.is_superuser
        or user.has_perm("tasks_inbox.change_task")
        or user.has_perm("tasks_inbox.change_task", task)
    ):
        return Role("granted")
    if (
        task.decided_by_id == user.pk
        or user.has_perm("tasks_inbox.view_task", task)
        or user.has_perm("tasks_inbox.view_task")
    ):
        return Role("viewer")
    return NO_ROLE


def actor_label(user, role):
    """'carol', or 'carol on behalf of bob' for a substitute."""
    name = user.get_username()
    if role.on_behalf_of is not None:
        return f"{name} on behalf of {role.on_behalf_of.get_username()}"
    return name
