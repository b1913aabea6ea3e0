"""`validate_spec`: every refusal rule of the format, each pointing at its place."""

import datetime
import json

import pytest
from django.conf import settings

from orchestrate.formats import FormatError, load_document, validate_spec
from orchestrate.formats.validation import STEP_TYPES, step_outcomes
from orchestrate.models import StepType
from tests.orchestrate.formats.documents import (
    full_document,
    full_yaml,
    minimal_document,
    step,
)


def errors_of(doc):
    return [(e.path, e.message) for e in validate_spec(doc)]


def assert_refused(doc, path, fragment):
    errors = validate_spec(doc)
    at_path = [e.message for e in errors if e.path == path]
    assert at_path, f"no error at {path!r}; errors: {[str(e) for e in errors]}"
    assert any(fragment in message for message in at_path), (
        f"no error at {path!r} mentions {fragment!r}; there: {at_path}"
    )


# --- mutations of the full document, used by the refusal table ------------------------


def top(name, value):
    def mutate(doc):
        doc[name] = value

    return mutate


def drop_top(name):
    def mutate(doc):
        del doc[name]

    return mutate


def setting(key, name, value):
    """Set `name` of step `key` (a dotted name reaches into mappings)."""

    def mutate(doc):
        target = step(doc, key)
        *parents, last = name.split(".")
        for parent in parents:
            target = target[parent]
        target[last] = value

    return mutate


def dropping(key, name):
    def mutate(doc):
        target = step(doc, key)
        *parents, last = name.split(".")
        for parent in parents:
            target = target[parent]
        del target[last]

    return mutate


def replace_step(index, value):
    def mutate(doc):
        doc["steps"][index] = value

    return mutate


def add_step(value, *transitions):
    def mutate(doc):
        doc["steps"].append(value)
        doc["transitions"].extend(transitions)

    return mutate


def change_transition(index, **changes):
    """Change keys of transitions[index]; a value of None removes the key."""

    def mutate(doc):
        for name, value in changes.items():
            if value is None:
                doc["transitions"][index].pop(name, None)
            else:
                doc["transitions"][index][name] = value

    return mutate


def add_transition(**spec):
    def mutate(doc):
        doc["transitions"].append({k.rstrip("_"): v for k, v in spec.items()})

    return mutate


def drop_transition(index):
    def mutate(doc):
        del doc["transitions"][index]

    return mutate


def both(*mutations):
    def mutate(doc):
        for mutation in mutations:
            mutation(doc)

    return mutate


