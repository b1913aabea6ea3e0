"""Django admin for decision tables: drafts edited as JSON and checked by the format's
validator, published versions read-only, a "publish" action and a "Try it" page."""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Max
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django_fsm import TransitionNotAllowed

from orchestrate.engine.decisions import CompiledTable, DecisionError
from orchestrate.formats import WorkflowFormatError
from orchestrate.formats.decision_tables import validate_decision_table
from orchestrate.models import DecisionTable, DecisionTableVersion, VersionStatus
from orchestrate.services.decision_tables import (
    create_decision_table_draft,
    publish_decision_table_version,
)


class DecisionTableVersionInline(admin.TabularInline):
    model = DecisionTableVersion
    fields = ["number", "status", "name", "hit_policy", "published_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(DecisionTable)
class DecisionTableAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "created_at"]
    search_fields = ["key", "name"]
    inlines = [DecisionTableVersionInline]
    actions = ["new_draft"]

    @admin.action(description="Start a new draft from the current version", permissions=["change"])
    def new_draft(self, request, queryset):
        for table in queryset:
            try:
                draft, created = create_decision_table_draft(table.pk, actor=request.user)
            except ValueError as exc:
                self.message_user(request, str(exc), messages.WARNING)
                continue
            verb = "created" if created else "already open"
            if created:
                self.log_change(request, table, f"Started draft v{draft.number}.")
            self.message_user(request, f"Draft {draft} {verb}.", messages.SUCCESS)


class DecisionTableVersionForm(forms.ModelForm):
    class Meta:
        model = DecisionTableVersion
        fields = [
            "table",
            "name",
            "hit_policy",
            "aggregation",
            "inputs",
            "outputs",
            "priorities",
            "rules",
        ]

    def clean(self):
        """The draft must be a valid decision table document; messages name the place."""
        data = super().clean()
        table = data.get("table")
        if self.errors or table is None:
            return data
        draft = DecisionTableVersion(table=table, **{k: v for k, v in data.items() if k != "table"})
        errors = validate_decision_table(draft.to_spec())
        if errors:
            raise ValidationError([str(error) for error in errors])
        return data


@admin.register(DecisionTableVersion)
class DecisionTableVersionAdmin(admin.ModelAdmin):
    form = DecisionTableVersionForm
    list_display = ["table", "number", "status", "hit_policy", "published_at"]
    list_filter = ["status", "hit_policy"]
    list_select_related = ["table"]
    readonly_fields = ["number", "status", "published_at", "created_at", "try_it_link"]
    actions = ["publish_selected"]

    def has_change_permission(self, request, obj=None):
        # Published and retired versions are frozen: the admin shows them read-only.
        if obj is not None and obj.status != VersionStatus.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # A published version may be in use by running instances; only drafts go.
        if obj is not None and obj.status != VersionStatus.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if not obj.number:
            highest = obj.table.versions.aggregate(highest=Max("number"))["highest"] or 0
            obj.number = highest + 1
        super().save_model(request, obj, form, change)

    @admin.display(description="Try it")
    def try_it_link(self, obj):
        if obj.pk is None:
            return "-"
        url = reverse("admin:orchestrate_decisiontableversion_try_it", args=[obj.pk])
        return format_html('<a href="{}">Evaluate this version with sample variables</a>', url)

    @admin.action(description="Publish the selected drafts", permissions=["change"])
    def publish_selected(self, request, queryset):
        for version in queryset.select_related("table"):
            try:
                publish_decision_table_version(version)
            except WorkflowFormatError as exc:
                problems = "; ".join(str(error) for error in exc.errors)
                self.message_user(request, f"{version}: {problems}", messages.ERROR)
            except TransitionNotAllowed:
                self.message_user(request, f"{version}: a retired version", messages.ERROR)
            else:
                self.log_change(request, version, "Published.")
                self.message_user(request, f"{version.table.key} v{version.number} published")

    def get_urls(self):
        extra = [
            path(
                "<int:pk>/try/",
                self.admin_site.admin_view(self.try_it_view),
                name="orchestrate_decisiontableversion_try_it",
            )
        ]
        return extra + super().get_urls()

    def try_it_view(self, request, pk):
        """Evaluate the version against variables typed in as JSON; changes nothing."""
        version = get_object_or_404(DecisionTableVersion.objects.select_related("table"), pk=pk)
        if not self.has_view_permission(request, version):
            raise admin.sites.PermissionDenied
        form = TryItForm(request.POST or None)
        result = error = None
        if request.method == "POST" and form.is_valid():
            errors = validate_decision_table(version.to_spec())
            if errors:
                error = "; ".join(str(e) for e in errors)
            else:
                try:
                    result = CompiledTable(version.to_spec()).evaluate(
                        form.cleaned_data["variables"]
                    )
                except DecisionError as exc:
                    error = str(exc)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Try {version}",
            "version": version,
            "form": form,
            "result": result,
            "error": error,
            "inputs_json": json.dumps(result.inputs, indent=2) if result else "",
            "outputs_json": json.dumps(result.outputs, indent=2) if result else "",
            "opts": self.model._meta,
        }
        return TemplateResponse(
            request, "admin/orchestrate/decisiontableversion_try_it.html", context
        )


class TryItForm(forms.Form):
    variables = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8, "cols": 60}),
        initial="{}",
        help_text='A JSON object, like {"customer": {"tier": "gold"}, "amount": 1200}.',
    )

    def clean_variables(self):
        try:
            value = json.loads(self.cleaned_data["variables"])
        except json.JSONDecodeError as exc:
            raise ValidationError(f"not JSON: {exc}") from None
        if not isinstance(value, dict):
            raise ValidationError("the variables must be a JSON object")
        return value
