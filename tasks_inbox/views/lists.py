"""The three-pane task lists (my tasks, queue, done), bulk decisions and the nav counts."""

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince
from django.views import View

from orchestrate.jinja2 import date_context
from tasks_inbox.forms import BulkDecisionForm, SavedViewForm, TaskFilterForm
from tasks_inbox.selectors.access import groups_of
from tasks_inbox.selectors.tasks import (
    counts_for,
    list_ids,
    nav_label,
    rows_for_page,
    saved_views_for,
    task_for_user,
    workflows_for,
)
from tasks_inbox.services.errors import TaskNotFound
from tasks_inbox.services.tasks import complete_tasks, summarize

from .base import safe_next, url_with
from .tasks import is_snoozed, sla_badge, task_context

PAGE_SIZE = 25

LISTS = {
    "mine": {
        "title": "My tasks",
        "empty": "Nothing waits for you",
        "hint": "Tasks given to you, or that you take from a queue, appear here.",
    },
    "queue": {
        "title": "Queue",
        "empty": "The queue is empty",
        "hint": "Open tasks of your groups appear here for anyone of you to take.",
    },
    "done": {
        "title": "Done",
        "empty": "Nothing decided yet",
        "hint": "Tasks you decided or answered appear here.",
    },
}


def _task_url():
    """A function of a task id giving its page's URL, for a list's rows: one `reverse()`
    for the list rather than one per row (2 ms of a page of 25)."""
    marker = "2147483647"  # no task has this id on the page; only it is replaced
    return reverse("inbox:task", args=[marker]).replace(marker, "{}").format


def _render_rows(page, bulk, scope, user):
    """The list's rows, by the Jinja2 engine (autoescaped like every template; the rows
    were most of the page's rendering time in the Django template language)."""
    context = {"tasks": page.object_list, "bulk": bulk, "scope": scope, "user_id": user.pk}
    context.update(date_context())
    return mark_safe(render_to_string("tasks_inbox/task_rows.html", context, using="jinja2"))  # noqa: S308


class TaskListView(LoginRequiredMixin, View):
    """A list with filters and saved views on the left, the tasks in the middle and the
    selected task (`?task=ID`, or loaded by htmx from a row) on the right."""

    scope = "mine"

    def get(self, request):
        user = request.user
        filters = TaskFilterForm(request.GET or None, workflows=workflows_for(user))
        params = filters.params()
        ids = list_ids(user, self.scope, params)
        page = Paginator(ids, PAGE_SIZE).get_page(request.GET.get("page"))
        page.object_list = rows_for_page(list(page.object_list))
        # The list as it is shown (filters and page), to come back to after an action.
        shown = {**params, **({"page": page.number} if page.number > 1 else {})}
        selected_id = request.GET.get("task", "")
        now = timezone.now()
        task_url = _task_url()
        for task in page:
            task.list_url = url_with(request.path, {**shown, "task": task.pk})
            task.page_url = task_url(task.pk)
            task.hx_url = f"{task.page_url}?next={quote(task.list_url, safe='')}"
            task.is_selected = str(task.pk) == selected_id
            task.age = timesince(task.created_at, depth=1)
            task.sla = sla_badge(task, now)
            task.is_snoozed = is_snoozed(task, now)
        context = {
            "scope": self.scope,
            "nav_active": self.scope,
            "list": LISTS[self.scope],
            "filters": filters,
            "params": params,
            "filtered": bool(params),
            "page": page,
            "page_range": page.paginator.get_elided_page_range(
                page.number, on_each_side=1, on_ends=1
            ),
            "list_url": url_with(request.path, shown),
            "saved_views": self._saved_views(params),
            "save_view_form": SavedViewForm(
                user,
                initial={"scope": self.scope, "next": url_with(request.path, params), **params},
                groups=groups_of(user),
            ),
            "bulk": self.scope != "done",
            # A view can be shared with a group of the user's, if they have one.
            "can_share": bool(groups_of(user)),
        }
        context["rows"] = _render_rows(page, context["bulk"], self.scope, user)
        if not params and self.scope in ("mine", "queue"):
            # The navigation shows this list's count, which the page has made already;
            # it asks for the other one itself once the page is shown.
            context["nav_counts"] = {self.scope: nav_label(page.paginator.count)}
        context.update(self._detail(request, selected_id))
        return render(request, "tasks_inbox/task_list.html", context)

    def _detail(self, request, selected_id):
        if not selected_id.isdigit():
            return {}
        try:
            task = task_for_user(request.user, int(selected_id))
        except TaskNotFound:
            return {"detail_missing": True}
        # The pane shows the same partial as the task page, with the same context.
        detail = task_context(request, task, next_url=request.get_full_path(), standalone=False)
        return {**detail, "selected": task}

    def _saved_views(self, params):
        user = self.request.user
        current = {k: str(v) for k, v in params.items()}
        return [
            {
                "view": view,
                "url": url_with(reverse(f"inbox:{view.scope}"), view.params),
                "active": view.scope == self.scope and view.params == current,
                "own": view.owner_id == user.pk,
            }
            for view in saved_views_for(user)
        ]


class TaskBulkView(LoginRequiredMixin, View):
    """Decide the checked tasks with one outcome; each is checked on its own and the
    summary says what was refused and why."""

    http_method_names = ["post"]

    def post(self, request):
        form = BulkDecisionForm(request.POST)
        back = safe_next(request, request.POST.get("next"), reverse("inbox:mine"))
        if not form.is_valid():
            for errors in form.errors.values():
                messages.warning(request, " ".join(errors))
            return redirect(back)
        outcome = form.cleaned_data["outcome"]
        results = complete_tasks(
            form.cleaned_data["task_ids"],
            actor=request.user,
            outcome=outcome,
            comment=form.cleaned_data["comment"],
        )
        text = summarize(results, outcome)
        text = text if text.endswith(".") else f"{text}."
        if all(result.ok for result in results):
            messages.success(request, text)
        else:
            messages.warning(request, text)
        return redirect(back)


class NavCountsView(LoginRequiredMixin, View):
    """The nav links with their counts: asked for by htmx as soon as a page that lacks
    them is shown, then every 20 s."""

    def get(self, request):
        context = {"nav_counts": counts_for(request.user)}
        return render(request, "tasks_inbox/partials/nav_counts.html", context)
