# The inbox and queue read in their default order (-created_at, -id); plans in
# BENCHMARKS.md.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tasks_inbox", "0004_report_access"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                condition=models.Q(("status__in", ["open", "claimed", "info_requested"])),
                fields=["assignee", "-created_at", "-id"],
                name="task_assignee_live_order_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                condition=models.Q(("status", "open")),
                fields=["candidate_group", "-created_at", "-id"],
                name="task_group_open_order_idx",
            ),
        ),
    ]
