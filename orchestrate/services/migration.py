"""Moving running instances to another version of their workflow.

`plan_migration` is the dry run: per instance, which active step goes where, or why it
cannot move. `migrate_instances` applies the same plan, each instance in its own
transaction under its row lock, audited; an instance that cannot move is left as it is.
"""

from dataclasses import dataclass, field

from django.db import transaction

from orchestrate.engine.graph import graph_for
from orchestrate.engine.walker import Engine, lock_instance
from orchestrate.models import (
    LIVE_STEP_STATUSES,
    AuditKind,
    Instance,
    StepRunStatus,
    StepType,
    VersionStatus,
    WorkflowVersion,
)


class MigrationError(Exception):
    """The target version cannot take instances at all."""


@dataclass
class MigrationPlan:
    instance_id: int
    from_version: int
    to_version: int
    moves: dict = field(default_factory=dict)  # active step key -> key in the target
    reason: str = ""  # why the instance cannot move ("" when it can)

    @property
    def ok(self):
        return not self.reason


def _target(version_id):
    target = WorkflowVersion.objects.select_related("definition").filter(pk=version_id).first()
    if target is None:
        raise MigrationError("there is no such version")
    if target.status != VersionStatus.PUBLISHED:
        raise MigrationError(f"version {target.number} is {target.status}, not published")
    return target


def _plan_one(instance, target, mapping, target_graph):
    plan = MigrationPlan(instance.pk, instance.version.number, target.number)
    if instance.definition_id != target.definition_id:
        plan.reason = "the version belongs to another workflow"
        return plan, []
    if instance.is_ended:
        plan.reason = f"the instance is {instance.status}"
        return plan, []
    if target.number <= instance.version.number:
        plan.reason = f"version {target.number} is not newer than {instance.version.number}"
        return plan, []
    runs = list(instance.step_runs.filter(status__in=LIVE_STEP_STATUSES))
    for run in runs:
        new_key = mapping.get(run.step_key, run.step_key)
        step = target_graph.steps.get(new_key)
        if step is None:
            plan.reason = f"the active step '{run.step_key}' has no counterpart '{new_key}'"
            return plan, []
        if step["type"] != run.step_type:
            plan.reason = (
                f"the active step '{run.step_key}' is a {run.step_type} step, but "
                f"'{new_key}' is a {step['type']} step in version {target.number}"
            )
            return plan, []
        if run.status == StepRunStatus.RUNNING:
            plan.reason = f"the step '{run.step_key}' is running on a worker right now"
            return plan, []
        if run.step_type == StepType.JOIN:
            plan.reason = f"the join '{run.step_key}' is waiting for branches"
            return plan, []
        plan.moves[run.step_key] = new_key
    return plan, runs


def plan_migration(instance_ids, *, to_version_id, mapping=None):
    """The dry run: one MigrationPlan per instance; nothing is written."""
    target = _target(to_version_id)
    graph = graph_for(target)
    instances = Instance.objects.filter(pk__in=instance_ids).select_related("version")
    return [_plan_one(i, target, mapping or {}, graph)[0] for i in instances.order_by("pk")]


def migrate_instances(instance_ids, *, to_version_id, mapping=None, actor=None):
    """Move each instance that can move (its own transaction and lock); returns the
    plans, with `reason` set for those left where they were. Audited per instance."""
    target = _target(to_version_id)
    graph = graph_for(target)
    mapping = mapping or {}
    plans = []
    for instance_id in sorted(instance_ids):
        with transaction.atomic():
            instance = lock_instance(instance_id)
            plan, runs = _plan_one(instance, target, mapping, graph)
            plans.append(plan)
            if not plan.ok:
                continue
            _move(instance, runs, target, graph, plan, actor)
    return plans


def _move(instance, runs, target, graph, plan, actor):
    from tasks_inbox.models import Task

    engine = Engine(instance, actor=actor)
    old_graph = engine.graph
    for run in runs:
        new_key = plan.moves[run.step_key]
        old_edge = old_graph.edges[run.via] if run.via is not None else None
        run.via = _matching_edge(graph, old_edge, plan.moves)
        if new_key != run.step_key:
            Task.objects.filter(step_run=run).update(step_key=new_key)
        run.step_key = new_key
        run.save(update_fields=["step_key", "via"])
    from_number = instance.version.number
    instance.version = target
    engine.instance_dirty = True
    engine.event(
        AuditKind.INSTANCE_MIGRATED,
        from_version=from_number,
        to_version=target.number,
        moves=plan.moves,
    )
    engine.finish()


def _matching_edge(graph, old_edge, moves):
    if old_edge is None:
        return None
    source = moves.get(old_edge.source, old_edge.source)
    target = moves.get(old_edge.target, old_edge.target)
    for edge in graph.edges:
        if edge.source == source and edge.target == target:
            return edge.index
    return None
