"""The permission `tasks_inbox.view_reports` (on a model without a table), given to the
group `sla-viewers`."""

from django.contrib.auth.management import create_permissions
from django.db import migrations, models

GROUP = "sla-viewers"


def grant_to_sla_viewers(apps, schema_editor):
    # Permissions are normally made after all migrations (post_migrate); make this one now.
    app_config = apps.get_app_config("tasks_inbox")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(
        content_type__app_label="tasks_inbox", codename="view_reports"
    )
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("tasks_inbox", "0003_task_live_due_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="ReportAccess",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
            ],
            options={
                "verbose_name": "report access",
                "permissions": [("view_reports", "Can view the SLA reports")],
                "managed": False,
                "default_permissions": (),
            },
        ),
        migrations.RunPython(grant_to_sla_viewers, migrations.RunPython.noop),
    ]
