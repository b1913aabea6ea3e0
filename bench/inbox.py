"""The inbox on a million tasks: time and query count of the pages a person uses all day.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/orchestrate_inbox_bench \\
        .venv/bin/python bench/inbox.py [--quick] [--tasks 1000000] [--users 5000]
        [--hot 20000] [--repeat 30] [--explain] [--reset]

Creates the database if it is missing (it refuses a name without `bench`), migrates it
and loads with set-based SQL (`INSERT ... SELECT generate_series`): `--users` people in 50
groups, one workflow (start, a human `review`, end), one instance, step run, task and
audit row per task. The first user (`bench00001`) holds `--hot` claimed tasks; a tenth of
the tasks are open in the groups' queues (so the hot user's group queue holds a fiftieth
of them), 28 % are claimed by the other people and the rest (60 %) are decided.
`--quick` loads 20,000 tasks for 500 people (2,000 for the hot user) and repeats less.

Then it requests, as the hot user through Django's test client (the whole stack:
middleware, session, templates), `/inbox/` (three sorts, the last page, a search and the
workflow filter), `/inbox/queue/`, the navigation's counts, a task page, the list with a
task open beside it, the API task and instance lists, and the task pane as htmx loads it;
as a superuser (`bench-admin`, who sees everything) the queue of every open task in three
sorts, the API's instance and queue lists, and the admin's instance and task lists; and
`--repeat` task completions (POST, through the engine to the end of the instance); and
prints one JSON line per page: p50/p95/max milliseconds and the statements of one request.
`--explain` adds the `EXPLAIN ANALYZE` of the slowest statement of each page.
"""

import argparse
import json
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import setup_django  # noqa: E402

setup_django("orchestrate_inbox_bench")

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.common import counting, ensure_database  # noqa: E402
from orchestrate.models import (  # noqa: E402
    Step,
    StepRun,
    StepRunStatus,
    Transition,
    VersionStatus,
    WorkflowDefinition,
    WorkflowVersion,
)
from orchestrate.services.sweep import sweep_due_work  # noqa: E402
from tasks_inbox.models import Task, TaskStatus  # noqa: E402

WORKFLOW_KEY = "bench_inbox"
GROUPS = 50
PASSWORD = "bench-password"  # noqa: S105 (every bench user's, on a bench database)
HOT_USER = "bench00001"
ADMIN_USER = "bench-admin"  # a superuser, made by the measuring (not by the load)
INDEX = re.compile(r"using (\w+)")


# --- loading --------------------------------------------------------------------------
def loaded(tasks, users, hot):
    """True if the database holds this size (a run completes a few of the hot tasks)."""
    definition = WorkflowDefinition.objects.filter(key=WORKFLOW_KEY).first()
    if definition is None or Task.objects.count() != tasks:
        return False
    if get_user_model().objects.filter(username__startswith="bench").count() != users:
        return False
    live = Task.objects.filter(assignee__username=HOT_USER, status=TaskStatus.CLAIMED).count()
    return live >= hot * 0.9


