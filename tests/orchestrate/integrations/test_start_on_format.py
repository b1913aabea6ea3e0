"""`start_on` in the workflow format: each validation rule through the importer, and the
export round trip."""

import pytest

from orchestrate.formats import WorkflowFormatError, dump_yaml, load_document
from orchestrate.services.definitions import export_version, import_workflow

pytestmark = pytest.mark.django_db


def document(start_on, variables=None):
    return {
        "format": 1,
        "key": "intake",
        "name": "Intake",
        "variables": variables
        if variables is not None
        else {
            "amount": {"type": "number", "required": True},
            "note": {"type": "string"},
        },
        "start_on": start_on,
        "steps": [{"key": "start", "type": "start"}, {"key": "end", "type": "end"}],
        "transitions": [{"from": "start", "to": "end"}],
    }


VALID = {
    "event": "com.example.order.created",
    "business_key": "event.subject",
    "variables": {"amount": "event.data.amount"},
}


def import_errors(doc):
    with pytest.raises(WorkflowFormatError) as caught:
        import_workflow(doc)
    return [(e.path, e.message) for e in caught.value.errors]


@pytest.mark.parametrize(
    ("start_on", "path", "message"),
    [
        ("com.example.x", "start_on", "`start_on` must be a mapping, not 'com.example.x'"),
        (
            {**VALID, "when": "true"},
            "start_on.when",
            "unknown key 'when' in `start_on`; allowed: event, business_key, variables",
        ),
        (
            {**VALID, "bussiness_key": "x"},
            "start_on.bussiness_key",
            "unknown key 'bussiness_key' in `start_on`; did you mean 'business_key'?",
        ),
        (
            {k: v for k, v in VALID.items() if k != "event"},
            "start_on.event",
            "`start_on` needs `event`: the CloudEvents type that starts it",
        ),
        ({**VALID, "event": ""}, "start_on.event", "`event` must be a non-empty string, not ''"),
        ({**VALID, "event": 7}, "start_on.event", "`event` must be a non-empty string, not 7"),
        (
            {**VALID, "event": "order created"},
            "start_on.event",
            "`event` 'order created' may not contain spaces",
        ),
        (
            {**VALID, "event": "x" * 201},
            "start_on.event",
            "`event` is longer than 200 characters",
        ),
        (
            {**VALID, "business_key": "event.subject +"},
            "start_on.business_key",
            "CEL syntax error at line 1, column 16",
        ),
        (
            {**VALID, "business_key": 12},
            "start_on.business_key",
            "must be a CEL expression (a string), not 12",
        ),
        (
            {**VALID, "variables": ["amount"]},
            "start_on.variables",
            "`variables` must be a mapping, not a list",
        ),
        (
            {**VALID, "variables": {"amount": "event.data.amount", "amont": "1"}},
            "start_on.variables.amont",
            "'amont' is not a declared variable; declare it under `variables`; "
            "did you mean 'amount'?",
        ),
        (
            {**VALID, "variables": {"amount": "event.data.amount)"}},
            "start_on.variables.amount",
            "CEL syntax error",
        ),
        (
            {**VALID, "variables": {"note": "event.subject"}},
            "start_on.variables",
            "the required variable 'amount' has no default, so `start_on.variables` must set it",
        ),
    ],
)
def test_the_importer_refuses_a_wrong_start_on(start_on, path, message):
    errors = import_errors(document(start_on))

    assert any(p == path and message in m for p, m in errors), errors


def test_a_required_variable_with_a_default_need_not_be_set():
    variables = {"amount": {"type": "number", "required": True, "default": 0}}

    version = import_workflow(document({"event": "x.y"}, variables=variables))

    assert version.start_on == {"event": "x.y"}


def test_start_on_is_stored_and_exported_in_the_format_order():
    version = import_workflow(document(VALID))

    assert version.start_on == VALID
    text = dump_yaml(export_version(version))
    assert text.index("\nstart_on:") < text.index("\nsteps:")
    assert text.index("\nvariables:") < text.index("\nstart_on:")
    assert (
        "start_on:\n  event: com.example.order.created\n  business_key: event.subject\n"
        "  variables:\n    amount: event.data.amount\n" in text
    )


def test_an_import_of_the_export_is_the_same_version():
    version = import_workflow(document(VALID), publish=True)

    again = import_workflow(load_document(dump_yaml(export_version(version))))

    assert again.pk == version.pk
    assert export_version(again)["start_on"] == VALID


def test_a_changed_start_on_is_a_new_version():
    version = import_workflow(document(VALID), publish=True)

    changed = import_workflow(document({**VALID, "event": "com.example.order.placed"}))

    assert changed.number == version.number + 1
    assert changed.start_on["event"] == "com.example.order.placed"


def test_a_workflow_without_start_on_exports_none():
    doc = document(VALID)
    del doc["start_on"]

    version = import_workflow(doc)

    assert version.start_on == {}
    assert "start_on" not in export_version(version)
