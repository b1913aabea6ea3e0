"""Many people working their inboxes at once, through gunicorn on loopback.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/orchestrate_inbox_bench \\
        .venv/bin/python bench/load.py [--quick] [--users 20] [--seconds 60]
        [--gunicorn-workers 2]

Uses the inbox bench's data (bench/inbox.py loads it; without it this script loads the
small `--quick` set of 20,000 tasks). Starts gunicorn (`--gunicorn-workers` processes) on
a free port as a subprocess, then `--users` threads, each signed in as one bench user who
holds claimed tasks, loop for `--seconds`: open the inbox, open its first task, approve it
(POST with the form's CSRF token, through the engine to the end of the instance). Someone
whose inbox is empty opens their queue and claims one of its tasks at random (a claim lost
to a colleague leaves the inbox empty, and they try again); someone with nothing in either
stops. Prints
one JSON line per request kind (count, p50/p95/p99/max ms) and one with decisions per
second and the errors (any unexpected status or exception counts; the goal is zero).
"""

import argparse
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import setup_django  # noqa: E402

setup_django("orchestrate_inbox_bench")

import requests  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db.models import Count, Q  # noqa: E402

from bench.common import ensure_database  # noqa: E402
from bench.inbox import HOT_USER, PASSWORD, load  # noqa: E402

GUNICORN = Path(sys.executable).with_name("gunicorn")
TASK_ID = re.compile(r'data-task-id="(\d+)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def emit(kind, **fields):
    print(json.dumps({"bench": "load", "kind": kind, **fields}), flush=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port, workers):
    env = {
        **os.environ,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "LOG_FORMAT": "plain",
    }
    proc = subprocess.Popen(
        [
            str(GUNICORN),
            "orchestrate.wsgi",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)
            return proc
        except requests.ConnectionError:
            time.sleep(0.2)
    stop(proc)
    sys.exit("gunicorn did not answer within 60 s")


def stop(proc):
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


class Person(threading.Thread):
    """One user: sign in, then inbox → first task → approve, until `until`."""

    def __init__(self, base, username, until, results):
        super().__init__(daemon=True)
        self.base, self.username, self.until, self.results = base, username, until, results

    def timed(self, kind, method, path, expect, **kwargs):
        started = time.perf_counter()
        try:
            response = self.session.request(
                method, self.base + path, allow_redirects=False, timeout=30, **kwargs
            )
        except requests.RequestException as exc:
            self.results.error(kind, repr(exc))
            return None
        self.results.add(kind, time.perf_counter() - started)
        if response.status_code != expect:
            self.results.error(kind, f"{path}: {response.status_code}")
            return None
        return response

    def run(self):
        self.session = requests.Session()
        page = self.timed("login page", "GET", "/accounts/login/", 200)
        if page is None:
            return
        form = {"username": self.username, "password": PASSWORD,
                "csrfmiddlewaretoken": CSRF.search(page.text).group(1)}  # fmt: skip
        if self.timed("login", "POST", "/accounts/login/", 302, data=form) is None:
            return
        while time.monotonic() < self.until:
            inbox = self.timed("GET /inbox/", "GET", "/inbox/", 200)
            if inbox is None:
                continue
            found = TASK_ID.search(inbox.text)
            if found is None:
                if self.claim_from_queue():
                    continue
                return  # nothing left to decide
            task = found.group(1)
            page = self.timed("GET task page", "GET", f"/inbox/tasks/{task}/", 200)
            if page is None:
                continue
            token = CSRF.search(page.text)
            decision = {"outcome": "approve", "next": "/inbox/",
                        "csrfmiddlewaretoken": token.group(1) if token else ""}  # fmt: skip
            done = self.timed(
                "POST approve", "POST", f"/inbox/tasks/{task}/complete/", 302, data=decision
            )
            if done is not None:
                self.results.decided()

    def claim_from_queue(self):
        """Claim one task of the queue's first page; False if the queue is empty."""
        queue = self.timed("GET /inbox/queue/", "GET", "/inbox/queue/", 200)
        if queue is None:
            return time.monotonic() < self.until  # an error: counted, try again
        tasks = TASK_ID.findall(queue.text)
        if not tasks:
            return False
        token = CSRF.search(queue.text)
        claim = {"next": "/inbox/",
                 "csrfmiddlewaretoken": token.group(1) if token else
                 self.session.cookies.get("csrftoken", "")}  # fmt: skip
        self.timed("POST claim", "POST", f"/inbox/tasks/{random.choice(tasks)}/claim/", 302,
                   data=claim)  # fmt: skip
        return True


class Results:
    def __init__(self):
        self.lock = threading.Lock()
        self.timings = defaultdict(list)
        self.errors = defaultdict(list)
        self.decisions = 0

    def add(self, kind, seconds):
        with self.lock:
            self.timings[kind].append(seconds)

    def error(self, kind, text):
        with self.lock:
            self.errors[kind].append(text)

    def decided(self):
        with self.lock:
            self.decisions += 1


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def people(count):
    """Bench users (not the hot one) with the most claimed tasks."""
    return list(
        get_user_model()
        .objects.filter(username__startswith="bench")
        .exclude(username=HOT_USER)
        .annotate(live=Count("assigned_tasks", filter=Q(assigned_tasks__status="claimed")))
        .filter(live__gt=0)
        .order_by("-live", "username")
        .values_list("username", flat=True)[:count]
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 users for 20 seconds")
    parser.add_argument("--users", type=int)
    parser.add_argument("--seconds", type=int)
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    args = parser.parse_args()
    users = args.users or (10 if args.quick else 20)
    seconds = args.seconds or (20 if args.quick else 60)

    fresh = ensure_database(reset=False)
    call_command("migrate", verbosity=0)
    if fresh or not get_user_model().objects.filter(username=HOT_USER).exists():
        load(20_000, 500, 2_000)
    names = people(users)
    port = free_port()
    server = start_gunicorn(port, args.gunicorn_workers)
    results = Results()
    try:
        until = time.monotonic() + seconds
        threads = [Person(f"http://127.0.0.1:{port}", n, until, results) for n in names]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        stop(server)
    for kind, timings in sorted(results.timings.items()):
        emit(
            "requests",
            request=kind,
            count=len(timings),
            p50_ms=round(statistics.median(timings) * 1000, 1),
            p95_ms=round(percentile(timings, 0.95) * 1000, 1),
            p99_ms=round(percentile(timings, 0.99) * 1000, 1),
            max_ms=round(max(timings) * 1000, 1),
        )
    errors = sum(len(e) for e in results.errors.values())
    emit(
        "summary",
        users=len(names),
        gunicorn_workers=args.gunicorn_workers,
        seconds=round(elapsed, 1),
        decisions=results.decisions,
        decisions_per_s=round(results.decisions / elapsed, 2),
        requests_per_s=round(sum(len(t) for t in results.timings.values()) / elapsed, 1),
        errors=errors,
        first_errors={k: v[:3] for k, v in results.errors.items()},
    )
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
