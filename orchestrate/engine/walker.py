"""The graph walk: moves one locked instance from its wait states to the next ones.

An `Engine` is made for one transaction on one instance whose row the caller has locked
(`select_for_update`). Gateways, joins, ends and pure actions run inline where they are
reached; automated steps with outside I/O become `scheduled` rows for a worker; timers,
messages, human steps and subprocesses become `waiting` rows. Nothing is written until
`finish()`: new step runs and audit events go in with `bulk_create`, changed step runs
with one `bulk_update`, and the instance is saved once.
"""

import copy
import datetime
import logging
from collections import deque

from django.db.models import Q
from django.utils import timezone

from orchestrate.models import (
    LIVE_STEP_STATUSES,
    AuditEvent,
    AuditKind,
    Instance,
    InstanceStatus,
    StepRun,
    StepRunStatus,
    StepType,
)
from orchestrate.observability.logging import bind_log_context

from . import actions, calendars, dispatch, expressions
from .durations import parse_duration
from .graph import graph_for
from .templating import render_value

logger = logging.getLogger("orchestrate.engine")

DEFAULT_RETRY = {
    "max_attempts": 3,
    "backoff_seconds": 2,
    "backoff_factor": 2,
    "max_backoff_seconds": 600,
}

_STEP_RUN_FIELDS = [
    "status",
    "attempt",
    "failures",
    "lost_attempts",
    "next_attempt_at",
    "due_at",
    "lease_expires_at",
    "dispatched_at",
    "arrivals",
    "absorbing",
    "outcome",
    "result",
    "error",
    "ended_at",
]

# Hooks for step types whose wait state is filled in by another app (human tasks):
# called as hook(engine, run, step) when a run is entered, cancelled or completed. A hook
# that must write rows pointing at the run adds a callable to `engine.after_write`: those
# run in `finish()` once the step runs are stored (and have ids), before the audit events.
STEP_ENTERED_HOOKS: dict[str, list] = {}
STEP_CLOSED_HOOKS: dict[str, list] = {}


class EngineError(Exception):
    """A wrong use of the engine by a service (a bug, not a user error)."""


def retry_policy(step):
    return {**DEFAULT_RETRY, **(step.get("retry") or {})}


def backoff_delay(step, failure_number):
    """Seconds before the attempt that follows failure number `failure_number`."""
    policy = retry_policy(step)
    delay = float(policy["backoff_seconds"]) * float(policy["backoff_factor"]) ** (
        failure_number - 1
    )
    return min(delay, float(policy["max_backoff_seconds"]))


