"""Building and editing a draft in the admin: typed step settings checked with the
importer's rules, whole-draft problems listed and linked, publishing, read-only versions."""

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from orchestrate.admin_drafts import STEP_SETTINGS
from orchestrate.formats.validation import STEP_KEYS
from orchestrate.models import (
    Step,
    StepRun,
    StepType,
    Transition,
    VersionStatus,
    WorkflowVersion,
)
from orchestrate.services.definitions import create_draft, import_workflow, publish_version
from orchestrate.services.instances import start_instance
from orchestrate.services.messages import deliver_message
from tests.factories import waiting_workflow

from .drafts import add_row, change_url, page_data, row_index

pytestmark = pytest.mark.django_db

ADD_DEFINITION = reverse("admin:orchestrate_workflowdefinition_add")


def new_workflow(client, key="leave"):
    response = client.post(ADD_DEFINITION, {"key": key, "name": "Leave request"})
    assert response.status_code == 302
    return WorkflowVersion.objects.get(definition__key=key)


def test_the_editor_offers_every_setting_of_every_step_type():
    for step_type in StepType:
        assert tuple(s.key for s in STEP_SETTINGS[step_type]) == STEP_KEYS[step_type]


def test_a_new_definition_opens_a_valid_first_draft(root_client):
    response = root_client.post(ADD_DEFINITION, {"key": "leave", "name": "Leave request"})
    draft = WorkflowVersion.objects.get(definition__key="leave")
    assert response["Location"] == change_url(draft)
    assert draft.status == VersionStatus.DRAFT and draft.number == 1
    assert [s.key for s in draft.steps.all()] == ["start", "end"]
    page = root_client.get(change_url(draft)).content.decode()
    assert "This draft passes every rule of the importer" in page
    assert 'name="_publish"' in page


def test_a_taken_key_is_refused_at_its_field(root_client):
    new_workflow(root_client)
    response = root_client.post(ADD_DEFINITION, {"key": "leave", "name": "Another"})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert WorkflowVersion.objects.count() == 1


def test_adding_a_human_step_saves_its_typed_settings_in_the_format(root_client):
    draft = new_workflow(root_client)
    data = page_data(root_client.get(change_url(draft)))
    add_row(
        data,
        "steps",
        {
            "key": "approve_leave",
            "type": "human",
            "name": "Manager approval",
            "human__title": "Approve leave of {{ instance.business_key }}",
            "human__assign": "group: managers\nstrategy: claim",
            "human__outcomes": "approve, reject",
            "human__comment_required_for": "reject",
            "human__due": "P2D",
            "human__business": "on",
            "human__priority": "high",
            # A value typed for another type is not saved with a human step.
            "timer__duration": "PT1H",
        },
    )
    end = row_index(data, "transitions", "to_step", "end")
    data[f"transitions-{end}-to_step"] = "approve_leave"
    add_row(data, "transitions", {"from_step": "approve_leave", "to_step": "end", "on": "approve"})
    add_row(data, "transitions", {"from_step": "approve_leave", "to_step": "end", "on": "reject"})
    response = root_client.post(change_url(draft), {**data, "_continue": "Save"})
    assert response.status_code == 302, response.context["errors"]
    step = draft.steps.get(key="approve_leave")
    assert step.config == {
        "title": "Approve leave of {{ instance.business_key }}",
        "assign": {"group": "managers", "strategy": "claim"},
        "outcomes": ["approve", "reject"],
        "comment_required_for": ["reject"],
        "priority": "high",
        "due": "P2D",
        "business": True,
    }
    assert [s.key for s in draft.steps.all()] == ["start", "end", "approve_leave"]
    page = root_client.get(change_url(draft)).content.decode()
    assert "passes every rule of the importer" in page
    # What the form shows is what it saves: posting it again changes nothing.
    again = page_data(root_client.get(change_url(draft)))
    root_client.post(change_url(draft), {**again, "_continue": "Save"})
    assert draft.steps.get(key="approve_leave").config == step.config


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"type": "human", "human__due": "two days"}, "human__due", "ISO 8601"),
        ({"type": "human", "human__assign": "group: [unclosed"}, "human__assign", "Not valid YAML"),
        (
            {"type": "human", "human__assign": "group: managers\nstratgy: claim"},
            "human__assign",
            "stratgy",
        ),
        ({"type": "automated", "automated__action": "no_such_action"}, "automated__action", ""),
        ({"type": "automated"}, None, "action"),
        ({"type": "join", "join__mode": "count"}, None, "count"),
        ({"type": "message", "message__correlate": "a ==="}, "message__correlate", "CEL"),
        ({"type": "timer", "timer__duration": "soon"}, "timer__duration", "duration"),
    ],
)
def test_a_bad_setting_is_refused_at_its_field_with_the_importers_message(
    root_client, values, field, message
):
    draft = new_workflow(root_client)
    data = page_data(root_client.get(change_url(draft)))
    index = add_row(data, "steps", {"key": "broken", **values})
    response = root_client.post(change_url(draft), {**data, "_save": "Save"})
    assert response.status_code == 200
    form = response.context["inline_admin_formsets"][0].formset.forms[index]
    errors = form.errors.get(field or "__all__") or [e for es in form.errors.values() for e in es]
    assert errors, form.errors
    assert message.lower() in " ".join(errors).lower()
    assert not Step.objects.filter(key="broken").exists()


