"""The escalation sweep at scale: its cost follows the timers that are due, not the table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/orchestrate_bench \\
        .venv/bin/python bench/escalation.py [--quick] [--tasks 1000000] [--due 10000]
        [--reset]

Creates the database if it is missing, migrates it and loads (with set-based SQL) one
workflow whose human step has two `raise_priority` levels, `--tasks` open tasks on 1,000
instances and two escalation timers per task: `--due` level-1 timers are due, a quarter of
the other tasks have fired their first level already, and everything else is pending in
the future. A second run reuses the rows (the fired levels are armed again) unless
`--reset` (a different size loads them again). `--quick` loads 20,000 tasks with 1,000 due
(unless `--tasks` / `--due` say otherwise) and finishes in well under a minute.

Then it prints the plan of the query that finds due work, runs one sweep
(`fire_due_timers`) that fires every due timer through the full path (locks, priority,
audit row), then three with nothing due. It prints JSON lines (`"bench": "escalation"`), by
`kind`: `load` / `loaded` / `reload` / `reuse` (the data set), `data` (tasks, timers,
pending, pending and due), `plan` (the due-timer query's `EXPLAIN ANALYZE` down to its
scan, and whether it uses `task_timer_pending_idx`), `sweep` (fired, seconds, ms per fired
timer, seconds in statements, queries), `statement` (one per SQL shape of that sweep:
count, per fired timer, total ms, the SQL shortened) and `idle_sweep` (the three with
nothing due: fired, ms, queries).

The data set has its own clock: the definition's `created_at` is "now" for every run, so
the same timers are due whenever the bench runs.
"""

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import setup_django  # noqa: E402

setup_django("orchestrate_bench")

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.common import counting, ensure_database  # noqa: E402
from orchestrate.models import (  # noqa: E402
    Step,
    Transition,
    VersionStatus,
    WorkflowDefinition,
    WorkflowVersion,
)
from tasks_inbox.models import Task, TaskTimer, TimerStatus  # noqa: E402
from tasks_inbox.services import sla  # noqa: E402

WORKFLOW_KEY = "bench_escalation"
INSTANCES = 1_000
# The levels of the human step: the first is due for the bench's due tasks, the second
# lies in the future for every task.
ESCALATION = [
    {"after": "P2D", "action": "raise_priority"},
    {"after": "P3D", "action": "raise_priority"},
]


# --- the database ---------------------------------------------------------------------
def existing_clock(tasks, due):
    """The clock of the rows already loaded for this size, or None (load them again)."""
    definition = WorkflowDefinition.objects.filter(key=WORKFLOW_KEY).first()
    if definition is None:
        return None
    now = definition.created_at
    # The sweep of an earlier run fired the due level at the data set's "now".
    due_rows = TaskTimer.objects.filter(level=0, due_at__lte=now).exclude(
        status=TimerStatus.FIRED, fired_at__lt=now
    )
    if (
        Task.objects.count() != tasks
        or TaskTimer.objects.count() != 2 * tasks
        or due_rows.count() != due
    ):
        return None
    return now


def rearm(now):
    """Put the levels an earlier run fired back to pending, and the priorities back."""
    fired = TaskTimer.objects.filter(level=0, status=TimerStatus.FIRED, fired_at=now)
    with transaction.atomic():
        Task.objects.filter(pk__in=fired.values("task_id")).update(priority=20)
        fired.update(status=TimerStatus.PENDING, fired_at=None, result="")


# --- loading --------------------------------------------------------------------------
def load(tasks, due):
    """One workflow, INSTANCES instances, `tasks` step runs and tasks, two timers each."""
    now = timezone.now().replace(microsecond=0)
    definition = WorkflowDefinition.objects.create(
        key=WORKFLOW_KEY, name="Bench escalation", created_at=now
    )
    version = WorkflowVersion.objects.create(
        definition=definition, number=1, name="Bench escalation",
        status=VersionStatus.PUBLISHED, published_at=now,
    )  # fmt: skip
    human = {"title": "Review", "assign": {"group": "bench"}, "due": "P1D",
             "escalation": ESCALATION}  # fmt: skip
    for position, (key, kind, config) in enumerate(
        [("start", "start", {}), ("review", "human", human), ("done", "end", {})]
    ):
        Step.objects.create(version=version, position=position, key=key, type=kind, config=config)
    Transition.objects.create(version=version, position=0, from_step="start", to_step="review")
    Transition.objects.create(
        version=version, position=1, from_step="review", to_step="done", on="approve"
    )
    stride = max(tasks // due, 1)
    params = {
        "definition": definition.pk,
        "version": version.pk,
        "now": now,
        "instances": INSTANCES,
        "tasks": tasks,
        "stride": stride,
        "due": due,
        "level0": json.dumps(ESCALATION[0]),
        "level1": json.dumps(ESCALATION[1]),
    }
    statements = [
        ("instances", INSERT_INSTANCES),
        ("step runs", INSERT_STEP_RUNS),
        ("tasks", INSERT_TASKS),
        ("timers", INSERT_TIMERS),
    ]
    for label, statement in statements:
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)
            rows = cursor.rowcount
        emit("load", table=label, rows=rows, seconds=round(time.perf_counter() - started, 1))
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in ("orchestrate_instance", "orchestrate_steprun", "tasks_inbox_task",
                      "tasks_inbox_tasktimer"):  # fmt: skip
            cursor.execute(f"VACUUM ANALYZE {table}")
    emit("load", table="vacuum analyze", seconds=round(time.perf_counter() - started, 1))
    return now


