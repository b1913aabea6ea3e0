# The instances a person started, newest first (the API instance list and the inbox's
# "My requests"); plans in BENCHMARKS.md ("Third pass").

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orchestrate", "0012_webhook_secret_encrypted"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="instance",
            index=models.Index(
                fields=["started_by", "-started_at", "-id"],
                name="instance_started_by_order_idx",
            ),
        ),
    ]
