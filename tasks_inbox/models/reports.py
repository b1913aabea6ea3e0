"""The permission to read the SLA reports.

Reports have no rows of their own; this unmanaged model (no table) only carries the
permission `tasks_inbox.view_reports`, so it can be granted to people and groups in the
admin like any other. The migration gives it to the group `sla-viewers`.
"""

from django.db import models


class ReportAccess(models.Model):
    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_reports", "Can view the SLA reports")]
        verbose_name = "report access"

    def __str__(self):
        return "report access"
