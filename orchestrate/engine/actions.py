"""The action registry and the built-in actions.

An action is a function `(params, ctx) -> result`. `params` are the step's params with
their template strings rendered (unless the action takes raw params); `ctx` is an
`ActionContext`. Raise `ActionError` (or any exception) for a failed attempt.

Pure actions (no outside I/O) run inline in the engine's transaction; the others run on a
Celery worker with retries. Projects register their own:

    from orchestrate.engine.actions import register_action

    @register_action("create_ticket")
    def create_ticket(params, ctx):
        ...  # use ctx.idempotency_key to deduplicate the external call
        return {"ticket": 42}

and list the module in the ORCHESTRATE_ACTION_MODULES setting.
"""

import importlib
import logging
import os
import re
from dataclasses import dataclass, field

import requests
from django.conf import settings
from django.core.mail import send_mail

from . import expressions

logger = logging.getLogger("orchestrate.actions")


class ActionError(Exception):
    """A failed attempt of an action; the message lands in `last_error`."""


@dataclass(frozen=True)
class ActionSpec:
    name: str
    func: object
    pure: bool
    raw_params: bool


@dataclass
class ActionContext:
    instance_id: int
    step_key: str
    step_run_id: int | None
    idempotency_key: str
    attempt: int
    variables: dict
    expression_context: dict = field(default_factory=dict)


_REGISTRY: dict[str, ActionSpec] = {}


def register_action(name, *, pure=False, raw_params=False):
    """Register `func` as the action `name`. `pure` actions run inline (no I/O)."""

    def decorator(func):
        _REGISTRY[name] = ActionSpec(name=name, func=func, pure=pure, raw_params=raw_params)
        return func

    return decorator


def get_action(name):
    """The registered ActionSpec, or None."""
    return _REGISTRY.get(name)


def action_names():
    return sorted(_REGISTRY)


def load_action_modules():
    """Import the modules named in ORCHESTRATE_ACTION_MODULES so they register."""
    for module in getattr(settings, "ORCHESTRATE_ACTION_MODULES", []):
        importlib.import_module(module)


# --- built-in actions --------------------------------------------------------------


@register_action("set_variables", pure=True, raw_params=True)
def set_variables(params, ctx):
    """`values: {name: CEL expression}` -> the computed values."""
    values = params.get("values") or {}
    return {
        name: expressions.to_json_value(expressions.evaluate(expr, ctx.expression_context))
        for name, expr in values.items()
    }


@register_action("log", pure=True)
def log_message(params, ctx):
    """`message` (a template) goes to the log; no result."""
    logger.info(
        "%s",
        params.get("message", ""),
        extra={"instance_id": ctx.instance_id, "step": ctx.step_key},
    )
    return None


def _status_expected(status, expect):
    if expect is None:
        return 200 <= status < 300
    if isinstance(expect, list):
        return status in [int(s) for s in expect]
    return status == int(expect)


# `${secret:NAME}` in a value of `secret_headers` of `http_request`.
SECRET_REFERENCE = re.compile(r"\$\{secret:([A-Za-z][A-Za-z0-9_]*)\}")
SECRET_ENV_PREFIX = "ORCHESTRATE_SECRET_"  # noqa: S105  (a name prefix, not a secret)


def secret_env_name(name):
    return f"{SECRET_ENV_PREFIX}{name.upper()}"


def resolve_secrets(text):
    """`text` with each `${secret:NAME}` replaced by the environment variable
    ORCHESTRATE_SECRET_NAME of the process that sends the request. Secrets live only there:
    the definition, the variables, the audit trail and error messages hold the reference."""

    def value(match):
        variable = secret_env_name(match.group(1))
        secret = os.environ.get(variable)
        if not secret:
            raise ActionError(
                f"The secret {match.group(1)!r} is not set: the workers need the "
                f"environment variable {variable}."
            )
        return secret

    return SECRET_REFERENCE.sub(value, text)


@register_action("http_request")
def http_request(params, ctx):
    """Call an HTTP endpoint; `{status, body}`; an unexpected status is a failed attempt.
    Every attempt of one step run sends the same Idempotency-Key header. `secret_headers`
    values may hold `${secret:NAME}` references, read from the environment at sending."""
    method = str(params.get("method", "GET")).upper()
    url = params.get("url")
    if not url:
        raise ActionError("http_request needs a url")
    headers = {str(k): str(v) for k, v in (params.get("headers") or {}).items()}
    for name, value in (params.get("secret_headers") or {}).items():
        headers[str(name)] = resolve_secrets(str(value))
    headers.setdefault("Idempotency-Key", ctx.idempotency_key)
    try:
        response = requests.request(
            method,
            url,
            headers=headers,
            json=params.get("json"),
            timeout=float(params.get("timeout_seconds", 10)),
        )
    except requests.RequestException as exc:
        raise ActionError(f"{method} {url}: no answer ({exc.__class__.__name__}: {exc})") from None
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if not _status_expected(response.status_code, params.get("expect_status")):
        text = body if isinstance(body, str) else str(body)
        raise ActionError(f"{method} {url}: HTTP {response.status_code} {text[:300]}")
    return {"status": response.status_code, "body": body}


@register_action("send_email")
def send_email(params, ctx):
    """`to` (an address or a list), `subject`, `body` -> `{sent: n}`."""
    to = params.get("to") or []
    if isinstance(to, str):
        to = [a.strip() for a in to.split(",") if a.strip()]
    if not to:
        raise ActionError("send_email needs at least one address in `to`")
    sent = send_mail(
        str(params.get("subject", "")),
        str(params.get("body", "")),
        settings.DEFAULT_FROM_EMAIL,
        to,
        fail_silently=False,
    )
    return {"sent": sent * len(to)}


# `decide` lives with the decision tables; importing the module registers it.
from . import decisions  # noqa: E402, F401
