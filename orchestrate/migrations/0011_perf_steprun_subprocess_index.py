# The sweep's look for finished subprocess children reads only waiting subprocess
# steps (plan in BENCHMARKS.md).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orchestrate", "0010_audit_origin_security_log"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="steprun",
            index=models.Index(
                condition=models.Q(("status", "waiting"), ("step_type", "subprocess")),
                fields=["id"],
                name="steprun_wait_subprocess_idx",
            ),
        ),
    ]
