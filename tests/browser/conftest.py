"""Chromium driven by Playwright against pytest-django's live server.

One browser for the session, a fresh context (cookies, storage) and page per test, or more
with `new_page` when two people take turns. A failing test leaves a screenshot of every
page it opened in `var/test-artifacts/`.
"""

import os
import re
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; without this the ORM
# refuses to run in it (SynchronousOnlyOperation).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"
VIEWPORT = {"width": 1400, "height": 900}
TIMEOUT_MS = 5_000
PASSWORD = "secret-pass-123"  # tests.factories.UserFactory


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so fixtures know whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def chromium():
    """The session's browser (Debian's Chromium, not a Playwright download)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install it with `make chromium`")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(request, chromium, live_server, artifacts):
    """Open a page in a fresh browser context (another person's session).

    A script error or a missing stylesheet or script fails the test: the page would
    still pass the checks, but not look or behave as people see it.
    """
    contexts, broken = [], []

    def on_response(response):
        if response.status >= 400 and "/static/" in response.url:
            broken.append(f"{response.status} {response.url}")

    def open_page(viewport=None):
        context = chromium.new_context(base_url=live_server.url, viewport=viewport or VIEWPORT)
        context.set_default_timeout(TIMEOUT_MS)
        context.on("weberror", lambda error: broken.append(f"script error: {error.error}"))
        context.on("response", on_response)
        contexts.append(context)
        return context.new_page()

    yield open_page
    report = getattr(request.node, "report_call", None)
    failed = report is not None and report.failed
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    for number, context in enumerate(contexts, start=1):
        if failed:
            for page in context.pages:
                page.screenshot(path=artifacts / f"failed-{name}-{number}.png", full_page=True)
        context.close()
    if broken and not failed:
        pytest.fail("the pages had problems:\n" + "\n".join(broken))


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def users(broker):
    """alice (requester), bob and carol (managers), dave (directors), erin (no group).

    The `broker` records what services would send to workers, so no broker is needed;
    the live server runs in this process and records into it as well.
    """
    from tests.tasks_inbox.factories import people

    return people()


def login(page, username):
    """Log in through the login form; lands on the inbox."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/inbox/")