# Step indexes of the full document: 0 start, 1 compute, 2 call_erp, 3 route, 4 approval,
# 5 board, 6 fan_out, 7 notify_team, 8 log_it, 9 sync, 10 checks, 11 check_eu,
# 12 check_large, 13 checks_done, 14 wait_payment, 15 fulfil, 16 done, 17 rejected,
# 18 expired; a step added by a case is steps[19], a transition added is transitions[26].
REFUSALS = [
    # top level
    ("format missing", drop_top("format"), "format", "needs `format: 1`"),
    ("format 2", top("format", 2), "format", "unsupported format 2"),
    ("format as text", top("format", "1"), "format", "unsupported format '1'"),
    ("format true", top("format", True), "format", "unsupported format True"),
    ("unknown top key", top("author", "me"), "author", "unknown key 'author' at the top level"),
    ("top key typo", top("varaibles", {}), "varaibles", "did you mean 'variables'?"),
    ("unknown kind", top("kind", "report"), "kind", "unknown kind 'report'"),
    ("key missing", drop_top("key"), "key", "needs a `key`"),
    ("key pattern", top("key", "Every Step"), "key", "lowercase letters, digits, '_' and '-'"),
    ("key not text", top("key", 12), "key", "must be a non-empty string, not 12"),
    ("key too long", top("key", "k" * 101), "key", "longer than 100 characters"),
    ("name missing", drop_top("name"), "name", "needs a `name`"),
    ("name empty", top("name", " "), "name", "must be a non-empty string"),
    ("name too long", top("name", "n" * 201), "name", "longer than 200 characters"),
    ("description not text", top("description", ["a"]), "description", "must be a string"),
    ("calendar pattern", top("calendar", "Main calendar"), "calendar", "lowercase letters"),
    ("steps missing", drop_top("steps"), "steps", "needs `steps`"),
    ("steps not a list", top("steps", {"start": {}}), "steps", "must be a list, not a mapping"),
    ("steps empty", top("steps", []), "steps", "at least a start and an end step"),
    ("transitions missing", drop_top("transitions"), "transitions", "needs `transitions`"),
    ("transitions not a list", top("transitions", "a>b"), "transitions", "must be a list"),
    # variables
    ("variables not a mapping", top("variables", ["amount"]), "variables", "must be a mapping"),
    (
        "variable not a mapping",
        top("variables", {"amount": "number"}),
        "variables.amount",
        "variable 'amount' must be a mapping",
    ),
    (
        "variable type unknown",
        top("variables", {"amount": {"type": "float"}}),
        "variables.amount.type",
        "must be one of string, number, integer, boolean, date, datetime, list, object, "
        "not 'float'",
    ),
    (
        "variable type missing",
        top("variables", {"amount": {"required": True}}),
        "variables.amount.type",
        "a variable needs a `type`",
    ),
    (
        "variable unknown key",
        top("variables", {"amount": {"type": "number", "unit": "EUR"}}),
        "variables.amount.unit",
        "unknown key 'unit' in a variable",
    ),
    (
        "variable required not boolean",
        top("variables", {"amount": {"type": "number", "required": "yes"}}),
        "variables.amount.required",
        "must be true or false, not 'yes'",
    ),
    (
        "variable label not text",
        top("variables", {"amount": {"type": "number", "label": 5}}),
        "variables.amount.label",
        "must be a string",
    ),
    (
        "variable default of the wrong type",
        top("variables", {"amount": {"type": "integer", "default": 1.5}}),
        "variables.amount.default",
        "the default 1.5 is not a valid integer",
    ),
    (
        "variable default not a date",
        top("variables", {"deadline": {"type": "date", "default": "31/01/2025"}}),
        "variables.deadline.default",
        "not a valid date",
    ),
    (
        "variable name",
        top("variables", {"2fast": {"type": "string"}}),
        "variables.2fast",
        "must be letters, digits and '_'",
    ),
    (
        "variable name reserved",
        top("variables", {"now": {"type": "datetime"}}),
        "variables.now",
        "'now' is a reserved name",
    ),
    # steps in general
    ("step not a mapping", replace_step(16, "done"), "steps[16]", "a step must be a mapping"),
    ("step key missing", dropping("compute", "key"), "steps[1].key", "a step needs a `key`"),
    ("step key pattern", setting("compute", "key", "Compute"), "steps[1].key", "lowercase"),
    (
        "duplicate step key",
        setting("call_erp", "key", "compute"),
        "steps[2].key",
        "duplicate step key 'compute' (also steps[1])",
    ),
    ("step type missing", dropping("route", "type"), "steps[3].type", "a step needs a `type`"),
    (
        "step type unknown",
        setting("route", "type", "script"),
        "steps[3].type",
        "unknown step type 'script'; known: start, end, automated, human",
    ),
    (
        "step type typo",
        setting("approval", "type", "humn"),
        "steps[4].type",
        "did you mean 'human'?",
    ),
    ("step name empty", setting("route", "name", ""), "steps[3].name", "non-empty string"),
    (
        "unknown key for the type",
        setting("approval", "titel", "x"),
        "steps[4].titel",
        "unknown key 'titel' for a human step; did you mean 'title'?",
    ),
    (
        "key of another type",
        setting("route", "action", "log"),
        "steps[3].action",
        "unknown key 'action' for an exclusive step",
    ),
    (
        "start takes no keys",
        setting("start", "outcome", "x"),
        "steps[0].outcome",
        "unknown key 'outcome' for a start step",
    ),
    (
        "timer takes no outcome",
        setting("check_eu", "outcome", "late"),
        "steps[11].outcome",
        "for a timer step",
    ),
    # end
    ("end outcome word", setting("done", "outcome", "all done"), "steps[16].outcome", "a word"),
    (
        "end terminate boolean",
        setting("rejected", "terminate", "yes"),
        "steps[17].terminate",
        "must be true or false",
    ),
    # automated
    ("action missing", dropping("compute", "action"), "steps[1].action", "needs an `action`"),
    (
        "action unknown",
        setting("call_erp", "action", "foo"),
        "steps[2].action",
        "unknown action 'foo'; known: ",
    ),
    (
        "action typo",
        setting("notify_team", "action", "send_mail"),
        "steps[7].action",
        "unknown action 'send_mail'; did you mean 'send_email'?",
    ),
    ("params not a mapping", setting("log_it", "params", ["x"]), "steps[8].params", "a mapping"),
    (
        "set_variables without params",
        dropping("compute", "params"),
        "steps[1].params",
        "the action 'set_variables' needs `params` with values",
    ),
    (
        "set_variables CEL error",
        setting("compute", "params.values.total", "amount *"),
        "steps[1].params.values.total",
        "CEL syntax error at line 1, column 9: ",
    ),
    (
        "set_variables value not text",
        setting("compute", "params.values.total", 12),
        "steps[1].params.values.total",
        "must be a CEL expression (a string), not 12",
    ),
    (
        "set_variables name",
        setting("compute", "params.values", {"grand-total": "1"}),
        "steps[1].params.values.grand-total",
        "a variable name must be a name of letters",
    ),
    ("http_request without url", dropping("call_erp", "params.url"), "steps[2].params.url", "url"),
    (
        "unknown param of a built-in action",
        setting("call_erp", "params.body", "x"),
        "steps[2].params.body",
        "unknown key 'body' for the action 'http_request'",
    ),
    (
        "http_request timeout",
        setting("call_erp", "params.timeout_seconds", 0),
        "steps[2].params.timeout_seconds",
        "must be a positive number",
    ),
    (
        "secret header with a template",
        setting("call_erp", "params.secret_headers", {"Authorization": "{{ token }}"}),
        "steps[2].params.secret_headers.Authorization",
        "takes no {{ }} template",
    ),
    (
        "secret header without a secret",
        setting("call_erp", "params.secret_headers", {"Authorization": "Bearer abc"}),
        "steps[2].params.secret_headers.Authorization",
        "names a secret as ${secret:NAME}",
    ),
    (
        "secret header not text",
        setting("call_erp", "params.secret_headers", {"X-Key": 12}),
        "steps[2].params.secret_headers.X-Key",
        "must be text",
    ),
    (
        "send_email without to",
        dropping("notify_team", "params.to"),
        "steps[7].params.to",
        "the action 'send_email' needs `to`",
    ),
    ("output name", setting("call_erp", "output", "erp-result"), "steps[2].output", "letters"),
    ("retry not a mapping", setting("compute", "retry", 3), "steps[1].retry", "must be a mapping"),
    (
        "retry unknown key",
        setting("compute", "retry.jitter", True),
        "steps[1].retry.jitter",
        "unknown key 'jitter' in `retry`",
    ),
    (
        "retry attempts",
        setting("compute", "retry.max_attempts", 0),
        "steps[1].retry.max_attempts",
        "at least 1",
    ),
    (
        "retry attempts whole",
        setting("compute", "retry.max_attempts", 2.5),
        "steps[1].retry.max_attempts",
        "whole number",
    ),
    (
        "retry backoff",
        setting("compute", "retry.backoff_seconds", "2s"),
        "steps[1].retry.backoff_seconds",
        "a number of seconds",
    ),
    (
        "retry max backoff",
        setting("compute", "retry.max_backoff_seconds", -1),
        "steps[1].retry.max_backoff_seconds",
        "a number of seconds (0 or more)",
    ),
    (
        "retry factor",
        setting("compute", "retry.backoff_factor", 0.5),
        "steps[1].retry.backoff_factor",
        "at least 1",
    ),
    # human: assignment
    (
        "human without assignee",
        dropping("approval", "assign"),
        "steps[4].assign",
        "a human step needs an assignee: `assign` with `group` or `to`, or `approvers`",
    ),
    (
        "assign without group or to",
        setting("approval", "assign", {"exclude": ["initiator"]}),
        "steps[4].assign",
        "`assign` needs `group` (a candidate group) or `to` (one user)",
    ),
    (
        "assign group and to",
        setting("approval", "assign.to", "{{ manager }}"),
        "steps[4].assign",
        "`assign` takes `group` or `to`, not both",
    ),
    (
        "assign not a mapping",
        setting("approval", "assign", "managers"),
        "steps[4].assign",
        "mapping",
    ),
    (
        "assign unknown key",
        setting("approval", "assign.queue", "x"),
        "steps[4].assign.queue",
        "unknown key 'queue' in `assign`",
    ),
    (
        "assign strategy",
        setting("approval", "assign.strategy", "random"),
        "steps[4].assign.strategy",
        "must be one of claim, round_robin, least_loaded, not 'random'",
    ),
    (
        "strategy needs a group",
        setting("approval", "assign", {"to": "{{ manager }}", "strategy": "least_loaded"}),
        "steps[4].assign.strategy",
        "`strategy: least_loaded` picks a member of a `group`",
    ),
    (
        "exclude not a list",
        setting("approval", "assign.exclude", "initiator"),
        "steps[4].assign.exclude",
        "must be a list",
    ),
    (
        "exclude rule",
        setting("approval", "assign.exclude", ["initiator", "boss"]),
        "steps[4].assign.exclude[1]",
        "must be one of initiator, previous_approvers, not 'boss'",
    ),
    # human: approvers
    (
        "approvers without users or group",
        setting("board", "approvers", {"policy": "all"}),
        "steps[5].approvers",
        "`approvers` needs `users` (a list) or `group`",
    ),
    (
        "approvers users and group",
        setting("board", "approvers.group", "board"),
        "steps[5].approvers",
        "`approvers` takes `users` or `group`, not both",
    ),
    (
        "approvers unknown key",
        setting("board", "approvers.majority", True),
        "steps[5].approvers.majority",
        "unknown key 'majority' in `approvers`",
    ),
    (
        "approvers no users",
        setting("board", "approvers.users", []),
        "steps[5].approvers.users",
        "at least one user",
    ),
    (
        "approvers user twice",
        setting("board", "approvers.users", ["bob", "bob"]),
        "steps[5].approvers.users[1]",
        "'bob' is listed twice",
    ),
    (
        "approvers policy",
        setting("board", "approvers.policy", "most"),
        "steps[5].approvers.policy",
        "must be one of all, any, quorum, not 'most'",
    ),
    (
        "quorum missing",
        dropping("board", "approvers.quorum"),
        "steps[5].approvers.quorum",
        "`policy: quorum` needs `quorum`",
    ),
    (
        "quorum too large",
        setting("board", "approvers.quorum", 4),
        "steps[5].approvers.quorum",
        "`quorum` is 4 but only 3 users are listed",
    ),
    (
        "quorum zero",
        setting("board", "approvers.quorum", 0),
        "steps[5].approvers.quorum",
        "at least 1",
    ),
    (
        "quorum without the policy",
        setting("board", "approvers.policy", "any"),
        "steps[5].approvers.quorum",
        "`quorum` is only used with `policy: quorum`",
    ),
    (
        "approvers decide approve or reject",
        setting("board", "outcomes", ["approve", "reject", "abstain"]),
        "steps[5].outcomes",
        "with `approvers` the outcomes are approve and reject",
    ),
    # human: outcomes and the rest
    (
        "outcomes not a list",
        setting("approval", "outcomes", "approve"),
        "steps[4].outcomes",
        "a list",
    ),
    ("outcomes empty", setting("approval", "outcomes", []), "steps[4].outcomes", "at least one"),
    (
        "outcome twice",
        setting("approval", "outcomes", ["approve", "reject", "approve"]),
        "steps[4].outcomes[2]",
        "the outcome 'approve' is listed twice",
    ),
    (
        "outcome not a word",
        setting("approval", "outcomes", ["approve", "reject", "ask again"]),
        "steps[4].outcomes[2]",
        "an outcome must be a word",
    ),
    (
        "outcome timeout reserved",
        setting("approval", "outcomes", ["approve", "reject", "timeout"]),
        "steps[4].outcomes[2]",
        "'timeout' is reserved",
    ),
    (
        "comment for an unknown outcome",
        setting("approval", "comment_required_for", ["cancel"]),
        "steps[4].comment_required_for[0]",
        "'cancel' is not an outcome of this step (approve, reject)",
    ),
    (
        "request_info value",
        setting("approval", "request_info", "yes"),
        "steps[4].request_info",
        "must be true, false or a mapping with `to`",
    ),
    (
        "request_info without to",
        setting("approval", "request_info", {}),
        "steps[4].request_info.to",
        "needs `to`",
    ),
    (
        "request_info unknown key",
        setting("approval", "request_info", {"to": "x", "group": "y"}),
        "steps[4].request_info.group",
        "unknown key 'group' in `request_info`",
    ),
    ("form not a list", setting("approval", "form", {"a": 1}), "steps[4].form", "must be a list"),
    (
        "form field not a mapping",
        setting("approval", "form", ["cost_center"]),
        "steps[4].form[0]",
        "a form field must be a mapping",
    ),
    (
        "form field without name",
        setting("approval", "form", [{"type": "string"}]),
        "steps[4].form[0].name",
        "a form field needs a `name`",
    ),
    (
        "form field name",
        setting("approval", "form", [{"name": "cost center"}]),
        "steps[4].form[0].name",
        "must be a name of letters",
    ),
    (
        "form field twice",
        setting("approval", "form", [{"name": "a"}, {"name": "a"}]),
        "steps[4].form[1].name",
        "the field 'a' is already defined in form[0]",
    ),
    (
        "form field type",
        setting("approval", "form", [{"name": "a", "type": "money"}]),
        "steps[4].form[0].type",
        "must be one of string, number",
    ),
    (
        "form field unknown key",
        setting("approval", "form", [{"name": "a", "placeholder": "x"}]),
        "steps[4].form[0].placeholder",
        "unknown key 'placeholder' in a form field",
    ),
    (
        "form min on a string",
        setting("approval", "form", [{"name": "a", "type": "string", "min": 1}]),
        "steps[4].form[0].min",
        "`min` only applies to number and integer fields",
    ),
    (
        "form min above max",
        setting("approval", "form", [{"name": "a", "type": "number", "min": 5, "max": 1}]),
        "steps[4].form[0].max",
        "`max` is smaller than `min`",
    ),
    (
        "form max not a number",
        setting("approval", "form", [{"name": "a", "type": "integer", "max": "10"}]),
        "steps[4].form[0].max",
        "`max` must be a number",
    ),
    (
        "form default of the wrong type",
        setting("approval", "form", [{"name": "a", "type": "boolean", "default": "no"}]),
        "steps[4].form[0].default",
        "is not a valid boolean",
    ),
    (
        "form required boolean",
        setting("approval", "form", [{"name": "a", "required": 1}]),
        "steps[4].form[0].required",
        "must be true or false",
    ),
    (
        "priority",
        setting("approval", "priority", "critical"),
        "steps[4].priority",
        "must be one of low, normal, high, urgent, not 'critical'",
    ),
    (
        "due duration",
        setting("approval", "due", "2 days"),
        "steps[4].due",
        "'2 days' is not an ISO 8601 duration (like PT30M, P2D) or seconds",
    ),
    ("due as a boolean", setting("approval", "due", True), "steps[4].due", "is not a duration"),
    (
        "timeout negative",
        setting("approval", "timeout", -5),
        "steps[4].timeout",
        "a duration cannot be negative",
    ),
    (
        "business boolean",
        setting("approval", "business", "true"),
        "steps[4].business",
        "true or false",
    ),
    (
        "reminders not a list",
        setting("approval", "reminders", "PT4H"),
        "steps[4].reminders",
        "a list",
    ),
    (
        "reminders without due",
        dropping("approval", "due"),
        "steps[4].reminders",
        "reminders count back from `due`, and the step has no `due`",
    ),
    (
        "reminder after due",
        setting("approval", "reminders", ["P3D"]),
        "steps[4].reminders[0]",
        "a reminder must come before `due`",
    ),
    (
        "reminder duration",
        setting("approval", "reminders", ["soon"]),
        "steps[4].reminders[0]",
        "'soon' is not an ISO 8601 duration",
    ),
    # human: escalation
    (
        "escalation not a list",
        setting("approval", "escalation", {}),
        "steps[4].escalation",
        "a list",
    ),
    (
        "escalation level not a mapping",
        setting("approval", "escalation", ["notify"]),
        "steps[4].escalation[0]",
        "an escalation level must be a mapping",
    ),
    (
        "escalation without after",
        setting("approval", "escalation", [{"action": "notify"}]),
        "steps[4].escalation[0].after",
        "needs `after`",
    ),
    (
        "escalation after duration",
        setting("approval", "escalation", [{"after": "tomorrow", "action": "notify"}]),
        "steps[4].escalation[0].after",
        "'tomorrow' is not an ISO 8601 duration",
    ),
    (
        "escalation out of order",
        setting(
            "approval",
            "escalation",
            [{"after": "P2D", "action": "notify"}, {"after": "P1D", "action": "raise_priority"}],
        ),
        "steps[4].escalation[1].after",
        "escalation levels must be in order of `after`",
    ),
    (
        "escalation action missing",
        setting("approval", "escalation", [{"after": "P1D"}]),
        "steps[4].escalation[0].action",
        "needs `action`: one of notify, reassign, raise_priority, complete",
    ),
    (
        "escalation action unknown",
        setting("approval", "escalation", [{"after": "P1D", "action": "email"}]),
        "steps[4].escalation[0].action",
        "must be one of notify, reassign, raise_priority, complete, not 'email'",
    ),
    (
        "reassign without to",
        setting("approval", "escalation", [{"after": "P1D", "action": "reassign"}]),
        "steps[4].escalation[0].to",
        "`action: reassign` needs `to`",
    ),
    (
        "escalation to user and group",
        setting(
            "approval",
            "escalation",
            [{"after": "P1D", "action": "notify", "to": {"user": "a", "group": "b"}}],
        ),
        "steps[4].escalation[0].to",
        "`to` needs exactly one of `user`, `group` or `manager`",
    ),
    (
        "escalation to unknown key",
        setting(
            "approval", "escalation", [{"after": "P1D", "action": "notify", "to": {"role": "x"}}]
        ),
        "steps[4].escalation[0].to.role",
        "unknown key 'role' in an escalation `to`",
    ),
    (
        "raise_priority takes no to",
        setting(
            "approval",
            "escalation",
            [{"after": "P1D", "action": "raise_priority", "to": {"user": "a"}}],
        ),
        "steps[4].escalation[0].to",
        "`action: raise_priority` takes no `to`",
    ),
    (
        "complete without outcome",
        setting("approval", "escalation", [{"after": "P1D", "action": "complete"}]),
        "steps[4].escalation[0].outcome",
        "`action: complete` needs `outcome`",
    ),
    (
        "complete with an unknown outcome",
        setting(
            "approval", "escalation", [{"after": "P1D", "action": "complete", "outcome": "maybe"}]
        ),
        "steps[4].escalation[0].outcome",
        "'maybe' is not an outcome of this step (approve, reject)",
    ),
    (
        "outcome without complete",
        setting(
            "approval", "escalation", [{"after": "P1D", "action": "notify", "outcome": "reject"}]
        ),
        "steps[4].escalation[0].outcome",
        "`outcome` is only used with `action: complete`",
    ),
    (
        "escalation unknown key",
        setting("approval", "escalation", [{"after": "P1D", "action": "notify", "repeat": 2}]),
        "steps[4].escalation[0].repeat",
        "unknown key 'repeat' in an escalation level",
    ),
    # join
    (
        "join mode",
        setting("sync", "mode", "any"),
        "steps[9].mode",
        "must be one of all, first, count, active, not 'any'",
    ),
    ("count missing", dropping("sync", "count"), "steps[9].count", "`mode: count` needs `count`"),
    ("count zero", setting("sync", "count", 0), "steps[9].count", "at least 1"),
    ("count not whole", setting("sync", "count", "2"), "steps[9].count", "a whole number"),
    (
        "count above arrivals",
        setting("sync", "count", 3),
        "steps[9].count",
        "`count` is 3 but the join has only 2 incoming transitions",
    ),
    (
        "count without the mode",
        setting("sync", "mode", "all"),
        "steps[9].count",
        "`count` is only used with `mode: count`",
    ),
    (
        "join with one incoming transition",
        change_transition(14, to="checks"),
        "steps[9]",
        "a join needs at least two incoming transitions; it has 1",
    ),
    (
        "active join without an inclusive step",
        both(setting("sync", "mode", "active"), dropping("sync", "count")),
        "steps[9].mode",
        "no inclusive step leads to this join",
    ),
    # timer
    (
        "timer with duration and until",
        setting("check_eu", "until", "now"),
        "steps[11]",
        "a timer takes `duration` or `until`, not both",
    ),
    (
        "timer without duration or until",
        dropping("check_eu", "duration"),
        "steps[11]",
        "a timer needs `duration` or `until`",
    ),
    (
        "timer duration",
        setting("check_eu", "duration", "1 hour"),
        "steps[11].duration",
        "'1 hour' is not an ISO 8601 duration",
    ),
    (
        "timer until CEL",
        setting("check_large", "until", "now +"),
        "steps[12].until",
        "CEL syntax error at line 1, column 6",
    ),
    (
        "business with until",
        setting("check_large", "business", True),
        "steps[12].business",
        "`business` applies to `duration`, not `until`",
    ),
    # message
    ("message without name", dropping("wait_payment", "name"), "steps[14].name", "needs `name`"),
    (
        "message without correlate",
        dropping("wait_payment", "correlate"),
        "steps[14].correlate",
        "needs `correlate`",
    ),
    (
        "message correlate CEL",
        setting("wait_payment", "correlate", "order_id +"),
        "steps[14].correlate",
        "CEL syntax error at line 1, column 11",
    ),
    (
        "message correlate empty",
        setting("wait_payment", "correlate", ""),
        "steps[14].correlate",
        "CEL syntax error: empty expression",
    ),
    (
        "message timeout",
        setting("wait_payment", "timeout", "P"),
        "steps[14].timeout",
        "'P' is not an ISO 8601 duration",
    ),
    ("message output", setting("wait_payment", "output", "1st"), "steps[14].output", "letters"),
    # subprocess
    ("subprocess without workflow", dropping("fulfil", "workflow"), "steps[15].workflow", "needs"),
    (
        "subprocess workflow key",
        setting("fulfil", "workflow", "Fulfil Order"),
        "steps[15].workflow",
        "lowercase letters",
    ),
    (
        "subprocess variables mapping",
        setting("fulfil", "variables", ["order_id"]),
        "steps[15].variables",
        "must be a mapping",
    ),
    (
        "subprocess variable CEL",
        setting("fulfil", "variables.total", "total +"),
        "steps[15].variables.total",
        "CEL syntax error at line 1, column 8",
    ),
    # transitions
    (
        "transition not a mapping",
        both(add_transition(from_="done", to="x"), lambda d: d["transitions"].__setitem__(26, "x")),
        "transitions[26]",
        "a transition must be a mapping",
    ),
    (
        "transition unknown key",
        change_transition(4, condition="x"),
        "transitions[4].condition",
        "unknown key 'condition' in a transition",
    ),
    (
        "transition without from",
        change_transition(0, **{"from": None}),
        "transitions[0].from",
        "needs `from`",
    ),
    ("transition without to", change_transition(0, to=None), "transitions[0].to", "needs `to`"),
    (
        "transition to an unknown step",
        change_transition(0, to="compte"),
        "transitions[0].to",
        "unknown step 'compte'; did you mean 'compute'?",
    ),
    (
        "transition from an unknown step",
        change_transition(1, **{"from": "nowhere"}),
        "transitions[1].from",
        "unknown step 'nowhere'",
    ),
    ("transition step not text", change_transition(1, to=3), "transitions[1].to", "a step key"),
    (
        "transition into the start",
        add_transition(from_="check_eu", to="start"),
        "transitions[26].to",
        "a start step cannot have incoming transitions",
    ),
    (
        "transition out of an end",
        add_transition(from_="done", to="expired"),
        "transitions[26].from",
        "an end step cannot have outgoing transitions",
    ),
    ("transition name", change_transition(4, name=""), "transitions[4].name", "non-empty"),
    (
        "when CEL error",
        change_transition(4, when="amount >"),
        "transitions[4].when",
        "CEL syntax error at line 1, column 9: mismatched input",
    ),
    (
        "when CEL error on line 2",
        change_transition(4, when="amount > 1000 &&\n  (region =="),
        "transitions[4].when",
        "CEL syntax error at line 2, column ",
    ),
    (
        "when not text",
        change_transition(4, when=True),
        "transitions[4].when",
        "must be a CEL expression (a string), not true",
    ),
    (
        "when out of a non-conditional step",
        change_transition(0, when="true"),
        "transitions[0].when",
        "`when` belongs to transitions out of exclusive and inclusive steps; 'start' is a start",
    ),
    (
        "when out of a human step",
        change_transition(6, when="amount > 5"),
        "transitions[6].when",
        "'approval' is a human step",
    ),
    (
        "default boolean",
        change_transition(5, default="yes"),
        "transitions[5].default",
        "true or false",
    ),
    (
        "default with when",
        change_transition(5, when="true"),
        "transitions[5].default",
        "a default transition takes no `when`",
    ),
    (
        "default with on",
        change_transition(25, on="shipped"),
        "transitions[25].default",
        "a transition takes `on` or `default: true`, not both",
    ),
    (
        "two defaults",
        add_transition(from_="route", to="done", default=True),
        "transitions[26].default",
        "step 'route' already has a default transition (transitions[5])",
    ),
    (
        "default out of a parallel step",
        change_transition(11, default=True),
        "transitions[11].default",
        "a parallel step does not choose among its transitions",
    ),
    (
        "exclusive without conditions or default",
        both(change_transition(4, when=None), change_transition(5, default=None)),
        "steps[3]",
        "the transitions out of exclusive step 'route' have neither `when` conditions nor a "
        "`default: true`",
    ),
    (
        "inclusive without conditions or default",
        both(
            change_transition(16, when=None),
            change_transition(17, when=None),
            change_transition(18, default=None),
        ),
        "steps[10]",
        "inclusive step 'checks' have neither",
    ),
    (
        "plain transition among conditional ones",
        add_transition(from_="route", to="done"),
        "transitions[26]",
        "a transition out of exclusive step 'route' needs `when` or `default: true`",
    ),
    # on
    (
        "on an outcome the human step lacks",
        change_transition(6, on="approved"),
        "transitions[6].on",
        "human step 'approval' cannot produce 'approved'; it can produce approve, reject, timeout",
    ),
    (
        "on timeout without a timeout",
        dropping("approval", "timeout"),
        "transitions[8].on",
        "human step 'approval' cannot produce 'timeout'; it can produce approve, reject",
    ),
    (
        "on an outcome with approvers",
        change_transition(9, on="yes"),
        "transitions[9].on",
        "human step 'board' cannot produce 'yes'; it can produce approve, reject",
    ),
    (
        "on of an automated step",
        change_transition(3, on="failed"),
        "transitions[3].on",
        "automated step 'call_erp' cannot produce 'failed'; it can produce error",
    ),
    (
        "on timeout of a message without timeout",
        dropping("wait_payment", "timeout"),
        "transitions[23].on",
        "message step 'wait_payment' cannot produce 'timeout'; it has no `timeout`",
    ),
    (
        "on out of a timer",
        change_transition(19, on="done"),
        "transitions[19].on",
        "a timer step has no outcomes; `on` belongs to transitions out of human, automated, "
        "message and subprocess steps",
    ),
    (
        "on out of an exclusive step",
        change_transition(4, on="yes", when=None),
        "transitions[4].on",
        "an exclusive step has no outcomes",
    ),
    ("on not a word", change_transition(24, on="was cancelled"), "transitions[24].on", "a word"),
    (
        "human outcome without a transition",
        drop_transition(7),
        "steps[4]",
        "the outcome 'reject' of step 'approval' has no transition; add one with `on: reject`",
    ),
    (
        "automated step with only an error transition",
        change_transition(2, on="error"),
        "steps[2]",
        "step 'call_erp' has no transition for when it completes normally",
    ),
    (
        "message step with only a timeout transition",
        drop_transition(22),
        "steps[14]",
        "step 'wait_payment' has no transition for when it completes normally",
    ),
    # the graph
    (
        "no start",
        both(replace_step(0, {"key": "start", "type": "parallel"})),
        "steps",
        "a workflow needs exactly one start step; it has none",
    ),
    (
        "two starts",
        add_step({"key": "start2", "type": "start"}, {"from": "start2", "to": "compute"}),
        "steps[19]",
        "a workflow has exactly one start step; the first is steps[0]",
    ),
    (
        "unreachable step",
        add_step(
            {"key": "orphan", "type": "automated", "action": "log"},
            {"from": "orphan", "to": "done"},
        ),
        "steps[19]",
        "step 'orphan' cannot be reached from the start",
    ),
    (
        "dead end",
        add_step({"key": "spin", "type": "parallel"}, {"from": "fan_out", "to": "spin"}),
        "steps[19]",
        "no end can be reached from step 'spin'",
    ),
    (
        "endless loop",
        add_step(
            {"key": "again", "type": "timer", "duration": 5},
            {"from": "fan_out", "to": "again"},
            {"from": "again", "to": "again"},
        ),
        "steps[19]",
        "no end can be reached from step 'again'",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "path", "fragment"),
    [pytest.param(m, p, f, id=name) for name, m, p, f in REFUSALS],
)
def test_refusal(mutate, path, fragment):
    doc = full_document()
    assert validate_spec(doc) == []
    mutate(doc)
    assert_refused(doc, path, fragment)


