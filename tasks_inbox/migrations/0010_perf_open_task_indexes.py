# Every open task in each of the lists' orders (the queue of a superuser or of a holder of
# the model-wide permissions); plans in BENCHMARKS.md ("Fourth pass").

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tasks_inbox", "0009_perf_task_search_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                condition=models.Q(("status", "open")),
                fields=["-created_at", "-id"],
                name="task_open_order_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                condition=models.Q(("status", "open")),
                fields=["due_at", "-priority", "created_at", "id"],
                name="task_open_due_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                condition=models.Q(("status", "open")),
                fields=["-priority", "due_at", "created_at", "id"],
                name="task_open_prio_idx",
            ),
        ),
    ]
