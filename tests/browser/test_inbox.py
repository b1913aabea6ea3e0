"""What people do in the inbox, in a real browser: open, claim and decide a task, ask the
requester a question, decide several at once, use the keyboard, meet a colleague who was
faster, and read it all on a phone."""

import datetime
import os
import re
import shutil

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from orchestrate.models import Instance, InstanceStatus, WorkflowDefinition
from tasks_inbox.models import Task, TaskStatus
from tasks_inbox.services.tasks import complete_task
from tests.tasks_inbox.factories import approval_workflow, start

from .conftest import ARTIFACTS, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def approval(users):
    """The approval workflow: its tasks go to the managers (bob, carol), never alice."""
    return approval_workflow()


@pytest.fixture
def task(approval, users):
    """An open task in the managers' queue: alice asks for a laptop."""
    start("approval", users["alice"])
    return Task.objects.get()


def detail_pane(page):
    return page.get_by_role("region", name="Selected task")


def task_list(page):
    return page.locator(".inbox-list")


def messages(page):
    return page.locator("#messages")


def open_task(page, title):
    """Click a task in the list; its detail opens beside the list."""
    task_list(page).get_by_role("link", name=title).click()
    expect(detail_pane(page).get_by_role("heading", name=title)).to_be_visible()


def test_claim_comment_and_approve_from_the_queue(page, task, users):
    login(page, "bob")
    page.goto("/inbox/queue/")
    # The queue's count comes with the page; the other list's, asked for once it is shown.
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Queue")).to_contain_text("(1 task)")
    expect(nav.get_by_role("link", name="My tasks")).to_contain_text("(0 tasks)")
    # A mark on the window survives only if the page is not reloaded.
    page.evaluate("window.stillTheSamePage = true")
    open_task(page, "Approve laptop")
    expect(page).to_have_url(f"/inbox/queue/?task={task.pk}")
    assert page.evaluate("window.stillTheSamePage === true")
    expect(task_list(page).get_by_role("link", name="Approve laptop")).to_be_visible()

    detail_pane(page).get_by_role("button", name="Claim").click()
    expect(messages(page)).to_contain_text("You took “Approve laptop”.")
    detail = detail_pane(page)
    detail.get_by_label("Comment", exact=True).fill("Fine, within budget.")
    detail.get_by_role("button", name="Approve", exact=True).click()

    expect(messages(page)).to_contain_text("Approved: “Approve laptop”.")
    task.refresh_from_db()
    assert (task.status, task.outcome, task.decided_by) == (
        TaskStatus.COMPLETED,
        "approve",
        users["bob"],
    )
    assert Instance.objects.get(pk=task.instance_id).status == InstanceStatus.COMPLETED
    page.get_by_role("link", name="My tasks").click()
    expect(page.get_by_text("Nothing waits for you")).to_be_visible()
    expect(task_list(page).get_by_role("link", name="Approve laptop")).to_have_count(0)


def test_reject_needs_a_comment(page, task):
    login(page, "bob")
    page.goto(f"/inbox/queue/?task={task.pk}")
    detail_pane(page).get_by_role("button", name="Reject", exact=True).click()

    expect(page.get_by_text("A comment is required to reject.")).to_be_visible()
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN

    page.get_by_label("Comment", exact=True).fill("No budget left this quarter.")
    page.get_by_role("button", name="Reject", exact=True).click()
    expect(messages(page)).to_contain_text("Rejected: “Approve laptop”.")
    task.refresh_from_db()
    assert (task.status, task.outcome) == (TaskStatus.COMPLETED, "reject")
    assert Instance.objects.get(pk=task.instance_id).outcome == "rejected"


def test_ask_the_requester_then_decide_with_the_answer(page, new_page, task):
    login(page, "bob")
    page.goto("/inbox/queue/")
    open_task(page, "Approve laptop")
    detail = detail_pane(page)
    detail.get_by_text("Request information").click()
    detail.get_by_label("Question").fill("Which model, and for whom?")
    detail.get_by_role("button", name="Send question").click()
    expect(messages(page)).to_contain_text("Your question went to alice.")
    task.refresh_from_db()
    assert task.status == TaskStatus.INFO_REQUESTED

    alice = new_page()
    login(alice, "alice")
    open_task(alice, "Question: Approve laptop")
    question = detail_pane(alice)
    expect(question).to_contain_text("Which model, and for whom?")
    question.get_by_role("textbox", name="Answer").fill("A 14-inch one, for the new intern.")
    question.get_by_role("button", name="Send answer").click()
    expect(messages(alice)).to_contain_text("Your answer was sent.")

    page.get_by_role("link", name="My tasks").click()
    open_task(page, "Approve laptop")
    expect(detail_pane(page)).to_contain_text("A 14-inch one, for the new intern.")
    detail_pane(page).get_by_role("button", name="Approve", exact=True).click()
    expect(messages(page)).to_contain_text("Approved: “Approve laptop”.")
    assert Instance.objects.get(pk=task.instance_id).status == InstanceStatus.COMPLETED


