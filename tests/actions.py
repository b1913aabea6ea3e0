"""Custom actions registered for the tests, the way a project registers its own."""

from orchestrate.engine.actions import register_action


@register_action("tests_echo_params")
def echo_params(params, ctx):
    return {"echo": params, "key": ctx.idempotency_key}
