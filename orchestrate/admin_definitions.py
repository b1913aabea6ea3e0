"""Import and export of workflows in the admin, and publishing and retiring versions:
the same services as the `import_workflow` / `export_workflow` commands."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django_fsm import TransitionNotAllowed

from orchestrate import access
from orchestrate.formats import DocumentSyntaxError, WorkflowFormatError, dump_yaml, load_document
from orchestrate.models import WorkflowVersion
from orchestrate.services.definitions import (
    create_definition,
    create_draft,
    export_version,
    import_workflow,
    publish_version,
    retire_version,
)

MAX_UPLOAD_BYTES = 1_000_000


class ImportForm(forms.Form):
    file = forms.FileField(label="Workflow file (YAML)")
    publish = forms.BooleanField(label="Publish it at once", required=False)


class ImportMixin:
    """An "Import YAML" page on the definitions list."""

    change_list_template = "admin/orchestrate/workflowdefinition_changelist.html"

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="orchestrate_workflowdefinition_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request):
        if not self.has_add_permission(request):
            return redirect("admin:orchestrate_workflowdefinition_changelist")
        form = ImportForm(request.POST or None, request.FILES or None)
        problems = []
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload.size > MAX_UPLOAD_BYTES:
                    raise ValueError("the file is larger than 1 MB")
                doc = load_document(upload.read(), filename=upload.name)
                version = import_workflow(
                    doc, publish=form.cleaned_data["publish"], actor=request.user
                )
            except WorkflowFormatError as exc:
                problems = [
                    f"{error}" + (f" (line {error.line})" if error.line and error.path else "")
                    for error in exc.errors
                ]
            except (DocumentSyntaxError, ValueError) as exc:
                problems = [str(exc)]
            else:
                self.log_change(request, version.definition, f"Imported {version}.")
                self.message_user(request, f"Imported {version}.", messages.SUCCESS)
                return redirect("admin:orchestrate_workflowdefinition_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": "Import a workflow or decision table",
            "form": form,
            "problems": problems,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/orchestrate/import_workflow.html", context)


class DraftActionMixin:
    """A new definition starts with a draft (start -> end) to edit; "new draft" copies the
    current version (an existing draft is kept)."""

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        definition, draft = create_definition(
            key=obj.key, name=obj.name, description=obj.description, actor=request.user
        )
        obj.pk = definition.pk
        obj.created_at = definition.created_at
        obj._state.adding = False
        obj._state.db = definition._state.db
        request.orchestrate_new_draft = draft

    def response_add(self, request, obj, post_url_continue=None):
        draft = getattr(request, "orchestrate_new_draft", None)
        if draft is None or "_addanother" in request.POST or "_popup" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(
            request,
            f"Created {obj} with draft v{draft.number}: a start step joined to an end step. "
            "Add your steps and transitions, then save and publish.",
            messages.SUCCESS,
        )
        return redirect("admin:orchestrate_workflowversion_change", draft.pk)

    @admin.action(description="Start a new draft from the current version", permissions=["change"])
    def new_draft(self, request, queryset):
        for definition in queryset:
            try:
                draft, created = create_draft(definition.pk, actor=request.user)
            except ValueError as exc:
                self.message_user(request, str(exc), messages.WARNING)
                continue
            verb = "created" if created else "already open"
            if created:
                self.log_change(request, definition, f"Started draft v{draft.number}.")
            self.message_user(request, f"Draft {draft} {verb}.", messages.SUCCESS)


class VersionToolsMixin:
    """Download a version as YAML; publish and retire through the services."""

    def get_urls(self):
        return [
            path(
                "<int:object_id>/download/",
                self.admin_site.admin_view(self.download_view),
                name="orchestrate_workflowversion_download",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="YAML")
    def download_link(self, obj):
        if obj.pk is None:
            return "—"
        url = reverse("admin:orchestrate_workflowversion_download", args=[obj.pk])
        return format_html('<a class="button" href="{}">Download YAML</a>', url)

    def download_view(self, request, object_id):
        version = get_object_or_404(WorkflowVersion, pk=object_id)
        if not self.has_view_permission(request, version):
            return redirect("admin:index")
        response = HttpResponse(
            dump_yaml(export_version(version)), content_type="application/yaml; charset=utf-8"
        )
        name = f"{version.definition.key}-v{version.number}.yaml"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    @admin.action(description="Publish selected drafts", permissions=["change"])
    def publish_selected(self, request, queryset):
        for version in queryset:
            try:
                publish_version(version, actor=request.user)
            except WorkflowFormatError as exc:
                self.message_user(
                    request,
                    f"{version}: not published: " + "; ".join(str(e) for e in exc.errors),
                    messages.ERROR,
                )
            except TransitionNotAllowed:
                self.message_user(
                    request, f"{version}: only a draft can be published", messages.WARNING
                )
            else:
                self.log_change(request, version, "Published.")
                self.message_user(request, f"{version} published.", messages.SUCCESS)

    @admin.action(description="Retire selected versions (no new starts)", permissions=["change"])
    def retire_selected(self, request, queryset):
        for version in queryset:
            try:
                retire_version(version, actor=request.user)
            except TransitionNotAllowed:
                self.message_user(
                    request, f"{version}: only a published version can be retired", messages.WARNING
                )
            else:
                self.log_change(request, version, "Retired.")
                self.message_user(request, f"{version} retired.", messages.SUCCESS)


class DefinitionPermissionMixin:
    """Who may edit a workflow: Django's model permissions as usual, and besides them
    `change_workflowdefinition` granted on one definition with django-guardian (the
    "Object permissions" page), which lets its holder see and edit that definition and
    its versions in the admin and nothing else. `definition_of(obj)` names the definition
    an object belongs to; `definition_path` the lookup from the admin's model to it."""

    definition_path = ""

    def definition_of(self, obj):
        return getattr(obj, self.definition_path) if self.definition_path else obj

    def _model_perm(self, request, action):
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}")

    def _by_object(self, request, obj):
        return access.may_change(request.user, None if obj is None else self.definition_of(obj))

    def has_module_permission(self, request):
        return super().has_module_permission(request) or access.may_change(request.user)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or self._by_object(request, obj)

    def has_change_permission(self, request, obj=None):
        if self._model_perm(request, "change"):
            return super().has_change_permission(request, obj)
        return self._by_object(request, obj)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if self._model_perm(request, "view") or self._model_perm(request, "change"):
            return queryset
        editable = access.definitions_editable_by(request.user)
        lookup = f"{self.definition_path}__in" if self.definition_path else "pk__in"
        return queryset.filter(**{lookup: editable})
