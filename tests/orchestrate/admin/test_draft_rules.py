"""Every refusal rule of the importer, through the admin: a draft whose rows break one
rule lists that rule's message at the top of its page, at the same path, as an import of
the same document would. The cases are the validator's own refusal table; those that rows
cannot hold (a missing `format`, a `steps` that is not a list, a key longer than its
column...) are the importer's alone, since no admin form can produce them."""

import json

import pytest

from orchestrate.admin_drafts import draft_problems
from orchestrate.models import (
    Step,
    StepType,
    Transition,
    VersionStatus,
    WorkflowDefinition,
    WorkflowVersion,
)
from tests.orchestrate.formats.documents import full_document
from tests.orchestrate.formats.test_validation import REFUSALS

from .drafts import change_url

pytestmark = pytest.mark.django_db

KEY_LENGTH, NAME_LENGTH = 100, 200
STEP_TYPES = set(StepType.values)


def _text(value, limit, *, blank=True):
    return isinstance(value, str) and len(value) <= limit and (blank or value)


def rows_of(doc):
    """The version, step and transition rows that hold `doc`, or None if rows cannot
    hold it exactly (`to_spec()` of the rows would differ from `doc`)."""
    top = {"format", "kind", "key", "name", "description", "variables", "calendar"}
    if not isinstance(doc, dict) or not set(doc) <= top | {"steps", "transitions"}:
        return None
    if (
        type(doc.get("format")) is not int
        or doc["format"] != 1
        or doc.get("kind", "workflow") != "workflow"
    ):
        return None
    if doc.get("key") != "every_step" or not _text(doc.get("name"), NAME_LENGTH, blank=False):
        return None
    if not _text(doc.get("description", ""), 10_000) or not _text(doc.get("calendar", ""), 100):
        return None
    if not isinstance(doc.get("variables", {}), dict):
        return None
    steps, transitions = doc.get("steps"), doc.get("transitions")
    if not isinstance(steps, list) or not isinstance(transitions, list):
        return None
    step_rows = []
    keys = [step.get("key") for step in steps if isinstance(step, dict)]
    if len(keys) != len(set(keys)):
        return None  # a unique constraint keeps a draft from holding duplicate keys
    for step in steps:
        if not isinstance(step, dict) or step.get("type") not in STEP_TYPES:
            return None
        if not _text(step.get("key"), KEY_LENGTH) or not _text(step.get("name", ""), NAME_LENGTH):
            return None
        if "name" in step and not step["name"]:
            return None
        config = {k: v for k, v in step.items() if k not in ("key", "type", "name")}
        step_rows.append(
            {"key": step["key"], "type": step["type"], "name": step.get("name", "")}
            | {"config": config}
        )
    link_rows = []
    for link in transitions:
        if (
            not isinstance(link, dict)
            or not {"from", "to"} <= set(link)
            or not set(link)
            <= {
                "from",
                "to",
                "when",
                "on",
                "default",
                "name",
            }
        ):
            return None
        texts = [
            ("from", KEY_LENGTH),
            ("to", KEY_LENGTH),
            ("on", KEY_LENGTH),
            ("name", NAME_LENGTH),
        ]
        if not all(_text(link.get(k, ""), limit) for k, limit in texts):
            return None
        if not _text(link.get("when", ""), 10_000) or link.get("default", False) not in (
            True,
            False,
        ):
            return None
        if (
            any(k in link and not link[k] for k in ("name", "when", "on"))
            or link.get("default") is False
        ):
            return None
        link_rows.append(
            {
                "from_step": link["from"],
                "to_step": link["to"],
                "when": link.get("when", ""),
                "on": link.get("on", ""),
                "is_default": link.get("default", False),
                "name": link.get("name", ""),
            }
        )
    version = {
        "name": doc["name"],
        "description": doc.get("description", ""),
        "variables": doc.get("variables", {}),
        "calendar": doc.get("calendar", ""),
    }
    try:
        json.dumps(doc)
    except (TypeError, ValueError):
        return None
    return version, step_rows, link_rows


def _case_doc(mutate):
    doc = full_document()
    mutate(doc)
    return doc


CASES = [
    pytest.param(mutate, path, fragment, id=name)
    for name, mutate, path, fragment in REFUSALS
    if rows_of(_case_doc(mutate)) is not None
]


def test_most_refusal_rules_can_occur_in_a_draft():
    assert len(CASES) >= len(REFUSALS) * 2 // 3, (len(CASES), len(REFUSALS))


def store_draft(doc):
    """Write `doc` as draft rows, as an admin could have built it."""
    version_fields, steps, transitions = rows_of(doc)
    definition = WorkflowDefinition.objects.create(key="every_step", name=doc["name"])
    draft = WorkflowVersion.objects.create(
        definition=definition, number=1, status=VersionStatus.DRAFT, **version_fields
    )
    Step.objects.bulk_create(Step(version=draft, position=i, **row) for i, row in enumerate(steps))
    Transition.objects.bulk_create(
        Transition(version=draft, position=i, **row) for i, row in enumerate(transitions)
    )
    expected = json.loads(json.dumps({k: v for k, v in doc.items() if k != "kind"}))
    for optional in ("description", "variables", "calendar"):
        if not expected.get(optional) and optional in expected:
            del expected[optional]
    assert draft.to_spec() == expected  # the rows hold exactly the refused document
    return draft


def assert_listed(problems, path, fragment):
    at_path = [p["message"] for p in problems if p["path"] == path]
    assert any(fragment in message for message in at_path), (path, fragment, problems)


@pytest.mark.parametrize(("mutate", "path", "fragment"), CASES)
def test_the_draft_check_gives_the_importers_message_at_its_path(mutate, path, fragment):
    # `draft_problems` is what the draft page lists; rendering ~150 pages of 20 steps
    # would cost minutes, so the page itself is checked for a sample below.
    draft = store_draft(_case_doc(mutate))
    assert_listed(draft_problems(draft), path, fragment)


PAGE_SAMPLE = {
    "unknown step type key",
    "transition to an unknown step",
    "join with one incoming transition",
    "variable type unknown",
    "due duration",
}


@pytest.mark.parametrize(
    ("mutate", "path", "fragment"), [c for c in CASES if c.id in PAGE_SAMPLE] or CASES[:5]
)
def test_the_draft_page_lists_the_problem_with_a_link(root_client, mutate, path, fragment):
    draft = store_draft(_case_doc(mutate))
    response = root_client.get(change_url(draft))
    assert_listed(response.context["draft_problems"], path, fragment)
    page = response.content.decode()
    assert "cannot be published" in page and path in page
