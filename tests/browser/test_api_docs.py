"""An integrator reads the API documentation at /api/docs/ in a real browser: Swagger UI
loads from this server alone (no CDN), lists the operations, and "Try it out" calls the
API with the browser's session."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.tasks_inbox.factories import approval_workflow, start

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_load_without_any_other_server(page, live_server):
    hosts = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))

    page.goto("/api/docs/")

    expect(page.get_by_text("Orchestrate API", exact=False).first).to_be_visible()
    for path in ("/api/v1/instances/", "/api/v1/tasks/{id}/complete/", "/api/v1/events/"):
        expect(page.locator(f".opblock-summary-path[data-path='{path}']").first).to_be_visible()
    expect(page.locator(".opblock")).to_have_count(16)
    assert hosts == {urlsplit(live_server.url).netloc}


def test_try_it_out_lists_my_tasks_with_my_session(page, users):
    approval_workflow()
    start("approval", users["alice"])
    login(page, "bob")
    page.goto("/api/docs/")

    operation = page.locator("#operations-tasks-tasks_list")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.locator("tr[data-param-name='scope'] select").select_option("queue")
    operation.get_by_role("button", name="Execute").click()

    live = operation.locator(".live-responses-table")
    expect(live.locator("tbody .response-col_status").first).to_have_text("200")
    expect(live.locator(".microlight, .highlight-code").first).to_contain_text("Approve laptop")
