"""Per-definition permissions, granted per object with django-guardian.

`orchestrate.start_workflow` says who may start instances of a definition and
`orchestrate.view_workflow_instances` who sees all of its instances. Both are opt-in: a
definition nobody holds `start_workflow` on is open to every authenticated user, as before.
The API enforces them; services do not, because the engine (subprocesses) and `seed_demo`
start instances on nobody's behalf.
"""

from django.contrib.contenttypes.models import ContentType
from django.db.models import BigIntegerField, Q
from django.db.models.functions import Cast
from guardian.models import GroupObjectPermission, UserObjectPermission

from orchestrate.models import WorkflowDefinition

START = "start_workflow"
VIEW_INSTANCES = "view_workflow_instances"


def _object_permission_rows(model, codename):
    content_type = ContentType.objects.get_for_model(WorkflowDefinition)
    return model.objects.filter(
        content_type=content_type,
        permission__content_type=content_type,
        permission__codename=codename,
    )


def is_restricted(definition):
    """Whether any user or group holds `start_workflow` on this very definition."""
    return any(
        _object_permission_rows(model, START).filter(object_pk=str(definition.pk)).exists()
        for model in (UserObjectPermission, GroupObjectPermission)
    )


def may_start(user, definition):
    """Superusers always; on a restricted definition only holders of `start_workflow` (on
    it, through a group, or globally); on an open one every authenticated user."""
    if not user.is_authenticated:
        return False
    if user.is_superuser or not is_restricted(definition):
        return True
    perm = f"orchestrate.{START}"
    return user.has_perm(perm, definition) or user.has_perm(perm)


def _object_ids(rows):
    # guardian keeps object ids as text; cast them back to compare with the integer key.
    return rows.annotate(object_id=Cast("object_pk", BigIntegerField())).values("object_id")


def definitions_granting(user, codename):
    """The definitions on which `user` holds the object permission `codename`, directly or
    through a group (global permissions not included), as a lazy queryset."""
    direct = _object_permission_rows(UserObjectPermission, codename).filter(user=user)
    by_group = _object_permission_rows(GroupObjectPermission, codename).filter(group__user=user)
    return WorkflowDefinition.objects.filter(
        Q(pk__in=_object_ids(direct)) | Q(pk__in=_object_ids(by_group))
    )


CHANGE = "change_workflowdefinition"


def may_change(user, definition=None):
    """Whether `user` may edit `definition` (its name, drafts, publishing and retiring):
    Django's `change_workflowdefinition`, held globally or on this very definition. With
    no definition: whether the user may edit any at all (to show the admin's pages)."""
    if not (user.is_active and user.is_staff):
        return False
    perm = f"orchestrate.{CHANGE}"
    if user.has_perm(perm):
        return True
    if definition is None:
        return definitions_granting(user, CHANGE).exists()
    return user.has_perm(perm, definition)


def definitions_editable_by(user):
    """The definitions `user` may edit, as a lazy queryset."""
    if user.has_perm(f"orchestrate.{CHANGE}"):
        return WorkflowDefinition.objects.all()
    return definitions_granting(user, CHANGE)
