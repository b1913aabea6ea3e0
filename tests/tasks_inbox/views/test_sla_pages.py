"""Time on the inbox pages: the SLA badge, sorting and filtering by it, snoozing, the due
time in words, the stopped clock, the timeline's reminders and escalations, and the
manager on the profile page, on a controlled clock."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from orchestrate.models import AuditEvent, AuditKind
from tasks_inbox.models import Profile, SavedView, Task
from tasks_inbox.services import sla
from tasks_inbox.services.tasks import claim_task, complete_task, request_info, snooze_task
from tests.tasks_inbox.factories import approval_workflow, start

from .conftest import messages_of

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)  # a Monday


def at(hours):
    return T0 + datetime.timedelta(hours=hours)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def task_of(key="approval"):
    return Task.objects.get(instance__definition__key=key, kind="decision")


def task_url(task, name="task"):
    return reverse(f"inbox:{name}", args=[task.pk])


def ids(response):
    return [task.pk for task in response.context["page"]]


def badge(state, label):
    return (
        f'<span class="pill sla-{state}"><span class="visually-hidden">SLA: </span>{label}</span>'
    )


# --- the badge ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("hours", "state", "label"),
    [(1, "on_track", "On track"), (6.5, "at_risk", "At risk"), (9, "breached", "Breached")],
)
def test_each_row_and_the_task_page_show_the_sla_state_in_words(
    clock, login, users, hours, state, label
):
    approval_workflow(due="PT8H")
    start("approval", users["alice"])
    task = task_of()
    clock.move_to(at(hours))
    client = login("bob")

    row = client.get(reverse("inbox:queue")).content.decode()
    page = client.get(task_url(task)).content.decode()

    assert badge(state, label) in row
    assert badge(state, label) in page
    for other in {"on_track", "at_risk", "breached"} - {state}:
        assert f"sla-{other}" not in row


def test_a_task_without_a_due_time_has_no_badge(clock, login, task):
    html = login("bob").get(reverse("inbox:queue")).content.decode()
    assert "pill sla-" not in html


# --- sorting, filtering and saved views ---------------------------------------------------
def test_the_filters_offer_the_sla_state_the_sla_sort_and_the_snoozed_toggle(login, task):
    html = login("bob").get(reverse("inbox:queue")).content.decode()
    assert '<label for="filter-sla">SLA</label>' in html
    for value, label in (
        ("on_track", "On track"),
        ("at_risk", "At risk"),
        ("breached", "Breached"),
    ):
        assert f'<option value="{value}">{label}</option>' in html
    assert '<option value="sla">SLA (most urgent first)</option>' in html
    assert 'type="checkbox" name="snoozed"' in html and "Snoozed" in html


def test_the_list_sorts_by_sla_and_filters_by_state(clock, login, users):
    approval_workflow(key="slow", due="PT10H")
    approval_workflow(key="fast", due="PT2H")
    approval_workflow(key="none")
    for key in ("slow", "fast", "none"):
        start(key, users["alice"])
    slow, fast, none = task_of("slow"), task_of("fast"), task_of("none")
    clock.move_to(at(1.8))
    client = login("bob")

    by_sla = ids(client.get(reverse("inbox:queue"), {"sort": "sla"}))
    assert [pk for pk in by_sla if pk != none.pk] == [fast.pk, slow.pk]
    assert by_sla[0] == fast.pk
    assert ids(client.get(reverse("inbox:queue"), {"sla": "at_risk"})) == [fast.pk]
    assert ids(client.get(reverse("inbox:queue"), {"sla": "on_track"})) == [none.pk, slow.pk]
    assert ids(client.get(reverse("inbox:queue"), {"sla": "late"})) == [none.pk, fast.pk, slow.pk]


def test_a_saved_view_keeps_the_sla_filter_and_the_snoozed_toggle(login, users, task):
    client = login("bob")
    client.post(
        reverse("inbox:save-view"),
        {"name": "Hot", "scope": "mine", "sla": "breached", "snoozed": "1", "sort": "sla"},
    )
    view = SavedView.objects.get(owner=users["bob"])
    assert view.params == {"sla": "breached", "snoozed": "1", "sort": "sla"}
    response = client.get(reverse("inbox:mine"), view.params)
    assert [item["active"] for item in response.context["saved_views"]] == [True]


# --- snoozing --------------------------------------------------------------------------
@pytest.fixture
def held(clock, users):
    """A task bob holds, due in 8 hours."""
    approval_workflow(due="PT8H", assign={"to": "bob"})
    start("approval", users["alice"])
    return task_of()


def test_only_the_holder_of_a_live_task_is_offered_the_snooze_form(clock, login, users, task):
    assert "Snooze until" not in login("bob").get(task_url(task)).content.decode()  # open
    claim_task(task.pk, actor=users["bob"])
    html = login("bob").get(task_url(task)).content.decode()
    assert f'<label for="snooze{task.pk}-until">Snooze until</label>' in html
    assert 'type="datetime-local"' in html
    assert f'action="{task_url(task, "snooze")}"' in html
    for button in ("Until tomorrow 9:00", "1 hour"):
        assert button in html
    assert "Snooze until" not in login("carol").get(task_url(task)).content.decode()
    complete_task(task.pk, actor=users["bob"], outcome="approve")
    assert "Snooze until" not in login("bob").get(task_url(task)).content.decode()


def test_the_substitute_of_an_away_holder_may_snooze(clock, login, users, held):
    Profile.objects.create(
        user=users["bob"],
        absent_from=T0.date(),
        absent_until=T0.date(),
        substitute=users["carol"],
    )
    assert "Snooze until" in login("carol").get(task_url(held)).content.decode()


def test_snoozing_until_tomorrow_hides_the_task_until_then(clock, login, users, held):
    client = login("bob")
    back = f"/inbox/?task={held.pk}"
    response = client.post(task_url(held, "snooze"), {"preset": "tomorrow", "next": back})

    assert response.status_code == 302 and response["Location"] == "/inbox/"
    held.refresh_from_db()
    assert held.snoozed_until == datetime.datetime(2026, 3, 3, 9, 0, tzinfo=datetime.UTC)
    assert messages_of(client.get("/inbox/")) == [
        "“Approve laptop” is snoozed until Tue 3 Mar, 09:00."
    ]
    assert ids(client.get(reverse("inbox:mine"))) == []
    snoozed = client.get(reverse("inbox:mine"), {"snoozed": "1"})
    assert ids(snoozed) == [held.pk]
    assert "Snoozed until" in snoozed.content.decode()
    page = client.get(task_url(held)).content.decode()
    assert "Snoozed until" in page and "the clock runs on" in page and "Unsnooze" in page
    assert "snoozed until Tue 09:00" in page  # the timeline
    clock.move_to(datetime.datetime(2026, 3, 3, 9, 0, tzinfo=datetime.UTC))
    assert ids(client.get(reverse("inbox:mine"))) == [held.pk]


def test_snoozing_for_an_hour_or_until_a_chosen_time(clock, login, held):
    client = login("bob")
    client.post(task_url(held, "snooze"), {"preset": "hour"})
    held.refresh_from_db()
    assert held.snoozed_until == at(1)
    client.post(task_url(held, "snooze"), {"until": "2026-03-02T14:30"})
    held.refresh_from_db()
    assert held.snoozed_until == at(5.5)
    assert AuditEvent.objects.filter(kind=AuditKind.TASK_SNOOZED).count() == 2


def test_unsnooze_brings_the_task_back(clock, login, users, held):
    snooze_task(held.pk, actor=users["bob"], until=at(3))
    client = login("bob")
    response = client.post(task_url(held, "snooze"), {"preset": "wake"}, follow=True)
    assert messages_of(response) == ["“Approve laptop” is back in your inbox."]
    held.refresh_from_db()
    assert held.snoozed_until is None
    assert ids(client.get(reverse("inbox:mine"))) == [held.pk]
    assert "unsnoozed the task" in response.content.decode()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"until": "2026-03-02T08:00"}, "Choose a time in the future."),
        ({"until": ""}, "Choose a time, or one of the quick buttons."),
        ({"until": "someday"}, "Enter a valid date/time."),
    ],
)
def test_a_wrong_snooze_time_is_shown_on_its_field(clock, login, held, data, error):
    response = login("bob").post(task_url(held, "snooze"), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert error in html
    assert response.context["snooze_form"].errors["until"] == [error]
    held.refresh_from_db()
    assert held.snoozed_until is None


def test_others_cannot_snooze(clock, login, users, task):
    claim_task(task.pk, actor=users["bob"])
    response = login("carol").post(task_url(task, "snooze"), {"preset": "hour"}, follow=True)
    assert messages_of(response) == ["Only the person holding a task can snooze it."]
    assert login("erin").post(task_url(task, "snooze"), {"preset": "hour"}).status_code == 404
    task.refresh_from_db()
    assert task.snoozed_until is None


# --- the due time, the stopped clock and the figures ------------------------------------
def test_the_task_page_explains_the_due_time(clock, login, held):
    html = login("bob").get(task_url(held)).content.decode()
    assert held.due_explanation
    assert held.due_explanation[:1].upper() + held.due_explanation[1:] in html


def test_the_clock_stops_while_a_question_waits_and_the_figures_count_net_time(
    clock, login, users, held
):
    clock.move_to(at(2))
    info = request_info(held.pk, actor=users["bob"], question="Which model?")
    clock.move_to(at(4))
    html = login("bob").get(task_url(held)).content.decode()
    assert "Clock stopped while a question waits" in html
    assert "2 h 0 min on the clock" in html  # 4 h since created, 2 h of them paused
    assert "4 h 0 min since created, less 2 h 0 min waiting for answers" in html

    clock.move_to(at(5))
    complete_task(info.pk, actor=users["alice"], comment="The X1")
    clock.move_to(at(6))
    html = login("bob").get(task_url(held)).content.decode()
    assert "Clock stopped while" not in html
    assert "3 h 0 min on the clock" in html
    assert "6 h 0 min since created, less 3 h 0 min waiting for answers" in html
    timeline = [entry["text"] for entry in login("bob").get(task_url(held)).context["timeline"]]
    assert "Clock stopped: a question waits" in timeline
    assert "Clock runs again after 3 h 0 min" in timeline


# --- the timeline ----------------------------------------------------------------------
def test_the_timeline_tells_of_reminders_and_escalation_levels(clock, login, users):
    approval_workflow(
        due="PT8H",
        assign={"to": "bob"},
        reminders=["PT6H"],
        escalation=[
            {"after": "PT1H", "action": "notify", "to": {"user": "dave"}},
            {"after": "PT2H", "action": "raise_priority"},
            {"after": "PT3H", "action": "raise_priority"},
            {"after": "PT4H", "action": "reassign", "to": {"group": "directors"}},
            {"after": "PT9H", "action": "complete", "outcome": "reject"},
        ],
    )
    start("approval", users["alice"])
    task = task_of()
    clock.move_to(at(9))
    assert sla.fire_due_timers() == 6
    response = login("dave").get(task_url(task))  # the directors' task now
    entries = [(entry["actor"], entry["text"]) for entry in response.context["timeline"]]
    for text in (
        "Escalation level 1: notified dave",
        "Reminder 1 sent",
        "Escalation level 2: priority normal → high",
        "Escalation level 3: priority high → urgent",
        "Escalation level 4: reassigned from bob to queue directors",
        "Escalation level 5: decided reject",
    ):
        assert (None, text) in entries
    assert "Escalation level 3: priority high → urgent" in response.content.decode()


# --- the manager on the profile page -------------------------------------------------------
def test_the_profile_page_sets_the_manager_and_keeps_it_when_back(login, users):
    client = login("bob")
    html = client.get(reverse("inbox:profile")).content.decode()
    assert '<label for="away-manager">Manager</label>' in html
    assert f'<option value="{users["dave"].pk}">dave</option>' in html

    client.post(reverse("inbox:profile"), {"manager": users["dave"].pk})
    assert Profile.objects.get(user=users["bob"]).manager == users["dave"]
    html = client.get(reverse("inbox:profile")).content.decode()
    assert f'<option value="{users["dave"].pk}" selected>dave</option>' in html

    client.post(
        reverse("inbox:profile"),
        {"absent_from": "2030-05-01", "substitute": users["carol"].pk, "manager": users["dave"].pk},
    )
    html = client.get(reverse("inbox:profile")).content.decode()
    assert f'name="manager" value="{users["dave"].pk}"' in html  # in the "I am back" form
    client.post(
        reverse("inbox:profile"),
        {"absent_from": "", "absent_until": "", "substitute": "", "manager": users["dave"].pk},
    )
    profile = Profile.objects.get(user=users["bob"])
    assert (profile.absent_from, profile.manager) == (None, users["dave"])


def test_nobody_is_their_own_manager_and_a_deactivated_manager_stays_valid(login, users):
    client = login("bob")
    response = client.post(reverse("inbox:profile"), {"manager": users["bob"].pk})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    Profile.objects.create(user=users["bob"], manager=users["dave"])
    users["dave"].is_active = False
    users["dave"].save()
    response = client.post(reverse("inbox:profile"), {"manager": users["dave"].pk})
    assert response.status_code == 302
