"""Importing, publishing and exporting workflow definitions.

A workflow document (docs/workflow-format.md) becomes one WorkflowVersion with its Steps
and Transitions; `WorkflowVersion.to_spec()` gives the document back.
"""

import json

from django.db import transaction
from django.db.models import Max

from orchestrate.formats import WorkflowFormatError, dump_yaml, validate_spec
from orchestrate.models import (
    DecisionTableVersion,
    Step,
    Transition,
    VersionStatus,
    WorkflowDefinition,
    WorkflowVersion,
)

from .decision_tables import export_decision_table_version, import_decision_table

__all__ = [
    "WorkflowFormatError",
    "dump_yaml",
    "export_version",
    "import_workflow",
    "publish_version",
    "stored_spec",
]


def stored_spec(doc):
    """What `to_spec()` gives back after importing the valid document `doc`: defaults
    left out (`default: false`, empty `description`), `kind` dropped, JSON values only."""
    spec = {"format": 1, "key": doc["key"], "name": doc["name"]}
    for optional in ("description", "variables", "calendar", "start_on"):
        if doc.get(optional):
            spec[optional] = doc[optional]
    spec["steps"] = []
    for step in doc["steps"]:
        entry = {"key": step["key"], "type": step["type"]}
        if step.get("name"):
            entry["name"] = step["name"]
        entry.update({k: v for k, v in step.items() if k not in ("key", "type", "name")})
        spec["steps"].append(entry)
    spec["transitions"] = []
    for link in doc["transitions"]:
        entry = {"from": link["from"], "to": link["to"]}
        for optional in ("name", "when", "on"):
            if link.get(optional):
                entry[optional] = link[optional]
        if link.get("default") is True:
            entry["default"] = True
        spec["transitions"].append(entry)
    # Through JSON, as the database stores it, so that comparisons see what is stored.
    return json.loads(json.dumps(spec))


def import_workflow(doc, *, publish=False, actor=None):
    """Import the workflow document `doc` (a dict) as a new version of its definition.

    Validates first and raises WorkflowFormatError with every problem, writing nothing.
    In one transaction, with the definition row locked so that concurrent imports of the
    same key get consecutive numbers: creates the definition or updates its name and
    description, then creates version max+1 with its steps and transitions. A document
    equal to the latest version (draft or published) creates nothing and returns that
    version. With `publish`, a draft result is published. A `kind: decision_table`
    document becomes a decision table version instead (services/decision_tables.py).
    """
    if isinstance(doc, dict) and doc.get("kind") == "decision_table":
        return import_decision_table(doc, publish=publish, actor=actor)
    errors = validate_spec(doc)
    if errors:
        raise WorkflowFormatError(errors)
    spec = stored_spec(doc)
    with transaction.atomic():
        definition = _lock_definition(spec)
        latest = definition.versions.order_by("-number").first()
        if (
            latest is not None
            and latest.status in (VersionStatus.DRAFT, VersionStatus.PUBLISHED)
            and latest.to_spec() == spec
        ):
            version = latest
        else:
            version = _create_version(definition, spec, actor)
        if publish and version.status == VersionStatus.DRAFT:
            _publish(version)
    return version


def publish_version(version, *, actor=None):
    """Publish the draft `version` so that new instances start on it.

    Locks the version row, validates its current rows again (a draft may have been
    edited in the admin) and raises WorkflowFormatError if they are not a valid workflow.
    Publishing a published version returns it unchanged; a retired one raises
    TransitionNotAllowed. Returns the version, reloaded.
    """
    with transaction.atomic():
        locked = WorkflowVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status == VersionStatus.PUBLISHED:
            return locked
        errors = validate_spec(locked.to_spec())
        if errors:
            raise WorkflowFormatError(errors)
        _publish(locked)
    return locked


def export_version(version):
    """The version as a workflow document (a dict), as `import_workflow` reads it; a
    decision table version as a decision table document."""
    if isinstance(version, DecisionTableVersion):
        return export_decision_table_version(version)
    return version.to_spec()


def _lock_definition(spec):
    defaults = {"name": spec["name"], "description": spec.get("description", "")}
    definition, _created = WorkflowDefinition.objects.get_or_create(
        key=spec["key"], defaults=defaults
    )
    # The lock serialises imports of one key: the number below is max+1 of what we see.
    definition = WorkflowDefinition.objects.select_for_update().get(pk=definition.pk)
    changed = [field for field, value in defaults.items() if getattr(definition, field) != value]
    if changed:
        for field in changed:
            setattr(definition, field, defaults[field])
        definition.save(update_fields=changed)
    return definition


def _create_version(definition, spec, actor):
    highest = definition.versions.aggregate(highest=Max("number"))["highest"] or 0
    version = WorkflowVersion.objects.create(
        definition=definition,
        number=highest + 1,
        name=spec["name"],
        description=spec.get("description", ""),
        variables=spec.get("variables", {}),
        calendar=spec.get("calendar", ""),
        start_on=spec.get("start_on", {}),
        created_by=actor,
    )
    Step.objects.bulk_create(
        Step(
            version=version,
            position=position,
            key=step["key"],
            type=step["type"],
            name=step.get("name", ""),
            config={k: v for k, v in step.items() if k not in ("key", "type", "name")},
        )
        for position, step in enumerate(spec["steps"])
    )
    Transition.objects.bulk_create(
        Transition(
            version=version,
            position=position,
            from_step=link["from"],
            to_step=link["to"],
            name=link.get("name", ""),
            when=link.get("when", ""),
            on=link.get("on", ""),
            is_default=link.get("default", False),
        )
        for position, link in enumerate(spec["transitions"])
    )
    return version


def _publish(version):
    version.publish()
    version.save(update_fields=["status", "published_at"])


def retire_version(version, *, actor=None):
    """Retire a published version: no new instance starts on it; running ones go on.
    Raises TransitionNotAllowed unless it is published."""
    with transaction.atomic():
        locked = WorkflowVersion.objects.select_for_update().get(pk=version.pk)
        locked.retire()
        locked.save(update_fields=["status"])
    return locked


def create_draft(definition_id, *, actor=None):
    """Start a new draft as a copy of the current (newest published) version, or of the
    newest version when none is published. Returns (draft, created): an existing draft
    is returned as it is, since a definition has at most one draft to edit."""
    with transaction.atomic():
        definition = WorkflowDefinition.objects.select_for_update().get(pk=definition_id)
        draft = definition.versions.filter(status=VersionStatus.DRAFT).order_by("-number").first()
        if draft is not None:
            return draft, False
        source = definition.current_version() or definition.versions.order_by("-number").first()
        if source is None:
            raise ValueError(f"'{definition.key}' has no version to copy; import a file first")
        return _create_version(definition, source.to_spec(), actor), True


def create_definition(*, key, name, description="", actor=None):
    """Create a definition with a first draft to edit: a start step joined to an end step,
    the smallest valid workflow. Returns (definition, draft). Raises ValueError if the key
    is taken."""
    with transaction.atomic():
        if WorkflowDefinition.objects.filter(key=key).exists():
            raise ValueError(f"a workflow with the key '{key}' exists already")
        definition = WorkflowDefinition.objects.create(key=key, name=name, description=description)
        spec = {
            "format": 1,
            "key": key,
            "name": name,
            "description": description,
            "steps": [{"key": "start", "type": "start"}, {"key": "end", "type": "end"}],
            "transitions": [{"from": "start", "to": "end"}],
        }
        draft = _create_version(definition, spec, actor)
    return definition, draft
