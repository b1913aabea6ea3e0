"""Is this process able to work: the database answers, the broker takes connections,
a worker answers a ping."""

from django.conf import settings
from django.db import connection

BROKER_TIMEOUT_SECONDS = 2.0


def check_database():
    """None when `SELECT 1` works, else the error's class name."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return type(exc).__name__
    return None


def check_broker(timeout=BROKER_TIMEOUT_SECONDS):
    """None when a connection to the broker opens within `timeout` seconds, else the
    error's class name."""
    from orchestrate.celery import app

    try:
        with app.connection_for_write(connect_timeout=timeout) as conn:
            conn.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=timeout
            )
    except Exception as exc:
        return type(exc).__name__
    return None


def health():
    """(healthy, {check: {"ok": bool, "error": name}}) of the web process."""
    checks = {"database": check_database(), "broker": check_broker()}
    report = {
        name: {"ok": True} if error is None else {"ok": False, "error": error}
        for name, error in checks.items()
    }
    return all(error is None for error in checks.values()), report


def ping_workers(timeout=None):
    """Hostnames of the Celery workers that answered a ping within `timeout` seconds.
    Raises the broker's error when it cannot be reached."""
    from orchestrate.celery import app

    timeout = settings.CELERY_BROKER_CONNECTION_TIMEOUT if timeout is None else timeout
    replies = app.control.ping(timeout=timeout) or []
    return sorted(name for reply in replies for name in reply)
