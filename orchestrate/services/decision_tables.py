"""Importing, publishing and exporting decision tables.

A `kind: decision_table` document (docs/workflow-format.md, "Decision tables") becomes one
DecisionTableVersion; `DecisionTableVersion.to_spec()` gives the document back.
"""

import json

from django.db import transaction
from django.db.models import Max

from orchestrate.formats import WorkflowFormatError
from orchestrate.formats.decision_tables import validate_decision_table
from orchestrate.models import DecisionTable, DecisionTableVersion, VersionStatus

STORED_KEYS = ("hit_policy", "aggregation", "inputs", "outputs", "priorities", "rules")


def stored_table_spec(doc):
    """What `to_spec()` gives back after importing the valid document `doc`: defaults left
    out, JSON values only."""
    spec = {
        "format": 1,
        "kind": "decision_table",
        "key": doc["key"],
        "name": doc["name"],
        "hit_policy": doc["hit_policy"],
    }
    if doc.get("aggregation"):
        spec["aggregation"] = doc["aggregation"]
    spec["inputs"] = doc.get("inputs") or []
    spec["outputs"] = doc["outputs"]
    if doc.get("priorities"):
        spec["priorities"] = doc["priorities"]
    spec["rules"] = [
        {"when": rule.get("when") or {}, "then": rule["then"]} for rule in doc["rules"]
    ]
    return json.loads(json.dumps(spec))


def import_decision_table(doc, *, publish=False, actor=None):
    """Import the decision table document `doc` as a new version of its table.

    Validates first and raises WorkflowFormatError with every problem, writing nothing.
    In one transaction, with the table row locked so that concurrent imports of one key
    get consecutive numbers. A document equal to the latest draft or published version
    creates nothing and returns that version. With `publish`, a draft result is published.
    (`actor` is accepted for symmetry with workflows; versions do not record it yet.)
    """
    errors = validate_decision_table(doc)
    if errors:
        raise WorkflowFormatError(errors)
    spec = stored_table_spec(doc)
    with transaction.atomic():
        table = _lock_table(spec)
        latest = table.versions.order_by("-number").first()
        if (
            latest is not None
            and latest.status in (VersionStatus.DRAFT, VersionStatus.PUBLISHED)
            and latest.to_spec() == spec
        ):
            version = latest
        else:
            highest = table.versions.aggregate(highest=Max("number"))["highest"] or 0
            version = DecisionTableVersion.objects.create(
                table=table,
                number=highest + 1,
                name=spec["name"],
                **{key: spec.get(key, _EMPTY[key]) for key in STORED_KEYS},
            )
        if publish and version.status == VersionStatus.DRAFT:
            _publish(version)
    return version


_EMPTY = {
    "hit_policy": "",
    "aggregation": "",
    "inputs": [],
    "outputs": [],
    "priorities": {},
    "rules": [],
}


def publish_decision_table_version(version, *, actor=None):
    """Publish the draft `version` so that `decide` evaluates it.

    Locks the version row and validates it again (a draft may have been edited in the
    admin), raising WorkflowFormatError if it is not a valid table. Publishing a published
    version returns it unchanged; a retired one raises TransitionNotAllowed. Returns the
    version, reloaded.
    """
    with transaction.atomic():
        locked = (
            DecisionTableVersion.objects.select_for_update()
            .select_related("table")
            .get(pk=version.pk)
        )
        if locked.status == VersionStatus.PUBLISHED:
            return locked
        errors = validate_decision_table(locked.to_spec())
        if errors:
            raise WorkflowFormatError(errors)
        _publish(locked)
    return locked


def export_decision_table_version(version):
    """The version as a decision table document (a dict), as the importer reads it."""
    return version.to_spec()


def _lock_table(spec):
    table, _created = DecisionTable.objects.get_or_create(
        key=spec["key"], defaults={"name": spec["name"]}
    )
    table = DecisionTable.objects.select_for_update().get(pk=table.pk)
    if table.name != spec["name"]:
        table.name = spec["name"]
        table.save(update_fields=["name"])
    return table


def _publish(version):
    version.publish()
    version.save(update_fields=["status", "published_at"])


def create_decision_table_draft(table_id, *, actor=None):
    """Start a new draft as a copy of the table's current (newest published) version, or
    of its newest version when none is published. Returns (draft, created): an existing
    draft is returned as it is, since a table has at most one draft to edit. The table row
    is locked, so two admins asking at once get one draft."""
    with transaction.atomic():
        table = DecisionTable.objects.select_for_update().get(pk=table_id)
        draft = table.versions.filter(status=VersionStatus.DRAFT).order_by("-number").first()
        if draft is not None:
            return draft, False
        source = table.current_version() or table.versions.order_by("-number").first()
        if source is None:
            raise ValueError(f"'{table.key}' has no version to copy; import a file first")
        highest = table.versions.aggregate(highest=Max("number"))["highest"] or 0
        spec = source.to_spec()
        draft = DecisionTableVersion.objects.create(
            table=table,
            number=highest + 1,
            name=spec["name"],
            **{key: spec.get(key, _EMPTY[key]) for key in STORED_KEYS},
        )
    return draft, True