def test_four_eyes_hide_a_request_from_its_requester(page, approval, users):
    users["alice"].groups.add(users["bob"].groups.get(name="managers"))
    start("approval", users["alice"])
    task = Task.objects.get()
    login(page, "alice")

    expect(page.get_by_text("Nothing waits for you")).to_be_visible()
    page.goto("/inbox/queue/")
    expect(page.get_by_text("The queue is empty")).to_be_visible()
    response = page.goto(f"/inbox/tasks/{task.pk}/")
    assert response.status == 404
    expect(page.get_by_role("link", name="Approve laptop")).to_have_count(0)
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN  # it waits for bob or carol


def test_bulk_approve_names_what_was_refused(page, approval, users):
    for item in ("pen", "desk", "chair"):
        start("approval", users["alice"], item=item)
    login(page, "bob")
    page.goto("/inbox/queue/")
    expect(task_list(page).get_by_role("link", name="Approve chair")).to_be_visible()
    chair = Task.objects.get(title="Approve chair")
    complete_task(chair.pk, actor=users["carol"], outcome="approve")  # meanwhile

    page.get_by_label("Select all").check()
    expect(page.get_by_text("3 selected")).to_be_visible()
    page.get_by_role("button", name="Approve selected").click()

    expect(messages(page)).to_contain_text(
        f"2 approved, 1 refused: #{chair.pk} already decided by carol"
    )
    decided = Task.objects.filter(status=TaskStatus.COMPLETED).values_list("title", "decided_by")
    assert set(decided) == {
        ("Approve pen", users["bob"].pk),
        ("Approve desk", users["bob"].pk),
        ("Approve chair", users["carol"].pk),
    }


def test_keyboard_moves_approves_and_rejects(page, approval, users):
    for item in ("pen", "desk"):
        start("approval", users["alice"], item=item)
    login(page, "bob")
    page.goto("/inbox/queue/")
    first = task_list(page).locator("[data-task-row]").first
    first_id = int(first.get_attribute("data-task-id"))

    page.keyboard.press("j")
    expect(first).to_have_class(re.compile(r"\bis-selected\b"))
    expect(detail_pane(page).locator(f'[data-task-id="{first_id}"]')).to_be_visible()
    page.keyboard.press("a")
    expect(messages(page)).to_contain_text("Approved:")
    approved = Task.objects.get(pk=first_id)
    assert (approved.status, approved.outcome) == (TaskStatus.COMPLETED, "approve")

    other = Task.objects.exclude(pk=first_id).get()
    page.keyboard.press("j")
    expect(detail_pane(page).get_by_role("heading", name=other.title)).to_be_visible()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.keyboard.press("r")
    expect(page.get_by_text("A comment is required to reject.")).to_be_visible()
    assert dialogs == ["Reject this task?"]
    other.refresh_from_db()
    assert other.status == TaskStatus.OPEN


def test_a_colleague_was_faster(page, task, users):
    login(page, "bob")
    page.goto("/inbox/queue/")
    open_task(page, "Approve laptop")
    complete_task(task.pk, actor=users["carol"], outcome="approve")

    detail_pane(page).get_by_role("button", name="Approve", exact=True).click()
    expect(messages(page)).to_contain_text("This task was already decided by carol: approve.")
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    task.refresh_from_db()
    assert task.decided_by == users["carol"]


