"""People's settings that the inbox needs: absence and a substitute."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class Profile(models.Model):
    """Absence dates and a substitute. While absent (both dates inclusive), new tasks for
    the person go to the substitute, and the substitute may act on the person's tasks."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox_profile"
    )
    absent_from = models.DateField(null=True, blank=True)
    absent_until = models.DateField(null=True, blank=True)
    substitute = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="substitute_for",
    )
    # Escalations with `to: {manager: assignee}` go to this person.
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
    )

    def __str__(self):
        return f"Profile of {self.user}"

    def clean(self):
        errors = {}
        if self.absent_from and self.absent_until and self.absent_until < self.absent_from:
            errors["absent_until"] = "The last day of absence comes before the first."
        if self.substitute_id and self.substitute_id == self.user_id:
            errors["substitute"] = "A person cannot be their own substitute."
        if self.manager_id and self.manager_id == self.user_id:
            errors["manager"] = "A person cannot be their own manager."
        if (self.absent_from or self.absent_until) and not self.substitute_id:
            errors["substitute"] = "Name a substitute for the time you are away."
        if errors:
            raise ValidationError(errors)

    def is_absent(self, day: datetime.date | None = None) -> bool:
        day = day or timezone.localdate()
        if not self.absent_from and not self.absent_until:
            return False
        start = self.absent_from or datetime.date.min
        end = self.absent_until or datetime.date.max
        return start <= day <= end

    @classmethod
    def absent_filter(cls, prefix="", day=None):
        """Q for profiles (under `prefix`) of people absent on `day`."""
        day = day or timezone.localdate()
        p = prefix
        return (
            (
                models.Q(**{f"{p}absent_from__isnull": False})
                | models.Q(**{f"{p}absent_until__isnull": False})
            )
            & (
                models.Q(**{f"{p}absent_from__isnull": True})
                | models.Q(**{f"{p}absent_from__lte": day})
            )
            & (
                models.Q(**{f"{p}absent_until__isnull": True})
                | models.Q(**{f"{p}absent_until__gte": day})
            )
        )
