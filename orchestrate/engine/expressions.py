"""CEL expressions: the only place that knows the `cel` library.

Programs are compiled once per distinct source text and cached for the life of the
process (published versions never change, so their expressions never recompile).
"""

import datetime
import re
from functools import lru_cache

import cel

_POSITION = re.compile(r"<input>:(\d+):(\d+):\s*(.*)")


class ExpressionError(Exception):
    """An expression could not be compiled or evaluated."""


class ExpressionSyntaxError(ExpressionError):
    """A syntax error, with the 1-based line and column where the parser stopped."""

    def __init__(self, message, line=None, column=None):
        self.line = line
        self.column = column
        self.detail = message
        where = f"line {line}, column {column}: " if line else ""
        super().__init__(f"{where}{message}")


@lru_cache(maxsize=4096)
def compile_expression(source):
    """Compile `source` (cached); raises ExpressionSyntaxError with its position."""
    if not isinstance(source, str) or not source.strip():
        raise ExpressionSyntaxError("empty expression")
    try:
        return cel.compile(source)
    except ValueError as exc:
        text = str(exc)
        match = _POSITION.search(text)
        if match:
            detail = match.group(3).splitlines()[0]
            raise ExpressionSyntaxError(detail, int(match.group(1)), int(match.group(2))) from None
        raise ExpressionSyntaxError(text.splitlines()[0]) from None


def check_syntax(source):
    """Raise ExpressionSyntaxError if `source` does not parse."""
    compile_expression(source)


def evaluate(source, context):
    """Evaluate `source` against `context` (a dict of names); errors as ExpressionError."""
    program = compile_expression(source)
    try:
        return program.execute(context)
    except (RuntimeError, TypeError, ValueError, KeyError) as exc:
        raise ExpressionError(f"{source!r}: {exc}") from None


def build_context(instance_variables, instance_info, now=None):
    """Top-level variables plus `instance` and `now`, as the format defines them."""
    context = dict(instance_variables)
    context["instance"] = instance_info
    context["now"] = now or datetime.datetime.now(datetime.UTC)
    return context


def to_json_value(value):
    """CEL results made storable in JSON variables (timestamps, durations, bytes)."""
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    return value