def assert_stacked(page, width):
    """The list and the detail pane each take the full width, one under the other."""
    boxes = sorted(
        (task_list(page).bounding_box(), detail_pane(page).bounding_box()), key=lambda b: b["y"]
    )
    for box in boxes:
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
        assert box["width"] > width * 0.9
    upper, lower = boxes
    assert lower["y"] >= upper["y"] + upper["height"] - 1
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_panes_stack_on_a_narrow_screen(new_page, task, artifacts):
    page = new_page(viewport={"width": 420, "height": 900})
    login(page, "bob")
    page.goto("/inbox/queue/")
    open_task(page, "Approve laptop")
    assert_stacked(page, 420)
    # The opened task comes first, with a way back to the list.
    expect(detail_pane(page).get_by_role("heading", name="Approve laptop")).to_be_in_viewport()
    back = detail_pane(page).get_by_role("link", name="Back to the list")
    expect(back).to_be_visible()
    back.click()
    expect(task_list(page).get_by_role("link", name="Approve laptop")).to_be_in_viewport()

    page.goto(f"/inbox/queue/?task={task.pk}")  # a shared link to the task, on a phone
    expect(detail_pane(page).get_by_role("heading", name="Approve laptop")).to_be_in_viewport()
    assert_stacked(page, 420)
    expect(detail_pane(page).get_by_role("button", name="Approve", exact=True)).to_be_visible()
    page.screenshot(path=artifacts / "inbox-narrow.png", full_page=True)


# Workflows and requests that make the screenshot look like a working day's inbox.
LABELS = {
    "item": "Item",
    "amount": "Amount",
    "supplier": "Supplier",
    "cost_centre": "Cost centre",
    "country": "Country",
}
REALISTIC_WORKFLOWS = {
    "purchase_request": (
        "Purchase request",
        {
            "title": "Approve purchase: {{ item }}",
            "description": "{{ instance.started_by }} needs this for the team; quote attached.",
            "priority": "high",
            "due": "P2D",
        },
    ),
    "expense_claim": ("Expense claim", {"title": "Expense claim: {{ item }}", "due": "P5D"}),
    "vendor_onboarding": (
        "Vendor onboarding",
        {"title": "Review vendor {{ item }}", "priority": "low"},
    ),
    "travel_request": (
        "Travel request",
        {"title": "Approve travel: {{ item }}", "priority": "urgent", "due": "P1D"},
    ),
}
# (workflow, requester, waiting for, variables), oldest first.
REALISTIC_REQUESTS = [
    (
        "expense_claim",
        "erin",
        datetime.timedelta(days=6),
        {"item": "Client dinner in Lyon", "amount": "186.40 EUR", "cost_centre": "SALES-FR"},
    ),
    (
        "vendor_onboarding",
        "alice",
        datetime.timedelta(days=2),
        {"item": "Nordlicht Logistics GmbH", "country": "Germany"},
    ),
    (
        "purchase_request",
        "alice",
        datetime.timedelta(hours=5),
        {"item": "MacBook Pro 14 for the design team", "amount": "2,499 EUR", "supplier": "Apple"},
    ),
    (
        "travel_request",
        "erin",
        datetime.timedelta(hours=2),
        {"item": "Berlin trade fair, 3 nights", "amount": "1,120 EUR"},
    ),
    (
        "purchase_request",
        "alice",
        datetime.timedelta(minutes=20),
        {"item": "Standing desk", "amount": "640 EUR", "supplier": "Office Depot"},
    ),
]


def seed_inbox(users):
    """Several tasks in the managers' queue, one overdue; returns the one to show."""
    for key, (name, overrides) in REALISTIC_WORKFLOWS.items():
        version = approval_workflow(key=key, **overrides)
        WorkflowDefinition.objects.filter(key=key).update(name=name)
        version.variables = {n: {"type": "string", "label": label} for n, label in LABELS.items()}
        version.save(update_fields=["variables"])
    now = timezone.now()
    for key, requester, waiting, variables in REALISTIC_REQUESTS:
        instance = start(key, users[requester], **variables)
        Task.objects.filter(instance=instance).update(created_at=now - waiting)
    Task.objects.filter(title__startswith="Expense claim").update(
        due_at=now - datetime.timedelta(hours=20)
    )
    return Task.objects.get(title__startswith="Approve purchase: MacBook")


def test_inbox_screenshot(page, users, artifacts):
    """var/test-artifacts/inbox.png; with README_SCREENSHOT=1 also docs/img/inbox.png."""
    task = seed_inbox(users)
    login(page, "bob")
    page.goto("/inbox/queue/")
    open_task(page, task.title)
    expect(task_list(page).locator("[data-task-row].is-selected")).to_have_count(1)
    expect(detail_pane(page)).to_contain_text("2,499 EUR")

    shot = artifacts / "inbox.png"
    page.screenshot(path=shot)
    assert shot.stat().st_size > 10_000
    if os.environ.get("README_SCREENSHOT") == "1":
        readme_image = ARTIFACTS.parents[1] / "docs" / "img" / "inbox.png"
        readme_image.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, readme_image)
