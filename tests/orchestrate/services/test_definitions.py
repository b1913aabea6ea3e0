"""Importing, publishing and exporting workflow definitions."""

import pytest
from django.conf import settings
from django_fsm import TransitionNotAllowed

from orchestrate.formats import load_document
from orchestrate.models import (
    Step,
    Transition,
    VersionStatus,
    WorkflowDefinition,
    WorkflowVersion,
)
from orchestrate.services.definitions import (
    WorkflowFormatError,
    dump_yaml,
    export_version,
    import_workflow,
    publish_version,
    stored_spec,
)
from tests.factories import UserFactory
from tests.orchestrate.formats.documents import full_document, minimal_document, step

pytestmark = pytest.mark.django_db


def row_counts():
    return (
        WorkflowDefinition.objects.count(),
        WorkflowVersion.objects.count(),
        Step.objects.count(),
        Transition.objects.count(),
    )


# --- import ---------------------------------------------------------------------------


def test_import_creates_definition_version_steps_and_transitions():
    doc = full_document()
    version = import_workflow(doc)

    definition = version.definition
    assert (definition.key, definition.name) == ("every_step", "Every step type")
    assert definition.description.startswith("A workflow that uses every step type")
    assert version.number == 1
    assert version.status == VersionStatus.DRAFT
    assert version.published_at is None
    assert version.name == "Every step type"
    assert version.variables == doc["variables"]
    assert version.calendar == "default"

    steps = list(version.steps.order_by("position"))
    assert [s.key for s in steps] == [s["key"] for s in doc["steps"]]
    assert [s.position for s in steps] == list(range(len(doc["steps"])))
    approval = version.steps.get(key="approval")
    assert (approval.type, approval.name) == ("human", "Manager approval")
    assert approval.config["assign"] == {
        "group": "managers",
        "strategy": "round_robin",
        "exclude": ["initiator"],
    }
    assert not {"key", "type", "name"} & set(approval.config)
    assert version.steps.get(key="wait_payment").name == "payment_received"

    links = list(version.transitions.order_by("position"))
    assert len(links) == len(doc["transitions"])
    when = links[4]
    assert (when.from_step, when.to_step, when.when, when.name) == (
        "route",
        "approval",
        "amount > 1000",
        "Above 1000 EUR",
    )
    assert (links[5].is_default, links[5].when, links[5].on) == (True, "", "")
    assert (links[8].on, links[8].is_default) == ("timeout", False)


def test_import_with_publish():
    version = import_workflow(minimal_document(), publish=True)
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED
    assert version.published_at is not None
    assert version.definition.current_version() == version


def test_import_records_the_actor():
    user = UserFactory()
    assert import_workflow(minimal_document(), actor=user).created_by == user


def test_versions_are_numbered_per_definition():
    first = import_workflow(minimal_document())
    second = import_workflow(minimal_document(name="Minimal, renamed"))
    other = import_workflow(minimal_document(key="other"))
    third = import_workflow(minimal_document(description="Now described"))
    assert [first.number, second.number, third.number] == [1, 2, 3]
    assert other.number == 1
    assert first.definition_id == second.definition_id == third.definition_id


def test_a_new_import_updates_the_definition_name_and_description():
    import_workflow(minimal_document(description="Old"))
    import_workflow(minimal_document(name="New name"))
    definition = WorkflowDefinition.objects.get(key="minimal")
    assert (definition.name, definition.description) == ("New name", "")


def test_reimporting_the_latest_version_creates_nothing():
    first = import_workflow(full_document())
    counts = row_counts()
    again = import_workflow(full_document())
    assert again.pk == first.pk
    assert row_counts() == counts


def test_reimporting_with_publish_publishes_the_identical_draft():
    draft = import_workflow(minimal_document())
    published = import_workflow(minimal_document(), publish=True)
    assert published.pk == draft.pk
    assert published.status == VersionStatus.PUBLISHED
    assert WorkflowVersion.objects.count() == 1


def test_reimporting_a_published_version_returns_it():
    published = import_workflow(minimal_document(), publish=True)
    assert import_workflow(minimal_document()).pk == published.pk
    assert import_workflow(minimal_document(), publish=True).pk == published.pk
    assert WorkflowVersion.objects.count() == 1


