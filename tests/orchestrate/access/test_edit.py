"""Who may edit a workflow: `change_workflowdefinition` granted on one definition lets a
staff member see and edit that definition and its drafts in the admin, and nothing else;
managing permissions needs guardian's own permissions."""

import pytest
from django.urls import reverse
from guardian.shortcuts import assign_perm

from orchestrate.models import WorkflowVersion
from orchestrate.services.definitions import create_draft
from tests.factories import UserFactory
from tests.orchestrate.admin.drafts import change_url, page_data

pytestmark = pytest.mark.django_db

VERSIONS = reverse("admin:orchestrate_workflowversion_changelist")
DEFINITIONS = reverse("admin:orchestrate_workflowdefinition_changelist")


@pytest.fixture
def editor(client, purchase_request):
    user = UserFactory(username="ed", is_staff=True)
    assign_perm("orchestrate.change_workflowdefinition", user, purchase_request)
    client.force_login(user)
    return client


def test_the_editor_sees_only_the_definition_granted(editor, purchase_request, leave_request):
    assert editor.get("/admin/").status_code == 200
    listing = editor.get(DEFINITIONS).content.decode()
    assert "purchase_request" in listing and "leave_request" not in listing
    versions = editor.get(VERSIONS).content.decode()
    assert "purchase_request v1" in versions and "leave_request" not in versions
    other = leave_request.versions.get()
    assert editor.get(change_url(other)).status_code == 302  # "doesn't exist", to the index


def test_the_editor_edits_and_publishes_a_draft_of_that_definition(
    editor, purchase_request, leave_request
):
    draft, _ = create_draft(purchase_request.pk)
    data = page_data(editor.get(change_url(draft)))
    assert "steps-TOTAL_FORMS" in data  # the step rows are editable
    data["name"] = "Purchase request, reworded"
    response = editor.post(change_url(draft), {**data, "_publish": "Save and publish"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.name == "Purchase request, reworded" and draft.status == "published"

    other, _ = create_draft(leave_request.pk)
    response = editor.post(change_url(other), {"name": "hijacked"})
    assert response.status_code in (302, 403)
    assert WorkflowVersion.objects.get(pk=other.pk).name != "hijacked"


def test_without_a_grant_a_staff_member_sees_no_workflow(client, purchase_request):
    client.force_login(UserFactory(is_staff=True))
    assert client.get(DEFINITIONS).status_code == 403
    draft, _ = create_draft(purchase_request.pk)
    assert client.get(change_url(draft)).status_code == 403


def test_an_editor_cannot_manage_who_may_do_what(editor, purchase_request):
    url = reverse("admin:orchestrate_workflowdefinition_permissions", args=[purchase_request.pk])
    response = editor.get(url)
    assert response.status_code == 302
    assert "Can start instances" not in editor.get(url, follow=True).content.decode()
