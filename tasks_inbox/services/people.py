"""People's own settings: absence, substitute and manager; saved inbox views."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tasks_inbox.models import Profile, SavedView

from .errors import TaskInvalid, TaskNotFound

SCOPES = ("mine", "queue", "done")
VIEW_PARAMS = ("workflow", "priority", "due", "q", "sort", "sla", "snoozed")


def set_absence(*, actor, absent_from, absent_until, substitute, manager):
    """Set (or clear, with empty dates) the actor's absence and substitute, and their
    manager. While absent, new tasks for them go to the substitute, who may also act on
    their tasks; escalations `to: {manager: assignee}` go to the manager."""
    with transaction.atomic():
        profile, _ = Profile.objects.select_for_update().get_or_create(user=actor)
        profile.absent_from = absent_from
        profile.absent_until = absent_until
        profile.substitute = substitute
        profile.manager = manager
        try:
            profile.full_clean()
        except ValidationError as exc:
            raise TaskInvalid({k: " ".join(v) for k, v in exc.message_dict.items()}) from None
        profile.save()
        return profile


def save_view(*, actor, name, scope, params, shared_with=None):
    """Save the current filters under a name (replacing the actor's view of that name),
    private or shared with one of the actor's groups."""
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = "Give the view a name."
    if scope not in SCOPES:
        errors["scope"] = f"Choose one of: {', '.join(SCOPES)}."
    if shared_with is not None and not actor.groups.filter(pk=shared_with.pk).exists():
        errors["shared_with"] = "You can share a view only with a group you belong to."
    if errors:
        raise TaskInvalid(errors)
    clean = {
        k: str(v) for k, v in (params or {}).items() if k in VIEW_PARAMS and v not in ("", None)
    }
    try:
        with transaction.atomic():
            view, _ = SavedView.objects.update_or_create(
                owner=actor,
                name=name[:100],
                defaults={"scope": scope, "params": clean, "shared_with": shared_with},
            )
    except IntegrityError:
        raise TaskInvalid({"name": "You already have a view of that name."}) from None
    return view


def delete_view(view_id, *, actor):
    """Delete one of the actor's own saved views."""
    deleted, _ = SavedView.objects.filter(pk=view_id, owner=actor).delete()
    if not deleted:
        raise TaskNotFound("No such saved view.")
