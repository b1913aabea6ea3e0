"""Django admin for tasks, people's absence and manager, saved views and the mail outbox.

Operators read tasks here (with their SLA state and escalation history) and grant object
permissions per task (django-guardian: `view_task` to see one, `change_task` to act on
it). A task's state changes only through the services: its status, assignment, decision
and SLA figures are read-only, and the release action calls `release_task` for each task,
with every check of the inbox.
"""

from django.contrib import admin, messages
from django.utils.translation import ngettext
from guardian.admin import GuardedModelAdmin

from tasks_inbox.models import (
    ActionLink,
    Notification,
    Profile,
    SavedView,
    SlaState,
    Task,
    TaskComment,
    TaskTimer,
)
from tasks_inbox.services.errors import TaskError, TaskInvalid
from tasks_inbox.services.sla import sla_rank
from tasks_inbox.services.tasks import release_task


class ReadOnlyAdminMixin:
    """Rows written by the services only: no adding, changing or deleting here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TaskCommentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TaskComment
    extra = 0
    fields = ["created_at", "kind", "author_label", "addressee", "text"]
    readonly_fields = fields


class TaskTimerInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The task's reminders and escalation levels: when each was due, and what it did."""

    model = TaskTimer
    extra = 0
    verbose_name = "reminder or escalation level"
    verbose_name_plural = "Escalation history"
    fields = ["kind", "level_number", "action", "due_at", "status", "fired_at", "result"]
    readonly_fields = fields
    ordering = ["due_at", "id"]

    @admin.display(description="level")
    def level_number(self, timer):
        return timer.level + 1

    @admin.display(description="action")
    def action(self, timer):
        return timer.spec.get("action", "") if timer.spec else "remind"


def refusal(exc):
    """The reason a service gave, in one line."""
    if isinstance(exc, TaskInvalid):
        return " ".join(exc.errors.values())
    return exc.message


EDITABLE_FIELDS = ["title", "description", "priority", "due_at"]
READ_ONLY_SECTIONS = [
    (
        "Where it stands",
        [
            "status",
            "kind",
            "instance",
            "step_run",
            "step_key",
            "parent",
            "assignee",
            "candidate_group",
            "candidate_users",
            "excluded_users",
            "created_at",
            "claimed_at",
        ],
    ),
    (
        "SLA",
        [
            "sla_state",
            "due_explanation",
            "at_risk_at",
            "paused_at",
            "paused_seconds",
            "business",
            "calendar_key",
            "snoozed_until",
        ],
    ),
    ("What the step asks", ["outcomes", "comment_required_for", "form", "can_request_info"]),
    (
        "Decision",
        ["outcome", "comment", "data", "decided_by", "decided_on_behalf_of", "completed_at"],
    ),
]


@admin.register(Task)
class TaskAdmin(GuardedModelAdmin):
    list_display = [
        "id",
        "title",
        "workflow",
        "step_key",
        "status",
        "assignee",
        "candidate_group",
        "priority",
        "due_at",
        "sla_state",
        "created_at",
    ]
    list_filter = ["status", "kind", "priority", "candidate_group"]
    # Newest first by number, which follows creation: the primary key's index gives a
    # page at once, where the model's order (`-created_at`) sorted every task (a
    # million: 500 ms). Other orders are a click on a column.
    ordering = ["-id"]
    show_full_result_count = False  # no second count of every task for "n of N"
    search_fields = ["title", "description", "instance__business_key"]
    list_select_related = ["instance__definition", "assignee", "candidate_group"]
    fieldsets = [
        (None, {"fields": EDITABLE_FIELDS}),
        *((name, {"fields": fields}) for name, fields in READ_ONLY_SECTIONS),
    ]
    # Everything but the wording, priority and due date: status, assignment and decision
    # change only through the services, which lock, check and audit.
    readonly_fields = [field for _, fields in READ_ONLY_SECTIONS for field in fields]
    inlines = [TaskTimerInline, TaskCommentInline]
    actions = ["release_selected"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(
                "instance__definition",
                "step_run",
                "assignee",
                "candidate_group",
                "decided_by",
                "decided_on_behalf_of",
                "parent",
            )
            .annotate(sla_rank=sla_rank())
        )

    def save_model(self, request, obj, form, change):
        # Write only the edited fields: a whole-row save could put back a status that a
        # service changed since the form was loaded.
        changed = [name for name in form.changed_data if name in EDITABLE_FIELDS]
        if changed:
            obj.save(update_fields=changed)

    def has_add_permission(self, request):
        # Tasks are made by the engine when a human step is entered.
        return False

    def has_delete_permission(self, request, obj=None):
        # A task belongs to its step run; cancel the instance instead.
        return False

    @admin.display(description="workflow", ordering="instance__definition__key")
    def workflow(self, task):
        return task.instance.definition.key

    @admin.display(description="SLA", ordering="sla_rank")
    def sla_state(self, task):
        state = task.sla_state()
        return SlaState(state).label if state else None

    @admin.action(description="Release selected tasks", permissions=["change"])
    def release_selected(self, request, queryset):
        done, refused = 0, []
        for task_id in queryset.order_by("id").values_list("id", flat=True):
            try:
                release_task(task_id, actor=request.user)
            except TaskError as exc:
                refused.append(f"#{task_id}: {refusal(exc)}")
            else:
                done += 1
        if done:
            self.message_user(
                request, ngettext("%d task released.", "%d tasks released.", done) % done
            )
        for line in refused:
            self.message_user(request, f"Not released: {line}", level=messages.WARNING)


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    # Profile.clean checks the dates, the substitute and the manager; the admin form runs it.
    list_display = ["user", "absent_from", "absent_until", "substitute", "manager"]
    list_select_related = ["user", "substitute", "manager"]
    search_fields = ["user__username", "substitute__username", "manager__username"]
    autocomplete_fields = ["user", "substitute", "manager"]


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "scope", "shared_with"]
    list_filter = ["scope", "shared_with"]
    list_select_related = ["owner", "shared_with"]
    search_fields = ["name", "owner__username"]
    autocomplete_fields = ["owner"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["kind", "task", "recipient", "created_at", "sent_at", "attempts", "error"]
    list_filter = ["kind"]
    list_select_related = ["task", "recipient"]
    search_fields = ["recipient__username", "task__title"]


@admin.register(ActionLink)
class ActionLinkAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # The token is a credential: it is neither listed nor shown.
    list_display = ["task", "user", "outcome", "created_at", "expires_at", "used_at"]
    list_select_related = ["task", "user"]
    fields = ["task", "user", "outcome", "created_at", "expires_at", "used_at"]
    search_fields = ["user__username", "task__title"]
