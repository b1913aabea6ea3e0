"""Django admin for definitions, instances and the audit trail.

Operators read here; changes go through services (instance actions call them). The audit
trail is read-only for everyone.
"""

from django.contrib import admin
from guardian.admin import ReinforcedGuardedModelAdmin

from orchestrate.models import (
    AuditEvent,
    BusinessCalendar,
    Holiday,
    Instance,
    SecurityEvent,
    Step,
    Transition,
    WorkflowDefinition,
    WorkflowVersion,
)

from . import (
    admin_decisions,  # noqa: F401  (decision tables register themselves)
    admin_integrations,  # noqa: F401  (webhooks and received events)
)
from .admin_definitions import (
    DefinitionPermissionMixin,
    DraftActionMixin,
    ImportMixin,
    VersionToolsMixin,
)
from .admin_drafts import DraftEditingMixin
from .admin_instances import InstanceAdmin


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
class WorkflowDefinitionAdmin(
    DefinitionPermissionMixin, ImportMixin, DraftActionMixin, ReinforcedGuardedModelAdmin
):
    # The guarded admin adds the "Object permissions" page: who may start this workflow,
    # see all its instances (`orchestrate.access`) or change it. "Reinforced": managing
    # those takes guardian's own permissions, not merely the right to edit the workflow.
    actions = ["new_draft"]
    list_display = ["key", "name", "created_at"]
    search_fields = ["key", "name"]
    readonly_fields = ["created_at"]
    inlines = [VersionInline]

    def get_readonly_fields(self, request, obj=None):
        # Subprocess steps, exports and the API name a workflow by its key: it stays.
        return ["key", *self.readonly_fields] if obj is not None else self.readonly_fields

    def get_inlines(self, request, obj):
        # A new definition has no versions yet; saving it creates its first draft.
        return self.inlines if obj is not None else []


class StepInline(ReadOnlyInline):
    model = Step
    fields = ["position", "key", "type", "name", "config"]
    readonly_fields = fields


class TransitionInline(ReadOnlyInline):
    model = Transition
    fields = ["position", "from_step", "to_step", "when", "on", "is_default", "name"]
    readonly_fields = fields


@admin.register(WorkflowVersion)
class WorkflowVersionAdmin(
    DraftEditingMixin, DefinitionPermissionMixin, VersionToolsMixin, admin.ModelAdmin
):
    """A draft is edited with typed inlines (`admin_drafts`); other versions are read-only.
    Holders of `change_workflowdefinition` on a definition edit its versions."""

    definition_path = "definition"

    list_display = ["definition", "number", "status", "published_at"]
    list_filter = ["status", ("definition", admin.RelatedOnlyFieldListFilter)]
    fields = [
        "definition",
        "number",
        "status",
        "name",
        "description",
        "calendar",
        "variables",
        "published_at",
        "created_at",
        "created_by",
        "download_link",
    ]
    readonly_fields = ["status", "published_at", "created_at", "created_by", "download_link"]
    actions = ["publish_selected", "retire_selected"]
    inlines = [StepInline, TransitionInline]


# Instances: filters, search in variables, the audit timeline and service actions.
admin.site.register(Instance, InstanceAdmin)


class ReadOnlyLogAdmin(admin.ModelAdmin):
    """Read-only for everyone, superusers included: staff with the view permission may look,
    nobody may add, change or delete."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyLogAdmin):
    """The audit trail of instances; `verify_audit` checks the hash chain shown here."""

    list_display = ["at", "instance", "kind", "step_key", "actor_label"]
    list_filter = ["kind"]
    search_fields = ["step_key", "actor_label"]
    list_select_related = ["instance__definition"]
    fields = [
        "instance",
        "step_run",
        "kind",
        "step_key",
        "actor",
        "actor_label",
        "at",
        "address",
        "data",
        "prev_hash",
        "hash",
    ]
    readonly_fields = fields


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyLogAdmin):
    """Sign-ins, refused requests and admin changes: who, what, when (UTC), from where."""

    list_display = ["at", "kind", "actor_label", "address", "method", "path", "target_repr"]
    list_filter = ["kind", "at"]
    search_fields = ["actor_label", "address", "path", "target", "target_repr"]
    fields = [
        "at",
        "kind",
        "actor",
        "actor_label",
        "address",
        "method",
        "path",
        "target",
        "target_repr",
        "message",
    ]
    readonly_fields = fields


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
