"""Workflows in the admin: import a YAML file, download a version, publish, retire."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from orchestrate.formats import dump_yaml, load_document
from orchestrate.models import VersionStatus, WorkflowVersion
from orchestrate.services.instances import StartError, start_instance

pytestmark = pytest.mark.django_db

IMPORT = reverse("admin:orchestrate_workflowdefinition_import")
VERSIONS = reverse("admin:orchestrate_workflowversion_changelist")

GOOD = b"""format: 1
key: hello
name: Hello
steps:
  - {key: start, type: start}
  - {key: end, type: end}
transitions:
  - {from: start, to: end}
"""


def upload(client, content, **extra):
    return client.post(IMPORT, {"file": SimpleUploadedFile("hello.yaml", content), **extra})


def test_the_list_offers_the_import_and_an_upload_imports_and_publishes(root_client):
    listing = root_client.get(reverse("admin:orchestrate_workflowdefinition_changelist"))
    assert IMPORT in listing.content.decode()
    response = upload(root_client, GOOD, publish="on")
    assert response.status_code == 302
    version = WorkflowVersion.objects.get(definition__key="hello")
    assert version.status == VersionStatus.PUBLISHED
    upload(root_client, GOOD)  # the same file again creates nothing
    assert WorkflowVersion.objects.filter(definition__key="hello").count() == 1


def test_a_broken_file_shows_every_problem_with_its_line_and_writes_nothing(root_client):
    broken = GOOD.replace(b"{from: start, to: end}", b"{from: start, to: nowhere}")
    page = upload(root_client, broken).content.decode()
    assert "The file was refused; nothing was written." in page
    assert "nowhere" in page and "(line 8)" in page
    assert not WorkflowVersion.objects.exists()
    page = upload(root_client, b"steps: [unclosed").content.decode()
    assert "The file was refused" in page


def test_a_version_downloads_as_the_yaml_the_command_writes(root_client):
    upload(root_client, GOOD, publish="on")
    version = WorkflowVersion.objects.get()
    response = root_client.get(
        reverse("admin:orchestrate_workflowversion_download", args=[version.pk])
    )
    assert response["Content-Disposition"] == 'attachment; filename="hello-v1.yaml"'
    assert response.content.decode() == dump_yaml(version.to_spec())
    assert load_document(response.content) == version.to_spec()


def test_publish_and_retire_actions(root_client, broker):
    upload(root_client, GOOD)
    version = WorkflowVersion.objects.get()
    root_client.post(VERSIONS, {"action": "retire_selected", "_selected_action": [version.pk]})
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT  # only a published version retires
    root_client.post(VERSIONS, {"action": "publish_selected", "_selected_action": [version.pk]})
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED
    start_instance(workflow_key="hello")
    root_client.post(VERSIONS, {"action": "retire_selected", "_selected_action": [version.pk]})
    version.refresh_from_db()
    assert version.status == VersionStatus.RETIRED
    with pytest.raises(StartError):
        start_instance(workflow_key="hello")


def test_a_new_draft_copies_the_current_version_once(root_client):
    upload(root_client, GOOD, publish="on")
    published = WorkflowVersion.objects.get()
    definitions = reverse("admin:orchestrate_workflowdefinition_changelist")
    selected = {"action": "new_draft", "_selected_action": [published.definition_id]}
    page = root_client.post(definitions, selected, follow=True).content.decode()
    assert "Draft hello v2 (draft) created." in page
    draft = WorkflowVersion.objects.get(status=VersionStatus.DRAFT)
    assert (draft.number, draft.to_spec()) == (2, published.to_spec())
    root_client.post(definitions, selected)
    assert WorkflowVersion.objects.count() == 2  # the open draft is kept
