"""Time on tasks: due times in (business) time, the SLA state, reminders and escalation
levels, the pause while a question waits, and the daily overdue digest.

Reminders and levels are `TaskTimer` rows written with the task. `fire_due_timers` is the
set-based sweep: it reads only pending rows that are due (a partial index), and fires
each one in its own transaction that locks the instance, step run and task (the engine's
order) and the timer row, so a level fires exactly once, in order, whichever beat or
worker gets there first, and never on a task that closed meanwhile.
"""

import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.utils import timezone

from orchestrate.engine.durations import parse_duration
from orchestrate.engine.templating import render
from orchestrate.engine.walker import Engine
from orchestrate.models import AuditEvent, AuditKind
from orchestrate.observability.logging import log_context
from tasks_inbox.models import (
    LIVE_TASK_STATUSES,
    DigestLog,
    NotificationKind,
    Priority,
    Profile,
    Task,
    TaskStatus,
    TaskTimer,
    TimerKind,
    TimerStatus,
)

from . import notifications

logger = logging.getLogger("tasks_inbox.sla")
User = get_user_model()

SYSTEM = "escalation"


# --- due times -------------------------------------------------------------------------
def _calendar(key):
    from orchestrate.engine.calendars import calendar_for

    return calendar_for(key or None)


def add_time(start, duration, *, business, calendar_key=""):
    """`start` plus an ISO 8601 duration, in working time of the calendar if `business`."""
    if not business:
        return start + parse_duration(duration)
    from orchestrate.engine.calendars import add_duration

    return add_duration(start, duration, business=True, calendar=_calendar(calendar_key))


def plan_times(now, step, calendar_key):
    """Task fields and timers for a human step entered at `now`:
    ({due_at, at_risk_at, due_explanation, business, calendar_key}, [TaskTimer...])."""
    business = bool(step.get("business"))
    fields = {"business": business, "calendar_key": calendar_key or ""}
    timers = []
    due = step.get("due")
    due_at = add_time(now, due, business=business, calendar_key=calendar_key) if due else None
    fields["due_at"] = due_at
    fields["at_risk_at"] = None
    fields["due_explanation"] = ""
    if due_at is not None:
        # At risk in the last quarter of the time, or from the first reminder on.
        fields["at_risk_at"] = due_at - (due_at - now) / 4
        fields["due_explanation"] = _explain(now, due, due_at, business, calendar_key)
        for level, before in enumerate(step.get("reminders") or []):
            at = _before(due_at, before, business, calendar_key)
            timers.append(TaskTimer(kind=TimerKind.REMINDER, level=level, due_at=at))
            fields["at_risk_at"] = min(fields["at_risk_at"], at)
    for level, spec in enumerate(step.get("escalation") or []):
        at = add_time(now, spec["after"], business=business, calendar_key=calendar_key)
        timers.append(TaskTimer(kind=TimerKind.ESCALATION, level=level, spec=spec, due_at=at))
    return fields, timers


def _before(due_at, before, business, calendar_key):
    if not business:
        return due_at - parse_duration(before)
    from orchestrate.engine.calendars import subtract_duration

    return subtract_duration(due_at, before, calendar=_calendar(calendar_key))


def _explain(now, due, due_at, business, calendar_key):
    try:
        from orchestrate.engine.calendars import explain_due

        calendar = _calendar(calendar_key) if business else _calendar("")
        return explain_due(now, due, due_at, business=business, calendar=calendar)[:300]
    except Exception:  # the words are a courtesy; never fail a task for them
        logger.warning("could not explain a due time", exc_info=True)
        return ""


