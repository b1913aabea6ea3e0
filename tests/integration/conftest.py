"""Fixtures that run real Celery worker and beat processes against PostgreSQL and Redis.

The processes share the test database that pytest-django created (so the tests use
`transactional_db`: the rows they write are committed and visible to the workers) and a
Redis database of their own (REDIS_DB, flushed before and after each test). Leases,
re-dispatch and the sweep are shortened so that losing and recovering work takes seconds.
Every process is started in its own session and killed with its children when the test
ends. Without PostgreSQL and Redis the tests skip with the reason (a failure under
REQUIRE_SERVICES=1, as in CI).
"""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import kombu.pools
import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection

import tests.integration.actions  # noqa: F401 - registers the test actions in this process
from orchestrate.celery import app as celery_app
from tests.integration.actions import CREATE_LOG_TABLE, WORKER_FLAG
from tests.services import require_postgres, require_redis

# The Redis database the integration tests use, apart from the one in CELERY_BROKER_URL.
# Suites running at once on one machine need different ones, or each sees the other's
# workers (worker_health counts them): ORCHESTRATE_TEST_REDIS_DB picks another.
REDIS_DB = int(os.environ.get("ORCHESTRATE_TEST_REDIS_DB", "15"))
# The default Celery queue: a Redis list of messages no worker has taken yet.
QUEUE_KEY = "celery"
# Kombu's Redis transport keeps taken but unacknowledged messages (including every
# ETA/countdown message a worker holds in memory) in this hash until they are acked.
UNACKED_KEY = "unacked"

TIMINGS = {
    "ORCHESTRATE_STEP_LEASE_SECONDS": 3,
    "ORCHESTRATE_REDISPATCH_SECONDS": 2,
    "ORCHESTRATE_SWEEP_SECONDS": 0.5,
    "ORCHESTRATE_MAX_LOST_ATTEMPTS": 3,
}
ACTION_MODULES = "tests.integration.actions"
WORKER_APP_NAME = "orchestrate-it-worker"

# The venv's own `celery`, next to the interpreter that runs pytest.
CELERY = Path(sys.executable).with_name("celery")
DEFAULT_TIMEOUT = 60


def database_url(settings_dict):
    """A DATABASE_URL for the database Django is connected to (the test database)."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    # quote() also keeps a socket directory ("/run/postgresql") in one piece.
    host = quote(settings_dict.get("HOST") or "127.0.0.1", safe="")
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{credentials}{host}:{port}/{quote(settings_dict['NAME'], safe='')}"


def redis_url_with_db(url, db):
    return urlsplit(url)._replace(path=f"/{db}").geturl()


def _point_celery_at(broker_url):
    """Make this process's Celery app send to `broker_url` from now on."""
    celery_app.conf.broker_url = broker_url
    # The connection and producer pools are made lazily from broker_url and kept in
    # kombu's registry of pools by URL: close and forget them all, and the app's own
    # references, so that the next send opens a fresh connection to `broker_url`.
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@dataclass
class CeleryProcess:
    name: str
    popen: subprocess.Popen
    log_path: Path
    killed: bool = False

    def alive(self):
        return self.popen.poll() is None

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, lines=40):
        return "\n".join(self.log().splitlines()[-lines:])


@dataclass
class Cluster:
    """Worker and beat processes for one test, and what they share with it."""

    env: dict
    tmp_path: Path
    redis: redis.Redis
    procs: list = field(default_factory=list)

    # --- processes -------------------------------------------------------------------
    def _spawn(self, name, args):
        log_path = self.tmp_path / f"{name}.log"
        # The process writes its own file; this process keeps no handle open on it.
        with log_path.open("ab") as log:
            popen = subprocess.Popen(
                [str(CELERY), "-A", "orchestrate", *args],
                cwd=django_settings.BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: killpg gets the children
            )
        proc = CeleryProcess(name=name, popen=popen, log_path=log_path)
        self.procs.append(proc)
        return proc

    def start_worker(self, name="it1", concurrency=2):
        """A prefork worker; returns once it is ready to consume."""
        proc = self._spawn(
            name,
            [
                "worker",
                "--pool=prefork",
                f"--concurrency={concurrency}",
                "--loglevel=INFO",
                "-n",
                f"{name}@%h",
                # No chatter with other workers: they would only slow the start down.
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
        )
        self.wait_for(lambda: " ready." in proc.log(), f"worker {name} to be ready")
        return proc

    def start_beat(self):
        """Beat, sending `sweep_due_work` every ORCHESTRATE_SWEEP_SECONDS."""
        return self._spawn(
            "beat",
            [
                "beat",
                "--loglevel=INFO",
                "--schedule",
                str(self.tmp_path / "beat-schedule"),
            ],
        )

    def kill(self, proc):
        """SIGKILL the process and every child of it (its whole process group)."""
        proc.killed = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.popen.pid, signal.SIGKILL)
        proc.popen.wait(timeout=10)

    def kill_all(self):
        for proc in reversed(self.procs):
            self.kill(proc)

    # --- waiting ---------------------------------------------------------------------
    def logs(self):
        return "\n".join(f"----- {p.name} (last lines) -----\n{p.tail()}" for p in self.procs)

    def wait_for(self, predicate, what, timeout=DEFAULT_TIMEOUT, interval=0.1):
        """Poll `predicate` until it is true; fail with the process logs after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            dead = [p.name for p in self.procs if not p.killed and not p.alive()]
            if dead:
                pytest.fail(f"{', '.join(dead)} died while waiting for {what}\n{self.logs()}")
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout} s waiting for {what}\n{self.logs()}")
            time.sleep(interval)

    # --- broker ----------------------------------------------------------------------
    def queued(self):
        """Messages waiting in the default queue."""
        return self.redis.llen(QUEUE_KEY)

    def unacked(self):
        """Messages taken by a worker but not acknowledged (held ETA messages too)."""
        return self.redis.hlen(UNACKED_KEY)

    # --- the database -------------------------------------------------------------------
    def other_connections(self):
        """Connections of worker processes to the test database."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = %s",
                [WORKER_APP_NAME],
            )
            return cursor.fetchone()[0]

    # --- the action log ----------------------------------------------------------------
    def action_log(self):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT instance_id, step_run_id, step_key, idempotency_key, attempt, phase, "
                "at, pid FROM it_action_log ORDER BY id"
            )
            columns = [c.name for c in cursor.description]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


