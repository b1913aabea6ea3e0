"""The escalation sweep at scale: its cost follows the timers that are due, not the table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/orchestrate_bench \\
        .venv/bin/python bench/escalation.py [--tasks 1000000] [--due 10000] [--reset]

Creates the database if it is missing, migrates it and loads (with set-based SQL) one
workflow whose human step has two `raise_priority` levels, `--tasks` open tasks on 1,000
instances and two escalation timers per task: `--due` level-1 timers are due, a quarter of
the other tasks have fired their first level already, and everything else is pending in
the future. A second run reuses the rows (the fired levels are armed again) unless
`--reset`. Then it runs one sweep (`fire_due_timers`) that fires every due timer through
the full path (locks, priority, audit row), then three with nothing due, and prints the
time, the query count and the plan of the query that finds due work.

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
        print(f"  loaded {rows:>9,} {label:<10} {time.perf_counter() - started:6.1f} s")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in ("orchestrate_instance", "orchestrate_steprun", "tasks_inbox_task",
                      "tasks_inbox_tasktimer"):  # fmt: skip
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"  vacuum analyze             {time.perf_counter() - started:6.1f} s")
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


def print_shapes(shapes, durations, fired):
    print("  statements by shape (count, per fired timer, total ms):")
    for statement, count in shapes.most_common():
        text = " ".join(statement.split())
        text = text if len(text) <= 88 else text[:85] + "..."
        per = f"{count / fired:4.1f}" if fired else "   -"
        print(f"    {count:>7,} {per} {durations[statement] * 1000:9.0f}  {text}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--reset", action="store_true", help="drop the database and load again")
    args = parser.parse_args()
    if not 0 < args.due <= args.tasks:
        parser.error("needs 0 < --due <= --tasks")

    fresh = ensure_database(args.reset)
    call_command("migrate", verbosity=0)
    now = None if fresh else existing_clock(args.tasks, args.due)
    if now is None and not fresh:
        print("the rows do not match this size: loading again")
        connection.close()
        ensure_database(reset=True)
        call_command("migrate", verbosity=0)
    if now is None:
        name = connection.settings_dict["NAME"]
        print(f"loading {args.tasks:,} tasks ({args.due:,} due) into {name}")
        started = time.perf_counter()
        now = load(args.tasks, args.due)
        print(f"  loaded in {time.perf_counter() - started:.1f} s")
    else:
        rearm(now)
        print(f"reusing the rows in {connection.settings_dict['NAME']} (--reset loads them again)")

    pending = TaskTimer.objects.filter(status=TimerStatus.PENDING)
    print(f"\ntasks in the database   {Task.objects.count():>12,}")
    print(f"timers in the database  {TaskTimer.objects.count():>12,}")
    print(f"  pending               {pending.count():>12,}")
    due = pending.filter(due_at__lte=now).count()
    print(f"  pending and due       {due:>12,}")

    plan = due_query(now, args.due).explain(analyze=True, buffers=True).splitlines()
    print("\nthe due-timer query (EXPLAIN ANALYZE):")
    # Down to the scan (the lines after it are its condition, buffers and timing).
    scan = next((i for i, line in enumerate(plan) if " Scan " in line), len(plan) - 1)
    for line in [*plan[: scan + 2], *plan[-2:]]:
        print(f"  {line}")
    print(f"  uses task_timer_pending_idx: {any('task_timer_pending_idx' in x for x in plan)}")

    fired, seconds, shapes, durations = sweep(now, batch=args.due)
    queries = sum(shapes.values())
    print(f"\nsweep with {due:,} due")
    print(f"  fired                 {fired:>12,}")
    print(f"  seconds               {seconds:>12.2f}")
    print(f"  ms per fired timer    {seconds * 1000 / max(fired, 1):>12.2f}")
    # The rest is Django building the statements, BEGIN and COMMIT (one per timer).
    print(f"  seconds in statements {sum(durations.values()):>12.2f}")
    print(f"  queries               {queries:>12,}")
    print(f"  queries per fired     {queries / max(fired, 1):>12.1f}")
    print_shapes(shapes, durations, fired)

    # The first sweep after the firing still walks the index entries of the rows it just
    # fired (dead until vacuum, which also removes them from the partial index); the next
    # ones skip them.
    print("\nsweep with nothing due (three times)")
    for attempt in (1, 2, 3):
        fired, seconds, shapes, _ = sweep(now, batch=args.due)
        print(f"  {attempt}: fired {fired}, {seconds * 1000:8.2f} ms, "
              f"{sum(shapes.values())} queries")  # fmt: skip


if __name__ == "__main__":
    main()
