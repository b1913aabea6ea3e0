"""Operating instances in the admin: filters and search, the audit timeline, and actions
that call the services (cancel, retry, suspend, resume, change variables with a reason).
Registered from `orchestrate.admin`."""

import json

from django import forms
from django.contrib import admin, messages
from django.db.models import TextField
from django.db.models.functions import Cast
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import ngettext

from orchestrate.models import AuditEvent, Instance, StepRun, VersionStatus, WorkflowVersion
from orchestrate.services.instances import (
    InstanceStateError,
    VariablesInvalid,
    cancel_instance,
    resume_instance,
    retry_incident,
    suspend_instance,
    update_variables,
)
from orchestrate.services.migration import MigrationError, migrate_instances, plan_migration


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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


class AuditTimelineInline(ReadOnlyInline):
    model = AuditEvent
    verbose_name = "audit event"
    verbose_name_plural = "Audit timeline"
    fields = ["at", "kind", "step_key", "actor_label", "data"]
    readonly_fields = fields
    ordering = ["at", "id"]


class VariablesForm(forms.Form):
    variables = forms.CharField(
        label="Variables to change",
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
        help_text='A JSON object of name: new value, e.g. {"amount": 1200}.',
    )
    reason = forms.CharField(
        label="Reason", widget=forms.Textarea(attrs={"rows": 2, "cols": 80}), required=False
    )

    def clean_variables(self):
        try:
            value = json.loads(self.cleaned_data["variables"])
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc.msg} (line {exc.lineno}).") from exc
        if not isinstance(value, dict):
            raise forms.ValidationError("Give a JSON object of name: value.")
        return value


class MigrationForm(forms.Form):
    to_version = forms.ModelChoiceField(
        label="Move to version", queryset=WorkflowVersion.objects.none()
    )
    mapping = forms.CharField(
        label="Step key mapping",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text='Optional JSON: old step key → new step key, e.g. {"review": "manager_review"}.',
    )

    def __init__(self, *args, definition_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_version"].queryset = WorkflowVersion.objects.filter(
            definition_id__in=definition_ids, status=VersionStatus.PUBLISHED
        ).select_related("definition")

    def clean_mapping(self):
        text = self.cleaned_data["mapping"].strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc.msg}.") from exc
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise forms.ValidationError("Give a JSON object of old key: new key.")
        return value


class VersionListFilter(admin.RelatedFieldListFilter):
    """The versions to filter by, each named with its workflow's key, in one query (the
    default reads the workflow of each version on its own)."""

    def field_choices(self, field, request, model_admin):
        versions = WorkflowVersion.objects.select_related("definition")
        return [(v.pk, str(v)) for v in versions.order_by("definition__key", "number")]


class InstanceAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "definition",
        "version",
        "status",
        "outcome",
        "business_key",
        "started_by",
        "started_at",
    ]
    list_filter = ["status", "definition", ("version", VersionListFilter), "started_at"]
    search_fields = ["business_key"]
    search_help_text = "Business key, or any text in the variables."
    # The version's name holds its workflow's key: joined, not read row by row.
    list_select_related = ["definition", "version__definition", "started_by"]
    # A filtered list shows "n of N" only if N is counted too: a second count of every
    # instance (a million: 25-50 ms) on each page.
    show_full_result_count = False
    readonly_fields = [
        "definition",
        "version",
        "status",
        "outcome",
        "business_key",
        "variables",
        "change_variables",
        "started_by",
        "started_at",
        "ended_at",
        "parent_step_run",
    ]
    inlines = [StepRunInline, AuditTimelineInline]
    actions = [
        "cancel_selected",
        "retry_selected",
        "suspend_selected",
        "resume_selected",
        "migrate_selected",
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
        found, distinct = super().get_search_results(request, queryset, search_term)
        if search_term:
            in_variables = queryset.annotate(variables_text=Cast("variables", TextField()))
            found |= in_variables.filter(variables_text__icontains=search_term)
        return found, distinct

    @admin.display(description="Change variables")
    def change_variables(self, obj):
        if obj.pk is None or obj.is_ended:
            return "—"
        url = reverse("admin:orchestrate_instance_variables", args=[obj.pk])
        return format_html('<a class="button" href="{}">Change variables…</a>', url)

    def get_urls(self):
        return [
            path(
                "<int:object_id>/variables/",
                self.admin_site.admin_view(self.variables_view),
                name="orchestrate_instance_variables",
            ),
            *super().get_urls(),
        ]

    def variables_view(self, request, object_id):
        instance = get_object_or_404(Instance, pk=object_id)
        if not self.has_change_permission(request, instance):
            return redirect("admin:orchestrate_instance_change", object_id)
        form = VariablesForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                update_variables(
                    instance.pk,
                    actor=request.user,
                    values=form.cleaned_data["variables"],
                    reason=form.cleaned_data["reason"],
                )
            except VariablesInvalid as exc:
                for name, message in exc.errors.items():
                    field = name if name in ("reason", "variables") else "variables"
                    form.add_error(field, message if field != "variables" else f"{name}: {message}")
            except InstanceStateError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, "The variables were changed.")
                return redirect("admin:orchestrate_instance_change", instance.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Change variables of {instance}",
            "instance": instance,
            "current": json.dumps(instance.variables, indent=2, ensure_ascii=False),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/orchestrate/instance_variables.html", context)

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

    @admin.action(description="Suspend selected instances", permissions=["change"])
    def suspend_selected(self, request, queryset):
        self._run(request, queryset, suspend_instance, "suspended")

    @admin.action(description="Move selected instances to another version…", permissions=["change"])
    def migrate_selected(self, request, queryset):
        """An intermediate page: choose the version (and a key mapping), see the dry run,
        then move. Instances that cannot move are listed with the reason and stay."""
        ids = list(queryset.values_list("pk", flat=True))
        definition_ids = set(queryset.values_list("definition_id", flat=True))
        form = MigrationForm(
            request.POST if "to_version" in request.POST else None,
            definition_ids=definition_ids,
        )
        plans = None
        if form.is_bound and form.is_valid():
            target = form.cleaned_data["to_version"]
            mapping = form.cleaned_data["mapping"]
            try:
                if "apply" in request.POST:
                    plans = migrate_instances(
                        ids, to_version_id=target.pk, mapping=mapping, actor=request.user
                    )
                    moved = sum(1 for p in plans if p.ok)
                    self.message_user(request, f"{moved} of {len(plans)} instances moved.")
                    for plan in plans:
                        if not plan.ok:
                            self.message_user(
                                request, f"#{plan.instance_id}: {plan.reason}", messages.WARNING
                            )
                    return None
                plans = plan_migration(ids, to_version_id=target.pk, mapping=mapping)
            except MigrationError as exc:
                form.add_error("to_version", str(exc))
        context = {
            **self.admin_site.each_context(request),
            "title": "Move instances to another version",
            "form": form,
            "plans": plans,
            "ids": ids,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/orchestrate/instance_migrate.html", context)

    @admin.action(description="Resume selected instances", permissions=["change"])
    def resume_selected(self, request, queryset):
        self._run(request, queryset, resume_instance, "resumed")
