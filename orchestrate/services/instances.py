"""Starting, cancelling, suspending and repairing instances.

Every service here owns its transaction, locks the instance row before changing it, and
writes its audit events through the engine in the same transaction.
"""

from django.db import IntegrityError, transaction

from orchestrate.engine import dispatch
from orchestrate.engine.variables import validate_start_variables
from orchestrate.engine.walker import Engine, lock_instance, lock_step_run
from orchestrate.models import (
    AuditKind,
    Instance,
    InstanceStatus,
    StepRunStatus,
    StepType,
    VersionStatus,
    WorkflowDefinition,
    WorkflowVersion,
)
from orchestrate.models.runtime import LIVE_INSTANCE_STATUSES


class StartError(Exception):
    """The workflow cannot be started (unknown, or nothing published)."""


class VariablesInvalid(StartError):
    """Start variables break the declared rules; `errors` maps name -> message."""

    def __init__(self, errors):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class InstanceStateError(Exception):
    """The instance is not in a state that allows this action (a 409 for the API)."""


def _current_version(workflow_key):
    """The workflow and its current published version (as `current_version()` picks it),
    read in one query: starting is the engine's hottest path."""
    version = (
        WorkflowVersion.objects.select_related("definition")
        .filter(definition__key=workflow_key, status=VersionStatus.PUBLISHED)
        .order_by("-number")
        .first()
    )
    if version is not None:
        return version.definition, version
    if not WorkflowDefinition.objects.filter(key=workflow_key).exists():
        raise StartError(f"no workflow '{workflow_key}'")
    raise StartError(f"workflow '{workflow_key}' has no published version")


def _create_and_walk(definition, version, variables, *, business_key, actor, parent_step_run):
    values, errors = validate_start_variables(version.variables, variables)
    if errors:
        raise VariablesInvalid(errors)
    instance = Instance.objects.create(
        definition=definition,
        version=version,
        business_key=business_key or "",
        variables=values,
        started_by=actor,
        parent_step_run=parent_step_run,
    )
    engine = Engine(instance, actor=actor, notify_parent=parent_step_run is None)
    engine.start()
    return engine.finish()


def start_instance(*, workflow_key, variables=None, business_key="", actor=None):
    """Start an instance of the current published version of `workflow_key`.

    Idempotent per business key: when an instance of the workflow already has the key,
    that instance is returned with created=False and nothing is written. Returns
    (instance, created). Raises StartError / VariablesInvalid with nothing written.
    """
    definition, version = _current_version(workflow_key)
    if business_key:
        existing = Instance.objects.filter(definition=definition, business_key=business_key)
        found = existing.first()
        if found is not None:
            return found, False
    try:
        with transaction.atomic():
            instance = _create_and_walk(
                definition,
                version,
                variables or {},
                business_key=business_key,
                actor=actor,
                parent_step_run=None,
            )
    except IntegrityError:
        # Two starts with the same business key at once: the other one won.
        found = Instance.objects.filter(definition=definition, business_key=business_key).first()
        if business_key and found is not None:
            return found, False
        raise
    return instance, True


def start_child_instance(*, workflow_key, variables, parent_step_run, actor=None):
    """Start a subprocess instance inside the parent's transaction (the engine calls it)."""
    definition, version = _current_version(workflow_key)
    return _create_and_walk(
        definition,
        version,
        variables,
        business_key="",
        actor=actor,
        parent_step_run=parent_step_run,
    )


def cancel_instance(instance_id, *, actor=None, reason=""):
    """Cancel a live instance: every live step (and child instance) is cancelled and
    audited. Raises InstanceStateError if it has already ended."""
    with transaction.atomic():
        instance = lock_instance(instance_id)
        if instance.is_ended:
            raise InstanceStateError(f"the instance is already {instance.status}")
        _cancel_locked(instance, actor=actor, reason=reason)
    return instance


def _cancel_locked(instance, *, actor, reason):
    engine = Engine(instance, actor=actor)
    engine.cancel_live_runs(reason=reason)
    instance.cancel()
    engine.instance_dirty = True
    engine.event(AuditKind.INSTANCE_CANCELLED, reason=reason)
    engine.finish()


def cancel_children(step_run_ids, *, actor=None, reason=""):
    """Cancel the live child instances of the given subprocess step runs (parent locked)."""
    children = Instance.objects.filter(
        parent_step_run_id__in=step_run_ids, status__in=LIVE_INSTANCE_STATUSES
    ).values_list("pk", flat=True)
    for child_id in list(children):
        child = lock_instance(child_id)
        if not child.is_ended:
            _cancel_locked(child, actor=actor, reason=reason)