def load(tasks, users, hot):
    now = timezone.now().replace(microsecond=0)
    definition = WorkflowDefinition.objects.create(
        key=WORKFLOW_KEY, name="Bench inbox", created_at=now
    )
    version = WorkflowVersion.objects.create(
        definition=definition, number=1, name="Bench inbox",
        status=VersionStatus.PUBLISHED, published_at=now,
    )  # fmt: skip
    human = {"title": "Review", "assign": {"group": "bench-group-0"}, "due": "P3D"}
    for position, (key, kind, config) in enumerate(
        [("start", "start", {}), ("review", "human", human), ("done", "end", {})]
    ):
        Step.objects.create(version=version, position=position, key=key, type=kind, config=config)
    Transition.objects.create(version=version, position=0, from_step="start", to_step="review")
    Transition.objects.create(
        version=version, position=1, from_step="review", to_step="done", on="approve"
    )
    Transition.objects.create(
        version=version, position=2, from_step="review", to_step="done", on="reject"
    )
    params = {
        "definition": definition.pk,
        "version": version.pk,
        "now": now,
        "tasks": tasks,
        "users": users,
        "groups": GROUPS,
        "hot": hot,
        # Layout by task number n: [0, hot) the hot user's, then a tenth open in the
        # queues, then 28 % claimed by the others; from `decided` on, decided.
        "open_end": hot + tasks // 10,
        "decided": hot + tasks // 10 + tasks * 28 // 100,
        # One hash for everyone: hashing 5,000 passwords would take minutes.
        "password": make_password(PASSWORD),
    }
    statements = [
        ("users", INSERT_USERS),
        ("groups", INSERT_GROUPS),
        ("memberships", INSERT_MEMBERSHIPS),
        ("instances", INSERT_INSTANCES),
        ("step runs", INSERT_STEP_RUNS),
        ("tasks", INSERT_TASKS),
        ("audit rows", INSERT_AUDIT),
    ]
    for label, statement in statements:
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)
            rows = cursor.rowcount
        emit("load", table=label, rows=rows, seconds=round(time.perf_counter() - started, 1))
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")
    emit("load", table="vacuum analyze", seconds=round(time.perf_counter() - started, 1))


TABLES = ("auth_user", "auth_user_groups", "orchestrate_instance", "orchestrate_steprun",
          "tasks_inbox_task", "orchestrate_auditevent")  # fmt: skip

INSERT_USERS = """
INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,
                       is_staff, is_active, date_joined)
SELECT %(password)s, false, 'bench' || lpad(n::text, 5, '0'), 'Bench', 'User ' || n,
       'bench' || n || '@example.com', false, true, %(now)s
FROM generate_series(1, %(users)s) AS n
"""

INSERT_GROUPS = """
INSERT INTO auth_group (name) SELECT 'bench-group-' || n FROM generate_series(0, %(groups)s - 1) n
"""

# User number k (from 0, in id order) is in group k mod GROUPS: the hot user in group 0.
INSERT_MEMBERSHIPS = """
INSERT INTO auth_user_groups (user_id, group_id)
SELECT u.id, g.ids[1 + (u.k %% %(groups)s)]
FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM auth_user
      WHERE username LIKE 'bench%%') AS u,
     (SELECT array_agg(id ORDER BY name) AS ids FROM auth_group
      WHERE name LIKE 'bench-group-%%') AS g
WHERE g.ids[1 + (u.k %% %(groups)s)] IS NOT NULL
"""

INSERT_INSTANCES = """
INSERT INTO orchestrate_instance
    (definition_id, version_id, status, outcome, business_key, variables, started_by_id,
     started_at, ended_at)
SELECT %(definition)s, %(version)s,
       CASE WHEN n >= %(decided)s THEN 'completed' ELSE 'running' END,
       CASE WHEN n >= %(decided)s THEN 'approve' ELSE '' END,
       'B-' || n, jsonb_build_object('amount', n %% 50000, 'supplier', 'Supplier ' || n %% 977),
       u.ids[1 + n %% %(users)s],
       %(now)s - (n %% 2592000) * interval '1 s',
       CASE WHEN n >= %(decided)s THEN %(now)s - (n %% 2592000) * interval '1 s'
                                       + interval '1 day' END
FROM generate_series(0, %(tasks)s - 1) AS n,
     (SELECT array_agg(id ORDER BY id) AS ids FROM auth_user WHERE username LIKE 'bench%%') u
"""