def test_refusal_ids_are_unique():
    names = [name for name, *_ in REFUSALS]
    assert len(names) == len(set(names))


# --- documents that pass ----------------------------------------------------------------


def test_full_document_with_every_step_type_is_valid():
    doc = full_document()
    assert {s["type"] for s in doc["steps"]} == set(STEP_TYPES)
    assert validate_spec(doc) == []


def test_minimal_document_is_valid():
    assert validate_spec(minimal_document()) == []


def test_the_same_document_as_json_is_valid():
    doc = json.loads(json.dumps(full_document()))
    assert validate_spec(doc) == []


@pytest.mark.parametrize("name", ["expense_claim", "purchase_request", "vendor_onboarding"])
def test_demo_workflows_are_valid(name):
    path = settings.BASE_DIR / "workflows" / f"{name}.yaml"
    doc = load_document(path.read_bytes(), filename=path.name)
    assert [str(e) for e in validate_spec(doc)] == []


def test_custom_actions_take_any_params():
    doc = minimal_document()
    doc["steps"][1] = {
        "key": "work",
        "type": "automated",
        "action": "tests_echo_params",
        "params": {"anything": {"goes": [1, 2]}},
    }
    assert validate_spec(doc) == []


def test_an_end_directly_after_the_start_is_enough():
    doc = minimal_document(
        steps=[{"key": "s", "type": "start"}, {"key": "e", "type": "end"}],
        transitions=[{"from": "s", "to": "e"}],
    )
    assert validate_spec(doc) == []


