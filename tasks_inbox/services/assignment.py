"""Making the tasks of a human step when the engine enters it, and closing them when the
step run ends (decided, timed out or cancelled).

These run inside the engine's transaction as step hooks (see `engine.walker`): who gets
the task is resolved at once (an unknown person or group is an incident on the step), and
the rows are written in `engine.after_write`, once the step run has its id.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Count, Q

from orchestrate.engine.calendars import CalendarError
from orchestrate.engine.templating import render
from orchestrate.models import AuditKind, StepRunStatus
from tasks_inbox.models import (
    LIVE_TASK_STATUSES,
    NotificationKind,
    Priority,
    Profile,
    Task,
    TaskKind,
    TaskStatus,
    TaskTimer,
)

from . import notifications, sla

User = get_user_model()

DEFAULT_OUTCOMES = ["approve", "reject"]


class AssignmentError(Exception):
    """The step names a person or group that cannot take the task."""


def on_human_step_entered(engine, run, step):
    """Resolve who gets the step's task(s); write them once the run is stored."""
    try:
        plans = plan_tasks(engine, step)
    except AssignmentError as exc:
        engine.raise_incident(run, f"assignment: {exc}")
        return
    try:
        times = sla.plan_times(engine.now, step, engine.instance.version.calendar)
    except CalendarError as exc:
        engine.raise_incident(run, f"due: {exc}")
        return
    engine.after_write.append(lambda: _write_tasks(engine, run, step, plans, times))


def on_human_step_closed(engine, run, step):
    """The step run ended: live tasks expire (timeout) or are cancelled."""
    if run.pk is None:
        return  # entered and closed in one transaction: no task was written
    engine.after_write.append(lambda: close_tasks_of_run(engine, run))


# --- who gets the task ---------------------------------------------------------------
class Plan:
    """One task to make: its assignee or candidates, and who substitutes."""

    def __init__(self, *, assignee=None, group=None, substituted_for=None):
        self.assignee = assignee
        self.group = group
        self.substituted_for = substituted_for


def plan_tasks(engine, step):
    context = engine.template_context()
    assign = step.get("assign") or {}
    excluded = excluded_people(engine, assign.get("exclude") or [])
    if "approvers" in step:
        people = _approvers(step["approvers"], context)
        people = [p for p in people if p.pk not in excluded]
        if not people:
            raise AssignmentError("no approver is left once the excluded people are removed")
        # Each approver's vote stays theirs: an absent approver keeps the task, and their
        # substitute decides it on their behalf (it shows in the substitute's inbox).
        return [Plan(assignee=p) for p in people], excluded
    if "to" in assign:
        username = render(assign["to"], context).strip()
        person = _user(username)
        if person.pk in excluded:
            raise AssignmentError(
                f"'{username}' may not take this task (separation of duties excludes them)"
            )
        return [_plan_for(person)], excluded
    group = _group(assign["group"])
    members = list(
        group.user_set.filter(is_active=True).exclude(pk__in=excluded).order_by("username")
    )
    if not members:
        raise AssignmentError(
            f"nobody in group '{group.name}' may take the task"
            + (" once the excluded people are removed" if excluded else "")
        )
    strategy = assign.get("strategy", "claim")
    if strategy == "round_robin":
        return [_plan_for(_next_in_turn(engine, step, group, members))], excluded
    if strategy == "least_loaded":
        return [_plan_for(_least_loaded(members))], excluded
    return [Plan(group=group)], excluded


def excluded_people(engine, rules):
    """User ids that separation of duties keeps away from the task."""
    excluded = set()
    if "initiator" in rules and engine.instance.started_by_id:
        excluded.add(engine.instance.started_by_id)
    if "previous_approvers" in rules:
        decided = Task.objects.filter(
            instance=engine.instance, kind=TaskKind.DECISION, status=TaskStatus.COMPLETED
        ).values_list("decided_by_id", "decided_on_behalf_of_id")
        for by, on_behalf_of in decided:
            excluded.update(pk for pk in (by, on_behalf_of) if pk)
    return excluded


def _approvers(spec, context):
    if "group" in spec:
        group = _group(spec["group"])
        return list(group.user_set.filter(is_active=True).order_by("username"))
    usernames = [render(u, context).strip() for u in spec.get("users", [])]
    return [_user(name) for name in dict.fromkeys(usernames)]


def _user(username):
    if not username:
        raise AssignmentError("the assignee template gave an empty username")
    try:
        user = User.objects.get(username=username)
    except User.DoesNotExist:
        raise AssignmentError(f"there is no user '{username}'") from None
    if not user.is_active:
        raise AssignmentError(f"the user '{username}' is inactive")
    return user


def _group(name):
    try:
        return Group.objects.get(name=name)
    except Group.DoesNotExist:
        raise AssignmentError(f"there is no group '{name}'") from None


