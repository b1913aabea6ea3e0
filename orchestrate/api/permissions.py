"""Who may see and act on instances through the API.

Superusers and holders of `orchestrate.view_instance` see every instance (being staff is
no permission: the admin refuses a staff member without it, and so does the API); holders
of `orchestrate.view_workflow_instances` see every instance of the definitions it is
granted on (per object with django-guardian, or globally for all); everybody else sees the
instances they started. An instance a user may not see does not exist for them (404),
whatever they try to do with it.
"""

from django.db.models import Q
from rest_framework.permissions import BasePermission

from orchestrate.access import VIEW_INSTANCES, definitions_granting
from orchestrate.models import Instance


def can_see_every_instance(user):
    """Superusers, or the model permission `orchestrate.view_instance` (directly or by group)."""
    return user.is_superuser or user.has_perm("orchestrate.view_instance")


def instances_visible_to(user):
    """Instances `user` may see, as a queryset (nothing for an anonymous user)."""
    if not user.is_authenticated:
        return Instance.objects.none()
    if can_see_every_instance(user) or user.has_perm(f"orchestrate.{VIEW_INSTANCES}"):
        return Instance.objects.all()
    # The granted definitions are named in the list's query rather than selected in it:
    # `started_by = u OR definition IN (subquery)` can use no index (PostgreSQL cannot know
    # the subquery finds nothing), and scanned all 1,000,000 instances for the 200 a user
    # started (BENCHMARKS.md, "Third pass"). Alone, `started_by = u` reads
    # `instance_started_by_order_idx` in the list's order and stops at the page.
    definitions = list(definitions_granting(user, VIEW_INSTANCES).values_list("pk", flat=True))
    if not definitions:
        return Instance.objects.filter(started_by=user)
    return Instance.objects.filter(Q(started_by=user) | Q(definition__in=definitions))


def can_cancel_instance(user, instance):
    """Superusers, the model permission `orchestrate.change_instance`, or the starter."""
    return instance.started_by_id == user.pk or user.has_perm("orchestrate.change_instance")


class CanCancelInstance(BasePermission):
    """Object permission of the cancel action (the instance is already known visible)."""

    message = "You may not cancel this instance."

    def has_object_permission(self, request, view, obj):
        return can_cancel_instance(request.user, obj)