def test_a_bad_condition_is_refused_at_the_transition(root_client):
    draft = new_workflow(root_client)
    data = page_data(root_client.get(change_url(draft)))
    index = row_index(data, "transitions", "to_step", "end")
    data[f"transitions-{index}-when"] = "amount >"
    response = root_client.post(change_url(draft), {**data, "_save": "Save"})
    assert response.status_code == 200
    form = response.context["inline_admin_formsets"][1].formset.forms[index]
    assert "not a valid CEL expression" in form.errors["when"][0]
    assert not Transition.objects.filter(when="amount >").exists()


def test_a_broken_transition_is_saved_and_listed_at_the_top_with_a_link(root_client):
    draft = new_workflow(root_client)
    data = page_data(root_client.get(change_url(draft)))
    index = row_index(data, "transitions", "to_step", "end")
    data[f"transitions-{index}-to_step"] = "ned"
    response = root_client.post(change_url(draft), {**data, "_publish": "Save and publish"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT
    page = root_client.get(change_url(draft)).content.decode()
    assert "was saved but not published" in page
    assert "This draft has" in page and "cannot be published" in page
    assert 'href="#transitions-0"' in page
    assert "ned" in page and "did you mean" in page.lower()


def test_save_and_publish_freezes_the_draft(root_client):
    draft = new_workflow(root_client)
    data = page_data(root_client.get(change_url(draft)))
    response = root_client.post(change_url(draft), {**data, "_publish": "Save and publish"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == VersionStatus.PUBLISHED
    entry = LogEntry.objects.filter(object_id=str(draft.pk)).latest("action_time")
    assert entry.user.username == "root" and entry.get_change_message() == "Published."
    page = root_client.get(change_url(draft)).content.decode()
    assert 'name="_publish"' not in page and "draft-steps" not in page
    # A published version cannot be changed by posting to its page either.
    data["name"] = "Changed"
    response = root_client.post(change_url(draft), data)
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.name == "Leave request"


def test_a_draft_published_by_someone_else_meanwhile_is_not_changed(root_client):
    draft = new_workflow(root_client)
    data = page_data(root_client.get(change_url(draft)))
    publish_version(draft)
    data["name"] = "Too late"
    response = root_client.post(change_url(draft), {**data, "_save": "Save"})
    assert response.status_code in (302, 403)
    draft.refresh_from_db()
    assert draft.name == "Leave request"


def test_renaming_a_step_renames_it_in_the_transitions(root_client):
    draft = new_workflow(root_client)
    data = page_data(root_client.get(change_url(draft)))
    index = row_index(data, "steps", "key", "end")
    data[f"steps-{index}-key"] = "done"
    response = root_client.post(change_url(draft), {**data, "_continue": "Save"})
    assert response.status_code == 302
    assert list(draft.transitions.values_list("from_step", "to_step")) == [("start", "done")]


def test_a_new_draft_copies_the_current_version_and_running_instances_stay(root_client):
    doc = {
        "format": 1,
        "key": "hello",
        "name": "Hello",
        "steps": [{"key": "start", "type": "start"}, {"key": "end", "type": "end"}],
        "transitions": [{"from": "start", "to": "end"}],
    }
    v1 = import_workflow(doc, publish=True)
    draft, created = create_draft(v1.definition_id)
    assert created and draft.number == 2 and draft.to_spec() == v1.to_spec()
    data = page_data(root_client.get(change_url(draft)))
    data["name"] = "Hello again"
    root_client.post(change_url(draft), {**data, "_save": "Save"})
    v1.refresh_from_db()
    assert v1.name == "Hello" and draft.definition.current_version() == v1


def test_running_instances_stay_on_their_version_when_a_new_one_is_published(root_client, broker):
    v1 = waiting_workflow()
    running, _ = start_instance(workflow_key="waiting", variables={"ref": "A"})
    draft, _ = create_draft(v1.definition_id)
    data = page_data(root_client.get(change_url(draft)))
    index = row_index(data, "steps", "key", "end")
    data[f"steps-{index}-key"] = "finished"
    data[f"steps-{index}-end__outcome"] = "done_v2"
    response = root_client.post(change_url(draft), {**data, "_publish": "Save and publish"})
    assert response.status_code == 302
    newer, _ = start_instance(workflow_key="waiting", variables={"ref": "B"})
    assert (running.version_id, newer.version_id) == (v1.pk, draft.pk)

    deliver_message(name="go", correlation="A")
    deliver_message(name="go", correlation="B")
    running.refresh_from_db()
    newer.refresh_from_db()
    assert running.status == newer.status == "completed"
    ends = {
        run.instance_id: run.step_key
        for run in StepRun.objects.filter(
            instance__in=[running, newer], step_key__in=["end", "finished"]
        )
    }
    assert ends == {running.pk: "end", newer.pk: "finished"}
