"""The admin's view of time: each task's SLA state (listed, sortable, read-only on its
page), its escalation history, and the manager on a person's profile."""

import datetime

import pytest
import time_machine

from tasks_inbox.models import Profile, Task
from tasks_inbox.services import sla
from tests.tasks_inbox.factories import approval_workflow, start

pytestmark = pytest.mark.django_db

TASKS = "/admin/tasks_inbox/task/"
T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)  # a Monday


def at(hours):
    return T0 + datetime.timedelta(hours=hours)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def task_of(key):
    return Task.objects.get(instance__definition__key=key, kind="decision")


def test_the_task_list_shows_and_sorts_by_the_sla_state(clock, admin_client, users):
    approval_workflow(key="slow", due="PT10H")
    approval_workflow(key="fast", due="PT2H")
    approval_workflow(key="late", due="PT1H")
    for key in ("slow", "fast", "late"):
        start(key, users["alice"])
    clock.move_to(at(1.8))

    listing = admin_client.get(TASKS)
    column = listing.context["cl"].list_display.index("sla_state")
    by_sla = admin_client.get(TASKS, {"o": f"-{column}"})

    assert listing.status_code == 200
    assert "column-sla_state" in listing.text
    for label in ("on track", "at risk", "breached"):
        assert f'<td class="field-sla_state">{label}</td>' in listing.text
    assert [t.instance.definition.key for t in by_sla.context["cl"].result_list] == [
        "late",
        "fast",
        "slow",
    ]


def test_the_task_page_shows_the_sla_read_only_and_the_escalation_history(
    clock, admin_client, users
):
    approval_workflow(
        due="PT8H",
        assign={"to": "bob"},
        reminders=["PT2H"],
        escalation=[
            {"after": "PT1H", "action": "raise_priority"},
            {"after": "PT4H", "action": "notify", "to": {"user": "dave"}},
        ],
    )
    start("approval", users["alice"])
    task = Task.objects.get()
    clock.move_to(at(1))
    assert sla.fire_due_timers() == 1

    response = admin_client.get(f"{TASKS}{task.pk}/change/")

    assert response.status_code == 200
    html = response.text
    assert "Escalation history" in html
    assert "priority normal → high" in html  # the fired level's result
    assert html.count("<p>Fired</p>") == 1
    assert html.count("<p>Pending</p>") == 2  # the reminder and the second level
    for field in ("sla_state", "due_explanation", "at_risk_at", "paused_seconds"):
        assert f"field-{field}" in html
    form = response.context["adminform"].form
    assert "sla_state" not in form.fields and "paused_seconds" not in form.fields
    inline = response.context["inline_admin_formsets"][0]
    assert inline.opts.verbose_name_plural == "Escalation history"
    assert not inline.has_add_permission and not inline.has_delete_permission


def test_a_profiles_manager_is_listed_and_saved(admin_client, users):
    response = admin_client.post(
        "/admin/tasks_inbox/profile/add/",
        {"user": users["bob"].pk, "manager": users["dave"].pk},
    )
    assert response.status_code == 302
    assert Profile.objects.get(user=users["bob"]).manager == users["dave"]
    listing = admin_client.get("/admin/tasks_inbox/profile/")
    assert '<td class="field-manager nowrap">dave</td>' in listing.text


def test_nobody_is_their_own_manager(admin_client, users):
    response = admin_client.post(
        "/admin/tasks_inbox/profile/add/",
        {"user": users["bob"].pk, "manager": users["bob"].pk},
    )
    assert response.status_code == 200
    assert "A person cannot be their own manager." in response.text
    assert not Profile.objects.exists()