INSERT_INSTANCES = """
INSERT INTO orchestrate_instance
    (definition_id, version_id, status, outcome, business_key, variables, started_at)
SELECT %(definition)s, %(version)s, 'running', '', '', '{}'::jsonb, %(now)s - interval '3 days'
FROM generate_series(1, %(instances)s)
"""

# Step run n belongs to instance n mod INSTANCES (the ids, read once as an InitPlan).
INSERT_STEP_RUNS = """
INSERT INTO orchestrate_steprun
    (instance_id, step_key, step_type, status, idempotency_key, attempt, failures,
     lost_attempts, message_name, correlation_key, arrivals, absorbing, outcome, error,
     created_at)
SELECT ids.all_ids[1 + n %% %(instances)s], 'review', 'human', 'waiting', gen_random_uuid(),
       0, 0, 0, '', '', '[]'::jsonb, false, '', '', %(now)s - interval '3 days'
FROM generate_series(0, %(tasks)s - 1) AS n,
     (SELECT array_agg(id ORDER BY id) AS all_ids FROM orchestrate_instance
      WHERE version_id = %(version)s) AS ids
"""

# Task n: every `stride`-th (n < due * stride) has its first level due within the last hour;
# of the rest, n mod 4 = 1 fired it twelve hours ago (priority high already); the others
# were made within the last 36 hours, so both levels lie at least twelve hours ahead.
INSERT_TASKS = """
INSERT INTO tasks_inbox_task
    (step_run_id, instance_id, definition_id, step_key, kind, status, title, description,
     priority, due_at, at_risk_at, outcomes, comment_required_for, form, can_request_info,
     outcome, comment, data, created_at, business, calendar_key, due_explanation,
     paused_seconds)
SELECT id, instance_id,
       (SELECT definition_id FROM orchestrate_instance AS i WHERE i.id = instance_id),
       'review', 'decision', 'open', 'Review #' || n, '',
       CASE WHEN fired THEN 30 ELSE 20 END,
       created + interval '1 day', created + interval '18 hours',
       '["approve", "reject"]'::jsonb, '[]'::jsonb, '[]'::jsonb, true, '', '', '{}'::jsonb,
       created, false, '', '', 0
FROM (
    SELECT r.id, r.instance_id, r.n, r.fired,
           CASE
               WHEN r.due THEN %(now)s - interval '2 days' - (1 + r.n %% 3600) * interval '1 s'
               WHEN r.fired THEN %(now)s - interval '2 days 12 hours'
               ELSE %(now)s - (r.n %% 129600) * interval '1 s'
           END AS created
    FROM (
        SELECT s.id, s.instance_id, s.n,
               s.n %% %(stride)s = 0 AND s.n < %(due)s * %(stride)s AS due,
               NOT (s.n %% %(stride)s = 0 AND s.n < %(due)s * %(stride)s) AND s.n %% 4 = 1
                   AS fired
        FROM (SELECT id, instance_id, row_number() OVER (ORDER BY id) - 1 AS n
              FROM orchestrate_steprun) AS s
    ) AS r
) AS planned
"""

# Level 1 after two days (fired where the task's priority says so), level 2 after three.
INSERT_TIMERS = """
INSERT INTO tasks_inbox_tasktimer
    (task_id, kind, level, spec, due_at, status, fired_at, result, created_at)
SELECT t.id, 'escalation', level.n,
       CASE level.n WHEN 0 THEN %(level0)s::jsonb ELSE %(level1)s::jsonb END,
       t.created_at + (2 + level.n) * interval '1 day',
       CASE WHEN level.n = 0 AND t.priority = 30 THEN 'fired' ELSE 'pending' END,
       CASE WHEN level.n = 0 AND t.priority = 30 THEN t.created_at + interval '2 days' END,
       CASE WHEN level.n = 0 AND t.priority = 30 THEN 'priority normal → high' ELSE '' END,
       t.created_at
FROM tasks_inbox_task AS t CROSS JOIN (VALUES (0), (1)) AS level (n)
"""


