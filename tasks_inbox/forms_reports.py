"""The filters of the SLA reports (GET): a date range, workflow and version, step, group
and assignee. Wrong input is an error on the field, never an unfiltered report."""

import datetime

from django import forms
from django.utils import timezone

from tasks_inbox.forms import InboxForm
from tasks_inbox.selectors.reports import ReportFilters, filter_choices, user_exists

DEFAULT_DAYS = 90
MAX_DAYS = 3 * 366
PARAMS = ("date_from", "date_to", "workflow", "version", "step", "group", "assignee")


class ReportFilterForm(InboxForm):
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    workflow = forms.ChoiceField(label="Workflow", required=False)
    version = forms.IntegerField(
        label="Version", required=False, min_value=1, widget=forms.NumberInput(attrs={"size": 4})
    )
    step = forms.ChoiceField(label="Step", required=False)
    group = forms.ChoiceField(label="Group", required=False)
    assignee = forms.CharField(
        label="Assignee",
        required=False,
        max_length=150,
        widget=forms.TextInput(attrs={"placeholder": "username", "autocomplete": "off"}),
    )

    def __init__(self, data=None, *, today=None):
        # Unbound (no query string) means the defaults, which are valid.
        super().__init__(data if data else {}, auto_id="filter-%s")
        self.today = today or timezone.localdate()
        self.choices = filter_choices()
        self.fields["workflow"].choices = [("", "All workflows"), *self.choices["workflows"]]
        self.fields["step"].choices = [("", "All steps"), *self.choices["steps"]]
        self.fields["group"].choices = [("", "All groups")] + [
            (name, name) for name in self.choices["groups"]
        ]
        self.fields["date_from"].help_text = f"Default: {DEFAULT_DAYS} days ago"
        self.fields["date_to"].help_text = "Default: today"

    def clean_assignee(self):
        username = self.cleaned_data["assignee"].strip()
        if username and not user_exists(username):
            raise forms.ValidationError(f"Nobody has the username “{username}”.")
        return username

    def clean(self):
        data = super().clean()
        date_to = data.get("date_to") or self.today
        date_from = data.get("date_from") or date_to - datetime.timedelta(days=DEFAULT_DAYS - 1)
        if "date_from" in data and "date_to" in data:
            if date_from > date_to:
                self.add_error("date_from", "The first day comes after the last day.")
            elif (date_to - date_from).days >= MAX_DAYS:
                self.add_error("date_from", "Choose a range of three years or less.")
        data["first_day"], data["last_day"] = date_from, date_to
        version = data.get("version")
        workflow = data.get("workflow")
        if version is not None:
            if not workflow:
                self.add_error("version", "Choose a workflow to filter by its version.")
            elif version not in self.choices["versions"].get(workflow, []):
                self.add_error("version", f"{workflow} has no version {version}.")
        return data

    def report_filters(self, now=None):
        """The cleaned filters for the selectors (call after `is_valid()`)."""
        data = self.cleaned_data
        return ReportFilters(
            start=_start_of(data["first_day"]),
            end=_start_of(data["last_day"] + datetime.timedelta(days=1)),
            workflow=data.get("workflow") or "",
            version=data.get("version"),
            step=data.get("step") or "",
            group=data.get("group") or "",
            assignee=data.get("assignee") or "",
            now=now or timezone.now(),
        )

    def params(self):
        """The given filters as query parameters (for tabs and CSV links)."""
        return {name: self.data[name] for name in PARAMS if self.data.get(name) not in (None, "")}

    def range_label(self):
        data = self.cleaned_data
        return f"{data['first_day']:%-d %b %Y} to {data['last_day']:%-d %b %Y}"


def _start_of(day):
    """Midnight at the start of `day` in the current time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
