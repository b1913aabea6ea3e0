"""Engine throughput: instances and steps per second with real Celery workers, against
the database's own ceiling for the same writes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/orchestrate_engine_bench \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/14 \\
        .venv/bin/python bench/engine.py [--quick] [--instances 1000] [--workers 2]
        [--concurrency 1] [--reset]

Two automated-only workflows, each start, three automated steps, an exclusive step and
two ends (six step runs per instance):

- `bench_engine_inline`, the issue's reference: three `set_variables` steps. That action is
  pure, so the engine runs it inline: `start_instance` walks the whole instance to its end
  in its own transaction and no Celery message is sent. Started from this process.
- `bench_engine_worker`: the same with `send_email` (not pure; the workers get
  `EMAIL_BACKEND=...dummy...`, so no mail leaves): each automated step is a Celery message
  that a worker takes (lease), runs and finishes (walk on). This is the worker path.

For each: start `--instances` through `start_instance` and wait until all are completed,
with `--workers` worker processes (`--concurrency` each) started here as subprocesses;
print instances/s and step runs/s. Then the ceiling: the SQL writes of one instance
(INSERT, UPDATE and the row locks, captured from a run in this process, in the same
transactions) replayed directly with psycopg on as many connections as the workers had
processes, new ids each time: the step runs/s the database allows for those writes alone.
Prints one JSON line per measurement.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import setup_django  # noqa: E402

setup_django("orchestrate_engine_bench")

import psycopg  # noqa: E402
import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from bench.common import ensure_database  # noqa: E402
from orchestrate.models import Instance, InstanceStatus, StepRun  # noqa: E402
from orchestrate.services.definitions import import_workflow  # noqa: E402
from orchestrate.services.instances import start_instance  # noqa: E402

STEPS_PER_INSTANCE = 6  # start, three automated, exclusive, one end
CELERY = Path(sys.executable).with_name("celery")


def workflow(key, action):
    if action == "set_variables":
        params = [{"values": {f"v{i}": f"amount * {i}"}} for i in (1, 2, 3)]
    else:
        params = [
            {"to": "bench@example.com", "subject": f"step {i}", "body": "b"} for i in (1, 2, 3)
        ]
    steps = [{"key": "start", "type": "start"}]
    steps += [
        {"key": f"a{i}", "type": "automated", "action": action, "params": params[i - 1]}
        for i in (1, 2, 3)
    ]
    steps += [
        {"key": "route", "type": "exclusive"},
        {"key": "big", "type": "end", "outcome": "big"},
        {"key": "small", "type": "end", "outcome": "small"},
    ]
    transitions = [
        {"from": "start", "to": "a1"},
        {"from": "a1", "to": "a2"},
        {"from": "a2", "to": "a3"},
        {"from": "a3", "to": "route"},
        {"from": "route", "to": "big", "when": "amount > 500"},
        {"from": "route", "to": "small", "default": True},
    ]
    return {
        "format": 1,
        "key": key,
        "name": key,
        "variables": {"amount": {"type": "number", "required": True}},
        "steps": steps,
        "transitions": transitions,
    }


def emit(kind, **fields):
    print(json.dumps({"bench": "engine", "kind": kind, **fields}), flush=True)


# --- workers -------------------------------------------------------------------------
@contextmanager
def workers(count, concurrency):
    """`count` Celery worker processes (prefork, `concurrency` each) on this database and
    broker; killed with their children (process group) at the end."""
    logs = Path(tempfile.mkdtemp(prefix="bench-engine-"))
    env = {**os.environ, "DJANGO_DEBUG": "0", "LOG_FORMAT": "plain"}
    procs = []
    try:
        for n in range(count):
            log = open(logs / f"w{n}.log", "w")  # noqa: SIM115 (closed with the process)
            procs.append(
                (
                    subprocess.Popen(
                        [
                            str(CELERY),
                            "-A",
                            "orchestrate",
                            "worker",
                            "--pool=prefork",
                            f"--concurrency={concurrency}",
                            "--loglevel=WARNING",
                            "-n",
                            f"bench{n}@%h",
                            "--without-gossip",
                            "--without-mingle",
                            "--without-heartbeat",
                        ],
                        cwd=ROOT,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    ),
                    log,
                )
            )
        wait_ready(count)
        yield
    finally:
        for proc, log in procs:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            log.close()
        shutil.rmtree(logs, ignore_errors=True)


def wait_ready(count, timeout=60):
    from orchestrate.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=1.0) or []
        if len(replies) >= count:
            return
    sys.exit(f"only {len(replies)} of {count} workers answered within {timeout} s")


# --- the run -------------------------------------------------------------------------
def run(key, instances, timeout):
    """Start `instances` instances of `key`; wait until none is running any more."""
    started = time.perf_counter()
    first = None
    for n in range(instances):
        instance, _ = start_instance(workflow_key=key, variables={"amount": n % 1000})
        first = first or instance.pk
    started_s = time.perf_counter() - started
    ours = Instance.objects.filter(definition__key=key, pk__gte=first)
    while ours.exclude(status=InstanceStatus.COMPLETED).exists():
        if ours.filter(status=InstanceStatus.INCIDENT).exists():
            sys.exit(f"{key}: an instance has an incident")
        if time.perf_counter() - started > timeout:
            sys.exit(f"{key}: not done after {timeout} s")
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    steps = StepRun.objects.filter(instance__in=ours).count()
    return seconds, started_s, steps


# --- the ceiling ---------------------------------------------------------------------
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b|\bFOR UPDATE\b", re.IGNORECASE)
RETURNING_ID = re.compile(r"RETURNING\s+\"(\w+)\"\.\"id\"", re.IGNORECASE)


def capture(key):
    """The write statements of one instance run inline in this process (the worker path
    is run here step by step, as a worker would), grouped by transaction, with the ids
    each INSERT returned."""
    from orchestrate.services.steps import run_automated_step

    transactions, current = [], []

    def close_transaction():
        if current:
            transactions.append(list(current))
            current.clear()

    def wrapper(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if WRITE.search(sql):
            returned = []
            if RETURNING_ID.search(sql):
                cursor = context["cursor"].cursor
                returned = [row[0] for row in cursor.fetchall()]
                cursor.scroll(0, mode="absolute")  # Django reads the rows after us
            if connection.in_atomic_block and not current:
                # The group ends when the outermost atomic block commits.
                transaction.on_commit(close_transaction)
            current.append((sql, params, many, returned))
            if not connection.in_atomic_block:
                close_transaction()  # autocommit: a transaction of its own
        return result

    with connection.execute_wrapper(wrapper):
        instance, _ = start_instance(workflow_key=key, variables={"amount": 7})
        # The worker path: each scheduled step, run as the Celery task would.
        while True:
            run = StepRun.objects.filter(instance=instance, status="scheduled").first()
            if run is None:
                break
            run_automated_step(run.pk, worker="bench")
    instance.refresh_from_db()
    if instance.status != InstanceStatus.COMPLETED:
        sys.exit(f"{key}: the captured instance did not complete ({instance.status})")
    return transactions


def replay_once(conn, transactions):
    """Issue the captured writes again on `conn`: the ids the original INSERTs returned are
    replaced by the new ones, and every UUID (idempotency keys) is new."""
    ids = {}
    with conn.cursor() as cursor:
        for statements in transactions:
            with conn.transaction():
                for sql, params, many, returned in statements:
                    args = [fresh(p, ids) for p in params] if params else params
                    if many:
                        cursor.executemany(sql, [[fresh(p, ids) for p in row] for row in params])
                        continue
                    cursor.execute(sql, args)
                    if returned:
                        for old, (new,) in zip(returned, cursor.fetchall(), strict=False):
                            ids[old] = new


def fresh(value, ids):
    if isinstance(value, uuid.UUID):
        return uuid.uuid4()
    if isinstance(value, int) and not isinstance(value, bool) and value in ids:
        return ids[value]
    if isinstance(value, (list, tuple)):
        return type(value)(fresh(v, ids) for v in value)
    return value


def ceiling(transactions, connections, instances):
    """Instances/s and step runs/s of the captured writes replayed on `connections`."""
    db = settings.DATABASES["default"]
    params = {
        "host": db.get("HOST") or "127.0.0.1",
        "port": db.get("PORT") or 5432,
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "dbname": db["NAME"],
    }
    per_connection = max(instances // connections, 1)
    errors = []

    def work():
        try:
            with psycopg.connect(**params) as conn:
                for _ in range(per_connection):
                    replay_once(conn, transactions)
        except Exception as exc:  # reported below; a thread must not die silently
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if errors:
        sys.exit(f"ceiling replay failed: {errors[0]!r}")
    done = per_connection * connections
    return seconds, done


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 instances")
    parser.add_argument("--instances", type=int)
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--concurrency", type=int, default=1, help="per worker process")
    parser.add_argument("--timeout", type=int, default=600)
    parser.add_argument("--reset", action="store_true", help="drop the database first")
    args = parser.parse_args()
    instances = args.instances or (100 if args.quick else 1_000)

    ensure_database(args.reset)
    call_command("migrate", verbosity=0)
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.flushdb()  # messages of an earlier, interrupted run
    for key, action in (("bench_engine_inline", "set_variables"),
                        ("bench_engine_worker", "send_email")):  # fmt: skip
        import_workflow(workflow(key, action), publish=True)

    processes = args.workers * args.concurrency
    with workers(args.workers, args.concurrency):
        for key in ("bench_engine_inline", "bench_engine_worker"):
            seconds, start_seconds, steps = run(key, instances, args.timeout)
            emit(
                "run",
                workflow=key,
                instances=instances,
                step_runs=steps,
                workers=args.workers,
                concurrency=args.concurrency,
                seconds=round(seconds, 2),
                starting_seconds=round(start_seconds, 2),
                instances_per_s=round(instances / seconds, 1),
                steps_per_s=round(steps / seconds, 1),
            )
    for key in ("bench_engine_inline", "bench_engine_worker"):
        transactions = capture(key)
        writes = sum(len(t) for t in transactions)
        for connections in sorted({1, processes}):
            seconds, done = ceiling(transactions, connections, instances)
            emit(
                "ceiling",
                workflow=key,
                instances=done,
                connections=connections,
                transactions_per_instance=len(transactions),
                writes_per_instance=writes,
                seconds=round(seconds, 2),
                instances_per_s=round(done / seconds, 1),
                steps_per_s=round(done * STEPS_PER_INSTANCE / seconds, 1),
            )
    broker.flushdb()


if __name__ == "__main__":
    main()
