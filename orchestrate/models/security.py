"""The security log: sign-ins, sign-outs, refused requests and admin changes, each with
who, what, when (UTC) and from where. Append-only like the audit trail of instances
(on PostgreSQL a trigger refuses UPDATE and DELETE, see migration 0010)."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class SecurityKind(models.TextChoices):
    LOGIN_SUCCEEDED = "login.succeeded", "Signed in"
    LOGIN_FAILED = "login.failed", "Sign-in failed"
    LOGOUT = "logout", "Signed out"
    PERMISSION_DENIED = "permission.denied", "Refused (401/403)"
    ADMIN_ADDED = "admin.added", "Admin: added"
    ADMIN_CHANGED = "admin.changed", "Admin: changed"
    ADMIN_DELETED = "admin.deleted", "Admin: deleted"


class SecurityEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The security log is append-only.")

    def delete(self):
        raise PermissionError("The security log is append-only.")


class SecurityEvent(models.Model):
    kind = models.CharField(max_length=40, choices=SecurityKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # The username as typed or known then ("anonymous" when nobody was signed in).
    actor_label = models.CharField(max_length=150)
    at = models.DateTimeField(default=timezone.now)
    # The client's address (see orchestrate.security.client_address), when from a request.
    address = models.GenericIPAddressField(null=True, blank=True)
    method = models.CharField(max_length=10, blank=True)
    path = models.CharField(max_length=500, blank=True)
    # What was acted on, for admin changes: "app_label.model:pk" and its text.
    target = models.CharField(max_length=200, blank=True)
    target_repr = models.CharField(max_length=200, blank=True)
    message = models.TextField(blank=True)

    objects = SecurityEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["kind", "at"], name="security_kind_at_idx")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.kind} {self.actor_label}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise PermissionError("The security log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The security log is append-only.")