INSERT_STEP_RUNS = """
INSERT INTO orchestrate_steprun
    (instance_id, step_key, step_type, status, idempotency_key, attempt, failures,
     lost_attempts, message_name, correlation_key, arrivals, absorbing, outcome, error,
     created_at, ended_at)
SELECT i.id, 'review', 'human', CASE WHEN i.n >= %(decided)s THEN 'completed' ELSE 'waiting' END,
       gen_random_uuid(), 0, 0, 0, '', '', '[]'::jsonb, false,
       CASE WHEN i.n >= %(decided)s THEN 'approve' ELSE '' END, '', i.started_at, i.ended_at
FROM (SELECT id, started_at, ended_at, row_number() OVER (ORDER BY id) - 1 AS n
      FROM orchestrate_instance WHERE version_id = %(version)s) AS i
"""

INSERT_TASKS = """
INSERT INTO tasks_inbox_task
    (step_run_id, instance_id, definition_id, step_key, kind, status, title, description,
     candidate_group_id, assignee_id, priority, due_at, at_risk_at, outcomes,
     comment_required_for, form, can_request_info, outcome, comment, data, decided_by_id,
     created_at, claimed_at, completed_at, business, calendar_key, due_explanation, paused_seconds)
SELECT s.id, s.instance_id, %(definition)s, 'review', 'decision', s.status,
       'Review request B-' || s.n, 'Please review the request.', g.ids[1 + s.n %% %(groups)s],
       CASE WHEN s.status = 'open' THEN NULL
            WHEN s.n < %(hot)s THEN u.ids[1]
            ELSE u.ids[2 + s.n %% (%(users)s - 1)] END,
       (ARRAY[10, 20, 30, 40])[1 + s.n %% 4],
       s.created_at + (1 + s.n %% 5) * interval '1 day',
       s.created_at + (1 + s.n %% 5) * interval '18 hours',
       '["approve", "reject"]'::jsonb, '[]'::jsonb, '[]'::jsonb, true,
       CASE WHEN s.status = 'completed' THEN 'approve' ELSE '' END, '', '{}'::jsonb,
       CASE WHEN s.status = 'completed' THEN u.ids[2 + s.n %% (%(users)s - 1)] END,
       s.created_at,
       CASE WHEN s.status <> 'open' THEN s.created_at + interval '1 hour' END,
       s.ended_at, false, '', '', 0
FROM (SELECT r.id, r.instance_id, r.created_at, r.ended_at, r.n,
             CASE WHEN r.n < %(hot)s THEN 'claimed'
                  WHEN r.n < %(open_end)s THEN 'open'
                  WHEN r.n < %(decided)s THEN 'claimed'
                  ELSE 'completed' END AS status
      FROM (SELECT id, instance_id, created_at, ended_at,
                   row_number() OVER (ORDER BY id) - 1 AS n
            FROM orchestrate_steprun) AS r) AS s,
     (SELECT array_agg(id ORDER BY id) AS ids FROM auth_user WHERE username LIKE 'bench%%') u,
     (SELECT array_agg(id ORDER BY name) AS ids FROM auth_group
      WHERE name LIKE 'bench-group-%%') AS g
"""

# One `task.created` row per task, so every task page has a timeline. The hashes only
# need to be there: the bench does not verify the chain.
INSERT_AUDIT = """
INSERT INTO orchestrate_auditevent
    (instance_id, step_run_id, kind, step_key, actor_label, at, data, prev_hash, hash)
SELECT instance_id, step_run_id, 'task.created', 'review', 'system', created_at,
       jsonb_build_object('title', title), '', md5(id::text) || md5(title)
FROM tasks_inbox_task
"""


