"""The XSS corpus in Chromium: every payload in every free-text field, the pages that show
them opened as the people who see them, and no payload runs (none sets `window.__xss`,
retitles the page or opens a dialog)."""

import pytest
from django.test import Client
from django.urls import reverse

from orchestrate.models import Instance
from tests.security.test_xss import build_world
from tests.security.xss_corpus import PAYLOADS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worlds(broker):
    """One workflow per payload, each with its requests, conversation and mails."""
    return [
        build_world(payload, broker, key=f"xss{number}") for number, payload in enumerate(PAYLOADS)
    ]


def signed_in(new_page, live_server, user):
    """A page whose browser holds `user`'s session (no login form: many people, quickly)."""
    client = Client()
    client.force_login(user)
    page = new_page()
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs
    return page


def ran(page):
    """What a payload did on the open page, or None."""
    if page.evaluate("() => window.__xss") is not None:
        return "window.__xss was set"
    if page.title() == "XSS":
        return "the title was changed"
    if page.dialogs:
        return f"a dialog opened: {page.dialogs}"
    return None


def test_no_payload_runs_on_any_page(new_page, live_server, worlds):
    users = worlds[0]["users"]
    first = Instance.objects.order_by("pk").first()
    visits = {
        "bob": [
            reverse("inbox:mine"),
            reverse("inbox:queue"),
            reverse("inbox:done"),
            *(reverse("inbox:task", args=[w["held"].pk]) for w in worlds),
            *(f"{reverse('inbox:done')}?task={w['decided'].pk}" for w in worlds),
        ],
        "alice": [
            reverse("inbox:requests"),
            *(reverse("inbox:task", args=[w["info"].pk]) for w in worlds),
        ],
        "root": [
            reverse("admin:orchestrate_instance_changelist"),
            reverse("admin:orchestrate_workflowdefinition_changelist"),
            reverse("admin:orchestrate_workflowversion_changelist"),
            reverse("admin:orchestrate_auditevent_changelist"),
            reverse("admin:tasks_inbox_task_changelist"),
            reverse("admin:tasks_inbox_savedview_changelist"),
            reverse("admin:orchestrate_decisiontable_changelist"),
            reverse("admin:orchestrate_workflowdefinition_change", args=[first.definition_id]),
            *(
                reverse("admin:orchestrate_instance_change", args=[w["instance"].pk])
                for w in worlds
            ),
        ],
        "maria": [
            reverse(f"reports:{name}") for name in ("overview", "steps", "people", "variants")
        ],
    }
    ran_on = []
    for who, urls in visits.items():
        page = signed_in(new_page, live_server, users[who])
        for url in urls:
            response = page.goto(url)
            assert response.status == 200, (who, url, response.status)
            page.mouse.move(200, 200)  # for the onmouseover payloads
            problem = ran(page)
            if problem:
                ran_on.append(f"{who} {url}: {problem}")
    assert not ran_on, "\n".join(ran_on)


def test_the_probe_sees_a_payload_that_runs(new_page, live_server, broker):
    """`ran` is not blind: a script the page runs itself is seen."""
    world = build_world(PAYLOADS[0], broker)
    page = signed_in(new_page, live_server, world["users"]["bob"])
    page.goto(reverse("inbox:mine"))
    assert ran(page) is None
    page.evaluate("() => { window.__xss = 1 }")
    assert ran(page) == "window.__xss was set"
