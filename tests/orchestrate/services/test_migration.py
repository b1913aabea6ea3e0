"""Moving running instances to a newer version: the dry run, the move, the refusals."""

import pytest

from orchestrate.models import AuditEvent, AuditKind, InstanceStatus
from orchestrate.services.instances import start_instance
from orchestrate.services.messages import deliver_message
from orchestrate.services.migration import MigrationError, migrate_instances, plan_migration
from tests.factories import edges, workflow

pytestmark = pytest.mark.django_db

V1_STEPS = [
    {"key": "start", "type": "start"},
    {"key": "wait", "type": "message", "name": "go", "correlate": "ref"},
    {"key": "end", "type": "end"},
]


def version(steps, transitions):
    return workflow("moving", steps, transitions, variables={"ref": {"type": "string"}})


@pytest.fixture
def v1(broker):
    return version(V1_STEPS, edges("start>wait", "wait>end"))


def start(ref):
    return start_instance(workflow_key="moving", variables={"ref": ref})[0]


def test_dry_run_lists_moves_and_changes_nothing(v1):
    instance = start("A")
    v2 = version(
        [
            *V1_STEPS,
            {"key": "log", "type": "automated", "action": "log", "params": {"message": "x"}},
        ],
        edges("start>wait", "wait>log", "log>end"),
    )
    [plan] = plan_migration([instance.pk], to_version_id=v2.pk)
    assert (plan.ok, plan.moves, plan.from_version, plan.to_version) == (
        True,
        {"wait": "wait"},
        v1.number,
        v2.number,
    )
    instance.refresh_from_db()
    assert instance.version == v1


def test_migrated_instances_continue_on_the_new_version(v1):
    instance = start("A")
    v2 = version(
        [
            {"key": "start", "type": "start"},
            {"key": "await_go", "type": "message", "name": "go", "correlate": "ref"},
            {"key": "done", "type": "end", "outcome": "v2"},
        ],
        edges("start>await_go", "await_go>done"),
    )
    [plan] = migrate_instances([instance.pk], to_version_id=v2.pk, mapping={"wait": "await_go"})
    assert plan.ok
    instance.refresh_from_db()
    assert instance.version == v2
    event = AuditEvent.objects.get(kind=AuditKind.INSTANCE_MIGRATED)
    assert event.data["moves"] == {"wait": "await_go"}
    deliver_message(name="go", correlation="A")
    instance.refresh_from_db()
    assert (instance.status, instance.outcome) == (InstanceStatus.COMPLETED, "v2")


def test_an_instance_whose_step_is_gone_is_refused_and_left_alone(v1):
    instance = start("A")
    v2 = version(
        [{"key": "start", "type": "start"}, {"key": "end", "type": "end"}], edges("start>end")
    )
    [plan] = migrate_instances([instance.pk], to_version_id=v2.pk)
    assert plan.reason == "the active step 'wait' has no counterpart 'wait'"
    instance.refresh_from_db()
    assert instance.version == v1
    assert not AuditEvent.objects.filter(kind=AuditKind.INSTANCE_MIGRATED).exists()


def test_a_step_of_another_type_and_older_versions_are_refused(v1):
    instance = start("A")
    v2 = version(
        [
            {"key": "start", "type": "start"},
            {"key": "wait", "type": "timer", "duration": "PT1H"},
            {"key": "end", "type": "end"},
        ],
        edges("start>wait", "wait>end"),
    )
    [plan] = plan_migration([instance.pk], to_version_id=v2.pk)
    assert "is a message step, but 'wait' is a timer step" in plan.reason
    [plan] = plan_migration([instance.pk], to_version_id=v1.pk)
    assert plan.reason == f"version {v1.number} is not newer than {v1.number}"


def test_a_draft_cannot_take_instances(v1):
    from orchestrate.models import VersionStatus

    draft = version(V1_STEPS, edges("start>wait", "wait>end"))
    draft.status = VersionStatus.DRAFT
    draft.save(update_fields=["status"])
    with pytest.raises(MigrationError, match="not published"):
        plan_migration([start("A").pk], to_version_id=draft.pk)
