"""One task: its page (the detail pane for htmx) and what people do with it. Each action
view checks access, validates its form, calls one service and redirects."""

import datetime

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.views import View

from tasks_inbox.forms import (
    CommentForm,
    DelegateForm,
    RequestInfoForm,
    SnoozeForm,
    TaskDecisionForm,
    outcome_label,
)
from tasks_inbox.models import CommentKind, SlaState, TaskKind, TaskStatus
from tasks_inbox.selectors.access import role_for
from tasks_inbox.selectors.tasks import (
    available_actions,
    conversation_for,
    task_for_user,
    timeline_for,
    visible_variables,
)
from tasks_inbox.services.tasks import (
    PAST_TENSE,
    add_comment,
    claim_task,
    complete_task,
    delegate_task,
    release_task,
    request_info,
    snooze_task,
    state_conflict,
)

from .base import TaskErrorMixin, is_htmx, safe_next, vary_on_htmx, without_params

TASK_PAGE = "tasks_inbox/task_detail.html"
TASK_PARTIAL = "tasks_inbox/partials/task_detail.html"

# Audit labels that are not people, and events the workflow does by itself whoever
# caused them (a task created because alice started the request): plain sentences.
SYSTEM_ACTORS = {"system", "worker", "sweep", "scheduler", ""}
SYSTEM_KINDS = {
    "instance.completed",
    "incident.raised",
    "task.created",
    "task.substituted",
    "task.cancelled",
    "task.expired",
    "task.reminded",
    "task.escalated",
    "sla.paused",
    "sla.resumed",
}


def _for(who):
    return f" for {who}" if who else ""


def duration_text(seconds):
    """'45 min', '3 h 0 min', '2 d 5 h': a span of time as the task page says it."""
    minutes = max(int(seconds), 0) // 60
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


def _when(moment, pattern="D H:i"):
    """A moment (a datetime or its ISO text) in local time: 'Tue 09:00'."""
    if isinstance(moment, str):
        moment = datetime.datetime.fromisoformat(moment)
    return dateformat.format(timezone.localtime(moment), pattern)


def _escalated(d):
    level = f"escalation level {d.get('level')}"
    action = d.get("action")
    if action == "raise_priority":
        return f"{level}: priority {d.get('before')} → {d.get('after')}"
    if action == "reassign":
        before = f" from {d['before']}" if d.get("before") else ""
        return f"{level}: reassigned{before} to {d.get('to')}"
    if action == "complete":
        return f"{level}: decided {d.get('outcome')}"
    if d.get("digest"):
        return f"{level}: the holder is told in the daily overdue digest"
    return f"{level}: notified {', '.join(d.get('to') or []) or 'nobody'}"


def _snoozed(d):
    return f"snoozed until {_when(d['until'])}" if d.get("until") else "unsnoozed the task"


# One sentence per audit event kind worth showing on a task; the rest (engine steps,
# variables, transitions) is left to the admin's audit trail.
TIMELINE = {
    "instance.started": lambda d: "started the request",
    "instance.completed": lambda d: f"the request ended: {d.get('outcome') or 'done'}",
    "instance.cancelled": lambda d: "cancelled the request",
    "instance.suspended": lambda d: "suspended the request",
    "instance.resumed": lambda d: "resumed the request",
    "incident.raised": lambda d: "an error stopped the request",
    "task.created": lambda d: (
        f"task “{d.get('title', '')}” created{_for(d.get('assignee') or d.get('candidate_group'))}"
    ),
    "task.substituted": lambda d: (
        f"task given to {d.get('substitute')}, substitute of {d.get('absent')}"
    ),
    "task.claimed": lambda d: "claimed the task",
    "task.released": lambda d: "released the task to its queue",
    "task.delegated": lambda d: f"delegated the task to {d.get('to')}",
    "task.info_requested": lambda d: f"asked {d.get('to')} a question",
    "task.info_answered": lambda d: "answered the question",
    "task.commented": lambda d: "commented",
    "task.completed": lambda d: f"decided: {d.get('outcome')}{CHANNELS.get(d.get('channel'), '')}",
    "task.cancelled": lambda d: "the task was cancelled",
    "task.expired": lambda d: "the task expired",
    "request.withdrawn": lambda d: "withdrew the request",
    "task.reminded": lambda d: f"reminder {d.get('level')} sent",
    "task.escalated": _escalated,
    "task.snoozed": _snoozed,
    "sla.paused": lambda d: f"clock stopped: {d.get('reason') or 'a question waits'}",
    "sla.resumed": lambda d: (
        f"clock runs again after {duration_text(d.get('paused_seconds') or 0)}"
    ),
}
CHANNELS = {"email": " (by e-mail)", "bulk": " (several at once)", "api": " (through the API)"}


