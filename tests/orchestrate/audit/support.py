"""Helpers of the audit chain tests."""

import contextlib

from django.db import connection

from orchestrate.models import AuditEvent


@contextlib.contextmanager
def append_only_trigger_off():
    """On PostgreSQL, switch the audit tables' append-only trigger off for a moment, as a
    database superuser can (replica mode skips ordinary triggers)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")


def tamper(sql, *params):
    """Change the audit table behind the model's back, as an attacker holding the database
    superuser's rights would."""
    with append_only_trigger_off(), connection.cursor() as cursor:
        cursor.execute(sql.format(table=AuditEvent._meta.db_table), params)


def chain_of(instance):
    return list(AuditEvent.objects.filter(instance=instance).order_by("id"))
