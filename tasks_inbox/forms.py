"""The inbox's HTML forms. They check the shape of the input (types, lengths) and render
labelled fields; every rule (who may, required comment, the step's form) lives in the
services, whose `TaskInvalid` errors come back onto the fields with `add_service_errors`.
"""

import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from orchestrate.jinja2 import FORM_RENDERER
from tasks_inbox.models import Priority, Profile, SlaState, TaskKind
from tasks_inbox.selectors.tasks import DUE_CHOICES, SLA_STATES
from tasks_inbox.services.people import VIEW_PARAMS

User = get_user_model()

TEXT_MAX = 5000


class InboxForm(forms.Form):
    """A form of the inbox pages: rendered by Jinja2 (`orchestrate.jinja2.FORM_RENDERER`),
    its fields by `{{ field.as_field_group }}` or tasks_inbox/partials/field.html."""

    default_renderer = FORM_RENDERER


class ServiceErrorsMixin:
    """Put a service's `{field: message}` errors on the matching fields (or on top)."""

    # Service error key -> form field name, where they differ.
    service_fields: dict = {}

    def add_service_errors(self, errors):
        for key, message in errors.items():
            name = self.service_fields.get(key, key)
            self.add_error(name if name in self.fields else None, message)


def _textarea(rows=3, **attrs):
    return forms.Textarea(attrs={"rows": rows, **attrs})


# --- the inbox lists --------------------------------------------------------------------
DUE_LABELS = {"overdue": "Overdue", "today": "Due today", "week": "Due this week"}
SORT_CHOICES = [
    ("", "Newest first"),
    ("due", "Due date"),
    ("priority", "Priority"),
    ("age", "Oldest first"),
    ("sla", "SLA (most urgent first)"),
]


class TaskFilterForm(InboxForm):
    """The filters of a task list (GET). Unknown values are dropped, never an error page."""

    template_name = "tasks_inbox/form_fields.html"  # `{{ filters }}`: each field's group

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Title, key or #id"}),
    )
    # A select, but any key is accepted: a saved view may name a workflow that has no
    # visible task today (the list is then empty, not unfiltered).
    workflow = forms.CharField(label="Workflow", required=False, widget=forms.Select)
    priority = forms.ChoiceField(
        label="Priority",
        required=False,
        choices=[("", "Any priority"), *((p.label, p.label.capitalize()) for p in Priority)],
    )
    due = forms.ChoiceField(
        label="Due",
        required=False,
        choices=[("", "Any time"), *((key, DUE_LABELS[key]) for key in DUE_CHOICES)],
    )
    sla = forms.ChoiceField(
        label="SLA",
        required=False,
        choices=[
            ("", "Any SLA state"),
            *((key, SlaState(key).label.capitalize()) for key in SLA_STATES),
        ],
    )
    sort = forms.ChoiceField(label="Sort by", required=False, choices=SORT_CHOICES)
    # Snoozed tasks are hidden from the lists; this shows only them.
    snoozed = forms.BooleanField(
        label="Snoozed",
        required=False,
        help_text="Only the tasks snoozed for later.",
    )

    def __init__(self, data=None, *, workflows=(), **kwargs):
        kwargs.setdefault("auto_id", "filter-%s")
        super().__init__(data, **kwargs)
        choices = [("", "All workflows"), *workflows]
        current = (data or {}).get("workflow")
        if current and current not in {key for key, _ in choices}:
            choices.append((current, current))
        self.fields["workflow"].widget.choices = choices

    def clean_snoozed(self):
        # As the selector and saved views take it: "1", or left out.
        return "1" if self.cleaned_data["snoozed"] else ""

    def params(self):
        """The valid, non-empty filters as query parameters."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {k: v for k, v in self.cleaned_data.items() if v}


class IdListField(forms.Field):
    """Checked task ids (`task_ids`); anything that is not a number is ignored."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"required": "Select at least one task."}

    def to_python(self, value):
        ids = []
        for item in value or []:
            try:
                ids.append(int(item))
            except (TypeError, ValueError):
                continue
        return ids


class BulkDecisionForm(InboxForm):
    task_ids = IdListField()
    outcome = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    comment = forms.CharField(required=False, max_length=TEXT_MAX)
    next = forms.CharField(required=False)


