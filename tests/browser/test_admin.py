"""Admins run workflows from the admin: upload a workflow file, publish it, start it from
the API and see its task in the inbox; a broken file is refused with the place."""

import pytest
from playwright.sync_api import expect
from rest_framework.authtoken.models import Token

from orchestrate.models import VersionStatus, WorkflowVersion
from tests.factories import UserFactory

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORKFLOW = """format: 1
key: laptop_request
name: Laptop request
variables:
  model: {type: string, required: true}
steps:
  - {key: start, type: start}
  - key: approve
    type: human
    title: "Approve a {{ model }}"
    assign: {group: managers, exclude: [initiator]}
  - {key: yes, type: end, outcome: approved}
  - {key: no, type: end, outcome: rejected}
transitions:
  - {from: start, to: approve}
  - {from: approve, to: yes, on: approve}
  - {from: approve, to: no, on: reject}
"""


def admin_login(page, user):
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("secret-pass-123")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")


def upload(page, name, text, *, publish):
    page.goto("/admin/orchestrate/workflowdefinition/")
    page.get_by_role("link", name="Import YAML").click()
    page.get_by_label("Workflow file (YAML)").set_input_files(
        files=[{"name": name, "mimeType": "application/yaml", "buffer": text.encode()}]
    )
    if publish:
        page.get_by_label("Publish it at once").check()
    page.get_by_role("button", name="Import").click()


def test_upload_publish_start_from_the_api_and_decide_in_the_inbox(new_page, users, live_server):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    page = new_page()
    admin_login(page, root)

    upload(page, "laptop.yaml", WORKFLOW.replace("on: reject}", "on: maybe}"), publish=True)
    expect(page.locator(".errornote")).to_contain_text("transitions[2].on")
    assert not WorkflowVersion.objects.exists()

    upload(page, "laptop.yaml", WORKFLOW, publish=True)
    expect(page.locator(".messagelist")).to_contain_text("Imported laptop_request v1")
    assert WorkflowVersion.objects.get().status == VersionStatus.PUBLISHED

    token = Token.objects.create(user=users["alice"])
    response = page.request.post(
        f"{live_server.url}/api/v1/instances/",
        data={"workflow": "laptop_request", "variables": {"model": "ThinkPad X1"}},
        headers={"Authorization": f"Token {token.key}"},
    )
    assert response.status == 201, response.text()

    bob = new_page()
    login(bob, "bob")
    bob.goto("/inbox/queue/")
    expect(bob.get_by_role("link", name="Approve a ThinkPad X1")).to_be_visible()
