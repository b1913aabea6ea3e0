"""Helpers of the audit chain tests."""

from django.db import connection

from orchestrate.models import AuditEvent


def tamper(sql, *params):
    """Change the audit table behind the model's back, as an attacker with SQL access would."""
    with connection.cursor() as cursor:
        cursor.execute(sql.format(table=AuditEvent._meta.db_table), params)


def chain_of(instance):
    return list(AuditEvent.objects.filter(instance=instance).order_by("id"))
