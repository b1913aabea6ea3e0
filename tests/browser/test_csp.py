"""The Content-Security-Policy blocks nothing our pages need: the inbox with htmx, a task,
the admin's draft editor with its Mermaid diagram, the reports with Chart.js and the API
docs with Swagger UI all work under it, and the browser reports no violation."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from playwright.sync_api import expect

from orchestrate.models import VersionStatus
from tasks_inbox.models import Task
from tests.factories import UserFactory, version_from_spec
from tests.tasks_inbox.factories import approval_workflow, start
from tests.tasks_inbox.reports_data import build_history

from .conftest import login
from .test_admin import admin_login
from .test_reports import chart_drawn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs before any script of each page (Playwright's init scripts are exempt from the
# page's policy) and keeps every violation the browser reports.
COLLECT_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} on ${location.pathname}`
  );
});
"""


@pytest.fixture
def watched(new_page):
    """A page whose CSP violations and CSP console errors are collected; `check()` fails
    the test with the list of them."""
    page = new_page()
    page.add_init_script(COLLECT_VIOLATIONS)
    console = []
    page.on(
        "console",
        lambda message: (
            console.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    def check():
        found = console + page.evaluate("window.cspViolations")
        assert found == [], "\n".join(found)

    page.check_csp = check
    return page


def test_the_inbox_and_a_task_work_under_the_policy(watched, users):
    approval_workflow()
    start("approval", users["alice"])
    task = Task.objects.get()
    login(watched, "bob")
    assert "script-src 'self'" in watched.evaluate(
        "fetch(location.href).then(r => r.headers.get('content-security-policy'))"
    )
    watched.goto("/inbox/queue/")
    watched.get_by_role("link", name="Approve laptop").click()
    detail = watched.get_by_role("region", name="Selected task")
    expect(detail.get_by_role("heading", name="Approve laptop")).to_be_visible()
    detail.get_by_role("button", name="Claim").click()  # an htmx request with its swap
    expect(watched.locator("#messages")).to_contain_text("You took “Approve laptop”.")
    watched.check_csp()

    watched.goto(f"/inbox/tasks/{task.pk}/")
    expect(watched.get_by_role("heading", name="Approve laptop")).to_be_visible()
    watched.check_csp()


def test_the_draft_editor_draws_its_diagram_under_the_policy(watched):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    draft = version_from_spec(
        {
            "key": "laptop",
            "name": "Laptop request",
            "steps": [
                {"key": "start", "type": "start"},
                {
                    "key": "approve",
                    "type": "human",
                    "title": "Approve",
                    "assign": {"group": "managers"},
                },
                {"key": "end", "type": "end"},
            ],
            "transitions": [{"from": "start", "to": "approve"}, {"from": "approve", "to": "end"}],
        },
        status=VersionStatus.DRAFT,
    )
    admin_login(watched, root)
    watched.goto(reverse("admin:orchestrate_workflowversion_change", args=[draft.pk]))
    expect(watched.locator(".mermaid svg")).to_be_visible()
    expect(watched.locator(".mermaid svg")).to_contain_text("approve")
    # The editor's own script shows the settings of the chosen step type only.
    watched.get_by_text("Add another Step").click()
    watched.locator("#id_steps-3-type").select_option("timer")
    expect(watched.locator("#steps-3 fieldset.step-settings-timer")).to_be_visible()
    expect(watched.locator("#steps-3 fieldset.step-settings-human")).to_be_hidden()
    watched.check_csp()


def test_the_reports_draw_their_charts_under_the_policy(watched, broker):
    build_history()
    maria = UserFactory(username="maria")
    group = Group.objects.get_or_create(name="sla-viewers")[0]
    group.permissions.add(Permission.objects.get(codename="view_reports"))
    maria.groups.add(group)
    login(watched, "maria")
    watched.goto("/reports/?date_from=2026-03-02&date_to=2026-03-15")
    assert chart_drawn(watched, "chart-throughput")
    watched.check_csp()


def test_the_api_docs_work_under_the_policy(watched, users):
    login(watched, "bob")
    watched.goto("/api/docs/")
    expect(watched.locator(".swagger-ui .opblock").first).to_be_visible()
    expect(watched.get_by_text("Orchestrate API")).to_be_visible()
    watched.check_csp()
