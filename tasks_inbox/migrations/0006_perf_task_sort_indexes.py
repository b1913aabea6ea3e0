# The inbox's `sort=due` and `sort=priority` read an index in their order, and the inbox's
# three indexes carry the columns of its filter so that its count and the ids of a page
# come from the index alone; plans in BENCHMARKS.md ("Third pass").

from django.db import migrations, models

LIVE = models.Q(("status__in", ["open", "claimed", "info_requested"]))
COVER = ["snoozed_until", "status"]


class Migration(migrations.Migration):
    dependencies = [
        ("tasks_inbox", "0005_perf_task_list_indexes"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="task", name="task_assignee_live_order_idx"),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                condition=LIVE,
                fields=["assignee", "-created_at", "-id"],
                include=COVER,
                name="task_assignee_live_order_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                condition=LIVE,
                fields=["assignee", "due_at", "-priority", "created_at", "id"],
                include=COVER,
                name="task_assignee_live_due_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                condition=LIVE,
                fields=["assignee", "-priority", "due_at", "created_at", "id"],
                include=COVER,
                name="task_assignee_live_prio_idx",
            ),
        ),
    ]
