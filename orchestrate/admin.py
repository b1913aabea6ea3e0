"""Django admin for definitions, instances and the audit trail.

Operators read here; changes go through services (instance actions call them). The audit
trail is read-only for everyone.
"""

from django.contrib import admin, messages
from django.utils.translation import ngettext

from orchestrate.models import (
    AuditEvent,
    BusinessCalendar,
    Holiday,
    Instance,
    Step,
    StepRun,
    Transition,
    WorkflowDefinition,
    WorkflowVersion,
)
from orchestrate.services.instances import InstanceStateError, cancel_instance, retry_incident


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class VersionInline(ReadOnlyInline):
    model = WorkflowVersion
    fields = ["number", "status", "name", "published_at", "created_at"]
    readonly_fields = fields
    show_change_link = True


@admin.register(WorkflowDefinition)
class WorkflowDefinitionAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "created_at"]
    search_fields = ["key", "name"]
    inlines = [VersionInline]


class StepInline(ReadOnlyInline):
    model = Step
    fields = ["position", "key", "type", "name", "config"]
    readonly_fields = fields


class TransitionInline(ReadOnlyInline):
    model = Transition
    fields = ["position", "from_step", "to_step", "when", "on", "is_default", "name"]
    readonly_fields = fields


@admin.register(WorkflowVersion)
class WorkflowVersionAdmin(admin.ModelAdmin):
    list_display = ["definition", "number", "status", "published_at"]
    list_filter = ["status", "definition"]
    readonly_fields = ["status", "published_at", "created_at", "created_by"]
    inlines = [StepInline, TransitionInline]


class StepRunInline(ReadOnlyInline):
    model = StepRun
    fk_name = "instance"
    fields = [
        "step_key",
        "step_type",
        "status",
        "outcome",
        "attempt",
        "next_attempt_at",
        "due_at",
        "error",
        "created_at",
        "ended_at",
    ]
    readonly_fields = fields


@admin.register(Instance)
class InstanceAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "definition",
        "version",
        "status",
        "outcome",
        "business_key",
        "started_at",
    ]
    list_filter = ["status", "definition", "started_at"]
    search_fields = ["business_key"]
    list_select_related = ["definition", "version"]
    readonly_fields = [
        "definition",
        "version",
        "status",
        "outcome",
        "business_key",
        "variables",
        "started_by",
        "started_at",
        "ended_at",
        "parent_step_run",
    ]
    inlines = [StepRunInline]
    actions = ["cancel_selected", "retry_selected"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _run(self, request, queryset, service, verb):
        done, refused = 0, []
        for instance in queryset:
            try:
                service(instance.pk, actor=request.user)
                done += 1
            except InstanceStateError as exc:
                refused.append(f"#{instance.pk}: {exc}")
        if done:
            self.message_user(
                request, ngettext(f"%d instance {verb}.", f"%d instances {verb}.", done) % done
            )
        for line in refused:
            self.message_user(request, line, level=messages.WARNING)

    @admin.action(description="Cancel selected instances", permissions=["change"])
    def cancel_selected(self, request, queryset):
        self._run(request, queryset, cancel_instance, "cancelled")

    @admin.action(description="Retry the incident of selected instances", permissions=["change"])
    def retry_selected(self, request, queryset):
        self._run(request, queryset, retry_incident, "retried")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "instance", "kind", "step_key", "actor_label"]
    list_filter = ["kind"]
    search_fields = ["step_key", "actor_label"]
    list_select_related = ["instance__definition"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class HolidayInline(admin.TabularInline):
    model = Holiday
    fields = ["date", "name", "yearly"]
    extra = 1


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    """Working hours and holidays; `BusinessCalendar.clean` checks the hours and the zone."""

    list_display = ["key", "name", "time_zone", "is_default"]
    search_fields = ["key", "name"]
    inlines = [HolidayInline]
