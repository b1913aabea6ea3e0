"""On PostgreSQL the database itself refuses to change or delete audit rows, whoever the
app connects as; only the reference columns Django clears on a user's deletion may be
set to NULL."""

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction

from orchestrate.models import AuditEvent, AuditKind, SecurityEvent
from tests.services import require_postgres

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _postgres():
    require_postgres()


def execute(sql, *params):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_update_of_an_audit_event_fails_in_the_database(instance):
    event = AuditEvent.objects.filter(instance=instance).first()
    with pytest.raises(DatabaseError, match="append-only: UPDATE refused"):
        execute("UPDATE orchestrate_auditevent SET kind = %s WHERE id = %s", "x", event.pk)
    with pytest.raises(DatabaseError, match="append-only: UPDATE refused"):
        execute("UPDATE orchestrate_auditevent SET actor_label = 'mallory'")
    event.refresh_from_db()
    assert event.kind != "x"


def test_delete_of_an_audit_event_fails_in_the_database(instance):
    count = AuditEvent.objects.filter(instance=instance).count()
    with pytest.raises(DatabaseError, match="append-only: DELETE refused"):
        execute("DELETE FROM orchestrate_auditevent WHERE instance_id = %s", instance.pk)
    assert AuditEvent.objects.filter(instance=instance).count() == count


def test_pointing_an_event_at_another_user_fails_but_deleting_the_user_keeps_the_event(
    instance, users
):
    event = AuditEvent.objects.create(
        instance=instance, kind=AuditKind.TASK_COMMENTED, actor=users["erin"], actor_label="erin"
    )
    with pytest.raises(DatabaseError, match="append-only: UPDATE refused"):
        execute(
            "UPDATE orchestrate_auditevent SET actor_id = %s WHERE id = %s",
            users["bob"].pk,
            event.pk,
        )
    get_user_model().objects.filter(pk=users["erin"].pk).delete()
    event.refresh_from_db()
    assert event.actor_id is None and event.actor_label == "erin"


def test_the_security_log_is_append_only_in_the_database():
    event = SecurityEvent.objects.create(kind="login.failed", actor_label="bob")
    with pytest.raises(DatabaseError, match="append-only: UPDATE refused"):
        execute("UPDATE orchestrate_securityevent SET actor_label = 'x' WHERE id = %s", event.pk)
    with pytest.raises(DatabaseError, match="append-only: DELETE refused"):
        execute("DELETE FROM orchestrate_securityevent WHERE id = %s", event.pk)
    assert SecurityEvent.objects.get(pk=event.pk).actor_label == "bob"
