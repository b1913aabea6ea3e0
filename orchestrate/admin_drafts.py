"""Editing a draft version in the admin: steps with typed, per-type settings, transitions,
and the whole draft checked with the importer's rules.

A step's type-specific keys are stored in `Step.config` exactly as the format names them.
The step form shows one field per key of the chosen type (a text box for durations and
CEL, a check box for flags, a YAML box for nested settings) and checks the step with the
importer's own rules, so a bad duration or a misspelt key is refused at its field with
the importer's message. Rules about the whole graph (reachability, a transition to an
unknown step, joins) cannot be judged one step at a time: the draft is saved as it is and
the page lists every problem at the top, linked to the step or transition, exactly as an
import would list them; publishing refuses a draft with problems.
"""

from dataclasses import dataclass

import yaml
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Max
from django.http import HttpResponseRedirect
from django.urls import reverse

from orchestrate import access
from orchestrate.engine.expressions import ExpressionSyntaxError, check_syntax
from orchestrate.formats import WorkflowFormatError, validate_spec
from orchestrate.formats.errors import format_path
from orchestrate.formats.validation import JOIN_MODES, PRIORITIES
from orchestrate.models import Step, StepType, Transition, VersionStatus, WorkflowVersion
from orchestrate.services.definitions import publish_version

TEXT = "text"
LONG_TEXT = "long_text"
YAML = "yaml"
FLAG = "flag"
NUMBER = "number"
WORDS = "words"  # a list of words, written "approve, reject"


@dataclass(frozen=True)
class Setting:
    key: str
    kind: str
    help: str = ""
    choices: tuple = ()


# Every type-specific key of the format (`validation.STEP_KEYS`), in the format's order;
# a test keeps the two in step.
STEP_SETTINGS = {
    StepType.START: (),
    StepType.END: (
        Setting("outcome", TEXT, "The instance's outcome when it ends here."),
        Setting("terminate", FLAG, "End the whole instance, cancelling parallel branches."),
    ),
    StepType.AUTOMATED: (
        Setting("action", TEXT, "A registered action: set_variables, http_request, ..."),
        Setting("params", YAML, "The action's arguments, as YAML (templates allowed)."),
        Setting("output", TEXT, "Put the result under this variable."),
        Setting("retry", YAML, "max_attempts, backoff_seconds, backoff_factor, ..."),
    ),
    StepType.HUMAN: (
        Setting("title", TEXT, "The task title; {{ templates }} allowed."),
        Setting("description", LONG_TEXT),
        Setting("assign", YAML, "group, to, strategy (claim | round_robin | least_loaded)"),
        Setting("approvers", YAML, "users or group, policy (all | any | quorum), quorum"),
        Setting("outcomes", WORDS, "Buttons, comma-separated; default: approve, reject."),
        Setting("comment_required_for", WORDS, "Outcomes that need a comment."),
        Setting("request_info", YAML, "true (default), false, or {to: ...}"),
        Setting("form", YAML, "A list of fields: name, type, label, required, ..."),
        Setting("priority", TEXT, "", PRIORITIES),
        Setting("due", TEXT, "An ISO 8601 duration such as P2D or PT4H."),
        Setting("business", FLAG, "Count due times in working hours of the calendar."),
        Setting("reminders", YAML, "A list of durations before or after due."),
        Setting("escalation", YAML, "A list of levels: after, action, to, outcome."),
        Setting("timeout", TEXT, "A duration; then the `on: timeout` transition."),
    ),
    StepType.EXCLUSIVE: (),
    StepType.INCLUSIVE: (),
    StepType.PARALLEL: (),
    StepType.JOIN: (
        Setting("mode", TEXT, "", JOIN_MODES),
        Setting("count", NUMBER, "For mode count: how many branches to wait for."),
    ),
    StepType.TIMER: (
        Setting("duration", TEXT, "An ISO 8601 duration such as PT1H."),
        Setting("until", TEXT, "Or a CEL expression giving a timestamp."),
        Setting("business", FLAG, "Count the duration in working hours."),
    ),
    StepType.MESSAGE: (
        Setting("correlate", TEXT, "A CEL expression matched against the message."),
        Setting("timeout", TEXT, "A duration; then the `on: timeout` transition."),
        Setting("output", TEXT, "Put the payload under this variable."),
    ),
    StepType.SUBPROCESS: (
        Setting("workflow", TEXT, "The key of the child workflow."),
        Setting("variables", YAML, "The child's variables, as YAML (templates allowed)."),
        Setting("output", TEXT, "Put the child's variables under this variable."),
    ),
}


def field_name(step_type, key):
    return f"{step_type}__{key}"