# --- one task ------------------------------------------------------------------------------
def _step_field(spec):
    """A form field for one field of a human step's `form` (the service converts the
    text to the field's type; a checkbox gives True/False)."""
    kind = spec.get("type", "string")
    label = spec.get("label") or spec["name"].replace("_", " ").capitalize()
    attrs = {}
    if spec.get("required"):
        attrs["aria-required"] = "true"
    if kind == "boolean":
        field = forms.BooleanField(
            label=label, required=False, widget=forms.CheckboxInput(attrs=attrs)
        )
    else:
        if kind in ("number", "integer"):
            attrs["step"] = "1" if kind == "integer" else "any"
            attrs.update({k: spec[k] for k in ("min", "max") if k in spec})
            widget = forms.NumberInput(attrs=attrs)
        elif kind == "date":
            widget = forms.DateInput(attrs={"type": "date", **attrs})
        elif kind == "datetime":
            widget = forms.DateTimeInput(attrs={"type": "datetime-local", **attrs})
        else:
            widget = forms.TextInput(attrs=attrs)
        field = forms.CharField(label=label, required=False, widget=widget)
    if "default" in spec:
        field.initial = spec["default"]
    # Required for every outcome but a rejection: shown, checked by the service.
    field.step_required = bool(spec.get("required"))
    return field


def outcome_label(outcome):
    return outcome.replace("_", " ").capitalize()


class TaskDecisionForm(ServiceErrorsMixin, InboxForm):
    """Decide a task: the step's form fields (`data_<name>`), a comment and the outcome
    of the clicked button. For a question task the comment is the answer."""

    outcome = forms.CharField(required=False, max_length=100)
    comment = forms.CharField(required=False, max_length=TEXT_MAX, widget=_textarea(4))
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, task, *args, **kwargs):
        kwargs.setdefault("auto_id", f"task{task.pk}-%s")
        super().__init__(*args, **kwargs)
        self.task = task
        comment = self.fields["comment"]
        if task.kind == TaskKind.INFO:
            comment.label = "Answer"
            comment.step_required = True
        else:
            comment.label = "Comment"
            needs = [outcome_label(o).lower() for o in task.comment_required_for]
            if needs:
                comment.help_text = f"Required to {' or '.join(needs)}."
        self.service_fields = {}
        for spec in task.form if task.kind == TaskKind.DECISION else []:
            name = f"data_{spec['name']}"
            self.fields[name] = _step_field(spec)
            self.service_fields[spec["name"]] = name
        self.order_fields([*self.service_fields.values(), "comment"])

    def step_fields(self):
        return [self[name] for name in self.service_fields.values()]

    def step_data(self):
        """The step's form values as the service takes them (text, or True/False)."""
        return {
            spec_name: self.cleaned_data.get(name)
            for spec_name, name in self.service_fields.items()
        }


class RequestInfoForm(ServiceErrorsMixin, InboxForm):
    question = forms.CharField(
        label="Question", required=False, max_length=TEXT_MAX, widget=_textarea(3)
    )
    to = forms.CharField(
        label="Ask",
        required=False,
        max_length=150,
        help_text="A username. Leave empty to ask the requester.",
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, task, *args, **kwargs):
        kwargs.setdefault("auto_id", f"ask{task.pk}-%s")
        super().__init__(*args, **kwargs)


