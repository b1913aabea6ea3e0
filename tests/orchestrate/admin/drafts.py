"""Helpers for driving the draft editor (a change form with two inline formsets) from the
Django test client: read what the page shows, change some fields, post it back."""

from django.forms import CheckboxInput
from django.urls import reverse


def change_url(version):
    return reverse("admin:orchestrate_workflowversion_change", args=[version.pk])


def _value(bound_field):
    value = bound_field.value()
    if isinstance(bound_field.field.widget, CheckboxInput):
        return "on" if value else None
    if value is None:
        return ""
    return value if isinstance(value, str) else bound_field.field.prepare_value(value)


def page_data(response):
    """The POST data the change form at `response` would send unchanged."""
    data = {}
    for bound in response.context["adminform"].form:
        if not bound.field.disabled:
            value = _value(bound)
            if value is not None:
                data[bound.html_name] = value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for bound in formset.management_form:
            data[bound.html_name] = bound.value()
        for form in formset.forms:
            for bound in form:
                value = _value(bound)
                if value is not None:
                    data[bound.html_name] = value
    return data


def add_row(data, prefix, values):
    """Append a new row to the inline formset `prefix` ("steps" or "transitions")."""
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
    for name, value in values.items():
        data[f"{prefix}-{index}-{name}"] = value
    return index


def row_index(data, prefix, field, value):
    """The index of the row of `prefix` whose `field` is `value`."""
    for index in range(int(data[f"{prefix}-TOTAL_FORMS"])):
        if data.get(f"{prefix}-{index}-{field}") == value:
            return index
    raise KeyError(f"no {prefix} row with {field}={value!r}")
