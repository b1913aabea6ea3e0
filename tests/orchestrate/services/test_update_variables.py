"""An operator edits the variables of a running instance, with a reason."""

import pytest

from orchestrate.models import AuditEvent, AuditKind
from orchestrate.services.instances import (
    InstanceStateError,
    VariablesInvalid,
    cancel_instance,
    start_instance,
    update_variables,
)
from tests.factories import UserFactory, waiting_workflow

pytestmark = pytest.mark.django_db


@pytest.fixture
def instance(broker):
    waiting_workflow(amount={"type": "number"})
    return start_instance(workflow_key="waiting", variables={"ref": "R1", "amount": 10})[0]


def test_variables_change_with_a_reason_and_an_audit_record(instance):
    ops = UserFactory(username="ops")
    update_variables(instance.pk, actor=ops, values={"amount": 12.5}, reason="typo in the form")
    instance.refresh_from_db()
    assert instance.variables["amount"] == 12.5
    event = AuditEvent.objects.filter(kind=AuditKind.VARIABLES_CHANGED).last()
    assert event.actor_label == "ops"
    assert event.data["changes"] == {"amount": {"from": 10, "to": 12.5}}
    assert event.data["reason"] == "typo in the form"


def test_wrong_types_reserved_names_and_no_reason_are_refused(instance):
    with pytest.raises(VariablesInvalid) as refused:
        update_variables(instance.pk, actor=None, values={"amount": "x"}, reason="r")
    assert "amount" in refused.value.errors
    with pytest.raises(VariablesInvalid) as refused:
        update_variables(instance.pk, actor=None, values={"decisions": {}}, reason="r")
    assert "decisions" in refused.value.errors
    with pytest.raises(VariablesInvalid) as refused:
        update_variables(instance.pk, actor=None, values={"amount": 1}, reason=" ")
    assert refused.value.errors == {"reason": "Say why the variables change."}
    instance.refresh_from_db()
    assert instance.variables["amount"] == 10


def test_an_ended_instance_keeps_its_variables(instance):
    cancel_instance(instance.pk, reason="done")
    with pytest.raises(InstanceStateError):
        update_variables(instance.pk, actor=None, values={"amount": 1}, reason="late")