def test_subprocess_transitions_may_use_any_outcome_word():
    doc = full_document()
    doc["transitions"][24]["on"] = "out_of_stock"
    assert validate_spec(doc) == []


def test_human_step_with_a_plain_transition_needs_no_transition_per_outcome():
    doc = full_document()
    doc["transitions"][7] = {"from": "approval", "to": "rejected"}
    assert validate_spec(doc) == []


def test_a_group_of_approvers_replaces_assign():
    doc = full_document()
    step(doc, "board")["approvers"] = {"group": "board", "policy": "any"}
    assert validate_spec(doc) == []


def test_step_types_match_the_model():
    assert set(STEP_TYPES) == set(StepType.values)


def test_step_outcomes():
    assert step_outcomes({"type": "human"}) == ["approve", "reject"]
    assert step_outcomes({"type": "human", "outcomes": ["done"], "timeout": "P1D"}) == [
        "done",
        "timeout",
    ]
    assert step_outcomes({"type": "human", "approvers": {"users": ["a"]}}) == [
        "approve",
        "reject",
    ]
    assert step_outcomes({"type": "automated"}) == ["error"]
    assert step_outcomes({"type": "message"}) == []
    assert step_outcomes({"type": "message", "timeout": "PT1H"}) == ["timeout"]
    assert step_outcomes({"type": "subprocess"}) is None
    assert step_outcomes({"type": "timer"}) == []


