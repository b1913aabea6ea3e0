"""A decision lands in the audit trail with who, what, when (UTC) and from where, and the
address is part of the tamper-evident chain."""

import pytest
from django.urls import reverse

from orchestrate.audit_chain import verify_all
from orchestrate.models import AuditEvent, AuditKind
from tests.orchestrate.audit.support import tamper

pytestmark = pytest.mark.django_db


def test_a_decision_is_audited_with_the_deciders_address_behind_the_proxy(login, task, settings):
    settings.ORCHESTRATE_TRUSTED_PROXIES = 1
    client = login("bob")
    origin = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 203.0.113.7"}
    client.post(reverse("inbox:claim", args=[task.pk]), **origin)
    client.post(reverse("inbox:complete", args=[task.pk]), {"outcome": "approve"}, **origin)

    completed = AuditEvent.objects.get(instance=task.instance, kind=AuditKind.TASK_COMPLETED)
    assert (completed.actor.username, completed.address) == ("bob", "203.0.113.7")
    assert completed.data.get("outcome") == "approve"
    assert completed.at.utcoffset().total_seconds() == 0
    # Events the worker or the engine wrote outside a request have no address.
    started = AuditEvent.objects.get(instance=task.instance, kind=AuditKind.INSTANCE_STARTED)
    assert started.address is None
    assert verify_all().ok


def test_changing_the_recorded_address_breaks_the_chain(login, task):
    login("bob").post(reverse("inbox:claim", args=[task.pk]), REMOTE_ADDR="203.0.113.7")
    claimed = AuditEvent.objects.get(instance=task.instance, kind=AuditKind.TASK_CLAIMED)
    assert claimed.address == "203.0.113.7"
    tamper("UPDATE {table} SET address = '198.51.100.1' WHERE id = %s", claimed.pk)
    report = verify_all()
    assert not report.ok
