"""An admin builds a workflow in the admin from nothing: adds steps with their settings,
wires transitions, sees a broken transition listed at the top, fixes it, publishes; the
workflow then starts from the API and its task reaches the inbox. A decision table is
tried in its "Try it" panel."""

import pytest
from playwright.sync_api import expect
from rest_framework.authtoken.models import Token

from orchestrate.formats import load_document
from orchestrate.models import VersionStatus, WorkflowVersion
from orchestrate.services.definitions import import_workflow
from tests.factories import UserFactory

from .conftest import login
from .test_admin import admin_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def add_step(page, index, key, step_type, settings):
    page.get_by_text("Add another Step").click()
    row = page.locator(f"#steps-{index}")
    row.locator(f"#id_steps-{index}-key").fill(key)
    row.locator(f"#id_steps-{index}-type").select_option(step_type)
    for name, value in settings.items():
        row.locator(f"#id_steps-{index}-{step_type}__{name}").fill(value)


def add_transition(page, index, from_step, to_step, on=""):
    page.get_by_text("Add another Transition").click()
    page.locator(f"#id_transitions-{index}-from_step").fill(from_step)
    page.locator(f"#id_transitions-{index}-to_step").fill(to_step)
    if on:
        page.locator(f"#id_transitions-{index}-on").fill(on)


def test_build_a_workflow_in_the_admin_publish_it_and_work_its_task(new_page, users, live_server):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    page = new_page()
    admin_login(page, root)

    page.goto("/admin/orchestrate/workflowdefinition/add/")
    page.get_by_label("Key").fill("laptop_request")
    page.get_by_label("Name").fill("Laptop request")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("draft v1")
    expect(page.locator("#draft-problems")).to_contain_text("passes every rule")

    page.locator("#id_variables").fill('{"model": {"type": "string", "required": true}}')
    add_step(page, 2, "approve", "human", {"title": "Approve a {{ model }}"})
    human_settings = page.locator("#steps-2 fieldset.step-settings-human")
    expect(human_settings).to_be_visible()
    expect(page.locator("#steps-2 fieldset.step-settings-timer")).to_be_hidden()
    page.locator("#id_steps-2-human__assign").fill("group: managers\nexclude: [initiator]")
    add_step(page, 3, "rejected", "end", {"outcome": "rejected"})
    page.locator("#id_transitions-0-to_step").fill("approve")
    add_transition(page, 1, "approve", "end", on="approve")
    add_transition(page, 2, "approve", "rejectd", on="reject")  # a typo
    page.get_by_role("button", name="Save and continue editing").click()

    problems = page.locator("#draft-problems")
    expect(problems).to_contain_text("cannot be published")
    expect(problems).to_contain_text("rejectd")
    problems.get_by_role("link", name="transitions[2].to").click()
    page.wait_for_url("**#transitions-2")
    page.locator("#id_transitions-2-to_step").fill("rejected")
    page.get_by_role("button", name="Save and publish").click()
    expect(page.locator(".messagelist")).to_contain_text("published")
    version = WorkflowVersion.objects.get(definition__key="laptop_request")
    assert version.status == VersionStatus.PUBLISHED
    assert version.steps.get(key="approve").config == {
        "title": "Approve a {{ model }}",
        "assign": {"group": "managers", "exclude": ["initiator"]},
    }

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


def test_try_a_decision_table(new_page, settings):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    with open(settings.BASE_DIR / "workflows" / "decision_tables" / "discount.yaml", "rb") as f:
        table = import_workflow(load_document(f.read()), publish=True)
    page = new_page()
    admin_login(page, root)
    page.goto(f"/admin/orchestrate/decisiontableversion/{table.pk}/change/")
    page.get_by_role("link", name="Evaluate this version with sample variables").click()
    page.get_by_label("Variables").fill('{"customer": {"tier": "gold"}, "amount": 1200}')
    page.get_by_role("button", name="Evaluate").click()
    expect(page.locator("#try-matched")).to_have_text("1, 3")
    expect(page.locator("#try-outputs")).to_contain_text('"discount": 0.1')
    page.get_by_label("Variables").fill('{"customer": {"tier": "silver"}, "amount": 50}')
    page.get_by_role("button", name="Evaluate").click()
    expect(page.locator("#try-matched")).to_have_text("3")
    expect(page.locator("#try-outputs")).to_contain_text('"discount": 0')
