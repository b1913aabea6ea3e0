"""Log lines that say which instance, step and task they are about.

The ids live in a context variable: the entry points of work (Celery tasks, the engine,
the API's task views) bind what they know with `bind_log_context`, and `log_context`
opens a scope that forgets them again at its end, so one request's or task's ids never
leak into the next one handled by the same thread. `ContextFilter` copies them onto every
record; `JsonFormatter` writes one JSON object per line.
"""

import contextlib
import contextvars
import datetime
import json
import logging
import types

FIELDS = ("instance_id", "step_key", "step_run_id", "task_id")

# Never changed in place: binding sets a new mapping.
_context = contextvars.ContextVar("orchestrate_log_context", default=types.MappingProxyType({}))


def current_log_context():
    """The ids bound now (a copy)."""
    return dict(_context.get())


def bind_log_context(**ids):
    """Add ids to the current scope (None values are ignored)."""
    known = {name: value for name, value in ids.items() if value is not None}
    if known:
        _context.set({**_context.get(), **known})


@contextlib.contextmanager
def log_context(**ids):
    """A scope for one unit of work (a request, a Celery task): it starts with only
    `ids`, and whatever is bound inside is forgotten at its end."""
    token = _context.set(types.MappingProxyType({}))
    try:
        bind_log_context(**ids)
        yield
    finally:
        _context.reset(token)


class LogContextMiddleware:
    """Each request starts with no ids and leaves none behind."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with log_context():
            return self.get_response(request)


class ContextFilter(logging.Filter):
    """Put the bound ids on the record: as attributes (None when unknown) and as
    `context`, a ` [instance_id=… step_key=…]` suffix for plain lines."""

    def filter(self, record):
        bound = _context.get()
        for name in FIELDS:
            if not hasattr(record, name):
                setattr(record, name, bound.get(name))
        known = [f"{name}={getattr(record, name)}" for name in FIELDS if getattr(record, name)]
        record.context = f" [{' '.join(known)}]" if known else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the ids
    that are known, and the traceback of an exception."""

    def format(self, record):
        line = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is None:
                value = _context.get().get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)
