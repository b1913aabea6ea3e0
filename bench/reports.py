"""The SLA reports on a year of history: time and query count of each report.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/orchestrate_reports_bench \\
        .venv/bin/python bench/reports.py [--quick] [--instances 500000] [--reset]

Creates the database if it is missing (it refuses a name without `bench`), migrates it
and loads with set-based SQL (`INSERT ... SELECT` over `generate_series`, random values
from a fixed seed): one workflow with three human steps (manager, finance, director
approval), `--instances` instances started evenly over the year before the data set's
"now", three decision tasks each (so 1,500,000 tasks for the default 500,000), their step
runs, escalation timers for tasks that took over two days, and an info task for 3 % of
the instances. `--quick` loads 20,000 instances and finishes in well under a minute.

Then it runs every report (`tasks_inbox.selectors.reports`) for the whole year, for the
last 30 days, and for the last 30 days of one group, and prints one JSON line per run:
the report, the range, seconds and queries. A second run reuses the rows unless
`--reset` or a different size.
"""

import argparse
import datetime
import itertools
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import setup_django  # noqa: E402

setup_django("orchestrate_reports_bench")

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.common import counting, ensure_database  # noqa: E402
from orchestrate.models import (  # noqa: E402
    Instance,
    Step,
    Transition,
    VersionStatus,
    WorkflowDefinition,
    WorkflowVersion,
)
from tasks_inbox.models import Task  # noqa: E402
from tasks_inbox.selectors import reports  # noqa: E402

WORKFLOW_KEY = "bench_reports"
USERS = 60
STEPS = [
    ("manager", "Manager approval", "bench-managers"),
    ("finance", "Finance review", "bench-finance"),
    ("director", "Director approval", "bench-directors"),
]


# --- the database ---------------------------------------------------------------------
def existing_clock(instances):
    definition = WorkflowDefinition.objects.filter(key=WORKFLOW_KEY).first()
    if definition is None or Instance.objects.count() != instances:
        return None
    return definition.created_at