def sla_rank():
    """An annotation for sorting by SLA state: breached 2, at risk 1, on track 0."""
    now = timezone.now()
    return Case(
        When(Q(due_at__lte=now) & Q(paused_at=None), then=Value(2)),
        When(Q(paused_at__isnull=False) & Q(due_at__lte=F("paused_at")), then=Value(2)),
        When(Q(at_risk_at__lte=now) & Q(paused_at=None), then=Value(1)),
        When(Q(paused_at__isnull=False) & Q(at_risk_at__lte=F("paused_at")), then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )


# --- the pause while a question waits -------------------------------------------------
def resume_clock(task, now, *, actor, label):
    """The answer came (task locked, `resume_after_info` not yet called): due times and
    pending timers move on by the pause. Returns the pause as a timedelta."""
    paused_at = task.paused_at
    if paused_at is None:
        return datetime.timedelta(0)
    pause = now - paused_at
    if task.business:
        from orchestrate.engine.calendars import working_time_between

        shift_by = working_time_between(paused_at, now, _calendar(task.calendar_key))
    else:
        shift_by = pause
    if task.due_at is not None:
        task.due_at = _shift(task.due_at, shift_by, task)
    if task.at_risk_at is not None:
        task.at_risk_at = _shift(task.at_risk_at, shift_by, task)
    timers = list(task.timers.select_for_update().filter(status=TimerStatus.PENDING))
    for timer in timers:
        timer.due_at = _shift(timer.due_at, shift_by, task)
    TaskTimer.objects.bulk_update(timers, ["due_at"])
    _event(
        task,
        AuditKind.SLA_RESUMED,
        actor,
        label,
        paused_seconds=int(pause.total_seconds()),
        due_at=task.due_at.isoformat() if task.due_at else None,
    )
    return pause


def _shift(moment, shift_by, task):
    if not task.business:
        return moment + shift_by
    from orchestrate.engine.calendars import add_duration

    seconds = int(shift_by.total_seconds())
    return add_duration(
        moment, datetime.timedelta(seconds=seconds), business=True,
        calendar=_calendar(task.calendar_key),
    )  # fmt: skip


def skip_timers(task_ids, now):
    """The tasks closed: their pending reminders and levels will never fire."""
    TaskTimer.objects.filter(task_id__in=task_ids, status=TimerStatus.PENDING).update(
        status=TimerStatus.SKIPPED, fired_at=now, result="the task closed first"
    )


def _event(task, kind, actor, label, **data):
    AuditEvent.objects.create(
        instance_id=task.instance_id,
        step_run_id=task.step_run_id,
        step_key=task.step_key,
        kind=kind,
        actor=actor,
        actor_label=label,
        data={"task": task.pk, **data},
    )


# --- the sweep ------------------------------------------------------------------------
def fire_due_timers(*, now=None, batch=None):
    """Fire the reminders and escalation levels that are due; returns how many fired.
    Safe to run in several processes at once: overlapping sweeps may read the same rows,
    and the locks in `fire_timer` let exactly one of them fire each."""
    now = now or timezone.now()
    batch = batch or settings.ORCHESTRATE_SWEEP_BATCH
    # The partial index on pending rows' due_at answers this.
    due = list(
        TaskTimer.objects.filter(status=TimerStatus.PENDING, due_at__lte=now)
        .order_by("due_at", "id")
        .values_list("pk", "task_id", "task__step_run_id", "task__instance_id", "level")[:batch]
    )
    fired = 0
    for timer_id, task_id, step_run_id, instance_id, level in due:
        # One log scope per timer: a failure is logged with its own task's ids.
        with log_context(task_id=task_id, instance_id=instance_id, step_run_id=step_run_id):
            try:
                fired += fire_timer(
                    timer_id, task_id, now=now, ids=(step_run_id, instance_id), level=level
                )
            except Exception:
                logger.exception(
                    "could not fire task timer %s; the next sweep tries again", timer_id
                )
    return fired


def fire_timer(timer_id, task_id, *, now, ids=None, level=None):
    """Fire one due timer exactly once (1), or leave it (0): not due, already fired, an
    earlier level still pending, or the task closed (then it is skipped)."""
    from .tasks import lock_task

    with transaction.atomic():
        try:
            instance, run, task = lock_task(task_id, ids=ids)
        except Exception:
            return 0
        timer = TaskTimer.objects.select_for_update().filter(pk=timer_id).first()
        if timer is None or timer.status != TimerStatus.PENDING or timer.due_at > now:
            return 0
        if not task.is_live:
            timer.status, timer.fired_at, timer.result = (
                TimerStatus.SKIPPED, now, "the task closed first",
            )  # fmt: skip
            timer.save(update_fields=["status", "fired_at", "result"])
            return 0
        if task.paused_at is not None:
            return 0  # the clock stands still; the answer moves the timer on
        earlier = timer.level > 0 and (
            TaskTimer.objects.filter(
                task_id=task_id, kind=timer.kind, level__lt=timer.level, status=TimerStatus.PENDING
            ).exists()
        )
        if earlier:
            return 0
        result = _fire(timer, instance, run, task, now)
        timer.status, timer.fired_at, timer.result = TimerStatus.FIRED, now, result[:300]
        timer.save(update_fields=["status", "fired_at", "result"])
        return 1


def _fire(timer, instance, run, task, now):
    if timer.kind == TimerKind.REMINDER:
        _event(task, AuditKind.TASK_REMINDED, None, SYSTEM, level=timer.level + 1)
        if task.assignee_id:
            notifications.queue(NotificationKind.REMINDER, task, task.assignee)
            return f"reminded {task.assignee.get_username()}"
        return "reminder (nobody holds the task yet)"
    spec = timer.spec
    action = spec.get("action")
    level = timer.level + 1
    if action == "notify":
        people = targets(spec.get("to"), task, instance)
        if not spec.get("to"):
            # The holder hears of it in the daily overdue digest, not per level.
            _event(task, AuditKind.TASK_ESCALATED, None, SYSTEM, level=level, action=action,
                   to=[], digest=True)  # fmt: skip
            return "the holder is told in the overdue digest"
        for person in people:
            notifications.queue(NotificationKind.ESCALATED, task, person)
        names = [p.get_username() for p in people]
        _event(task, AuditKind.TASK_ESCALATED, None, SYSTEM, level=level, action=action, to=names)
        return f"notified {', '.join(names) or 'nobody'}"
    if action == "reassign":
        return _reassign(task, spec.get("to") or {}, instance, level, now)
    if action == "raise_priority":
        before = task.priority_name
        higher = [p for p in Priority if p > task.priority]
        if higher:
            task.priority = higher[0]
            task.save(update_fields=["priority"])
        _event(task, AuditKind.TASK_ESCALATED, None, SYSTEM, level=level, action=action,
               before=before, after=task.priority_name)  # fmt: skip
        return f"priority {before} → {task.priority_name}"
    if action == "complete":
        from .tasks import record_decision

        outcome = spec["outcome"]
        _event(task, AuditKind.TASK_ESCALATED, None, SYSTEM, level=level, action=action,
               outcome=outcome)  # fmt: skip
        if task.status not in (TaskStatus.OPEN, TaskStatus.CLAIMED):
            return f"not completed: the task is {task.status}"
        engine = Engine(instance, actor=None, actor_label=SYSTEM, now=now)
        record_decision(
            engine, run, task, outcome=outcome, comment=f"escalation level {level}",
            values={}, actor=None, on_behalf_of=None, channel="escalation",
        )  # fmt: skip
        return f"completed with {outcome}"
    return f"unknown action {action!r}"


def _reassign(task, target, instance, level, now):
    before = task.assignee.get_username() if task.assignee_id else (
        f"queue {task.candidate_group.name}" if task.candidate_group_id else None
    )  # fmt: skip
    excluded = set(task.excluded_users.values_list("pk", flat=True))
    if "group" in target:
        group = Group.objects.filter(name=target["group"]).first()
        if group is None:
            return f"not reassigned: there is no group '{target['group']}'"
        if task.status == TaskStatus.INFO_REQUESTED:
            return "not reassigned: a question waits for its answer"
        task.requeue(group)
        task.save(
            update_fields=["status", "candidate_group", "assignee", "claimed_at", "snoozed_until"]
        )
        to = f"queue {group.name}"
    else:
        people = [p for p in targets(target, task, instance) if p.pk not in excluded]
        if not people:
            return "not reassigned: nobody to give the task to"
        if task.status == TaskStatus.INFO_REQUESTED:
            return "not reassigned: a question waits for its answer"
        task.assign(people[0], now)
        task.save(update_fields=["status", "assignee", "claimed_at", "snoozed_until"])
        to = people[0].get_username()
        notifications.queue(NotificationKind.ASSIGNED, task, people[0])
    _event(task, AuditKind.TASK_ESCALATED, None, SYSTEM, level=level, action="reassign",
           before=before, to=to)  # fmt: skip
    return f"reassigned to {to}"


def targets(target, task, instance):
    """People an escalation `to` names: {user: "<template>"}, {group: name} (its active
    members) or {manager: assignee|initiator} (the manager on that person's profile)."""
    if not target:
        return [task.assignee] if task.assignee_id else []
    if "user" in target:
        context = Engine(instance).template_context()
        name = render(target["user"], context).strip()
        user = User.objects.filter(username=name, is_active=True).first()
        return [user] if user else []
    if "group" in target:
        return list(
            User.objects.filter(groups__name=target["group"], is_active=True).order_by("username")
        )
    if "manager" in target:
        whose = task.assignee_id if target["manager"] == "assignee" else instance.started_by_id
        profile = Profile.objects.filter(user_id=whose).select_related("manager").first()
        if profile and profile.manager and profile.manager.is_active:
            return [profile.manager]
    return []


# --- the daily digest -----------------------------------------------------------------
def queue_overdue_digests(*, now=None):
    """One digest per person and day listing their overdue tasks; returns how many."""
    from orchestrate.engine import dispatch

    now = now or timezone.now()
    day = timezone.localdate(now)
    holders = (
        Task.objects.filter(status__in=LIVE_TASK_STATUSES, due_at__lt=now, paused_at=None)
        .exclude(assignee=None)
        .exclude(assignee__in=DigestLog.objects.filter(day=day).values("user_id"))
        .values_list("assignee_id", "pk")
        .order_by("assignee_id", "due_at")
    )
    overdue = {}
    for user_id, task_id in holders:
        overdue.setdefault(user_id, []).append(task_id)
    made = 0
    for user_id, task_ids in overdue.items():
        with transaction.atomic():
            digest, created = DigestLog.objects.get_or_create(
                user_id=user_id, day=day, defaults={"task_ids": task_ids}
            )
        if created:
            dispatch.send_on_commit(SEND_DIGEST, digest.pk)
            made += 1
    return made


SEND_DIGEST = "tasks_inbox.send_digest"


def send_digest(digest_id):
    """Send one day's digest (idempotent: `sent_at`)."""
    from django.core.mail import send_mail
    from django.template.loader import render_to_string
    from django.urls import reverse

    with transaction.atomic():
        digest = (
            DigestLog.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("user")
            .filter(pk=digest_id, sent_at=None)
            .first()
        )
        if digest is None or not digest.user.email:
            return False
        tasks = list(
            Task.objects.filter(pk__in=digest.task_ids, status__in=LIVE_TASK_STATUSES)
            .select_related("instance__definition")
            .order_by("due_at")
        )
        if tasks:
            body = render_to_string(
                "tasks_inbox/email/digest.txt",
                {
                    "recipient": digest.user,
                    "tasks": [
                        (t, notifications.absolute(reverse("inbox:task", args=[t.pk])))
                        for t in tasks
                    ],
                    "inbox_url": notifications.absolute(reverse("inbox:mine")),
                },
            )
            subject = f"{len(tasks)} overdue task{'s' if len(tasks) != 1 else ''} in your inbox"
            send_mail(subject, body, None, [digest.user.email])
        digest.sent_at = timezone.now()
        digest.save(update_fields=["sent_at"])
        return bool(tasks)
