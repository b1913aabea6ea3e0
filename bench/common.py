"""What the benchmarks share: the PostgreSQL database they load (created on demand, only
under a name containing `bench`, since they load millions of rows and `--reset` drops
it), and counting the statements a piece of work sends."""

import os
import sys
import time
from contextlib import contextmanager

import django
import psycopg
from django.conf import settings
from django.db import connection
from psycopg import sql


def setup_django(database):
    """Point Django at the bench's PostgreSQL `database` and set it up. The defaults are
    set before Django reads `.env`, so a DATABASE_URL there (the dev database) never
    applies. Without DEBUG Django keeps no log of every query (`counting` is ours), and
    mail goes nowhere. Not `setup_test_environment()`: it instruments every template
    render (a copy of the context per template), which production does not do."""
    defaults = {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/14",
        "DJANGO_SETTINGS_MODULE": "orchestrate.settings",
        "DJANGO_DEBUG": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    }
    for name, value in defaults.items():
        os.environ.setdefault(name, value)
    django.setup()


def ensure_database(reset):
    """Create (or with `reset` drop and create) the bench database; True if it is new."""
    db = settings.DATABASES["default"]
    name = db["NAME"]
    if "postgresql" not in db["ENGINE"]:
        sys.exit(f"needs PostgreSQL (DATABASE_URL=postgres://...), not {db['ENGINE']}")
    if "bench" not in name:
        sys.exit(f"refusing database {name!r}: the bench loads millions of rows into it "
                 "and --reset drops it; use a database named *bench*")  # fmt: skip
    params = {
        "host": db.get("HOST") or "127.0.0.1",
        "port": db.get("PORT") or 5432,
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**params) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and not reset:
            return False
        if exists:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return True


@contextmanager
def counting():
    """The statements sent on the default connection: (sql, params, seconds) each."""
    statements = []

    def wrapper(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append((sql, params, time.perf_counter() - started))

    with connection.execute_wrapper(wrapper):
        yield statements