class LongSelect(forms.Select):
    """A select of many options (the delegate list has one per member of the queue), with
    the markup of `forms.Select` but written here instead of by a template per option:
    a hundred options took 5 ms in Jinja2 and 10 ms in Django templates, this 0.5 ms
    (bench/inbox.py, the task page). Every value is escaped. No option groups."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        chosen = self.format_value(value)
        options = []
        for option_value, label in self.choices:
            selected = " selected" if str(option_value) in chosen else ""
            if selected:
                chosen = ()  # the first match only, as the widget does
            options.append(
                f'\n  <option value="{escape(option_value)}"{selected}>{escape(label)}</option>'
            )
        # True stands alone, False and None are left out, as the widget's attrs template.
        attributes = "".join(
            f" {key}" if item is True else f' {key}="{escape(item)}"'
            for key, item in attrs.items()
            if item is not False and item is not None
        )
        html = f'<select name="{escape(name)}"{attributes}>{"".join(options)}\n</select>'
        return mark_safe(html)  # noqa: S308 (every value escaped above)


def colleagues_for(task, user):
    """Whom `user` can hand the task to: active members of its queue (or everybody
    active), minus the excluded, themselves and the current holder."""
    people = User.objects.filter(is_active=True)
    if task.candidate_group_id is not None:
        people = people.filter(groups=task.candidate_group_id)
    excluded = task.excluded_users.values("pk")
    return (
        people.exclude(pk__in=excluded)
        .exclude(pk=user.pk)
        .exclude(pk=task.assignee_id or 0)
        .only("username", "first_name", "last_name")
        .order_by("username")
    )


class DelegateForm(ServiceErrorsMixin, InboxForm):
    to = forms.CharField(label="Delegate to", required=False, widget=LongSelect)
    comment = forms.CharField(
        label="Note (optional)", required=False, max_length=TEXT_MAX, widget=_textarea(2)
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, task, user, *args, **kwargs):
        kwargs.setdefault("auto_id", f"delegate{task.pk}-%s")
        super().__init__(*args, **kwargs)
        choices = [("", "Choose a colleague")]
        for person in colleagues_for(task, user):
            name = person.get_username()
            full = person.get_full_name()
            choices.append((name, f"{full} ({name})" if full and full != name else name))
        self.fields["to"].widget.choices = choices


class CommentForm(ServiceErrorsMixin, InboxForm):
    text = forms.CharField(
        label="Add a comment", required=False, max_length=TEXT_MAX, widget=_textarea(2)
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, task, *args, **kwargs):
        kwargs.setdefault("auto_id", f"comment{task.pk}-%s")
        super().__init__(*args, **kwargs)


SNOOZE_PRESETS = {"tomorrow": "Until tomorrow 9:00", "hour": "1 hour"}


def snooze_preset(preset, now):
    """The time a quick snooze button stands for: tomorrow 9:00 (local time) or in 1 hour."""
    if preset == "hour":
        return now + datetime.timedelta(hours=1)
    tomorrow = timezone.localdate(now) + datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(tomorrow, datetime.time(9)))


class SnoozeForm(ServiceErrorsMixin, InboxForm):
    """Snooze a task until a time, or by a quick button (`preset`); the preset `wake`
    brings it back now. `until` is None after cleaning for a wake-up."""

    until = forms.DateTimeField(
        label="Snooze until",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    preset = forms.ChoiceField(
        required=False,
        choices=[("", "Snooze"), *SNOOZE_PRESETS.items(), ("wake", "Unsnooze")],
        widget=forms.HiddenInput,
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, task, *args, **kwargs):
        kwargs.setdefault("auto_id", f"snooze{task.pk}-%s")
        super().__init__(*args, **kwargs)
        now = timezone.localtime()
        self.fields["until"].widget.attrs["min"] = now.strftime("%Y-%m-%dT%H:%M")

    def clean(self):
        data = super().clean()
        preset = data.get("preset")
        if preset == "wake":
            data["until"] = None
        elif preset:
            data["until"] = snooze_preset(preset, timezone.now())
        elif data.get("until") is None and "until" not in self.errors:
            self.add_error("until", "Choose a time, or one of the quick buttons.")
        return data


class EmailDecisionForm(ServiceErrorsMixin, InboxForm):
    comment = forms.CharField(
        label="Comment", required=False, max_length=TEXT_MAX, widget=_textarea(3)
    )


# --- requests and people ------------------------------------------------------------------
class WithdrawForm(InboxForm):
    reason = forms.CharField(label="Reason", required=False, max_length=TEXT_MAX)


class AbsenceForm(ServiceErrorsMixin, InboxForm):
    absent_from = forms.DateField(
        label="Away from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    absent_until = forms.DateField(
        label="Away until",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Both days included.",
    )
    substitute = forms.ModelChoiceField(
        label="Substitute",
        required=False,
        queryset=User.objects.none(),
        empty_label="Nobody",
        help_text="Gets your new tasks and may act on your tasks while you are away.",
    )
    manager = forms.ModelChoiceField(
        label="Manager",
        required=False,
        queryset=User.objects.none(),
        empty_label="Nobody",
        help_text="Escalations of your late tasks that go to your manager reach this person.",
    )

    def __init__(self, user, *args, **kwargs):
        kwargs.setdefault("auto_id", "away-%s")
        super().__init__(*args, **kwargs)
        colleagues = User.objects.exclude(pk=user.pk).order_by("username")
        self.fields["substitute"].queryset = colleagues.filter(is_active=True)
        # The current manager stays a valid choice after their account was deactivated,
        # so that saving the absence does not fail on a field the person did not touch.
        current = Profile.objects.filter(user=user).values("manager_id")
        self.fields["manager"].queryset = colleagues.filter(Q(is_active=True) | Q(pk__in=current))
        for name in ("substitute", "manager"):
            self.fields[name].label_from_instance = lambda u: u.get_username()


class SavedViewForm(ServiceErrorsMixin, InboxForm):
    name = forms.CharField(label="Name", required=False, max_length=100)
    shared_with = forms.ModelChoiceField(
        label="Share with group",
        required=False,
        queryset=None,
        empty_label="Only me",
    )
    scope = forms.CharField(required=False, widget=forms.HiddenInput)
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, user, *args, groups=None, **kwargs):
        """`groups`: the user's (id, name) if already read (the list pages have them), so
        showing the choice costs no query; the queryset still checks what is sent."""
        kwargs.setdefault("auto_id", "view-%s")
        super().__init__(*args, **kwargs)
        self.fields["shared_with"].queryset = user.groups.order_by("name")
        if groups is not None:
            self.fields["shared_with"].widget.choices = [("", "Only me"), *groups]
        for name in VIEW_PARAMS:
            self.fields[name] = forms.CharField(
                required=False, max_length=200, widget=forms.HiddenInput
            )

    def view_params(self):
        return {name: self.cleaned_data.get(name, "") for name in VIEW_PARAMS}