def suspend_instance(instance_id, *, actor=None, reason=""):
    """Suspend a running instance: no step is taken or fired until it is resumed."""
    with transaction.atomic():
        instance = lock_instance(instance_id)
        if instance.status != InstanceStatus.RUNNING:
            raise InstanceStateError(
                f"only a running instance can be suspended, not {instance.status}"
            )
        engine = Engine(instance, actor=actor)
        instance.suspend()
        engine.instance_dirty = True
        engine.event(AuditKind.INSTANCE_SUSPENDED, reason=reason)
        return engine.finish()


def resume_instance(instance_id, *, actor=None, reason=""):
    """Resume a suspended instance; what became due meanwhile is sent by the sweep."""
    with transaction.atomic():
        instance = lock_instance(instance_id)
        if instance.status != InstanceStatus.SUSPENDED:
            raise InstanceStateError(
                f"only a suspended instance can be resumed, not {instance.status}"
            )
        engine = Engine(instance, actor=actor)
        instance.resume()
        engine.instance_dirty = True
        engine.event(AuditKind.INSTANCE_RESUMED, reason=reason)
        _send_due_now(engine)
        return engine.finish()


def _send_due_now(engine):
    for run in engine.instance.step_runs.filter(
        status=StepRunStatus.SCHEDULED, next_attempt_at__lte=engine.now
    ):
        engine.sends.append((dispatch.RUN_STEP, run))


def retry_incident(instance_id, *, actor=None):
    """Retry every step of the instance that stopped with an incident: an automated
    step gets fresh attempts; another step is entered again. Audited."""
    with transaction.atomic():
        instance = lock_instance(instance_id)
        if instance.status != InstanceStatus.INCIDENT:
            raise InstanceStateError(f"the instance has no incident (it is {instance.status})")
        engine = Engine(instance, actor=actor)
        runs = list(instance.step_runs.filter(status=StepRunStatus.INCIDENT))
        instance.resolve_incident()
        engine.instance_dirty = True
        for run in runs:
            engine.adopt(run)
            engine.event(AuditKind.INCIDENT_RETRIED, run, error=run.error)
            if run.step_type == StepType.AUTOMATED:
                run.retry_incident(engine.now)
                run.dispatched_at = engine.now
                engine.touch(run)
                engine.sends.append((dispatch.RUN_STEP, run))
            else:
                run.cancel()
                engine.touch(run)
                engine.close_hooks(run)
                engine.queue.append((run.step_key, run.via))
        engine.walk()
        return engine.finish()


def resume_parent(step_run_id):
    """A child instance ended: complete the parent's waiting subprocess step.
    Idempotent: a step that no longer waits is left alone."""
    with transaction.atomic():
        instance, run = lock_step_run(step_run_id)
        if (
            run is None
            or run.status != StepRunStatus.WAITING
            or run.step_type != StepType.SUBPROCESS
        ):
            return None
        child = run.child_instances.order_by("-id").first()
        if child is None or child.status != InstanceStatus.COMPLETED:
            return None
        engine = Engine(instance, actor_label="system")
        engine.adopt(run)
        engine.finish_subprocess(run, child)
        engine.walk()
        return engine.finish()


def update_variables(instance_id, *, actor, values, reason):
    """An operator changes variables of a live instance, with a reason. Declared variables
    keep their types; nothing is written when a value or the reason is wrong. Audited
    (`variables.changed` with the changes, the reason and who) in the same transaction."""
    reason = (reason or "").strip()
    errors = {}
    if not isinstance(values, dict) or not values:
        errors["variables"] = "Give the variables to change as an object of name: value."
    if not reason:
        errors["reason"] = "Say why the variables change."
    if errors:
        raise VariablesInvalid(errors)
    with transaction.atomic():
        instance = lock_instance(instance_id)
        if instance.is_ended:
            raise InstanceStateError(f"the instance is {instance.status}; its variables stay")
        declared = {
            name: rules
            for name, rules in (instance.version.variables or {}).items()
            if name in values
        }
        _, type_errors = validate_start_variables(declared, values)
        reserved = [name for name in values if name in ("instance", "now", "decisions")]
        for name in reserved:
            type_errors[name] = f"'{name}' is kept by the engine and cannot be set by hand."
        if type_errors:
            raise VariablesInvalid(type_errors)
        engine = Engine(instance, actor=actor)
        engine.set_variables(values)
        engine.variables_note = {"reason": reason, "by_hand": True}
        return engine.finish()
