"""Every XSS payload of the corpus in every free-text field, read back on every page that
shows it: the inbox, the task page, my requests, the admin, the reports and the mails.
The payload reads back as text, escaped, never as markup (`tests/browser/test_xss.py`
checks in Chromium that none runs)."""

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from orchestrate.models import AuditEvent, DecisionTable
from orchestrate.services.instances import start_instance
from tasks_inbox.models import SavedView, Task, TaskKind
from tasks_inbox.services.tasks import add_comment, claim_task, complete_task, request_info
from tests.factories import UserFactory, edges, workflow
from tests.tasks_inbox.factories import people

from .xss_corpus import PAYLOADS, TEMPLATE, unescaped

pytestmark = pytest.mark.django_db


def build_world(payload, broker, key="xss"):
    """A workflow named, described and labelled with the payload; two requests whose
    business key and item are the payload; one decided with the payload as comment and
    form value, one held by bob with the payload as comment, question and answer."""
    users = people()
    workflow(
        key,
        [
            {"key": "start", "type": "start"},
            {
                "key": "review",
                "type": "human",
                "name": payload,
                "title": "Approve {{ item }}",
                "description": "{{ item }}",
                "assign": {"group": "managers", "exclude": ["initiator"]},
                "form": [{"name": "note", "type": "string", "label": payload}],
            },
            {"key": "approved", "type": "end", "outcome": "approved"},
            {"key": "rejected", "type": "end", "outcome": "rejected"},
        ],
        edges("start>review", "review>approved:approve", "review>rejected:reject"),
        name=payload,
        description=payload,
        variables={"item": {"type": "string", "label": payload}},
    )
    alice, bob = users["alice"], users["bob"]
    held, _ = start_instance(
        workflow_key=key, variables={"item": payload}, business_key=payload, actor=alice
    )
    decided, _ = start_instance(
        workflow_key=key, variables={"item": payload, "other": payload}, actor=alice
    )
    held_task = Task.objects.get(instance=held)
    decided_task = Task.objects.get(instance=decided)
    claim_task(decided_task.pk, actor=bob)
    complete_task(
        decided_task.pk, actor=bob, outcome="approve", comment=payload, data={"note": payload}
    )
    claim_task(held_task.pk, actor=bob)
    add_comment(held_task.pk, actor=bob, text=payload)
    info = request_info(held_task.pk, actor=bob, question=payload)
    complete_task(info.pk, actor=alice, outcome="answer", comment=payload)
    SavedView.objects.create(owner=bob, name=payload[:100], params={"q": payload})
    DecisionTable.objects.create(key=f"{key}_table", name=payload)
    broker.drain()  # the mails
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    maria = UserFactory(username="maria")
    maria.user_permissions.add(Permission.objects.get(codename="view_reports"))
    return {
        "users": {**users, "root": root, "maria": maria},
        "held": held_task,
        "decided": decided_task,
        "info": info,
        "instance": held,
    }


def pages(world):
    """(who, url) of every page that shows the payload somewhere."""
    held, decided, info = world["held"], world["decided"], world["info"]
    instance = world["instance"]
    version = instance.version
    audit = AuditEvent.objects.filter(instance=instance).order_by("-pk").first()
    inbox = [
        reverse("inbox:mine"),
        f"{reverse('inbox:mine')}?task={held.pk}",
        reverse("inbox:queue"),
        f"{reverse('inbox:done')}?task={decided.pk}",
        reverse("inbox:task", args=[held.pk]),
        reverse("inbox:task", args=[decided.pk]),
        f"{reverse('inbox:mine')}?q={held.instance.business_key}",
    ]
    admin = [
        reverse("admin:orchestrate_instance_changelist"),
        reverse("admin:orchestrate_instance_change", args=[instance.pk]),
        reverse("admin:orchestrate_instance_variables", args=[instance.pk]),
        reverse("admin:orchestrate_workflowdefinition_changelist"),
        reverse("admin:orchestrate_workflowdefinition_change", args=[instance.definition_id]),
        reverse("admin:orchestrate_workflowversion_changelist"),
        reverse("admin:orchestrate_workflowversion_change", args=[version.pk]),
        reverse("admin:orchestrate_auditevent_changelist"),
        reverse("admin:orchestrate_auditevent_change", args=[audit.pk]),
        reverse("admin:tasks_inbox_task_changelist"),
        reverse("admin:tasks_inbox_task_change", args=[held.pk]),
        reverse("admin:tasks_inbox_task_change", args=[decided.pk]),
        reverse("admin:tasks_inbox_savedview_changelist"),
        reverse("admin:orchestrate_decisiontable_changelist"),
    ]
    reports = [reverse(f"reports:{name}") for name in ("overview", "steps", "people", "variants")]
    return [
        *(("bob", url) for url in inbox),
        ("alice", reverse("inbox:requests")),
        ("alice", reverse("inbox:task", args=[info.pk])),
        ("alice", reverse("inbox:done")),
        *(("root", url) for url in admin),
        *(("maria", url) for url in reports),
    ]


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_every_page_shows_the_payload_as_text(broker, payload):
    world = build_world(payload, broker)
    holes, shown = [], 0
    for who, url in pages(world):
        client = Client()
        client.force_login(world["users"][who])
        response = client.get(url)
        html = response.content.decode()
        if response.status_code != 200:
            holes.append(f"{who} {url}: {response.status_code}")
            continue
        problem = unescaped(html, payload)
        if problem:
            holes.append(f"{who} {url}: {problem}")
        shown += escape(payload) in html
    assert not holes, "\n".join(holes)
    # The payload is on the pages, as text: the checks above did look at it.
    assert shown >= len(pages(world)) // 2


def test_a_title_from_variables_is_not_a_template_again(broker):
    """Variables are inserted as text once: a `{{ }}` in a value is not evaluated."""
    world = build_world(PAYLOADS[14], broker)
    assert world["held"].title == f"Approve {PAYLOADS[14]}"
    assert world["held"].description == PAYLOADS[14]
    client = Client()
    client.force_login(world["users"]["bob"])
    html = client.get(reverse("inbox:task", args=[world["held"].pk])).content.decode()
    assert TEMPLATE in html and "Approve 49" not in html


@pytest.mark.parametrize("payload", PAYLOADS[:4], ids=range(4))
def test_mails_carry_the_payload_as_plain_text(broker, payload):
    """Mails are plain text: the payload reads back as typed (no HTML part to run it)."""
    world = build_world(payload, broker)
    assert mail.outbox
    for message in mail.outbox:
        assert getattr(message, "alternatives", []) == []
        assert "&lt;" not in message.body and "&#x27;" not in message.body
        assert "&quot;" not in message.subject and "&lt;" not in message.subject
    bodies = "\n".join(m.subject + "\n" + m.body for m in mail.outbox)
    assert payload in bodies
    assert world["info"].kind == TaskKind.INFO


@pytest.mark.parametrize("payload", [p for p in PAYLOADS if "<" in p], ids=str)
def test_the_checker_sees_an_unescaped_payload(payload):
    """The check above can fail: raw markup is caught, escaped text is not."""
    assert unescaped(f"<p>{payload}</p>", payload)
    assert not unescaped(f"<p>{escape(payload)}</p>", payload)
    assert unescaped(f'<script type="application/json">{payload}</script>', payload)
