"""The data migration hashes events written before the chain existed, per instance."""

from types import SimpleNamespace

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from orchestrate.audit_chain import verify_all
from orchestrate.models import AuditEvent
from tests.orchestrate.audit.support import append_only_trigger_off, tamper
from tests.tasks_inbox.factories import start

pytestmark = pytest.mark.django_db

MIGRATION = ("orchestrate", "0006_auditevent_hash_chain")


def test_existing_events_get_a_valid_chain(instance, users, note):
    start("approval", users["alice"])
    note(n=1)
    tamper("UPDATE {table} SET prev_hash = '', hash = ''")
    assert not verify_all().ok
    loader = MigrationLoader(connection)
    migration = loader.get_migration(*MIGRATION)
    hash_existing = migration.operations[-1].code
    # It ran before migration 0010 made the table append-only in the database.
    with append_only_trigger_off():
        hash_existing(loader.project_state(MIGRATION).apps, SimpleNamespace(connection=connection))
    report = verify_all()
    assert report.ok and report.chains == 2 and report.events == AuditEvent.objects.count()