def _form_field(setting):
    if setting.kind == FLAG:
        return forms.BooleanField(required=False, help_text=setting.help)
    if setting.kind == NUMBER:
        return forms.IntegerField(required=False, help_text=setting.help)
    if setting.choices:
        choices = [("", "—"), *((c, c) for c in setting.choices)]
        return forms.ChoiceField(required=False, choices=choices, help_text=setting.help)
    if setting.kind in (YAML, LONG_TEXT):
        widget = forms.Textarea(attrs={"rows": 3, "cols": 60, "class": f"setting-{setting.kind}"})
        return forms.CharField(required=False, widget=widget, help_text=setting.help)
    return forms.CharField(
        required=False,
        help_text=setting.help,
        widget=forms.TextInput(attrs={"size": 60}),
        strip=True,
    )


def _initial(setting, value):
    if setting.kind == YAML:
        return yaml.safe_dump(value, sort_keys=False, allow_unicode=True).strip()
    if setting.kind == WORDS and isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


def single_step_problems(step, variables):
    """The importer's problems of `step` alone (its own keys and values), as
    (key, sub-path, message); problems of the graph around it are not judged here."""
    doc = {
        "format": 1,
        "key": "draft",
        "name": "draft",
        "variables": variables or {},
        "steps": [step],
        "transitions": [],
    }
    problems = []
    for error in validate_spec(doc):
        loc = tuple(error.loc)
        if len(loc) >= 3 and loc[:2] == ("steps", 0):
            problems.append((loc[2], format_path(loc[3:]), error.message))
    return problems


