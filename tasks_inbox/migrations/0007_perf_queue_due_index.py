# The queue sorted by due date reads its group's page from an index in that order; plan in
# BENCHMARKS.md ("Third pass: the lists' Python and the queue's pages").

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tasks_inbox", "0006_perf_task_sort_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                condition=models.Q(status="open"),
                fields=["candidate_group", "due_at", "-priority", "created_at", "id"],
                name="task_group_open_due_idx",
            ),
        ),
    ]