# --- refusals that end validation early --------------------------------------------------


def test_a_decision_table_document_goes_to_the_decision_table_rules():
    doc = {
        "format": 1,
        "kind": "decision_table",
        "key": "discount",
        "name": "Customer discount",
        "hit_policy": "sometimes",
        "inputs": [{"name": "tier", "expr": "customer.tier"}],
        "outputs": ["discount"],
        "rules": [{"when": {"tier": "[1.."}, "then": {"discount": 1}}],
    }
    paths = [path for path, _ in errors_of(doc)]
    assert paths == ["hit_policy", "rules[0].when.tier"]


@pytest.mark.parametrize(
    ("doc", "found"), [([], "a list"), (None, "nothing"), ("format: 1", "'format: 1'")]
)
def test_a_document_must_be_a_mapping(doc, found):
    assert errors_of(doc) == [("", f"a workflow document must be a mapping, not {found}")]


# --- values that JSON cannot store ------------------------------------------------------


def test_dates_from_another_yaml_loader_are_refused():
    doc = full_document()
    doc["variables"]["deadline"]["default"] = datetime.date(2025, 1, 31)
    assert_refused(doc, "variables.deadline.default", "a date is not JSON data")


def test_mapping_keys_must_be_strings():
    doc = minimal_document()
    doc["steps"][1] = {"key": "work", "type": "automated", "action": "tests_echo_params"}
    doc["steps"][1]["params"] = {1: "one"}
    assert_refused(doc, "steps[1].params[1]", "keys must be strings, not 1")