def timeline_entries(task):
    """The task's timeline as {at, actor, text}, oldest first."""
    entries = []
    for event in timeline_for(task, kinds=list(TIMELINE)):
        phrase = TIMELINE.get(event.kind)
        if phrase is None:
            continue
        text = phrase(event.data or {})
        system = event.actor_label in SYSTEM_ACTORS or event.kind in SYSTEM_KINDS
        actor = None if system else event.actor_label
        if actor is None:
            text = text[:1].upper() + text[1:]
        entries.append({"at": event.at, "actor": actor, "text": text, "kind": event.kind})
    return entries


def outcome_buttons(task):
    """The decision buttons: value, label, style and keyboard shortcut."""
    if task.kind == TaskKind.INFO:
        return [{"value": "answer", "label": "Send answer", "style": "btn-primary"}]
    buttons = []
    for index, outcome in enumerate(task.outcomes):
        style = "btn-secondary"
        if outcome == "reject":
            style = "btn-danger"
        elif index == 0 or outcome == "approve":
            style = "btn-primary"
        buttons.append(
            {
                "value": outcome,
                "label": outcome_label(outcome),
                "style": style,
                "shortcut": outcome if outcome in ("approve", "reject") else "",
            }
        )
    return buttons


def _holder_notice(task, user, actions):
    if (
        task.status == TaskStatus.CLAIMED
        and task.assignee_id != user.pk
        and "complete" not in actions
    ):
        return f"{task.assignee.get_username()} is working on this task."
    if task.assignee_id not in (None, user.pk) and "complete" in actions:
        role = role_for(user, task)
        if role.on_behalf_of is not None:
            return (
                f"{role.on_behalf_of.get_username()} is away: you act on their behalf, "
                "and the decision is recorded as yours for them."
            )
    return None


def sla_badge(task, now=None):
    """The SLA badge of a task ({state, label}), or None when it has no due time."""
    state = task.sla_state(now)
    if state is None:
        return None
    return {"state": str(state), "label": SlaState(state).label.capitalize()}


def sla_figures(task, now):
    """The task's time on the SLA clock: since it was made, up to its end (or now), less
    the pauses while questions waited (the one running now too)."""
    end = task.completed_at or now
    paused = task.paused_seconds
    if task.paused_at is not None:
        paused += max((end - task.paused_at).total_seconds(), 0)
    elapsed = max((end - task.created_at).total_seconds(), 0)
    return {
        "elapsed": duration_text(elapsed),
        "paused": duration_text(paused) if paused >= 60 else "",
        "net": duration_text(elapsed - paused),
    }


def is_snoozed(task, now=None):
    return (
        task.is_live
        and task.snoozed_until is not None
        and task.snoozed_until > (now or timezone.now())
    )


def _may_snooze(user, task, actions):
    """Only the holder (the assignee, or their substitute) snoozes a task they can decide."""
    return (
        "complete" in actions
        and task.assignee_id is not None
        and role_for(user, task).kind == "assignee"
    )


def task_context(request, task, *, next_url="", standalone=True, **forms):
    """What the task page and the detail pane show; `forms` are bound forms to show
    again with their errors (decision_form, question_form, delegate_form, snooze_form,
    comment_form)."""
    user = request.user
    now = timezone.now()
    actions = available_actions(user, task)
    conversation = list(conversation_for(task))
    initial = {"next": next_url}
    context = {
        "task": task,
        "actions": actions,
        "standalone": standalone,
        "next": next_url,
        "notice": state_conflict(task, user) or _holder_notice(task, user, actions),
        "variables": visible_variables(task),
        "conversation": conversation,
        "timeline": timeline_entries(task),
        "sla": sla_badge(task, now),
        "sla_figures": sla_figures(task, now),
        "snoozed": is_snoozed(task, now),
    }
    if task.kind == TaskKind.INFO:
        questions = [c for c in conversation if c.kind == CommentKind.QUESTION]
        context["asked_by"] = questions[-1].author_label if questions else None
    if "complete" in actions:
        context["decision_form"] = forms.get("decision_form") or TaskDecisionForm(
            task, initial=initial
        )
        context["outcomes"] = outcome_buttons(task)
    if "request_info" in actions:
        context["question_form"] = forms.get("question_form") or RequestInfoForm(
            task, initial=initial
        )
    if "delegate" in actions:
        context["delegate_form"] = forms.get("delegate_form") or DelegateForm(
            task, user, initial=initial
        )
    if _may_snooze(user, task, actions):
        context["snooze_form"] = forms.get("snooze_form") or SnoozeForm(task, initial=initial)
    if "comment" in actions:
        context["comment_form"] = forms.get("comment_form") or CommentForm(task, initial=initial)
    return context


