"""The hash chain: filled on every insert path, checked by `verify_chain`, broken by any edit
or deletion made behind the model's back."""

import itertools

import pytest
from django.db import transaction

from orchestrate.audit_chain import event_hash, verify_all, verify_chain
from orchestrate.models import AuditEvent, AuditKind
from tasks_inbox.models import Task
from tasks_inbox.services.tasks import claim_task, complete_task
from tests.orchestrate.audit.support import chain_of, tamper
from tests.tasks_inbox.factories import approval_workflow, start

pytestmark = pytest.mark.django_db


def assert_linked(events):
    assert events[0].prev_hash == ""
    for previous, event in itertools.pairwise(events):
        assert event.prev_hash == previous.hash
    assert all(event.hash == event_hash(event) for event in events)


def test_bulk_and_single_inserts_extend_the_same_chain(instance, note):
    started = chain_of(instance)
    assert len(started) > 1  # the engine's bulk insert
    note(n=1)
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(instance=instance, kind=AuditKind.TASK_COMMENTED, data={"n": 2}),
            AuditEvent(instance=instance, kind=AuditKind.TASK_COMMENTED, data={"n": 3}),
        ]
    )
    event = AuditEvent(instance=instance, kind=AuditKind.TASK_COMMENTED, data={"n": (4, 5)})
    event.save()
    events = chain_of(instance)
    assert len(events) == len(started) + 4
    assert_linked(events)
    assert verify_chain(instance.pk) is None


def test_one_bulk_insert_keeps_each_instance_on_its_own_chain(instance, users):
    other = start("approval", users["alice"])
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(instance=instance, kind=AuditKind.TASK_COMMENTED),
            AuditEvent(instance=other, kind=AuditKind.TASK_COMMENTED),
            AuditEvent(instance=instance, kind=AuditKind.TASK_COMMENTED),
        ]
    )
    assert_linked(chain_of(instance))
    assert_linked(chain_of(other))
    assert verify_all().ok


@pytest.mark.django_db(transaction=True)
def test_chains_span_committed_transactions(broker, users):
    approval_workflow()
    with transaction.atomic():
        instance = start("approval", users["alice"])
    task = Task.objects.get(instance=instance)
    with transaction.atomic():
        claim_task(task.pk, actor=users["bob"])
    with transaction.atomic():
        complete_task(task.pk, actor=users["bob"], outcome="approve", comment="ok")
    broker.drain()
    assert_linked(chain_of(instance))
    assert verify_chain(instance.pk) is None


def test_a_whole_approval_yields_a_valid_chain(broker, instance, users):
    task = Task.objects.get(instance=instance)
    claim_task(task.pk, actor=users["bob"])
    complete_task(task.pk, actor=users["bob"], outcome="approve", comment="fine")
    broker.drain()
    instance.refresh_from_db()
    assert instance.outcome == "approved"
    kinds = [event.kind for event in chain_of(instance)]
    assert AuditKind.TASK_CLAIMED in kinds and AuditKind.INSTANCE_COMPLETED in kinds
    assert_linked(chain_of(instance))
    assert verify_chain(instance.pk) is None


def test_an_edited_event_is_named(instance, note):
    edited = note(amount=10)
    note(amount=20)
    tamper("UPDATE {table} SET data = %s WHERE id = %s", '{"amount": 1000}', edited.pk)
    broken = verify_chain(instance.pk)
    assert broken.event_id == edited.pk
    assert broken.reason == f"event {edited.pk}: hash does not match its content"


def test_a_rehashed_edit_breaks_the_next_link(instance, note):
    edited = note(amount=10)
    after = note(amount=20)
    edited.data = {"amount": 1000}
    tamper("UPDATE {table} SET data = %s, hash = %s WHERE id = %s",
           '{"amount": 1000}', event_hash(edited), edited.pk)  # fmt: skip
    broken = verify_chain(instance.pk)
    assert broken.reason == f"event {after.pk}: prev_hash does not match event {edited.pk}"


def test_a_deleted_middle_event_is_named(instance, note):
    before, deleted, after = note(n=1), note(n=2), note(n=3)
    tamper("DELETE FROM {table} WHERE id = %s", deleted.pk)
    broken = verify_chain(instance.pk)
    assert (broken.instance_id, broken.event_id) == (instance.pk, after.pk)
    assert broken.reason == f"event {after.pk}: prev_hash does not match event {before.pk}"


def test_a_deleted_first_event_is_named(instance):
    first, second = chain_of(instance)[:2]
    tamper("DELETE FROM {table} WHERE id = %s", first.pk)
    assert verify_chain(instance.pk).reason == (
        f"event {second.pk}: prev_hash does not match the start of the chain"
    )


def test_verify_all_reports_each_broken_chain_and_counts_everything(instance, users, note):
    other = start("approval", users["alice"])
    edited = note(n=1)
    tamper("UPDATE {table} SET actor_label = 'mallory' WHERE id = %s", edited.pk)
    report = verify_all()
    assert report.chains == 2
    assert report.events == AuditEvent.objects.count()
    assert [link.event_id for link in report.broken] == [edited.pk]
    assert verify_chain(other.pk) is None


def test_the_append_only_guard_still_holds(instance, note):
    event = note()
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(data={})