# --- measuring ------------------------------------------------------------------------
def sweep(now, batch):
    """One sweep; the statements it sent counted and timed by their SQL text."""
    with counting() as statements:
        started = time.perf_counter()
        fired = sla.fire_due_timers(now=now, batch=batch)
        seconds = time.perf_counter() - started
    shapes, durations = Counter(), Counter()
    for statement, _, spent in statements:
        shapes[statement] += 1
        durations[statement] += spent
    return fired, seconds, shapes, durations


def due_query(now, batch):
    """The query `fire_due_timers` starts with (keep the two in step)."""
    return (
        TaskTimer.objects.filter(status=TimerStatus.PENDING, due_at__lte=now)
        .order_by("due_at", "id")
        .values_list("pk", "task_id")[:batch]
    )


def emit_shapes(shapes, durations, fired):
    """One line per statement shape of a sweep, the most frequent first."""
    for statement, count in shapes.most_common():
        text = " ".join(statement.split())
        text = text if len(text) <= 120 else text[:117] + "..."
        emit(
            "statement",
            count=count,
            per_fired=round(count / fired, 3) if fired else None,
            total_ms=round(durations[statement] * 1000, 1),
            sql=text,
        )


def emit(kind, **fields):
    print(json.dumps({"bench": "escalation", "kind": kind, **fields}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 tasks, 1,000 due")
    parser.add_argument("--tasks", type=int, help="1,000,000 (20,000 with --quick)")
    parser.add_argument("--due", type=int, help="10,000 (1,000 with --quick)")
    parser.add_argument("--reset", action="store_true", help="drop the database and load again")
    args = parser.parse_args()
    tasks = args.tasks or (20_000 if args.quick else 1_000_000)
    due = args.due or (1_000 if args.quick else 10_000)
    if not 0 < due <= tasks:
        parser.error("needs 0 < --due <= --tasks")

    fresh = ensure_database(args.reset)
    call_command("migrate", verbosity=0)
    name = connection.settings_dict["NAME"]
    now = None if fresh else existing_clock(tasks, due)
    if now is None and not fresh:
        emit("reload", reason="the rows do not match this size", database=name)
        connection.close()
        ensure_database(reset=True)
        call_command("migrate", verbosity=0)
    if now is None:
        emit("load", database=name, tasks=tasks, due=due)
        started = time.perf_counter()
        now = load(tasks, due)
        emit("loaded", seconds=round(time.perf_counter() - started, 1))
    else:
        rearm(now)
        emit("reuse", database=name, note="--reset loads the rows again")

    pending = TaskTimer.objects.filter(status=TimerStatus.PENDING)
    pending_due = pending.filter(due_at__lte=now).count()
    emit(
        "data",
        database=name,
        now=now.isoformat(),
        tasks=Task.objects.count(),
        timers=TaskTimer.objects.count(),
        pending=pending.count(),
        pending_due=pending_due,
    )

    plan = due_query(now, due).explain(analyze=True, buffers=True).splitlines()
    # Down to the scan (the lines after it are its condition, buffers and timing).
    scan = next((i for i, line in enumerate(plan) if " Scan " in line), len(plan) - 1)
    emit(
        "plan",
        query="due timers (EXPLAIN ANALYZE)",
        lines=[*plan[: scan + 2], *plan[-2:]],
        uses_task_timer_pending_idx=any("task_timer_pending_idx" in x for x in plan),
    )

    fired, seconds, shapes, durations = sweep(now, batch=due)
    queries = sum(shapes.values())
    emit(
        "sweep",
        due=pending_due,
        fired=fired,
        seconds=round(seconds, 3),
        ms_per_fired=round(seconds * 1000 / max(fired, 1), 2),
        # The rest is Django building the statements, BEGIN and COMMIT (one per timer).
        statement_seconds=round(sum(durations.values()), 3),
        queries=queries,
        queries_per_fired=round(queries / max(fired, 1), 1),
    )
    emit_shapes(shapes, durations, fired)

    # The first sweep after the firing still walks the index entries of the rows it just
    # fired (dead until vacuum, which also removes them from the partial index); the next
    # ones skip them.
    for attempt in (1, 2, 3):
        fired, seconds, shapes, _ = sweep(now, batch=due)
        emit(
            "idle_sweep",
            attempt=attempt,
            fired=fired,
            ms=round(seconds * 1000, 2),
            queries=sum(shapes.values()),
        )


if __name__ == "__main__":
    main()