def test_numbers_must_be_finite():
    doc = minimal_document()
    doc["steps"][1]["params"]["message"] = float("nan")
    assert_refused(doc, "steps[1].params.message", "numbers must be finite")


# --- all errors, in file order ----------------------------------------------------------


def test_every_error_is_reported_in_file_order():
    doc = full_document()
    doc["transitions"][4]["when"] = "amount >"  # transitions[4].when
    step(doc, "approval")["priority"] = "critical"  # steps[4].priority
    step(doc, "compute")["action"] = "foo"  # steps[1].action
    doc["transitions"][0]["to"] = "compte"  # transitions[0].to
    doc["variables"]["amount"]["type"] = "float"  # variables.amount.type
    doc["author"] = "me"  # the last top-level key
    paths = [e.path for e in validate_spec(doc)]
    assert paths == [
        "variables.amount.type",
        "steps[1].action",
        "steps[4].priority",
        "transitions[0].to",
        "transitions[4].when",
        "author",
    ]


def test_errors_at_one_step_follow_the_order_of_its_keys():
    doc = full_document()
    approval = step(doc, "approval")
    approval["due"] = "soon"
    approval["title"] = 5
    approval["timeout"] = "never"
    paths = [e.path for e in validate_spec(doc)]
    assert paths == ["steps[4].title", "steps[4].due", "steps[4].timeout"]


