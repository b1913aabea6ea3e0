"""Query-string filters of the task list (`GET /api/v1/tasks/`).

A django-filter FilterSet, so the list filters like the instance list and the schema
documents each parameter; the filtering itself is the inbox's, `filter_tasks`, so the API
and the inbox pages always agree. `scope` picks the list (the view's queryset).
"""

import django_filters
from drf_spectacular.utils import extend_schema_field

from tasks_inbox.models import Priority
from tasks_inbox.selectors.tasks import DUE_CHOICES, SCOPES, SLA_STATES, SORTS, filter_tasks

# DRF's wording, as the task API's other field errors have it.
_INVALID_CHOICE = {"invalid_choice": '"%(value)s" is not a valid choice.'}


def _choices(values):
    return [(value, value) for value in values]


@extend_schema_field({"type": "string", "enum": list(Priority.labels)})
class PriorityFilter(django_filters.ChoiceFilter):
    """A priority by name (the model stores a number)."""


class TaskFilter(django_filters.FilterSet):
    scope = django_filters.ChoiceFilter(
        choices=_choices(SCOPES),
        method="by_scope",
        help_text="mine (the default): tasks you hold; queue: open tasks you may claim; "
        "done: you decided.",
        error_messages=_INVALID_CHOICE,
    )
    workflow = django_filters.CharFilter(
        method="by_inbox_filters", max_length=100, help_text="Key of the workflow."
    )
    priority = PriorityFilter(
        choices=_choices(Priority.labels),
        method="by_inbox_filters",
        help_text="low, normal, high or urgent.",
        error_messages=_INVALID_CHOICE,
    )
    due = django_filters.ChoiceFilter(
        choices=_choices(DUE_CHOICES),
        method="by_inbox_filters",
        help_text="overdue: past due; today, week: due by the end of today, within 7 days.",
        error_messages=_INVALID_CHOICE,
    )
    q = django_filters.CharFilter(
        method="by_inbox_filters",
        max_length=200,
        help_text="Text in the title, description, business key or workflow name; or an id.",
    )
    sla = django_filters.ChoiceFilter(
        choices=_choices(SLA_STATES),
        method="by_inbox_filters",
        help_text="Only tasks in this state.",
        error_messages=_INVALID_CHOICE,
    )
    snoozed = django_filters.BooleanFilter(
        method="by_inbox_filters",
        help_text="true: only the snoozed tasks; without it, snoozed tasks are left out.",
    )
    sort = django_filters.ChoiceFilter(
        choices=_choices([*SORTS, "sla"]),
        method="by_inbox_filters",
        help_text="sla: breached first, then at risk, then on track; the earliest due first.",
        error_messages=_INVALID_CHOICE,
    )

    def by_scope(self, queryset, name, value):
        # The view's queryset is already the list `scope` names.
        return queryset

    def by_inbox_filters(self, queryset, name, value):
        # All of them at once, in `filter_queryset`: they interact (sort, snoozed).
        return queryset

    def filter_queryset(self, queryset):
        params = dict(self.form.cleaned_data)
        params["snoozed"] = "1" if params.get("snoozed") else ""
        # As the inbox's lists: only "mine" holds snoozed tasks (a snooze is the holder's
        # and ends when the task changes hands), so the queue and done skip the condition.
        return filter_tasks(queryset, params, snoozable=params.get("scope") in (None, "", "mine"))
