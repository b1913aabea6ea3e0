import pytest

from orchestrate.models import AuditEvent, InstanceStatus
from orchestrate.services.instances import start_instance
from tests.factories import edges, workflow

pytestmark = pytest.mark.django_db


def test_straight_through_with_pure_actions_completes_inline(broker):
    workflow(
        "calc",
        [
            {"key": "start", "type": "start"},
            {
                "key": "compute",
                "type": "automated",
                "action": "set_variables",
                "params": {"values": {"total": "price * qty", "big": "price * qty > 100"}},
            },
            {
                "key": "note",
                "type": "automated",
                "action": "log",
                "params": {"message": "total {{ total }}"},
            },
            {"key": "done", "type": "end", "outcome": "priced"},
        ],
        edges("start>compute", "compute>note", "note>done"),
    )
    instance, created = start_instance(workflow_key="calc", variables={"price": 30, "qty": 4})
    assert created
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.outcome == "priced"
    assert instance.variables["total"] == 120
    assert instance.variables["big"] is True
    assert broker.messages == []
    kinds = list(AuditEvent.objects.filter(instance=instance).values_list("kind", flat=True))
    assert kinds[0] == "instance.started"
    assert "variables.changed" in kinds
    assert kinds.count("step.completed") == 4
    assert "instance.completed" in kinds