def test_validation_is_deterministic():
    doc = full_document()
    doc["steps"].append({"key": "x", "type": "join"})
    doc["steps"].append({"key": "compute", "type": "nope"})
    doc["transitions"].append({"from": "x", "to": "y", "on": "z"})
    first = [str(e) for e in validate_spec(doc)]
    assert first == [str(e) for e in validate_spec(full_document() | doc)]
    assert len(first) >= 4


def test_a_typo_in_a_step_key_is_not_also_reported_as_unreachable_steps():
    doc = minimal_document()
    doc["transitions"][0]["to"] = "wrok"
    assert [str(e) for e in validate_spec(doc)] == [
        "transitions[0].to: unknown step 'wrok'; did you mean 'work'?",
    ]


def test_reachability_is_checked_when_every_transition_links_known_steps():
    doc = minimal_document()
    doc["transitions"][0]["to"] = "end"
    assert [str(e) for e in validate_spec(doc)] == [
        "steps[1]: step 'work' cannot be reached from the start",
    ]


def test_no_end_step():
    doc = minimal_document()
    doc["steps"][2]["type"] = "parallel"
    assert [str(e) for e in validate_spec(doc)] == [
        "steps: a workflow needs at least one end step; it has none",
    ]


# --- the error objects -------------------------------------------------------------------


