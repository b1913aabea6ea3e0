"""Actions for the integration tests; worker processes import this module through
ORCHESTRATE_ACTION_MODULES.

Every action writes to `it_action_log` (a plain table the fixtures create in the test
database) with the database clock, so a test can tell which attempt of which step run
started and finished, and when.
"""

import os
import signal
import time

from django.db import connection

from orchestrate.engine.actions import ActionError, register_action

CREATE_LOG_TABLE = """
CREATE TABLE IF NOT EXISTS it_action_log (
    id bigserial PRIMARY KEY,
    instance_id bigint NOT NULL,
    step_run_id bigint NOT NULL,
    step_key text NOT NULL,
    idempotency_key text NOT NULL,
    attempt integer NOT NULL,
    phase text NOT NULL,
    pid integer NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp()
)
"""

# Set only in the environment of the worker processes the fixtures start.
WORKER_FLAG = "ORCHESTRATE_IT_WORKER"


def _record(ctx, phase):
    # Actions run outside any transaction: each insert commits at once, so a row
    # survives even if the process is killed a moment later.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO it_action_log "
            "(instance_id, step_run_id, step_key, idempotency_key, attempt, phase, pid) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [
                ctx.instance_id,
                ctx.step_run_id,
                ctx.step_key,
                ctx.idempotency_key,
                ctx.attempt,
                phase,
                os.getpid(),
            ],
        )


@register_action("slow_record")
def slow_record(params, ctx):
    """Record the start, sleep `seconds`, record the end; returns `{<step>_attempt: n}`."""
    _record(ctx, "started")
    time.sleep(float(params.get("seconds", 0)))
    _record(ctx, "finished")
    return {f"{ctx.step_key}_attempt": ctx.attempt}


@register_action("kill_own_process")
def kill_own_process(params, ctx):
    """A poison step: the worker process running it dies with SIGKILL, every time."""
    _record(ctx, "started")
    if os.environ.get(WORKER_FLAG) != "1":
        # Never kill a process the fixtures did not start (pytest itself, a dev worker).
        raise ActionError("kill_own_process runs only in integration-test workers")
    os.kill(os.getpid(), signal.SIGKILL)


@register_action("always_fail")
def always_fail(params, ctx):
    """Every attempt fails (after recording that it started)."""
    _record(ctx, "started")
    raise ActionError("this action always fails")
