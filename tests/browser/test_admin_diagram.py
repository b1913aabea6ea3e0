"""Mermaid, served from our static files, draws the instance's diagram in the browser."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from orchestrate.services.instances import start_instance
from tests.factories import UserFactory, edges, workflow

from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_instance_page_draws_the_diagram(page, broker):
    UserFactory(username="root", is_staff=True, is_superuser=True)
    workflow(
        "waiting",
        [
            {"key": "start", "type": "start"},
            {"key": "wait", "type": "message", "name": 'Wait for "go"', "correlate": "ref"},
            {"key": "end", "type": "end"},
        ],
        edges("start>wait", "wait>end"),
        variables={"ref": {"type": "string"}},
    )
    instance = start_instance(workflow_key="waiting", variables={"ref": "ACME-7"})[0]

    page.goto("/admin/login/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")
    page.goto(reverse("admin:orchestrate_instance_change", args=[instance.pk]))

    diagram = page.locator(".mermaid svg")
    expect(diagram).to_be_visible()
    expect(diagram.locator(".node.active")).to_have_count(1)
    expect(diagram).to_contain_text('Wait for "go"')
