# Each task carries its instance's workflow, so that the inbox's workflow filter reads the
# person's tasks alone instead of joining each to its instance (BENCHMARKS.md, "Fourth
# pass"). Existing tasks take it from their instance: one UPDATE of every task (a million
# tasks: about a minute on the bench machine; the table takes no writes meanwhile). Before
# the search's trigram indexes (0009), so the UPDATE does not write a second entry for
# every task into them.

import django.db.models.deletion
from django.db import migrations, models

BACKFILL = """
UPDATE tasks_inbox_task SET definition_id = (
    SELECT definition_id FROM orchestrate_instance
    WHERE orchestrate_instance.id = tasks_inbox_task.instance_id
)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("orchestrate", "0013_perf_instance_started_by_index"),
        ("tasks_inbox", "0007_perf_queue_due_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="task",
            name="definition",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="orchestrate.workflowdefinition",
            ),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop, elidable=False),
        migrations.AlterField(
            model_name="task",
            name="definition",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="orchestrate.workflowdefinition",
            ),
        ),
    ]