def correlation_text(value):
    """Correlation keys compare as text: 42, 42.0 and "42" are the same key."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Engine:
    def __init__(self, instance, *, actor=None, actor_label=None, now=None, notify_parent=True):
        self.instance = instance
        self.graph = graph_for(instance.version)
        self.actor = actor
        self.actor_label = actor_label or (actor.get_username() if actor else "system")
        self.now = now or timezone.now()
        self.notify_parent = notify_parent
        self.queue = deque()
        self.new_runs = []
        self.known = {}  # pk -> saved StepRun loaded or adopted in this transaction
        self.dirty = {}  # pk -> saved StepRun changed in this transaction
        self.events = []
        self.sends = []  # (task name, StepRun) sent after commit
        self.children_to_cancel = []
        self.after_write = []
        self.instance_dirty = False
        self.terminated = False
        self.tokens_consumed = False
        self._join_runs = None
        self._nothing_stored = False  # a new instance has no step run in the database
        self._new_instance = False  # started here: no audit event stored yet
        self._context = None
        self._variables_before = copy.deepcopy(instance.variables)
        # Extra data for the `variables.changed` event (an operator's reason, say).
        self.variables_note = {}
        bind_log_context(instance_id=instance.pk)

    # --- bookkeeping -------------------------------------------------------------
    def adopt(self, run):
        """Track a step run the caller loaded (and locked) in this transaction."""
        self.known[run.pk] = run
        run.instance = self.instance
        bind_log_context(step_run_id=run.pk, step_key=run.step_key)
        return run

    def touch(self, run):
        if run.pk is not None:
            self.known[run.pk] = run
            self.dirty[run.pk] = run

    def event(self, kind, run=None, **data):
        self.events.append(
            AuditEvent(
                instance=self.instance,
                step_run=run,
                step_key=run.step_key if run is not None else "",
                kind=kind,
                actor=self.actor,
                actor_label=self.actor_label,
                at=timezone.now(),
                data=data,
            )
        )

    def instance_info(self):
        instance = self.instance
        return {
            "id": instance.pk,
            "business_key": instance.business_key,
            "started_at": instance.started_at,
            "started_by": instance.started_by.get_username() if instance.started_by_id else "",
        }

    def context(self):
        """The CEL context: variables, `instance` and `now` (rebuilt after changes)."""
        if self._context is None:
            self._context = expressions.build_context(
                self.instance.variables, self.instance_info(), self.now
            )
        return self._context

    def template_context(self):
        context = dict(self.instance.variables)
        info = self.instance_info()
        info["started_at"] = info["started_at"].isoformat()
        context["instance"] = info
        return context

    def set_variables(self, values):
        if not values:
            return
        self.instance.variables = {**self.instance.variables, **values}
        self.instance_dirty = True
        self._context = None

    def _new_run(self, step_key, via):
        step = self.graph.step(step_key)
        run = StepRun(
            instance=self.instance,
            step_key=step_key,
            step_type=step["type"],
            status=StepRunStatus.WAITING,
            via=via,
            created_at=self.now,
        )
        self.new_runs.append(run)
        return run

    # --- moving tokens -----------------------------------------------------------
    def start(self):
        """Walk a new instance from its start step."""
        self.event(
            AuditKind.INSTANCE_STARTED,
            version=self.instance.version.number,
            business_key=self.instance.business_key,
            variables=self.instance.variables,
        )
        self._nothing_stored = True
        self._new_instance = True
        self._join_runs = {}
        self.queue.append((self.graph.start_key, None))
        self.walk()

    def walk(self):
        """Process queued tokens until every branch rests in a wait state."""
        while True:
            while self.queue and not self.terminated:
                step_key, via = self.queue.popleft()
                self._enter(step_key, via)
            if self.terminated or not self._fire_active_joins():
                break

    def follow(self, edges):
        for edge in edges:
            self.queue.append((edge.target, edge.index))

    def plain_edges(self, step_key):
        return [e for e in self.graph.outgoing[step_key] if not e.on]

    def edges_for_outcome(self, step_key, outcome):
        """Edges with `on: outcome`; for an ordinary outcome, else the plain ones."""
        matching = [e for e in self.graph.outgoing[step_key] if e.on == outcome]
        if matching or outcome in ("error", "timeout"):
            return matching
        return self.plain_edges(step_key)

    def complete_run(self, run, *, outcome="", result=None, edges=None):
        """Complete `run` and send its token on (the plain or the outcome's edges)."""
        if edges is None:
            edges = self.edges_for_outcome(run.step_key, outcome)
        if not edges and run.step_type not in (StepType.END, StepType.JOIN):
            # The step stays where it is, with an incident an admin can retry.
            self.touch(run)
            self.raise_incident(run, f"no transition from '{run.step_key}' for outcome '{outcome}'")
            return
        run.complete(outcome=outcome, result=result)
        self.touch(run)
        data = {"via": run.via, "to": [e.target for e in edges]}
        if outcome:
            data["outcome"] = outcome
        self.event(AuditKind.STEP_COMPLETED, run, **data)
        self.close_hooks(run)
        self.follow(edges)

    def _enter(self, step_key, via):
        step = self.graph.step(step_key)
        getattr(self, f"_enter_{step['type']}")(step, via)

    def close_hooks(self, run):
        """Tell the app behind the step (human tasks) that the run has ended."""
        self._run_hooks(STEP_CLOSED_HOOKS, run)

    def _run_hooks(self, hooks, run):
        for hook in hooks.get(run.step_type, ()):
            hook(self, run, self.graph.step(run.step_key))

    # --- node behaviour ----------------------------------------------------------
    def _enter_start(self, step, via):
        run = self._new_run(step["key"], via)
        self.complete_run(run)

    def _enter_end(self, step, via):
        run = self._new_run(step["key"], via)
        outcome = str(step.get("outcome", "completed"))
        run.complete(outcome=outcome)
        self.event(AuditKind.STEP_COMPLETED, run, via=via, outcome=outcome)
        self.tokens_consumed = True
        self.instance.outcome = outcome  # the outcome of the last end reached so far
        self.instance_dirty = True
        if step.get("terminate"):
            self.cancel_live_runs()
            self.terminated = True
            self.queue.clear()
            self._complete_instance()

    def _enter_parallel(self, step, via):
        run = self._new_run(step["key"], via)
        self.complete_run(run, edges=list(self.graph.outgoing[step["key"]]))

    def _condition_holds(self, run, edge):
        if not edge.when:
            return True
        try:
            return expressions.evaluate(edge.when, self.context()) is True
        except expressions.ExpressionError as exc:
            raise _GatewayError(f"transition to '{edge.target}': {exc}") from None

    def _enter_exclusive(self, step, via):
        run = self._new_run(step["key"], via)
        edges = self.graph.outgoing[step["key"]]
        try:
            chosen = next(
                (e for e in edges if not e.default and self._condition_holds(run, e)), None
            )
        except _GatewayError as exc:
            self.raise_incident(run, str(exc))
            return
        if chosen is None:
            chosen = next((e for e in edges if e.default), None)
        if chosen is None:
            self.raise_incident(run, "no condition holds and there is no default transition")
            return
        self.complete_run(run, edges=[chosen])

    def _enter_inclusive(self, step, via):
        run = self._new_run(step["key"], via)
        edges = self.graph.outgoing[step["key"]]
        try:
            chosen = [e for e in edges if not e.default and self._condition_holds(run, e)]
        except _GatewayError as exc:
            self.raise_incident(run, str(exc))
            return
        if not chosen:
            chosen = [e for e in edges if e.default]
        if not chosen:
            self.raise_incident(run, "no condition holds and there is no default transition")
            return
        self.complete_run(run, edges=chosen)

    def _enter_join(self, step, via):
        key = step["key"]
        mode = step.get("mode", "all")
        incoming = self.graph.incoming_indexes(key)
        runs = self._join_runs_for(key)
        # A fired first/count join absorbs the late arrivals of its round.
        for run in runs:
            if run.absorbing and via not in run.arrivals:
                run.arrivals = [*run.arrivals, via]
                if incoming <= set(run.arrivals):
                    run.absorbing = False
                self.touch(run)
                self.tokens_consumed = True
                self.event(AuditKind.STEP_COMPLETED, run, via=via, absorbed=True)
                return
        run = next(
            (r for r in runs if r.status == StepRunStatus.WAITING and via not in r.arrivals),
            None,
        )
        if run is None:
            run = self._new_run(key, via)
            runs.append(run)
            self.event(AuditKind.STEP_ENTERED, run, via=via, status=run.status)
        run.arrivals = [*run.arrivals, via]
        self.touch(run)
        arrived = len(run.arrivals)
        if mode == "first":
            fire = arrived >= 1
        elif mode == "count":
            fire = arrived >= int(step.get("count", 1))
        elif mode == "active":
            fire = not self._can_still_arrive(run)
        else:
            fire = incoming <= set(run.arrivals)
        if fire:
            self._fire_join(run, incoming)

    def _fire_join(self, run, incoming):
        run.absorbing = not incoming <= set(run.arrivals) and self.graph.step(run.step_key).get(
            "mode"
        ) in ("first", "count")
        self.complete_run(run, edges=self.plain_edges(run.step_key))

    def _join_runs_for(self, step_key):
        if self._join_runs is None:
            self._join_runs = {}
            loaded = self.instance.step_runs.filter(
                Q(status=StepRunStatus.WAITING) | Q(absorbing=True), step_type=StepType.JOIN
            )
            for run in loaded.order_by("created_at", "id"):
                run = self.known.setdefault(run.pk, run)
                self._join_runs.setdefault(run.step_key, []).append(run)
        return self._join_runs.setdefault(step_key, [])

    def _live_runs(self):
        """Every live step run of the instance as this transaction sees it."""
        in_memory = [r for r in [*self.new_runs, *self.known.values()] if r.is_live]
        if self._nothing_stored:
            return in_memory
        seen = {r.pk for r in in_memory if r.pk is not None}
        stored = self.instance.step_runs.filter(status__in=LIVE_STEP_STATUSES).exclude(
            pk__in=[*self.known]
        )
        return in_memory + [self.known.setdefault(r.pk, r) for r in stored if r.pk not in seen]

    def _can_still_arrive(self, join_run):
        """Whether a live branch other than the join's own round may reach the join:
        a token still queued in this walk, or a live step run."""
        target = join_run.step_key
        if any(key == target or self.graph.can_reach(key, target) for key, _ in self.queue):
            return True
        return any(
            r is not join_run and r.step_key != target and self.graph.can_reach(r.step_key, target)
            for r in self._live_runs()
        )

    def _fire_active_joins(self):
        """Fire `mode: active` joins that no live branch can reach any more."""
        if not self.graph.has_active_joins:
            return False
        fired = False
        for key, step in self.graph.steps.items():
            if step["type"] != StepType.JOIN or step.get("mode") != "active":
                continue
            for run in list(self._join_runs_for(key)):
                if run.status == StepRunStatus.WAITING and not self._can_still_arrive(run):
                    self._fire_join(run, self.graph.incoming_indexes(key))
                    fired = True
        return fired

    def _enter_automated(self, step, via):
        run = self._new_run(step["key"], via)
        spec = actions.get_action(step.get("action", ""))
        if spec is None:
            self.raise_incident(run, f"unknown action '{step.get('action')}'")
            return
        if spec.pure:
            run.attempt = 1
            try:
                result = self.call_action(run, step, spec)
            except Exception as exc:
                self.event(AuditKind.ACTION_FAILED, run, attempt=1, error=_error_text(exc))
                self.fail_for_good(run, _error_text(exc))
                return
            self.event(AuditKind.ACTION_SUCCEEDED, run, attempt=1)
            self.apply_result(step, result)
            self.complete_run(run, result=_json_safe(result), edges=self.plain_edges(step["key"]))
            return
        run.schedule(self.now)
        run.dispatched_at = self.now
        self.sends.append((dispatch.RUN_STEP, run))
        self.event(AuditKind.STEP_ENTERED, run, via=via, status=run.status)

    def call_action(self, run, step, spec):
        """Run the step's action with its params rendered; returns the result."""
        bind_log_context(step_run_id=run.pk, step_key=run.step_key)
        params = step.get("params") or {}
        if not spec.raw_params:
            params = render_value(params, self.template_context())
        ctx = actions.ActionContext(
            instance_id=self.instance.pk,
            step_key=run.step_key,
            step_run_id=run.pk,
            idempotency_key=str(run.idempotency_key),
            attempt=run.attempt,
            variables=self.instance.variables,
            expression_context=self.context(),
        )
        return spec.func(params, ctx)

    def apply_result(self, step, result):
        """`output` names the variable for the result; else a mapping is merged."""
        output = step.get("output")
        if output:
            self.set_variables({output: _json_safe(result)})
        elif isinstance(result, dict):
            self.set_variables(_json_safe(result))

    def _enter_human(self, step, via):
        run = self._new_run(step["key"], via)
        if step.get("timeout"):
            run.due_at = self.now + parse_duration(step["timeout"])
        self.event(AuditKind.STEP_ENTERED, run, via=via, status=run.status)
        self._run_hooks(STEP_ENTERED_HOOKS, run)

    def _enter_timer(self, step, via):
        run = self._new_run(step["key"], via)
        try:
            due = self._timer_due(step)
        except (expressions.ExpressionError, calendars.CalendarError, ValueError) as exc:
            self.raise_incident(run, f"timer: {exc}")
            return
        if due <= self.now:
            self.event(AuditKind.TIMER_FIRED, run, due_at=due.isoformat())
            self.complete_run(run, edges=self.plain_edges(step["key"]))
            return
        run.due_at = due
        self.event(AuditKind.STEP_ENTERED, run, via=via, status=run.status, due_at=due.isoformat())

    def _timer_due(self, step):
        if "duration" in step:
            if step.get("business"):
                return calendars.add_duration(
                    self.now,
                    step["duration"],
                    business=True,
                    calendar=calendars.calendar_for(self.instance.version.calendar),
                )
            return self.now + parse_duration(step["duration"])
        value = expressions.evaluate(step["until"], self.context())
        if isinstance(value, str):
            value = datetime.datetime.fromisoformat(value)
        if not isinstance(value, datetime.datetime):
            raise ValueError(f"'until' gave {value!r}, not a timestamp")
        if timezone.is_naive(value):
            value = timezone.make_aware(value, datetime.UTC)
        return value

    def _enter_message(self, step, via):
        run = self._new_run(step["key"], via)
        try:
            value = expressions.evaluate(step["correlate"], self.context())
        except expressions.ExpressionError as exc:
            self.raise_incident(run, f"correlate: {exc}")
            return
        run.message_name = step["name"]
        run.correlation_key = correlation_text(value)
        if step.get("timeout"):
            run.due_at = self.now + parse_duration(step["timeout"])
        self.event(
            AuditKind.STEP_ENTERED,
            run,
            via=via,
            status=run.status,
            message=run.message_name,
            correlation=run.correlation_key,
        )

    def _enter_subprocess(self, step, via):
        from orchestrate.services.instances import StartError, start_child_instance

        run = self._new_run(step["key"], via)
        try:
            variables = {
                name: expressions.to_json_value(expressions.evaluate(expr, self.context()))
                for name, expr in (step.get("variables") or {}).items()
            }
        except expressions.ExpressionError as exc:
            self.raise_incident(run, f"variables: {exc}")
            return
        # The child points at this run, so the run needs its id now.
        self.new_runs.remove(run)
        run.save(force_insert=True)
        self.known[run.pk] = run
        self.event(AuditKind.STEP_ENTERED, run, via=via, status=run.status)
        try:
            child = start_child_instance(
                workflow_key=step["workflow"],
                variables=variables,
                parent_step_run=run,
                actor=self.actor,
            )
        except StartError as exc:
            self.raise_incident(run, f"subprocess '{step['workflow']}': {exc}")
            return
        self.event(AuditKind.STEP_ENTERED, run, child_instance=child.pk, workflow=step["workflow"])
        if child.status == InstanceStatus.COMPLETED:
            self.finish_subprocess(run, child)

    def finish_subprocess(self, run, child):
        """The child instance completed: its variables go under `output`."""
        step = self.graph.step(run.step_key)
        if step.get("output"):
            self.set_variables({step["output"]: child.variables})
        self.complete_run(
            run,
            outcome=child.outcome,
            result={"child_instance": child.pk},
            edges=self._subprocess_edges(run.step_key, child.outcome),
        )

    def _subprocess_edges(self, step_key, outcome):
        outgoing = self.graph.outgoing[step_key]
        matching = [e for e in outgoing if e.on == outcome]
        return matching or [e for e in outgoing if not e.on or e.default]

    # --- failures, incidents, cancellation -----------------------------------------
    def fail_for_good(self, run, error):
        """Take the `on: error` transition with `last_error` set, else an incident."""
        error_edges = [e for e in self.graph.outgoing[run.step_key] if e.on == "error"]
        if not error_edges:
            self.raise_incident(run, error)
            return
        run.fail(error)
        self.touch(run)
        self.set_variables({"last_error": error})
        self.event(AuditKind.STEP_FAILED, run, error=error, to=[e.target for e in error_edges])
        self.follow(error_edges)

    def raise_incident(self, run, error):
        """Stop the instance with an incident on `run` that an admin can retry."""
        waited = run.status == StepRunStatus.WAITING
        run.raise_incident(error)
        self.touch(run)
        self.event(AuditKind.INCIDENT_RAISED, run, error=error)
        if waited:
            self.close_hooks(run)
        if self.instance.status in (InstanceStatus.RUNNING, InstanceStatus.SUSPENDED):
            self.instance.raise_incident()
            self.instance_dirty = True

    def cancel_live_runs(self, reason=""):
        """Cancel every live step run of the instance, each audited."""
        for run in self._live_runs():
            run.cancel()
            self.touch(run)
            self.event(AuditKind.STEP_CANCELLED, run, reason=reason)
            self.close_hooks(run)
            if run.step_type == StepType.SUBPROCESS and run.pk is not None:
                self.children_to_cancel.append(run.pk)

    def _complete_instance(self):
        self.instance.complete(self.instance.outcome or "completed")
        self.instance_dirty = True
        self.event(AuditKind.INSTANCE_COMPLETED, outcome=self.instance.outcome)

    def _no_branch_left(self):
        if any(r.is_live for r in [*self.new_runs, *self.known.values()]):
            return False
        if self._nothing_stored:
            return True
        return not (
            self.instance.step_runs.filter(status__in=LIVE_STEP_STATUSES)
            .exclude(pk__in=[*self.known])
            .exists()
        )

    # --- writing -----------------------------------------------------------------
    def finish(self):
        """Complete the instance if no branch is left, then write everything."""
        if (
            not self.terminated
            and self.tokens_consumed
            and self.instance.status in (InstanceStatus.RUNNING, InstanceStatus.SUSPENDED)
            and self._no_branch_left()
        ):
            self._complete_instance()
        if self.instance.variables != self._variables_before:
            self.event(
                AuditKind.VARIABLES_CHANGED,
                changes=_diff(self._variables_before, self.instance.variables),
                **self.variables_note,
            )
        if self.new_runs:
            StepRun.objects.bulk_create(self.new_runs)
        if self.dirty:
            StepRun.objects.bulk_update(list(self.dirty.values()), _STEP_RUN_FIELDS)
        for callback in self.after_write:
            callback()
        if self.instance_dirty:
            self.instance.save()
        if self.events:
            # An instance started by this engine was inserted in this transaction and
            # nothing else writes its events before this point: its chain starts empty.
            new_chains = {self.instance.pk} if self._new_instance else ()
            AuditEvent.objects.bulk_create(self.events, new_chains=new_chains)
            self._new_instance = False
        for task_name, run in self.sends:
            dispatch.send_on_commit(task_name, run.pk)
        if self.children_to_cancel:
            from orchestrate.services.instances import cancel_children

            cancel_children(self.children_to_cancel, actor=self.actor, reason="parent ended")
        if (
            self.notify_parent
            and self.instance.parent_step_run_id
            and self.instance.status == InstanceStatus.COMPLETED
        ):
            dispatch.send_on_commit(dispatch.RESUME_PARENT, self.instance.parent_step_run_id)
        return self.instance


class _GatewayError(Exception):
    pass


def _error_text(exc):
    text = str(exc) or exc.__class__.__name__
    if not isinstance(exc, actions.ActionError | expressions.ExpressionError):
        text = f"{exc.__class__.__name__}: {text}"
    return text[:2000]


def _json_safe(value):
    return expressions.to_json_value(value)


def _diff(before, after):
    changes = {}
    for name in sorted(set(before) | set(after)):
        if before.get(name, _MISSING) != after.get(name, _MISSING):
            changes[name] = {"from": before.get(name), "to": after.get(name)}
    return changes


_MISSING = object()


def lock_instance(instance_id):
    """Lock and return the instance row (with version, definition and starter)."""
    return (
        Instance.objects.select_for_update(of=("self",))
        .select_related("version", "definition", "started_by")
        .get(pk=instance_id)
    )


def lock_step_run(step_run_id, instance_id=None):
    """Lock the instance of a step run, then the step run (always in that order, so
    services never deadlock). Returns (instance, run), or (None, None) if it is gone."""
    if instance_id is None:
        instance_id = (
            StepRun.objects.filter(pk=step_run_id).values_list("instance_id", flat=True).first()
        )
        if instance_id is None:
            return None, None
    instance = lock_instance(instance_id)
    run = StepRun.objects.select_for_update().get(pk=step_run_id)
    return instance, run