class _StepFormBase(forms.ModelForm):
    """One step of a draft: key, type, name, and the settings of its type."""

    class Meta:
        model = Step
        fields = ["position", "key", "type", "name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["position"].required = False
        config = self.instance.config or {}
        for setting in STEP_SETTINGS.get(self.instance.type, ()):
            if setting.key in config:
                name = field_name(self.instance.type, setting.key)
                self.initial[name] = _initial(setting, config[setting.key])

    def clean(self):
        data = super().clean()
        step_type = data.get("type")
        if not step_type:
            return data
        config = {}
        for setting in STEP_SETTINGS.get(step_type, ()):
            name = field_name(step_type, setting.key)
            value = self._setting_value(setting, name, data.get(name))
            if value is not None:
                config[setting.key] = value
        self.step_config = config
        key = data.get("key")
        if key and not self.errors:
            spec = {"key": key, "type": step_type}
            if data.get("name"):
                spec["name"] = data["name"]
            spec.update(config)
            version = self.instance.version if self.instance.version_id else None
            variables = version.variables if version else {}
            for where, sub_path, message in single_step_problems(spec, variables):
                text = f"{sub_path}: {message}" if sub_path else message
                target = field_name(step_type, where)
                self.add_error(target if target in self.fields else None, text)
        return data

    def _setting_value(self, setting, name, raw):
        if setting.kind == FLAG:
            return True if raw else None
        if setting.kind == NUMBER:
            return raw
        if raw in (None, ""):
            return None
        if setting.kind == WORDS:
            return [word.strip() for word in raw.split(",") if word.strip()]
        if setting.kind == YAML:
            try:
                return yaml.safe_load(raw)
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
                problem = getattr(exc, "problem", None) or "cannot be read"
                self.add_error(name, f"Not valid YAML{where}: {problem}.")
                return None
        return raw

    def save(self, commit=True):
        step = super().save(commit=False)
        step.config = getattr(self, "step_config", step.config)
        if commit:
            step.save()
        return step


def _declared_settings():
    fields = {}
    for step_type, settings in STEP_SETTINGS.items():
        for setting in settings:
            field = _form_field(setting)
            field.label = setting.key
            fields[field_name(step_type, setting.key)] = field
    return fields


# The settings of every type are declared fields, so that the admin's fieldsets may name
# them; `clean` keeps only those of the chosen type.
StepForm = type("StepForm", (_StepFormBase,), _declared_settings())


class TransitionForm(forms.ModelForm):
    class Meta:
        model = Transition
        fields = ["position", "from_step", "to_step", "on", "when", "is_default", "name"]
        widgets = {"when": forms.TextInput(attrs={"size": 40})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["position"].required = False

    def clean_when(self):
        source = self.cleaned_data.get("when", "").strip()
        if source:
            try:
                check_syntax(source)
            except ExpressionSyntaxError as exc:
                raise ValidationError(f"not a valid CEL expression: {exc}") from None
        return source


class _PositionFormSet(forms.BaseInlineFormSet):
    """New rows without a position go after the others, in the order they were added."""

    def save_new(self, form, commit=True):
        obj = form.save(commit=False)
        setattr(obj, self.fk.name, self.instance)
        if form.cleaned_data.get("position") is None:
            highest = self.model.objects.filter(version=self.instance).aggregate(
                highest=Max("position")
            )["highest"]
            obj.position = 0 if highest is None else highest + 1
        if commit:
            obj.save()
        return obj

    def save_existing(self, form, obj, commit=True):
        if form.cleaned_data.get("position") is None:
            form.instance.position = form.initial.get("position") or 0
        return super().save_existing(form, obj, commit=commit)


class _DraftRowPermissions:
    """Steps and transitions of a draft are edited by whoever may edit its definition
    (`orchestrate.access.may_change`), not by separate step or transition permissions."""

    def _may_edit(self, request, obj):
        # Without a version (the inline's own queryset), whether the user edits any.
        if obj is None:
            return access.may_change(request.user)
        return obj.is_editable and access.may_change(request.user, obj.definition)

    def has_view_permission(self, request, obj=None):
        return self._may_edit(request, obj)

    def has_add_permission(self, request, obj=None):
        return self._may_edit(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._may_edit(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may_edit(request, obj)


class StepEditInline(_DraftRowPermissions, admin.StackedInline):
    model = Step
    form = StepForm
    formset = _PositionFormSet
    extra = 0
    classes = ["draft-steps"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = [(None, {"fields": [("position", "key", "type"), "name"]})]
        for step_type, settings in STEP_SETTINGS.items():
            if settings:
                fieldsets.append(
                    (
                        f"{step_type.label} settings",
                        {
                            "fields": [field_name(step_type, s.key) for s in settings],
                            "classes": ["step-settings", f"step-settings-{step_type}"],
                        },
                    )
                )
        return fieldsets


class TransitionEditInline(_DraftRowPermissions, admin.TabularInline):
    model = Transition
    form = TransitionForm
    formset = _PositionFormSet
    extra = 0


def draft_problems(version):
    """The importer's problems of the draft as stored, each with the admin anchor of the
    step or transition it points at (the inline forms are in the spec's order)."""
    problems = []
    for error in validate_spec(version.to_spec()):
        loc = tuple(error.loc)
        anchor = ""
        if len(loc) >= 2 and loc[0] in ("steps", "transitions") and isinstance(loc[1], int):
            anchor = f"{loc[0]}-{loc[1]}"
        problems.append({"path": error.path, "message": error.message, "anchor": anchor})
    return problems


class DraftEditingMixin:
    """A draft is edited with typed inlines; published and retired versions are read-only.
    Changing a step's key renames it in the transitions that named it."""

    draft_inlines = [StepEditInline, TransitionEditInline]
    draft_fields = ["name", "description", "calendar", "variables"]

    class Media:
        js = ["js/admin_draft_editor.js"]

    def get_inlines(self, request, obj):
        if obj is not None and obj.is_editable:
            return self.draft_inlines
        return super().get_inlines(request, obj)

    def has_add_permission(self, request):
        # A version comes from an import, a new definition or "new draft", never empty.
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # Instances run on published and retired versions; only a draft may go.
        if obj is not None and not obj.is_editable:
            return False
        return super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return ["definition", "number", *[f for f in fields if f not in ("definition", "number")]]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if "variables" in form.base_fields:
            form.base_fields[
                "variables"
            ].help_text = "JSON: {name: {type, required, default, label}}, as in the format."
        return form

    def save_model(self, request, obj, form, change):
        # The admin's change view runs in one transaction; the lock keeps a publish by
        # someone else from slipping between our check and our writes.
        if change:
            locked = WorkflowVersion.objects.select_for_update().get(pk=obj.pk)
            if locked.status != VersionStatus.DRAFT:
                raise _NoLongerDraft(locked)
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        if formset.model is Step:
            # Per request, not on the admin (one instance serves every request).
            request.orchestrate_renamed_steps = {
                f.initial["key"]: f.cleaned_data["key"]
                for f in formset.forms
                if f.instance.pk
                and f.has_changed()
                and "key" in f.changed_data
                and not f.cleaned_data.get("DELETE")
            }
        super().save_formset(request, form, formset, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        for old, new in getattr(request, "orchestrate_renamed_steps", {}).items():
            Transition.objects.filter(version=form.instance, from_step=old).update(from_step=new)
            Transition.objects.filter(version=form.instance, to_step=old).update(to_step=new)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _NoLongerDraft as exc:
            self.message_user(
                request,
                f"{exc.version} was published meanwhile; a published version cannot be "
                "changed. Start a new draft to change it.",
                messages.ERROR,
            )
            return HttpResponseRedirect(request.path)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.is_editable:
            context["draft_problems"] = draft_problems(obj)
            context["is_draft"] = True
        return super().render_change_form(request, context, add, change, form_url, obj)

    def response_change(self, request, obj):
        if "_publish" in request.POST:
            try:
                publish_version(obj, actor=request.user)
            except WorkflowFormatError as exc:
                self.message_user(
                    request,
                    f"{obj} was saved but not published: it has {len(exc.errors)} "
                    "problem(s), listed at the top.",
                    messages.ERROR,
                )
                return HttpResponseRedirect(request.path)
            self.log_change(request, obj, "Published.")
            self.message_user(request, f"{obj} published.", messages.SUCCESS)
            url = reverse("admin:orchestrate_workflowversion_change", args=[obj.pk])
            return HttpResponseRedirect(url)
        return super().response_change(request, obj)


class _NoLongerDraft(Exception):
    def __init__(self, version):
        self.version = version
        super().__init__(str(version))