# --- measuring ------------------------------------------------------------------------
def emit(kind, **fields):
    print(json.dumps({"bench": "inbox", "kind": kind, **fields}), flush=True)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def explain(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return [row[0] for row in cursor.fetchall()]


def report(name, timings, statements, *, show_plan):
    slowest = max(statements, key=lambda s: s[2]) if statements else ("", None, 0)
    shapes = Counter(" ".join(sql.split())[:60] for sql, _, _ in statements)
    emit(
        "page",
        page=name,
        requests=len(timings),
        p50_ms=round(statistics.median(timings) * 1000, 1),
        p95_ms=round(percentile(timings, 0.95) * 1000, 1),
        max_ms=round(max(timings) * 1000, 1),
        queries=len(statements),
        sql_ms=round(sum(s[2] for s in statements) * 1000, 1),
        slowest_ms=round(slowest[2] * 1000, 1),
        slowest=" ".join(slowest[0].split())[:200],
        repeated_shapes={k: v for k, v in shapes.items() if v > 1},
    )
    if show_plan and slowest[0]:
        emit("plan", page=name, plan=explain(slowest[0], slowest[1]))


def measure(client, name, url, repeat, *, show_plan, expect=200, headers=None):
    for _ in range(3):  # warm the caches (templates, graph, plans)
        client.get(url, headers=headers)
    timings = []
    for _ in range(repeat):
        with counting() as statements:
            started = time.perf_counter()
            response = client.get(url, headers=headers)
            timings.append(time.perf_counter() - started)
        if response.status_code != expect:
            sys.exit(f"{url}: {response.status_code}")
    report(name, timings, statements, show_plan=show_plan)


def measure_completions(client, user, repeat, *, show_plan):
    """POST the decision of `repeat` of the user's tasks, oldest first."""
    ids = list(
        Task.objects.filter(assignee=user, status=TaskStatus.CLAIMED)
        .order_by("id")
        .values_list("pk", flat=True)[: repeat + 1]
    )
    timings = []
    for task_id in ids:
        with counting() as statements:
            started = time.perf_counter()
            response = client.post(
                f"/inbox/tasks/{task_id}/complete/", {"outcome": "approve", "next": "/inbox/"}
            )
            timings.append(time.perf_counter() - started)
        if response.status_code != 302:
            sys.exit(f"complete {task_id}: {response.status_code}")
        if not Task.objects.filter(pk=task_id, status=TaskStatus.COMPLETED).exists():
            sys.exit(f"complete {task_id}: the task was not completed")
    report("complete task (POST)", timings[1:], statements, show_plan=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 tasks, fewer repeats")
    parser.add_argument("--tasks", type=int)
    parser.add_argument("--users", type=int)
    parser.add_argument("--hot", type=int, help="open tasks of the measured user")
    parser.add_argument("--repeat", type=int)
    parser.add_argument("--explain", action="store_true", help="plan of each slowest query")
    parser.add_argument("--reset", action="store_true", help="drop the database and load again")
    args = parser.parse_args()
    tasks = args.tasks or (20_000 if args.quick else 1_000_000)
    users = args.users or (500 if args.quick else 5_000)
    hot = args.hot or (2_000 if args.quick else 20_000)
    repeat = args.repeat or (10 if args.quick else 30)
    if not (0 < hot < tasks // 2 and users > GROUPS):
        parser.error("needs 0 < --hot < --tasks / 2 and more than 50 users")

    fresh = ensure_database(args.reset)
    call_command("migrate", verbosity=0)
    if not fresh and not loaded(tasks, users, hot):
        emit("note", text="the rows do not match this size: loading again")
        connection.close()
        ensure_database(reset=True)
        call_command("migrate", verbosity=0)
        fresh = True
    if fresh:
        started = time.perf_counter()
        load(tasks, users, hot)
        emit("load", table="all", seconds=round(time.perf_counter() - started, 1))

    user = get_user_model().objects.get(username=HOT_USER)
    mine = Task.objects.filter(assignee=user, status=TaskStatus.CLAIMED).count()
    queue = Task.objects.filter(
        status=TaskStatus.OPEN, candidate_group__in=user.groups.all()
    ).count()
    emit("data", tasks=Task.objects.count(), users=users, hot_user_tasks=mine, queue=queue)

    settings.ALLOWED_HOSTS.append("testserver")  # the test client's host
    # Loads the application as gunicorn does, which freezes what loading made (the
    # garbage collector's full collections skip it; orchestrate/wsgi.py).
    import orchestrate.wsgi  # noqa: F401

    client = Client()
    client.force_login(user)
    task_id = Task.objects.filter(assignee=user, status=TaskStatus.CLAIMED).latest("id").pk
    last_page = (mine + 24) // 25
    pages = [
        ("/inbox/", "/inbox/"),
        ("/inbox/?sort=due", "/inbox/?sort=due"),
        ("/inbox/?sort=priority", "/inbox/?sort=priority"),
        ("/inbox/ last page", f"/inbox/?page={last_page}"),
        ("/inbox/?q=B-1234", "/inbox/?q=B-1234"),
        ("/inbox/?workflow= (all 20,000)", f"/inbox/?workflow={WORKFLOW_KEY}"),
        ("/inbox/queue/", "/inbox/queue/"),
        ("/inbox/counts/", "/inbox/counts/"),
        ("task page", f"/inbox/tasks/{task_id}/"),
        ("/inbox/?task= (list and pane)", f"/inbox/?task={task_id}"),
        ("/api/v1/tasks/", "/api/v1/tasks/"),
        ("/api/v1/instances/ (started by the user)", "/api/v1/instances/"),
    ]
    for name, url in pages:
        measure(client, name, url, repeat, show_plan=args.explain)
    # What a click on a row asks for: the task's pane alone, swapped in by htmx.
    measure(
        client,
        "task pane (htmx, a click on a row)",
        f"/inbox/tasks/{task_id}/",
        repeat,
        show_plan=args.explain,
        headers={"HX-Request": "true"},
    )
    # A superuser (an administrator, like an auditor with the model-wide permissions) sees
    # every open task in the queue and every instance in the API list.
    admin, _ = get_user_model().objects.get_or_create(
        username=ADMIN_USER, defaults={"is_superuser": True, "is_staff": True}
    )
    everything = Client()
    everything.force_login(admin)
    for name, url in [
        ("/inbox/queue/ (a superuser: every open task)", "/inbox/queue/"),
        ("/inbox/queue/?sort=due (a superuser)", "/inbox/queue/?sort=due"),
        ("/inbox/queue/?sort=priority (a superuser)", "/inbox/queue/?sort=priority"),
        ("/api/v1/instances/ (a superuser: every instance)", "/api/v1/instances/"),
        ("/api/v1/tasks/?scope=queue (a superuser)", "/api/v1/tasks/?scope=queue"),
        ("admin: instances (100 rows)", "/admin/orchestrate/instance/"),
        ("admin: tasks (100 rows)", "/admin/tasks_inbox/task/"),
    ]:
        measure(everything, name, url, repeat, show_plan=args.explain)
    measure_completions(client, user, repeat, show_plan=args.explain)
    measure_sweep()


def measure_sweep():
    """The engine's sweep with nothing due among the waiting step runs of every open task:
    its cost must not grow with them (each query reads a partial index of due rows)."""
    waiting = StepRun.objects.filter(status=StepRunStatus.WAITING).count()
    timings = []
    for _ in range(5):
        with counting() as statements:
            started = time.perf_counter()
            counts = sweep_due_work()
            timings.append(time.perf_counter() - started)
    plans = [explain(sql, params) for sql, params, _ in statements if "FOR UPDATE" in sql]
    emit(
        "sweep",
        waiting_step_runs=waiting,
        sent=counts,
        p50_ms=round(statistics.median(timings) * 1000, 1),
        max_ms=round(max(timings) * 1000, 1),
        queries=len(statements),
        slowest_ms=round(max(s[2] for s in statements) * 1000, 1),
        indexes=sorted({m for plan in plans for line in plan for m in INDEX.findall(line)}),
        execution_ms=[
            float(line.split()[-2])
            for plan in plans
            for line in plan
            if line.startswith("Execution Time")
        ],
    )


if __name__ == "__main__":
    main()
