"""What people do with tasks: claim, release, delegate, decide, ask and answer, comment.

Every rule (who may, in which state, four-eyes, required comment, form) is checked here,
so the inbox, bulk actions, e-mail links, the API and admin cannot differ. Each service
locks the instance, then the step run, then the task (the engine's lock order), runs one
FSM transition, and writes the audit record in the same transaction; mails go out after
commit. A person who may not see the task gets TaskNotFound, whatever the action.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from orchestrate.engine.graph import graph_for
from orchestrate.engine.templating import render
from orchestrate.engine.walker import Engine, lock_step_run
from orchestrate.models import AuditEvent, AuditKind, InstanceStatus, StepRunStatus
from orchestrate.observability.logging import bind_log_context
from tasks_inbox.models import (
    CommentKind,
    NotificationKind,
    Task,
    TaskComment,
    TaskKind,
    TaskStatus,
)
from tasks_inbox.selectors.access import actor_label, role_for

from . import notifications, sla
from .errors import TaskConflict, TaskForbidden, TaskInvalid, TaskNotFound
from .forms import clean_form

User = get_user_model()

PAST_TENSE = {"approve": "approved", "reject": "rejected", "answer": "answered"}


# --- locking and checks ---------------------------------------------------------------
def lock_task(task_id, *, ids=None):
    """Lock instance, step run and task (in the engine's order); TaskNotFound if gone.
    `ids` (step run id, instance id) saves a query when the caller has them."""
    if ids is None:
        ids = Task.objects.filter(pk=task_id).values_list("step_run_id", "instance_id").first()
    if ids is None:
        raise TaskNotFound()
    instance, run = lock_step_run(*ids)
    if run is None:
        raise TaskNotFound()
    task = (
        Task.objects.select_for_update(of=("self",))
        .select_related("assignee", "decided_by", "candidate_group")
        .get(pk=task_id)
    )
    task.instance = instance
    task.step_run = run
    # Log lines from here on say which task, step and instance they are about.
    bind_log_context(
        task_id=task.pk, instance_id=instance.pk, step_run_id=run.pk, step_key=run.step_key
    )
    return instance, run, task


def _role(actor, task, *, act=True):
    """The actor's role; TaskNotFound if they may not see it, TaskForbidden if only view."""
    role = role_for(actor, task)
    if role.kind == "none":
        raise TaskNotFound()
    if act and not role.can_act:
        raise TaskForbidden("You may view this task but not act on it.")
    return role


def _name(user):
    return user.get_username() if user is not None else "someone"


def state_conflict(task, actor=None):
    """Why the task cannot be acted on in its state, in words; None if it can."""
    if task.status == TaskStatus.COMPLETED:
        who = (
            "you"
            if actor is not None and task.decided_by_id == actor.pk
            else _name(task.decided_by)
        )
        if task.kind == TaskKind.INFO:
            return f"This question was already answered by {who}."
        return f"This task was already decided by {who}: {task.outcome}."
    if task.status == TaskStatus.CANCELLED:
        return "This task was cancelled; it is no longer needed."
    if task.status == TaskStatus.EXPIRED:
        return "This task expired: its time ran out before a decision."
    if task.status == TaskStatus.INFO_REQUESTED:
        return "This task waits for the answer to a question."
    return None


def _check_live(task, actor):
    message = state_conflict(task, actor)
    if message:
        raise TaskConflict(message)


def _check_instance(instance, run):
    if instance.status in (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED):
        raise TaskConflict(f"The request is already {instance.status}.")
    if instance.status == InstanceStatus.SUSPENDED:
        raise TaskConflict("The workflow is suspended; try again once it is resumed.")
    if run.status != StepRunStatus.WAITING:
        raise TaskConflict("This step no longer waits for a decision.")


def _check_holder(task, actor, role):
    """A claimed task is decided by its holder (or their substitute, or a granted user)."""
    if task.status == TaskStatus.CLAIMED and role.kind == "candidate":
        raise TaskConflict(f"{_name(task.assignee)} is working on this task.")


def _user_named(value, field="to"):
    if isinstance(value, User):
        user = value
    else:
        name = (value or "").strip() if isinstance(value, str) else ""
        if not name:
            raise TaskInvalid({field: "Name a person (a username)."})
        user = User.objects.filter(username=name).first()
        if user is None:
            raise TaskInvalid({field: f"There is no user '{name}'."})
    if not user.is_active:
        raise TaskInvalid({field: f"'{user.get_username()}' is not an active user."})
    return user


def _audit(task, kind, actor, label, **data):
    return AuditEvent(
        instance=task.instance,
        step_run_id=task.step_run_id,
        step_key=task.step_key,
        kind=kind,
        actor=actor,
        actor_label=label,
        at=timezone.now(),
        data={"task": task.pk, **data},
    )


def _comment(task, kind, actor, label, text, addressee=None):
    return TaskComment(
        task=task, kind=kind, author=actor, author_label=label, text=text, addressee=addressee
    )


# --- claim, release, delegate -----------------------------------------------------------
def claim_task(task_id, *, actor):
    """Take an open task from the queue. Idempotent for its holder; 409 if someone
    else holds it or it is decided."""
    with transaction.atomic():
        _instance, _run, task = lock_task(task_id)
        role = _role(actor, task)
        if task.status == TaskStatus.CLAIMED and task.assignee_id == actor.pk:
            return task
        _check_live(task, actor)
        if task.status == TaskStatus.CLAIMED:
            raise TaskConflict(f"This task was already claimed by {_name(task.assignee)}.")
        label = actor_label(actor, role)
        task.claim(actor, timezone.now())
        task.save(update_fields=["status", "assignee", "claimed_at", "snoozed_until"])
        _audit(task, AuditKind.TASK_CLAIMED, actor, label).save()
        return task


def release_task(task_id, *, actor):
    """Give a claimed task back to its queue (its holder, their substitute, or a
    granted user). A task assigned to one person has no queue: delegate it instead."""
    with transaction.atomic():
        _instance, _run, task = lock_task(task_id)
        role = _role(actor, task)
        _check_live(task, actor)
        if task.status != TaskStatus.CLAIMED:
            raise TaskConflict("Nobody holds this task; there is nothing to release.")
        _check_holder(task, actor, role)
        if task.candidate_group_id is None and not task.candidate_users.exists():
            raise TaskConflict(
                "This task was assigned to one person and has no queue to go back to; "
                "delegate it instead."
            )
        previous = task.assignee
        task.release()
        task.save(update_fields=["status", "assignee", "claimed_at", "snoozed_until"])
        _audit(
            task, AuditKind.TASK_RELEASED, actor, actor_label(actor, role), previous=_name(previous)
        ).save()
        return task


def delegate_task(task_id, *, actor, to, comment=""):
    """Hand the task to a colleague, who becomes its assignee. The colleague must be
    allowed to take it (separation of duties). Audited; the colleague gets a mail."""
    with transaction.atomic():
        _instance, _run, task = lock_task(task_id)
        role = _role(actor, task)
        _check_live(task, actor)
        _check_holder(task, actor, role)
        colleague = _user_named(to)
        if colleague.pk == task.assignee_id:
            raise TaskInvalid({"to": f"{colleague.get_username()} already holds this task."})
        if colleague.pk == actor.pk:
            raise TaskInvalid({"to": "Claim the task to take it yourself."})
        if task.excluded_users.filter(pk=colleague.pk).exists():
            raise TaskInvalid(
                {"to": f"{colleague.get_username()} may not take this task (separation of duties)."}
            )
        label = actor_label(actor, role)
        previous = task.assignee
        task.assign(colleague, timezone.now())
        task.save(update_fields=["status", "assignee", "claimed_at", "snoozed_until"])
        _audit(
            task,
            AuditKind.TASK_DELEGATED,
            actor,
            label,
            previous=_name(previous) if previous else None,
            to=colleague.get_username(),
            comment=comment,
        ).save()
        if comment.strip():
            _comment(task, CommentKind.COMMENT, actor, label, comment.strip()).save()
        notifications.queue(NotificationKind.ASSIGNED, task, colleague)
        return task


# --- deciding ----------------------------------------------------------------------------
def complete_task(task_id, *, actor, outcome="", comment="", data=None, channel="inbox"):
    """Decide a task with one of its outcomes (or answer a question task).

    Checks visibility, the holder, the state, four-eyes, the required comment and the
    form, all before anything is written. The decision goes to `decisions.<step>`, form
    values into the variables, and once the step has its outcome (one decision, or the
    approvers' policy) the engine moves the instance on in the same transaction.
    """
    comment = (comment or "").strip()
    with transaction.atomic():
        instance, run, task = lock_task(task_id)
        role = _role(actor, task)
        if task.kind == TaskKind.INFO:
            return _answer(task, actor, role, comment)
        _check_live(task, actor)
        _check_holder(task, actor, role)
        _check_instance(instance, run)
        errors = {}
        if outcome not in task.outcomes:
            choices = ", ".join(task.outcomes)
            errors["outcome"] = (
                f"Choose one of: {choices}." if outcome else f"Choose an outcome: {choices}."
            )
        elif task.needs_comment(outcome) and not comment:
            errors["comment"] = f"A comment is required to {outcome}."
        values, form_errors = clean_form(task.form, data, outcome)
        errors.update(form_errors)
        if errors:
            raise TaskInvalid(errors)
        now = timezone.now()
        label = actor_label(actor, role)
        engine = Engine(instance, actor=actor, actor_label=label, now=now)
        record_decision(
            engine,
            run,
            task,
            outcome=outcome,
            comment=comment,
            values=values,
            actor=actor,
            on_behalf_of=role.on_behalf_of,
            channel=channel,
        )
        return task


def record_decision(engine, run, task, *, outcome, comment, values, actor, on_behalf_of, channel):
    """Write a checked decision (all locks held): the task, its conversation and audit,
    `decisions.<step>` and form values, and, once the step has its outcome, the walk on.
    Used by `complete_task` and by an escalation level that completes the task."""
    instance = engine.instance
    now = engine.now
    task.complete(
        outcome=outcome,
        comment=comment,
        data=values,
        by=actor,
        on_behalf_of=on_behalf_of,
        now=now,
    )
    task.save()
    sla.skip_timers([task.pk], now)
    if comment:
        _comment(task, CommentKind.DECISION, actor, engine.actor_label, comment).save()
    engine.adopt(run)
    engine.event(
        AuditKind.TASK_COMPLETED,
        run,
        task=task.pk,
        outcome=outcome,
        comment=comment,
        data=values,
        channel=channel,
    )
    step = graph_for(instance.version).step(run.step_key)
    step_outcome, decision = _step_decision(run, step, task)
    decisions = dict(instance.variables.get("decisions") or {})
    decisions[run.step_key] = decision
    engine.set_variables({**values, "decisions": decisions})
    if step_outcome:
        engine.complete_run(run, outcome=step_outcome)
        engine.walk()
    engine.finish()
    if instance.started_by_id and (actor is None or instance.started_by_id != actor.pk):
        notifications.queue(NotificationKind.DECIDED, task, instance.started_by)


def _decision_record(task):
    record = {
        "outcome": task.outcome,
        "by": _name(task.decided_by) if task.decided_by_id else "escalation",
        "comment": task.comment,
        "at": task.completed_at.isoformat(),
    }
    if task.decided_on_behalf_of_id:
        record["on_behalf_of"] = _name(task.decided_on_behalf_of)
    return record


def _step_decision(run, step, task):
    """(the step's outcome or None while approvers still decide, the decision record)."""
    if "approvers" not in step:
        return task.outcome, _decision_record(task)
    tasks = list(
        Task.objects.filter(step_run=run, kind=TaskKind.DECISION)
        .select_related("decided_by", "decided_on_behalf_of")
        .order_by("completed_at", "id")
    )
    done = [t for t in tasks if t.status == TaskStatus.COMPLETED]
    records = [_decision_record(t) for t in done]
    if task.outcome == "reject":
        return "reject", records
    approvals = sum(1 for t in done if t.outcome == "approve")
    policy = step["approvers"].get("policy", "all")
    if policy == "any":
        needed = 1
    elif policy == "quorum":
        needed = int(step["approvers"].get("quorum", 1))
    else:
        needed = sum(1 for t in tasks if t.status != TaskStatus.CANCELLED)
    return ("approve" if approvals >= needed else None), records


def _answer(task, actor, role, comment):
    """Answer the question of an info task: the asking task returns to its holder."""
    _check_live(task, actor)
    if not comment:
        raise TaskInvalid({"comment": "Write your answer."})
    now = timezone.now()
    label = actor_label(actor, role)
    parent = (
        Task.objects.select_for_update(of=("self",))
        .select_related("assignee")
        .get(pk=task.parent_id)
    )
    parent.instance = task.instance
    task.complete(
        outcome="answer",
        comment=comment,
        data={},
        by=actor,
        on_behalf_of=role.on_behalf_of,
        now=now,
    )
    task.save()
    if parent.status == TaskStatus.INFO_REQUESTED:
        parent.step_run_id = task.step_run_id
        sla.resume_clock(parent, now, actor=actor, label=label)
        parent.resume_after_info(now)
        parent.save(update_fields=["status", "paused_at", "paused_seconds", "due_at", "at_risk_at"])
    _comment(parent, CommentKind.ANSWER, actor, label, comment).save()
    AuditEvent.objects.bulk_create(
        [
            _audit(
                parent,
                AuditKind.TASK_INFO_ANSWERED,
                actor,
                label,
                info_task=task.pk,
                answer=comment,
            )
        ]
    )
    if parent.is_live:
        notifications.queue(NotificationKind.ANSWERED, parent, parent.assignee)
    return task


def request_info(task_id, *, actor, question, to=None):
    """Ask a question: the task waits, and the addressee (given, the step's
    `request_info.to`, or the initiator) gets a task to answer. Returns that task."""
    question = (question or "").strip()
    with transaction.atomic():
        instance, run, task = lock_task(task_id)
        role = _role(actor, task)
        if task.kind != TaskKind.DECISION:
            raise TaskConflict("Answer the question instead of asking another one.")
        _check_live(task, actor)
        _check_holder(task, actor, role)
        _check_instance(instance, run)
        if not task.can_request_info:
            raise TaskConflict("This step does not allow questions.")
        errors = {}
        if not question:
            errors["question"] = "Write your question."
        addressee = None
        try:
            addressee = _user_named(to) if to else _default_addressee(instance, run)
        except TaskInvalid as exc:
            errors.update(exc.errors)
        if addressee is not None and addressee.pk == actor.pk:
            errors["to"] = "You cannot ask yourself; name someone else."
        if errors:
            raise TaskInvalid(errors)
        now = timezone.now()
        label = actor_label(actor, role)
        if task.status == TaskStatus.OPEN:
            task.claim(actor, now)
        task.hold_for_info(now)
        task.save(update_fields=["status", "assignee", "claimed_at", "snoozed_until", "paused_at"])
        _audit(task, AuditKind.SLA_PAUSED, actor, label, reason="a question waits").save()
        info = Task.objects.create(
            step_run=run,
            instance=instance,
            definition_id=task.definition_id,
            step_key=task.step_key,
            kind=TaskKind.INFO,
            parent=task,
            status=TaskStatus.CLAIMED,
            title=f"Question: {task.title}"[:300],
            description=question,
            assignee=addressee,
            claimed_at=now,
            priority=task.priority,
            due_at=task.due_at,
            outcomes=["answer"],
            comment_required_for=["answer"],
            can_request_info=False,
            created_at=now,
        )
        _comment(task, CommentKind.QUESTION, actor, label, question, addressee=addressee).save()
        _audit(
            task,
            AuditKind.TASK_INFO_REQUESTED,
            actor,
            label,
            question=question,
            to=addressee.get_username(),
            info_task=info.pk,
        ).save()
        notifications.queue(NotificationKind.QUESTION, info, addressee)
        return info


def _default_addressee(instance, run):
    step = graph_for(instance.version).step(run.step_key)
    spec = step.get("request_info")
    if isinstance(spec, dict) and spec.get("to"):
        context = Engine(instance).template_context()
        return _user_named(render(spec["to"], context).strip())
    if instance.started_by is None:
        raise TaskInvalid({"to": "This request has no initiator to ask; name someone."})
    return instance.started_by


def add_comment(task_id, *, actor, text):
    """Add a comment to the task's conversation (anyone who may see the task)."""
    text = (text or "").strip()
    with transaction.atomic():
        _instance, _run, task = lock_task(task_id)
        role = _role(actor, task, act=False)
        if not text:
            raise TaskInvalid({"text": "Write a comment."})
        label = actor_label(actor, role)
        comment = _comment(task, CommentKind.COMMENT, actor, label, text)
        comment.save()
        _audit(task, AuditKind.TASK_COMMENTED, actor, label, comment=text).save()
        return comment


# --- bulk ---------------------------------------------------------------------------------
@dataclass
class BulkResult:
    task_id: int
    ok: bool
    message: str


def complete_tasks(task_ids, *, actor, outcome, comment=""):
    """Decide several tasks with one outcome, each on its own (own transaction, every
    check); a task that needs its form filled in is refused. Returns one result each."""
    results = []
    for task_id in dict.fromkeys(task_ids):
        try:
            task = Task.objects.filter(pk=task_id).only("form", "kind").first()
            if task is not None and task.kind == TaskKind.INFO:
                raise TaskConflict("This task is a question; open it to answer.")
            if (
                task is not None
                and any(f.get("required") for f in task.form)
                and outcome != "reject"
            ):
                raise TaskConflict("This task needs its form filled in; open it to decide.")
            complete_task(task_id, actor=actor, outcome=outcome, comment=comment, channel="bulk")
        except (TaskConflict, TaskForbidden, TaskInvalid, TaskNotFound) as exc:
            message = exc.message
            if isinstance(exc, TaskInvalid):
                message = " ".join(exc.errors.values())
            results.append(BulkResult(task_id, False, message))
        else:
            results.append(BulkResult(task_id, True, PAST_TENSE.get(outcome, outcome)))
    return results


def summarize(results, outcome):
    """'12 approved, 1 refused: #7 already decided by bob.'"""
    done = sum(1 for r in results if r.ok)
    refused = [r for r in results if not r.ok]
    text = f"{done} {PAST_TENSE.get(outcome, outcome)}"
    if refused:
        reasons = "; ".join(f"#{r.task_id} {_lower_first(r.message)}" for r in refused)
        text += f", {len(refused)} refused: {reasons}"
    return text


def _lower_first(message):
    for prefix in ("This task was ", "This task "):
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message[:1].lower() + message[1:]


# --- snooze -------------------------------------------------------------------------------
def snooze_task(task_id, *, actor, until):
    """Hide a task one holds from the default inbox view until `until` (None: wake it
    now). The SLA clock runs on. Audited."""
    with transaction.atomic():
        _instance, _run, task = lock_task(task_id)
        role = _role(actor, task)
        _check_live(task, actor)
        if task.assignee_id is None or role.kind != "assignee":
            raise TaskConflict("Only the person holding a task can snooze it.")
        now = timezone.now()
        if until is not None and until <= now:
            raise TaskInvalid({"until": "Choose a time in the future."})
        task.snoozed_until = until
        task.save(update_fields=["snoozed_until"])
        _audit(
            task,
            AuditKind.TASK_SNOOZED,
            actor,
            actor_label(actor, role),
            until=until.isoformat() if until else None,
        ).save()
        return task