def test_format_error_reads_path_then_message():
    error = FormatError("steps[3].assign", "needs a group")
    assert str(error) == "steps[3].assign: needs a group"
    assert str(FormatError("", "not YAML")) == "not YAML"


def test_errors_of_a_loaded_file_know_their_line():
    text = full_yaml().replace("priority: high", "priority: critical")
    doc = load_document(text)
    [error] = validate_spec(doc)
    assert error.path == "steps[4].priority"
    assert text.splitlines()[error.line - 1].strip() == "priority: critical"


def test_a_missing_key_points_at_its_parent_line():
    text = full_yaml().replace("    action: http_request\n", "")
    doc = load_document(text)
    errors = [e for e in validate_spec(doc) if e.path == "steps[2].action"]
    assert errors
    assert text.splitlines()[errors[0].line - 1].strip() == "- key: call_erp"


def test_special_keys_are_quoted_in_paths():
    doc = minimal_document(variables={"a b": {"type": "string"}})
    assert errors_of(doc)[0][0] == "variables['a b']"


# --- robustness ---------------------------------------------------------------------------


def _places(node, loc=()):
    yield loc
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _places(value, (*loc, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _places(value, (*loc, index))


def test_any_junk_anywhere_gives_errors_not_exceptions():
    junk = [None, True, 7, -1.5, "", "x y", [], [None], {}, {"k": None}]
    for loc in list(_places(full_document()))[1:]:
        for value in junk:
            doc = full_document()
            node = doc
            for segment in loc[:-1]:
                node = node[segment]
            node[loc[-1]] = value
            for error in validate_spec(doc):
                assert isinstance(error, FormatError)
