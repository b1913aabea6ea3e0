"""Who may see and act on instances through the API.

Staff and holders of `orchestrate.view_instance` see every instance; everybody else sees
the instances they started. An instance a user may not see does not exist for them (404),
whatever they try to do with it.
"""

from rest_framework.permissions import BasePermission

from orchestrate.models import Instance


def can_see_every_instance(user):
    """Staff, or the model permission `orchestrate.view_instance` (directly or by group)."""
    return user.is_staff or user.has_perm("orchestrate.view_instance")


def instances_visible_to(user):
    """Instances `user` may see, as a queryset (nothing for an anonymous user)."""
    if not user.is_authenticated:
        return Instance.objects.none()
    if can_see_every_instance(user):
        return Instance.objects.all()
    return Instance.objects.filter(started_by=user)


def can_cancel_instance(user, instance):
    """Staff, the model permission `orchestrate.change_instance`, or the starter."""
    return (
        instance.started_by_id == user.pk
        or user.is_staff
        or user.has_perm("orchestrate.change_instance")
    )


class CanCancelInstance(BasePermission):
    """Object permission of the cancel action (the instance is already known visible)."""

    message = "You may not cancel this instance."

    def has_object_permission(self, request, view, obj):
        return can_cancel_instance(request.user, obj)