# --- loading --------------------------------------------------------------------------
def load(instances):
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    definition = WorkflowDefinition.objects.create(
        key=WORKFLOW_KEY, name="Bench purchase", created_at=now
    )
    version = WorkflowVersion.objects.create(
        definition=definition, number=1, name="Bench purchase",
        status=VersionStatus.PUBLISHED, published_at=now,
    )  # fmt: skip
    keys = ["start", *(key for key, _, _ in STEPS), "done"]
    names = {key: name for key, name, _ in STEPS}
    groups = {key: group for key, _, group in STEPS}
    for position, key in enumerate(keys):
        kind = {"start": "start", "done": "end"}.get(key, "human")
        config = {"assign": {"group": groups[key]}, "due": "P1D"} if kind == "human" else {}
        Step.objects.create(version=version, position=position, key=key, type=kind,
                            name=names.get(key, ""), config=config)  # fmt: skip
    for position, (source, target) in enumerate(itertools.pairwise(keys)):
        Transition.objects.create(
            version=version, position=position, from_step=source, to_step=target
        )
    params = {
        "definition": definition.pk,
        "version": version.pk,
        "now": now,
        "instances": instances,
        "users": USERS,
    }
    statements = [
        ("groups", GROUPS_SQL),
        ("users", USERS_SQL),
        ("plan", PLAN_SQL),
        ("instances", INSTANCES_SQL),
        ("task plan", TASK_PLAN_SQL),
        ("step runs", STEP_RUNS_SQL),
        ("tasks", TASKS_SQL),
        ("info tasks", INFO_TASKS_SQL),
        ("escalations", ESCALATIONS_SQL),
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        for label, statement in statements:
            started = time.perf_counter()
            cursor.execute(statement, params)
            emit(event="load", step=label, rows=cursor.rowcount,
                 seconds=round(time.perf_counter() - started, 1))  # fmt: skip
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # The small tables too: without statistics, PostgreSQL guessed ~100 groups and
        # 2,700 tasks for "the tasks of group X" (there were 450,000) and probed the
        # instances one by one: 5.2 s instead of 1.0 s for a 30-day report of one group.
        for table in ("orchestrate_instance", "orchestrate_steprun", "tasks_inbox_task",
                      "tasks_inbox_tasktimer", "auth_group", "auth_user",
                      "orchestrate_workflowdefinition", "orchestrate_workflowversion",
                      "orchestrate_step"):  # fmt: skip
            cursor.execute(f"VACUUM ANALYZE {table}")
    emit(event="load", step="vacuum analyze", seconds=round(time.perf_counter() - started, 1))
    return now


GROUPS_SQL = """
INSERT INTO auth_group (name) VALUES ('bench-managers'), ('bench-finance'), ('bench-directors')
"""

USERS_SQL = """
INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff,
                       is_active, date_joined)
SELECT '!', false, 'bench' || n, '', '', '', false, true, %(now)s
FROM generate_series(1, %(users)s) AS n
"""

# One row per instance: when it started, how it ended, and the wait and handling time of
# its three tasks (exponential: manager mean 6 h wait, finance 3 h, director 16 h; about
# an hour's handling). 10 % went back to the manager instead of the director (rework).
PLAN_SQL = """
CREATE TEMP TABLE bench_plan AS
SELECT n,
       %(now)s - interval '365 days' * (1 - (n - 0.5) / %(instances)s) AS started,
       CASE WHEN n > %(instances)s * 0.995 THEN 'running'
            WHEN r < 0.02 THEN 'incident' WHEN r < 0.04 THEN 'cancelled'
            ELSE 'completed' END AS status,
       random() < 0.10 AS rework,
       random() < 0.03 AS asked,
       ARRAY[-ln(1 - random()) * 6, -ln(1 - random()) * 3, -ln(1 - random()) * 16]
           AS waits,
       ARRAY[-ln(1 - random()), -ln(1 - random()) * 0.5, -ln(1 - random()) * 1.5] AS handling,
       ARRAY[random() < 0.9, random() < 0.9, random() < 0.9] AS claimed
FROM (SELECT n, random() AS r FROM generate_series(1, %(instances)s) AS n) AS draws;
"""

INSTANCES_SQL = """
INSERT INTO orchestrate_instance
    (definition_id, version_id, status, outcome, business_key, variables, started_at, ended_at)
SELECT %(definition)s, %(version)s, p.status, '', 'b' || p.n, '{}'::jsonb, p.started,
       CASE WHEN p.status IN ('completed', 'cancelled')
            THEN p.started + interval '1 hour' * (
                p.waits[1] + p.handling[1] + p.waits[2] + p.handling[2]
                + CASE WHEN p.status = 'completed' THEN p.waits[3] + p.handling[3] ELSE 0 END)
                + interval '3 minutes'
       END
FROM bench_plan AS p
"""

# Three tasks per instance, one after the other; the third is live in running and failed
# instances and cancelled in cancelled ones.
TASK_PLAN_SQL = """
CREATE TEMP TABLE bench_tasks AS
SELECT i.id AS instance_id, p.n, s.pos,
       CASE s.pos WHEN 1 THEN 'manager' WHEN 2 THEN 'finance'
                  ELSE CASE WHEN p.rework THEN 'manager' ELSE 'director' END END AS step_key,
       CASE WHEN s.pos < 3 OR p.status = 'completed' THEN 'completed'
            WHEN p.status = 'cancelled' THEN 'cancelled'
            WHEN p.claimed[3] THEN 'claimed' ELSE 'open' END AS status,
       p.started + interval '1 minute' * s.pos + interval '1 hour' * (
           CASE WHEN s.pos > 1 THEN p.waits[1] + p.handling[1] ELSE 0 END
           + CASE WHEN s.pos > 2 THEN p.waits[2] + p.handling[2] ELSE 0 END) AS created,
       p.waits[s.pos] AS wait_h, p.handling[s.pos] AS handling_h, p.claimed[s.pos] AS claimed,
       p.asked AND s.pos = 1 AS asked
FROM bench_plan AS p
JOIN orchestrate_instance AS i
  ON i.definition_id = %(definition)s AND i.business_key = 'b' || p.n
CROSS JOIN generate_series(1, 3) AS s (pos);
"""

STEP_RUNS_SQL = """
INSERT INTO orchestrate_steprun
    (instance_id, step_key, step_type, status, idempotency_key, attempt, failures,
     lost_attempts, message_name, correlation_key, arrivals, absorbing, outcome, error,
     created_at, ended_at)
SELECT instance_id, step_key, step_type, status, gen_random_uuid(), 0, 0, 0, '', '',
       '[]'::jsonb, false, '', '', created_at, ended_at
FROM (
    SELECT i.id AS instance_id, 'start' AS step_key, 'start' AS step_type,
           'completed' AS status, i.started_at AS created_at, i.started_at AS ended_at
    FROM orchestrate_instance AS i WHERE i.definition_id = %(definition)s
    UNION ALL
    SELECT t.instance_id, t.step_key, 'human',
           CASE t.status WHEN 'completed' THEN 'completed' WHEN 'cancelled' THEN 'cancelled'
                ELSE 'waiting' END,
           t.created, NULL
    FROM bench_tasks AS t
    UNION ALL
    SELECT i.id, 'done', 'end', 'completed', i.ended_at, i.ended_at
    FROM orchestrate_instance AS i
    WHERE i.definition_id = %(definition)s AND i.status = 'completed'
) AS runs
"""

TASKS_SQL = """
INSERT INTO tasks_inbox_task
    (step_run_id, instance_id, definition_id, step_key, kind, status, title, description,
     candidate_group_id, assignee_id, priority, due_at, outcomes, comment_required_for, form,
     can_request_info, outcome, comment, data, decided_by_id, created_at, claimed_at,
     completed_at, at_risk_at, due_explanation, paused_seconds, business, calendar_key)
SELECT r.id, t.instance_id,
       (SELECT definition_id FROM orchestrate_instance AS i WHERE i.id = t.instance_id),
       t.step_key, 'decision', t.status, 'Approve #' || t.n, '', g.id,
       CASE WHEN t.status IN ('completed', 'claimed') THEN u.id END,
       20, t.created + interval '1 day', '["approve", "reject"]'::jsonb, '[]'::jsonb,
       '[]'::jsonb, true,
       CASE WHEN t.status = 'completed' THEN 'approve' ELSE '' END, '', '{}'::jsonb,
       CASE WHEN t.status = 'completed' THEN u.id END,
       t.created,
       CASE WHEN t.claimed AND t.status IN ('completed', 'claimed')
            THEN t.created + interval '1 hour' * t.wait_h END,
       CASE WHEN t.status = 'completed'
            THEN t.created + interval '1 hour' * (t.wait_h + t.handling_h) END,
       t.created + interval '18 hours', '', 0, false, ''
FROM bench_tasks AS t
JOIN orchestrate_steprun AS r
  ON r.instance_id = t.instance_id AND r.created_at = t.created AND r.step_type = 'human'
JOIN auth_group AS g ON g.name = CASE t.step_key WHEN 'manager' THEN 'bench-managers'
                                  WHEN 'finance' THEN 'bench-finance'
                                  ELSE 'bench-directors' END
JOIN auth_user AS u ON u.username = 'bench' || (1 + (t.n * 7 + t.pos) %% %(users)s)
"""

INFO_TASKS_SQL = """
INSERT INTO tasks_inbox_task
    (step_run_id, instance_id, definition_id, step_key, kind, parent_id, status, title,
     description, priority, outcomes, comment_required_for, form, can_request_info, outcome,
     comment, data, created_at, completed_at, due_explanation, paused_seconds, business,
     calendar_key)
SELECT k.step_run_id, k.instance_id, k.definition_id, k.step_key, 'info', k.id, 'completed',
       'Question', '',
       20, '[]'::jsonb, '[]'::jsonb, '[]'::jsonb, false, '', 'answer', '{}'::jsonb,
       k.created_at + interval '5 minutes', k.created_at + interval '10 minutes', '', 0,
       false, ''
FROM tasks_inbox_task AS k
JOIN bench_tasks AS t
  ON t.instance_id = k.instance_id AND t.created = k.created_at AND t.asked
"""

# Tasks that took (or take) over two days fired their one escalation level at two days.
ESCALATIONS_SQL = """
INSERT INTO tasks_inbox_tasktimer (task_id, kind, level, spec, due_at, status, fired_at,
                                   result, created_at)
SELECT id, 'escalation', 0, '{"after": "P2D", "action": "raise_priority"}'::jsonb,
       created_at + interval '2 days', 'fired', created_at + interval '2 days', '', created_at
FROM tasks_inbox_task
WHERE kind = 'decision'
  AND COALESCE(completed_at, %(now)s) > created_at + interval '2 days'
"""


# --- measuring ------------------------------------------------------------------------
def emit(**fields):
    print(json.dumps(fields), flush=True)


REPORTS = {
    "overview": reports.overview,
    "throughput": reports.throughput,
    "steps": reports.steps,
    "people": reports.people,
    "groups": reports.groups,
    "variants": reports.variants,
}


def run_reports(label, filters, repeat=2):
    for name, report in REPORTS.items():
        best = None
        for _ in range(repeat):
            with counting() as queries:
                started = time.perf_counter()
                result = report(filters)
                seconds = time.perf_counter() - started
            best = seconds if best is None else min(best, seconds)
        emit(event="report", report=name, range=label, seconds=round(best, 3),
             queries=len(queries), rows=len(result))  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=500_000)
    parser.add_argument("--quick", action="store_true", help="20,000 instances")
    parser.add_argument("--reset", action="store_true", help="drop the database and load again")
    args = parser.parse_args()
    instances = 20_000 if args.quick else args.instances

    fresh = ensure_database(args.reset)
    call_command("migrate", verbosity=0)
    now = None if fresh else existing_clock(instances)
    if now is None and not fresh:
        emit(event="reload", reason="the rows do not match this size")
        connection.close()
        ensure_database(reset=True)
        call_command("migrate", verbosity=0)
    if now is None:
        started = time.perf_counter()
        now = load(instances)
        emit(event="loaded", seconds=round(time.perf_counter() - started, 1))
    emit(event="data", instances=Instance.objects.count(), tasks=Task.objects.count(),
         database=connection.settings_dict["NAME"])  # fmt: skip

    year = reports.ReportFilters(start=now - datetime.timedelta(days=365), end=now, now=now)
    month = reports.ReportFilters(start=now - datetime.timedelta(days=30), end=now, now=now)
    group = reports.ReportFilters(
        start=now - datetime.timedelta(days=30), end=now, now=now, group="bench-directors"
    )
    run_reports("365 days", year)
    run_reports("30 days", month)
    run_reports("30 days, one group", group)


if __name__ == "__main__":
    main()