def test_defaults_written_out_do_not_make_a_document_different():
    import_workflow(minimal_document())
    doc = minimal_document(kind="workflow", description="", variables={})
    doc["transitions"][0]["default"] = False
    assert import_workflow(doc).number == 1


def test_only_the_latest_version_is_compared():
    import_workflow(minimal_document())
    import_workflow(minimal_document(name="Changed"))
    back = import_workflow(minimal_document())
    assert back.number == 3


def test_a_document_equal_to_a_retired_version_becomes_a_new_version():
    version = import_workflow(minimal_document(), publish=True)
    version.retire()
    version.save()
    assert import_workflow(minimal_document()).number == 2


def test_an_invalid_document_writes_nothing():
    import_workflow(minimal_document(description="Kept"))
    counts = row_counts()
    doc = minimal_document(name="Renamed", description="Changed")
    doc["steps"][1]["action"] = "nope"
    doc["transitions"][0]["to"] = "nowhere"
    with pytest.raises(WorkflowFormatError) as caught:
        import_workflow(doc)
    assert [e.path for e in caught.value.errors] == ["steps[1].action", "transitions[0].to"]
    assert "steps[1].action: unknown action 'nope'" in str(caught.value)
    assert row_counts() == counts
    definition = WorkflowDefinition.objects.get(key="minimal")
    assert (definition.name, definition.description) == ("Minimal", "Kept")


def test_a_failure_while_writing_rolls_everything_back(monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Transition.objects, "bulk_create", fail)
    with pytest.raises(RuntimeError):
        import_workflow(full_document(), publish=True)
    assert row_counts() == (0, 0, 0, 0)


def test_the_demo_workflows_import():
    for path in sorted((settings.BASE_DIR / "workflows").glob("*.yaml")):
        version = import_workflow(load_document(path.read_bytes(), path.name), publish=True)
        assert version.status == VersionStatus.PUBLISHED


# --- publish --------------------------------------------------------------------------


def test_publish_version():
    draft = import_workflow(minimal_document())
    published = publish_version(draft)
    assert published.status == VersionStatus.PUBLISHED
    assert published.published_at is not None
    draft.refresh_from_db()
    assert draft.status == VersionStatus.PUBLISHED


def test_publishing_a_published_version_changes_nothing():
    published = import_workflow(minimal_document(), publish=True)
    at = published.published_at
    again = publish_version(published)
    assert again.status == VersionStatus.PUBLISHED
    assert again.published_at == at


def test_publishing_a_retired_version_is_not_allowed():
    version = import_workflow(minimal_document(), publish=True)
    version.retire()
    version.save()
    with pytest.raises(TransitionNotAllowed):
        publish_version(version)


def test_a_draft_edited_into_an_invalid_workflow_is_not_published():
    draft = import_workflow(minimal_document())
    draft.transitions.filter(from_step="work").update(to_step="missing")
    with pytest.raises(WorkflowFormatError) as caught:
        publish_version(draft)
    assert [str(e) for e in caught.value.errors] == [
        "transitions[1].to: unknown step 'missing'",
    ]
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT


# --- export ---------------------------------------------------------------------------


def test_export_gives_the_imported_document():
    doc = full_document()
    version = import_workflow(doc)
    exported = export_version(version)
    assert exported == version.to_spec()
    assert exported == stored_spec(doc)
    del doc["kind"]  # not stored: every imported document is a workflow
    assert exported == doc


def test_an_import_of_an_export_is_the_same_workflow():
    original = import_workflow(full_document(), publish=True)
    text = dump_yaml(export_version(original))

    # Into the same definition: nothing changed, so no new version.
    assert import_workflow(load_document(text)).pk == original.pk

    # As another definition: an equal spec, step for step.
    copy = import_workflow(load_document(text.replace("key: every_step", "key: copied", 1)))
    assert copy.definition.key == "copied"
    assert {**copy.to_spec(), "key": "every_step"} == original.to_spec()


def test_a_draft_edited_in_the_admin_exports_what_it_now_is():
    version = import_workflow(minimal_document())
    work = version.steps.get(key="work")
    work.config["params"]["message"] = "edited"
    work.save()
    doc = load_document(dump_yaml(export_version(version)))
    assert step(doc, "work")["params"] == {"message": "edited"}
    assert import_workflow(doc).number == 1