def _next_in_turn(engine, step, group, members):
    """The member after the one who got this step's previous task from this group."""
    last = (
        Task.objects.filter(
            instance__definition_id=engine.instance.definition_id,
            step_key=step["key"],
            kind=TaskKind.DECISION,
        )
        .exclude(assignee=None)
        .order_by("-created_at", "-id")
        .values_list("assignee__username", flat=True)
        .first()
    )
    for member in members:
        if last is None or member.username > last:
            return member
    return members[0]


def _least_loaded(members):
    loads = dict(
        User.objects.filter(pk__in=[m.pk for m in members])
        .annotate(
            load=Count("assigned_tasks", filter=Q(assigned_tasks__status__in=LIVE_TASK_STATUSES))
        )
        .values_list("pk", "load")
    )
    return min(members, key=lambda m: (loads.get(m.pk, 0), m.username))


def substitute_for(user, day=None):
    """The substitute of `user` if they are absent on `day`, else None."""
    profile = Profile.objects.filter(user=user).select_related("substitute").first()
    if profile and profile.substitute_id and profile.is_absent(day):
        return profile.substitute
    return None


def _plan_for(person):
    substitute = substitute_for(person)
    if substitute is not None and substitute.is_active:
        return Plan(assignee=substitute, substituted_for=person)
    return Plan(assignee=person)


# --- writing --------------------------------------------------------------------------
def task_fields(engine, step):
    """Title, description and what the step asks for, rendered for this instance."""
    context = engine.template_context()
    title = render(step.get("title") or step.get("name") or step["key"], context)
    outcomes = DEFAULT_OUTCOMES if "approvers" in step else step.get("outcomes", DEFAULT_OUTCOMES)
    return {
        "title": title.strip()[:300] or step["key"],
        "description": render(step.get("description") or "", context).strip(),
        "priority": Priority.from_name(step.get("priority", "normal")),
        "outcomes": list(outcomes),
        "comment_required_for": list(step.get("comment_required_for") or []),
        "form": list(step.get("form") or []),
        "can_request_info": bool(step.get("request_info", True)),
    }


def _write_tasks(engine, run, step, planned, planned_times):
    if run.status != StepRunStatus.WAITING:
        return  # closed again in the same transaction
    plans, excluded = planned
    times, timers = planned_times
    fields = {**task_fields(engine, step), **times}
    tasks = []
    for plan in plans:
        task = Task(
            step_run=run,
            instance=engine.instance,
            definition_id=engine.instance.definition_id,
            step_key=run.step_key,
            kind=TaskKind.DECISION,
            status=TaskStatus.CLAIMED if plan.assignee else TaskStatus.OPEN,
            candidate_group=plan.group,
            assignee=plan.assignee,
            claimed_at=engine.now if plan.assignee else None,
            created_at=engine.now,
            **fields,
        )
        tasks.append(task)
    Task.objects.bulk_create(tasks)
    if timers:
        TaskTimer.objects.bulk_create(
            [
                TaskTimer(task=task, kind=t.kind, level=t.level, spec=t.spec, due_at=t.due_at)
                for task in tasks
                for t in timers
            ]
        )
    if excluded:
        Task.excluded_users.through.objects.bulk_create(
            [
                Task.excluded_users.through(task_id=task.pk, user_id=user_id)
                for task in tasks
                for user_id in sorted(excluded)
            ]
        )
    for task, plan in zip(tasks, plans, strict=True):
        data = {
            "task": task.pk,
            "title": task.title,
            "assignee": plan.assignee.get_username() if plan.assignee else None,
            "candidate_group": plan.group.name if plan.group else None,
            "due_at": task.due_at.isoformat() if task.due_at else None,
        }
        engine.event(AuditKind.TASK_CREATED, run, **data)
        if plan.substituted_for is not None:
            engine.event(
                AuditKind.TASK_SUBSTITUTED,
                run,
                task=task.pk,
                absent=plan.substituted_for.get_username(),
                substitute=plan.assignee.get_username(),
            )
        if plan.assignee is not None:
            recipient = substitute_for(plan.assignee) or plan.assignee
            notifications.queue(NotificationKind.ASSIGNED, task, recipient)


def close_tasks_of_run(engine, run):
    """Expire (on timeout) or cancel every live task of a step run that ended."""
    tasks = list(
        Task.objects.select_for_update().filter(step_run_id=run.pk, status__in=LIVE_TASK_STATUSES)
    )
    if not tasks:
        return
    expired = run.status == StepRunStatus.COMPLETED and run.outcome == "timeout"
    for task in tasks:
        if expired:
            task.expire(engine.now)
        else:
            task.cancel(engine.now)
        engine.event(
            AuditKind.TASK_EXPIRED if expired else AuditKind.TASK_CANCELLED,
            run,
            task=task.pk,
            reason="the step timed out" if expired else _why_closed(run),
        )
    Task.objects.bulk_update(tasks, ["status", "completed_at"])
    sla.skip_timers([task.pk for task in tasks], engine.now)


def _why_closed(run):
    if run.status == StepRunStatus.INCIDENT:
        return f"the step stopped with an incident: {run.error}"
    if run.status == StepRunStatus.COMPLETED:
        return f"the step was decided: {run.outcome}" if run.outcome else "the step completed"
    return "the step was cancelled"
