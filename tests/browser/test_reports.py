"""A manager reads the SLA reports in a real browser: the charts are drawn, the tabs and
filters keep each other, a table downloads as CSV; and a screenshot for the README."""

import csv
import os
import shutil

import pytest
from django.contrib.auth.models import Group, Permission
from playwright.sync_api import expect

from tests.factories import UserFactory
from tests.tasks_inbox.reports_data import build_history

from .conftest import ARTIFACTS, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RANGE = "date_from=2026-03-02&date_to=2026-03-15"


@pytest.fixture
def maria(broker):
    """A manager in sla-viewers, and the history of `reports_data`. Transactional tests
    empty the tables, so the group and its permission are made here (not by migration)."""
    build_history()
    user = UserFactory(username="maria")
    group = Group.objects.get_or_create(name="sla-viewers")[0]
    group.permissions.add(Permission.objects.get(codename="view_reports"))
    user.groups.add(group)
    return user


def chart_drawn(page, chart_id):
    """Waits until Chart.js made a chart on the canvas of `chart_id` (fails after the
    timeout); True then."""
    page.wait_for_function(
        "id => window.Chart && !!window.Chart.getChart("
        "document.querySelector(`canvas[data-chart='${id}']`))",
        arg=chart_id,
    )
    return True


def drawn_series(page, chart_id):
    """What tells the drawn series of a chart apart besides colour."""
    return page.evaluate(
        """id => window.Chart.getChart(document.querySelector(`canvas[data-chart='${id}']`))
            .data.datasets.map(d => ({
                label: d.label,
                type: d.type,
                dashed: Array.isArray(d.borderDash) && d.borderDash.length > 0,
                point: d.pointStyle || null,
                pattern: d.backgroundColor instanceof CanvasPattern,
            }))""",
        chart_id,
    )


def test_a_manager_reads_the_reports(page, maria, artifacts, tmp_path):
    login(page, "maria")
    page.get_by_role("link", name="Reports").click()
    page.wait_for_url("**/reports/")
    expect(page.get_by_role("heading", name="Key figures")).to_be_visible()
    page.goto(f"/reports/?{RANGE}")
    expect(page.locator(".figure-card").filter(has_text="Instances started")).to_contain_text("10")
    expect(page.locator(".bottleneck")).to_contain_text(
        "Review (Expense claim): median wait 312 h (13 days), 100 % late"
    )
    assert chart_drawn(page, "chart-throughput")
    # Told apart by shape, not colour alone: bars, and a dashed line with diamond points.
    assert drawn_series(page, "chart-throughput") == [
        {"label": "Completed", "type": "bar", "dashed": False, "point": None, "pattern": False},
        {"label": "Started", "type": "line", "dashed": True, "point": "rectRot", "pattern": False},
    ]

    page.get_by_role("navigation", name="Reports").get_by_role("link", name="Steps").click()
    page.wait_for_url(f"**/reports/steps/?{RANGE}")
    assert chart_drawn(page, "chart-steps")
    # Solid bars and hatched (patterned) bars.
    assert [(s["label"], s["pattern"]) for s in drawn_series(page, "chart-steps")] == [
        ("Median wait", False),
        ("Median handling", True),
    ]
    steps = page.locator("[data-table=steps] tbody tr")
    expect(steps).to_have_count(3)

    page.get_by_label("Workflow").select_option(label="Purchase request")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/reports/steps/?*workflow=purchase*")
    expect(steps).to_have_count(2)
    expect(steps.first).to_contain_text("Director approval")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV of Steps, bottleneck first").click()
    saved = tmp_path / "steps.csv"
    download.value.save_as(saved)
    with saved.open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert [row[0] for row in rows] == ["Step", "Director approval", "Manager approval"]


def test_wrong_filters_are_shown_on_their_field(page, maria):
    login(page, "maria")
    page.goto("/reports/people/")
    page.get_by_label("From").fill("2026-03-20")
    page.get_by_label("To").fill("2026-03-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("The first day comes after the last day.")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Check the filters")


def test_no_reports_link_without_the_permission(page, maria):
    login(page, "bob")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_role("link", name="Reports")).to_have_count(0)


def test_reports_screenshot(page, maria, artifacts):
    """var/test-artifacts/reports.png; with README_SCREENSHOT=1 also docs/img/reports.png."""
    login(page, "maria")
    page.goto(f"/reports/steps/?{RANGE}")
    assert chart_drawn(page, "chart-steps")
    shot = artifacts / "reports.png"
    page.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 10_000
    page.goto(f"/reports/?{RANGE}")
    assert chart_drawn(page, "chart-throughput")
    overview = artifacts / "reports-overview.png"
    page.screenshot(path=overview, full_page=True)
    if os.environ.get("README_SCREENSHOT") == "1":
        readme_image = ARTIFACTS.parents[1] / "docs" / "img" / "reports.png"
        readme_image.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(overview, readme_image)
