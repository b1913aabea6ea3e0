# Every instance, newest first (the instance list of auditors and superusers in the API and
# the admin); plan in BENCHMARKS.md ("Fourth pass").

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orchestrate", "0014_perf_business_key_search_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="instance",
            index=models.Index(fields=["-started_at", "-id"], name="instance_started_order_idx"),
        ),
    ]
