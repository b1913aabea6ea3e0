"""Saved inbox views: a named set of filters, private or shared with a group."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone


class SavedView(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(max_length=100)
    # Which list the view filters: mine, queue or done.
    scope = models.CharField(max_length=20, default="mine")
    # The filters as query parameters (workflow, priority, due, q, sort).
    params = models.JSONField(default=dict, blank=True)
    shared_with = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="saved_views"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_view_owner_name_unique")
        ]

    def __str__(self):
        return self.name