def render_task(request, task, *, status=200, next_url="", **forms):
    """The task page, or only the detail pane when htmx asks."""
    partial = is_htmx(request)
    context = task_context(request, task, next_url=next_url, standalone=not partial, **forms)
    template = TASK_PARTIAL if partial else TASK_PAGE
    return vary_on_htmx(render(request, template, context, status=status))


class TaskDetailView(LoginRequiredMixin, TaskErrorMixin, View):
    def get(self, request, pk):
        task = task_for_user(request.user, pk)
        return render_task(request, task, next_url=safe_next(request, request.GET.get("next")))


class TaskActionView(LoginRequiredMixin, TaskErrorMixin, View):
    """POST one action on a task: check access (404 for a stranger), validate the form,
    call one service, then go back where the person was (`next`) or to the task."""

    http_method_names = ["post"]
    form_class = None
    form_name = ""  # the form's name in the task page's context

    def post(self, request, pk):
        self.task = task_for_user(request.user, pk)
        self.form = self.get_form()
        if self.form is not None and not self.form.is_valid():
            return self.form_invalid()
        message = self.perform(self.form.cleaned_data if self.form is not None else {})
        messages.success(request, message)
        return redirect(self.success_url())

    def get_form(self):
        if self.form_class is None:
            return None
        return self.form_class(self.task, self.request.POST)

    def perform(self, data):
        raise NotImplementedError

    def next_url(self):
        return safe_next(self.request, self.request.POST.get("next"))

    def back_url(self):
        task = getattr(self, "task", None)
        return self.next_url() or (task.get_absolute_url() if task else reverse("inbox:mine"))

    def success_url(self):
        return self.back_url()

    def invalid(self, exc):
        if self.form is None:
            return super().invalid(exc)
        self.form.add_service_errors(exc.errors)
        return self.form_invalid()

    def form_invalid(self):
        return render_task(
            self.request,
            self.task,
            status=400,
            next_url=self.next_url(),
            **{self.form_name: self.form},
        )

    def done_url(self):
        """After the task left the person's hands: the list they came from, else the inbox."""
        next_url = self.next_url()
        return without_params(next_url, "task") if next_url else reverse("inbox:mine")


class TaskClaimView(TaskActionView):
    def perform(self, data):
        claim_task(self.task.pk, actor=self.request.user)
        return f"You took “{self.task.title}”."


class TaskReleaseView(TaskActionView):
    def perform(self, data):
        release_task(self.task.pk, actor=self.request.user)
        return f"“{self.task.title}” is back in its queue."


class TaskCompleteView(TaskActionView):
    form_class = TaskDecisionForm
    form_name = "decision_form"

    def perform(self, data):
        task = complete_task(
            self.task.pk,
            actor=self.request.user,
            outcome=data["outcome"],
            comment=data["comment"],
            data=self.form.step_data(),
        )
        if task.kind == TaskKind.INFO:
            return "Your answer was sent."
        past = PAST_TENSE.get(task.outcome)
        if past:
            return f"{past.capitalize()}: “{task.title}”."
        return f"Decided “{task.title}”: {task.outcome}."

    def success_url(self):
        return self.done_url()


class TaskRequestInfoView(TaskActionView):
    form_class = RequestInfoForm
    form_name = "question_form"

    def perform(self, data):
        info = request_info(
            self.task.pk, actor=self.request.user, question=data["question"], to=data["to"]
        )
        return f"Your question went to {info.assignee.get_username()}."


class TaskDelegateView(TaskActionView):
    form_class = DelegateForm
    form_name = "delegate_form"

    def get_form(self):
        return DelegateForm(self.task, self.request.user, self.request.POST)

    def perform(self, data):
        task = delegate_task(
            self.task.pk, actor=self.request.user, to=data["to"], comment=data["comment"]
        )
        return f"“{task.title}” is now with {task.assignee.get_username()}."

    def success_url(self):
        return self.done_url()


class TaskCommentView(TaskActionView):
    form_class = CommentForm
    form_name = "comment_form"

    def perform(self, data):
        add_comment(self.task.pk, actor=self.request.user, text=data["text"])
        return "Your comment was added."


class TaskSnoozeView(TaskActionView):
    """Snooze a task one holds until a time (hidden from the lists, the clock runs on),
    or wake it up now."""

    form_class = SnoozeForm
    form_name = "snooze_form"

    def perform(self, data):
        task = snooze_task(self.task.pk, actor=self.request.user, until=data["until"])
        self.task = task
        if task.snoozed_until is None:
            return f"“{task.title}” is back in your inbox."
        return f"“{task.title}” is snoozed until {_when(task.snoozed_until, 'D j M, H:i')}."

    def success_url(self):
        # A snoozed task leaves the list it was on; a woken one is shown again.
        return self.done_url() if self.task.snoozed_until else self.back_url()