@pytest.fixture
def cluster(transactional_db, settings, monkeypatch, tmp_path):
    """Real Celery processes on the test database and a Redis database of their own.

    The test module needs `pytest.mark.django_db(transaction=True)`: without a marker
    pytest-django creates no test database. Committed rows (no test transaction) are what
    lets the worker processes see what the test writes.
    """
    require_postgres()
    broker_url = redis_url_with_db(require_redis(), REDIS_DB)

    client = redis.Redis.from_url(broker_url)
    client.flushdb()
    with connection.cursor() as cursor:
        cursor.execute(CREATE_LOG_TABLE)
        cursor.execute("TRUNCATE it_action_log")

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "orchestrate.settings",
        "DATABASE_URL": database_url(connection.settings_dict),
        "CELERY_BROKER_URL": broker_url,
        "ORCHESTRATE_ACTION_MODULES": ACTION_MODULES,
        "PYTHONUNBUFFERED": "1",
        # libpq names the workers' connections, so the tests can tell them from their own
        # (a live server of the browser tests keeps connections too).
        "PGAPPNAME": WORKER_APP_NAME,
        WORKER_FLAG: "1",
        **{name: str(value) for name, value in TIMINGS.items()},
    }
    for name, value in TIMINGS.items():
        setattr(settings, name, value)
    settings.CELERY_BROKER_URL = broker_url
    # Celery reads CELERY_BROKER_URL from the environment before its own configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", broker_url)
    settings.ORCHESTRATE_ACTION_MODULES = [ACTION_MODULES]
    original_broker_url = celery_app.conf.broker_url
    _point_celery_at(broker_url)
    assert celery_app.pool.connection.as_uri().endswith(f"/{REDIS_DB}")

    result = Cluster(env=env, tmp_path=tmp_path, redis=client)
    try:
        yield result
    finally:
        # Before transactional_db flushes the tables: no worker may hold a lock then.
        result.kill_all()
        _point_celery_at(original_broker_url)
        with contextlib.suppress(redis.RedisError):
            client.flushdb()
        client.close()


# --- the machine's Redis server, for the outage test -----------------------------------


@dataclass
class RedisServer:
    host: str
    port: int

    def _cli(self, *args):
        return subprocess.run(
            ["redis-cli", "-h", self.host, "-p", str(self.port), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )

    def answers(self):
        result = self._cli("ping")
        return result.returncode == 0 and result.stdout.strip() == "PONG"

    def stop(self):
        """Shut the server down without saving; returns once it no longer answers."""
        self._cli("shutdown", "nosave")
        self._wait(lambda: not self.answers(), "Redis to stop")

    def start(self):
        """Start a server like CI's (no persistence); returns once it answers PING."""
        if self.answers():
            return
        subprocess.run(
            [
                "redis-server",
                "--daemonize",
                "yes",
                "--bind",
                self.host,
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            check=True,
            capture_output=True,
            timeout=10,
            start_new_session=True,
        )
        self._wait(self.answers, "Redis to answer PING")

    @staticmethod
    def _wait(predicate, what, timeout=20):
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out waiting for {what}")
            time.sleep(0.1)


@pytest.fixture
def redis_server(cluster):
    """The Redis server at CELERY_BROKER_URL, which the test may stop. It is always
    running again afterwards: everything on this machine shares it."""
    parts = urlsplit(cluster.env["CELERY_BROKER_URL"])
    host = parts.hostname or "127.0.0.1"
    if host not in ("127.0.0.1", "localhost", "::1") or parts.password:
        pytest.skip(
            f"stops and restarts Redis, so it needs a local one without a password, not {host}"
        )
    missing = [tool for tool in ("redis-cli", "redis-server") if shutil.which(tool) is None]
    if missing:
        pytest.skip(
            f"stops and restarts Redis with {' and '.join(missing)}, which is not installed"
        )
    server = RedisServer(host=host, port=parts.port or 6379)
    try:
        yield server
    finally:
        server.start()
