"""Chain the audit trail: add `prev_hash` and `hash`, then hash existing events per instance.

The historical model has a plain manager (the append-only guard lives on the current
model's queryset), so `bulk_update` may write the hashes here.
"""

from itertools import groupby
from operator import attrgetter

from django.db import migrations, models

from orchestrate.audit_chain import chain

INSTANCES_PER_BATCH = 200


def hash_existing_events(apps, schema_editor):
    AuditEvent = apps.get_model("orchestrate", "AuditEvent")
    events = AuditEvent.objects.using(schema_editor.connection.alias)
    instance_ids = sorted(set(events.values_list("instance_id", flat=True)))
    # Each batch is read in full before it is written: SQLite cursors do not isolate a
    # running read from writes to the same table.
    for start in range(0, len(instance_ids), INSTANCES_PER_BATCH):
        batch = list(
            events.filter(
                instance_id__in=instance_ids[start : start + INSTANCES_PER_BATCH]
            ).order_by("instance_id", "id")
        )
        for _, of_instance in groupby(batch, key=attrgetter("instance_id")):
            chain(list(of_instance), "")
        events.bulk_update(batch, ["prev_hash", "hash"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("orchestrate", "0005_decision_tables"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["instance", "id"], name="audit_instance_id_idx"),
        ),
        migrations.RunPython(hash_existing_events, migrations.RunPython.noop, elidable=True),
    ]
