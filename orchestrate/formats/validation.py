"""Validation of workflow documents (format version 1, see docs/workflow-format.md).

`validate_spec(doc)` checks a document (a dict read from YAML or JSON) against every rule
of the format and returns all problems it finds, in file order, each pointing at its place
(`steps[3].assign`, `transitions[2].when`). It never raises on a malformed document and
never touches the database; the importer refuses a document with any error.

Beyond the list in the format's "What an import refuses", it checks the value of every
key it knows (durations, CEL syntax, choices, words, names) and refuses keys it does not
know at every level. One deliberate exception to "report everything": while a transition
names an unknown step, steps are not also reported as unreachable or as dead ends, since
those would only be echoes of the typo.
"""

import datetime
import difflib
import math
import re
from dataclasses import dataclass, field

from orchestrate.engine import actions
from orchestrate.engine.durations import DurationError, parse_duration
from orchestrate.engine.expressions import ExpressionSyntaxError, check_syntax

from .errors import FormatError, format_path

FORMAT_VERSION = 1
KIND_WORKFLOW = "workflow"
KIND_DECISION_TABLE = "decision_table"

KEY_PATTERN = re.compile(r"^[a-z0-9_-]+$")
IDENTIFIER_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
WORD_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
MAX_KEY_LENGTH = 100  # the model's CharFields for keys, outcomes and calendars
MAX_NAME_LENGTH = 200

# Allowed keys, in the order the exporter writes them.
TOP_LEVEL_KEYS = (
    "format",
    "kind",
    "key",
    "name",
    "description",
    "variables",
    "calendar",
    "start_on",
    "steps",
    "transitions",
)
START_ON_KEYS = ("event", "business_key", "variables")
MAX_EVENT_TYPE_LENGTH = 200  # InboundEvent.type
VARIABLE_KEYS = ("type", "required", "default", "label")
VARIABLE_TYPES = ("string", "number", "integer", "boolean", "date", "datetime", "list", "object")
RESERVED_VARIABLES = ("instance", "now")

COMMON_STEP_KEYS = ("key", "type", "name")
HUMAN_STEP_KEYS = (
    "title",
    "description",
    "assign",
    "approvers",
    "outcomes",
    "comment_required_for",
    "request_info",
    "form",
    "priority",
    "due",
    "business",
    "reminders",
    "escalation",
    "timeout",
)
STEP_KEYS = {
    "start": (),
    "end": ("outcome", "terminate"),
    "automated": ("action", "params", "output", "retry"),
    "human": HUMAN_STEP_KEYS,
    "exclusive": (),
    "inclusive": (),
    "parallel": (),
    "join": ("mode", "count"),
    "timer": ("duration", "until", "business"),
    # For a message step `name` (a common key) is also the name of the awaited message.
    "message": ("correlate", "timeout", "output"),
    "subprocess": ("workflow", "variables", "output"),
}
STEP_TYPES = tuple(STEP_KEYS)
TRANSITION_KEYS = ("from", "to", "when", "on", "default", "name")

RETRY_KEYS = ("max_attempts", "backoff_seconds", "backoff_factor", "max_backoff_seconds")
ASSIGN_KEYS = ("group", "to", "strategy", "exclude")
APPROVERS_KEYS = ("users", "group", "policy", "quorum")
FORM_FIELD_KEYS = ("name", "type", "label", "required", "default", "min", "max")
ESCALATION_KEYS = ("after", "action", "to", "outcome")
ESCALATION_TARGET_KEYS = ("user", "group", "manager")
MANAGER_OF = ("assignee", "initiator")
REQUEST_INFO_KEYS = ("to",)

PRIORITIES = ("low", "normal", "high", "urgent")
ASSIGN_STRATEGIES = ("claim", "round_robin", "least_loaded")
EXCLUDE_RULES = ("initiator", "previous_approvers")
APPROVER_POLICIES = ("all", "any", "quorum")
ESCALATION_ACTIONS = ("notify", "reassign", "raise_priority", "complete")
JOIN_MODES = ("all", "first", "count", "active")
DEFAULT_OUTCOMES = ("approve", "reject")
APPROVER_OUTCOMES = ("approve", "reject")

# Steps whose outgoing transitions carry conditions; the others take `on` or nothing.
CONDITIONAL_STEP_TYPES = ("exclusive", "inclusive")
# Steps that never choose among their transitions, so a `default` means nothing there.
NO_CHOICE_STEP_TYPES = ("start", "parallel", "join", "timer")

# The params of the built-in actions: (allowed, required). Custom actions take any params.
BUILTIN_ACTION_PARAMS = {
    "set_variables": (("values",), ("values",)),
    "http_request": (
        (
            "method",
            "url",
            "headers",
            "secret_headers",
            "json",
            "timeout_seconds",
            "expect_status",
        ),
        ("url",),
    ),
    "send_email": (("to", "subject", "body"), ("to",)),
    "log": (("message",), ()),
    "decide": (("table",), ("table",)),
}

_MISSING = object()


def validate_spec(doc):
    """Every problem of the workflow document `doc`, as FormatErrors in file order.

    An empty list means the document can be imported. `doc` is what YAML or JSON gives
    for the file; a document read with `load_document` also gets line numbers.
    """
    if isinstance(doc, dict) and doc.get("kind") == KIND_DECISION_TABLE:
        from .decision_tables import validate_decision_table  # it builds on this module

        return validate_decision_table(doc)
    validator = _Validator(doc)
    validator.run()
    return validator.sorted_errors()


def step_outcomes(step):
    """The `on` values a step (a dict in the format) can produce; None means any word
    (a subprocess passes on its child's outcome, which is not known statically)."""
    step_type = step.get("type")
    if step_type == "human":
        outcomes = _effective_outcomes(step)
        return [*outcomes, "timeout"] if "timeout" in step else list(outcomes)
    if step_type == "automated":
        return ["error"]
    if step_type == "message":
        return ["timeout"] if "timeout" in step else []
    if step_type == "subprocess":
        return None
    return []


def _effective_outcomes(step):
    if "approvers" in step:
        return list(APPROVER_OUTCOMES)
    outcomes = step.get("outcomes", DEFAULT_OUTCOMES)
    if isinstance(outcomes, list):
        return [o for o in outcomes if isinstance(o, str)]
    return list(DEFAULT_OUTCOMES)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool)


def _quoted_list(values):
    return ", ".join(str(v) for v in values)


def _did_you_mean(value, choices):
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, [str(c) for c in choices], n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _value_matches_type(type_name, value):
    """Whether `value` (from JSON) is a valid value of the variable type `type_name`."""
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "number":
        return _is_number(value)
    if type_name == "integer":
        return _is_int(value)
    if type_name == "boolean":
        return isinstance(value, bool)
    if type_name == "list":
        return isinstance(value, list)
    if type_name == "object":
        return isinstance(value, dict)
    if type_name in ("date", "datetime") and isinstance(value, str):
        parse = datetime.date if type_name == "date" else datetime.datetime
        try:
            parse.fromisoformat(value)
        except ValueError:
            return False
        return True
    return False


@dataclass
class _Step:
    index: int
    key: str
    type: str | None  # None when the type is missing or unknown
    spec: dict
    outgoing: list = field(default_factory=list)
    incoming: list = field(default_factory=list)
    has_default: int | None = None  # index of its default transition

    @property
    def loc(self):
        return ("steps", self.index)


@dataclass
class _Transition:
    index: int
    spec: dict
    source: _Step | None
    target: _Step | None

    @property
    def loc(self):
        return ("transitions", self.index)

    @property
    def has_condition(self):
        return "when" in self.spec

    @property
    def is_default(self):
        return self.spec.get("default") is True


class _Validator:
    def __init__(self, doc):
        self.doc = doc
        self.found = []  # (loc, message) in the order the checks ran
        self.steps = {}  # key -> _Step (the first step with that key)
        self.step_list = []
        self.transition_list = []
        self.broken_links = False  # a transition names no known step

    # --- results ----------------------------------------------------------------------

    def error(self, loc, message):
        self.found.append((tuple(loc), message))

    def sorted_errors(self):
        lines = getattr(self.doc, "lines", None) or {}
        ordered = sorted(self.found, key=lambda item: _order_key(self.doc, item[0]))
        return [
            FormatError(format_path(loc), message, line=_line_of(lines, loc), loc=loc)
            for loc, message in ordered
        ]

    # --- generic checks ---------------------------------------------------------------

    def check_keys(self, loc, mapping, allowed, where):
        for key in mapping:
            if isinstance(key, str) and key not in allowed:
                hint = _did_you_mean(key, allowed) or f"; allowed: {_quoted_list(allowed)}"
                self.error((*loc, key), f"unknown key {key!r} {where}{hint}")

    def check_mapping(self, loc, value, what):
        if isinstance(value, dict):
            return True
        self.error(loc, f"{what} must be a mapping, not {_describe(value)}")
        return False

    def check_list(self, loc, value, what):
        if isinstance(value, list):
            return True
        self.error(loc, f"{what} must be a list, not {_describe(value)}")
        return False

    def check_string(self, loc, value, what, *, max_length=None):
        if not isinstance(value, str) or not value.strip():
            self.error(loc, f"{what} must be a non-empty string, not {_describe(value)}")
            return False
        if max_length and len(value) > max_length:
            self.error(loc, f"{what} is longer than {max_length} characters")
            return False
        return True

    def check_text(self, loc, value, what):
        if not isinstance(value, str):
            self.error(loc, f"{what} must be a string, not {_describe(value)}")

    def check_bool(self, loc, value, what):
        if not isinstance(value, bool):
            self.error(loc, f"{what} must be true or false, not {_describe(value)}")
            return False
        return True

    def check_key_pattern(self, loc, value, what):
        if not self.check_string(loc, value, what, max_length=MAX_KEY_LENGTH):
            return False
        if not KEY_PATTERN.match(value):
            self.error(loc, f"{what} {value!r} may only use lowercase letters, digits, '_' and '-'")
            return False
        return True

    def check_identifier(self, loc, value, what):
        if not isinstance(value, str) or not IDENTIFIER_PATTERN.match(value):
            self.error(
                loc,
                f"{what} must be a name of letters, digits and '_' that does not start "
                f"with a digit, not {_describe(value)}",
            )
            return False
        return True

    def check_word(self, loc, value, what):
        if (
            not isinstance(value, str)
            or not WORD_PATTERN.match(value)
            or len(value) > MAX_KEY_LENGTH
        ):
            self.error(
                loc,
                f"{what} must be a word (a letter, then letters, digits, '_' or '-'), "
                f"not {_describe(value)}",
            )
            return False
        return True

    def check_choice(self, loc, value, choices, what):
        if value in choices and isinstance(value, str):
            return True
        self.error(
            loc,
            f"{what} must be one of {_quoted_list(choices)}, not {_describe(value)}"
            f"{_did_you_mean(value, choices)}",
        )
        return False

    def check_duration(self, loc, value):
        try:
            return parse_duration(value)
        except DurationError as exc:
            self.error(loc, str(exc))
            return None

    def check_cel(self, loc, source):
        if not isinstance(source, str):
            self.error(loc, f"must be a CEL expression (a string), not {_describe(source)}")
            return
        try:
            check_syntax(source)
        except ExpressionSyntaxError as exc:
            detail = re.sub(r"^Syntax error:\s*", "", exc.detail or "")
            if exc.line:
                self.error(
                    loc, f"CEL syntax error at line {exc.line}, column {exc.column}: {detail}"
                )
            else:
                self.error(loc, f"CEL syntax error: {detail}")

    def check_json_data(self, loc, value):
        """Everything must be storable as JSON: string keys, no dates or other objects."""
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    self.error((*loc, key), f"keys must be strings, not {_describe(key)}")
                self.check_json_data((*loc, key), item)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.check_json_data((*loc, index), item)
        elif isinstance(value, float) and not math.isfinite(value):
            self.error(loc, "numbers must be finite")
        elif value is not None and not isinstance(value, str | int | float | bool):
            self.error(
                loc,
                f"{_describe(value)} is not JSON data; use a string "
                "(quote dates and times in YAML)",
            )

    # --- the document -----------------------------------------------------------------

    def run(self):
        doc = self.doc
        if not isinstance(doc, dict):
            self.error((), f"a workflow document must be a mapping, not {_describe(doc)}")
            return
        self.check_json_data((), doc)
        self.check_keys((), doc, TOP_LEVEL_KEYS, "at the top level")
        self.check_header(doc)
        if "variables" in doc:
            self.check_variables(doc["variables"])
        if "start_on" in doc:
            self.check_start_on(doc["start_on"], doc.get("variables"))
        steps = doc.get("steps", _MISSING)
        transitions = doc.get("transitions", _MISSING)
        steps_ok = self.check_steps(steps)
        self.check_transitions(transitions)
        if steps_ok:
            self.check_graph()

    def check_header(self, doc):
        if "format" not in doc:
            self.error(("format",), f"a workflow document needs `format: {FORMAT_VERSION}`")
        elif not _is_int(doc["format"]) or doc["format"] != FORMAT_VERSION:
            self.error(
                ("format",),
                f"unsupported format {doc['format']!r}; this importer reads "
                f"format {FORMAT_VERSION}",
            )
        if "kind" in doc and doc["kind"] != KIND_WORKFLOW:
            self.error(
                ("kind",),
                f"unknown kind {doc['kind']!r}; known: {KIND_WORKFLOW}, {KIND_DECISION_TABLE}",
            )
        if "key" not in doc:
            self.error(("key",), "a workflow document needs a `key`")
        else:
            self.check_key_pattern(("key",), doc["key"], "`key`")
        if "name" not in doc:
            self.error(("name",), "a workflow document needs a `name`")
        else:
            self.check_string(("name",), doc["name"], "`name`", max_length=MAX_NAME_LENGTH)
        if "description" in doc:
            self.check_text(("description",), doc["description"], "`description`")
        if "calendar" in doc:
            self.check_key_pattern(("calendar",), doc["calendar"], "`calendar`")

    def check_variables(self, variables):
        loc = ("variables",)
        if not self.check_mapping(loc, variables, "`variables`"):
            return
        for name, spec in variables.items():
            var_loc = (*loc, name)
            if isinstance(name, str):
                if not IDENTIFIER_PATTERN.match(name):
                    self.error(
                        var_loc,
                        f"variable name {name!r} must be letters, digits and '_', not "
                        "starting with a digit",
                    )
                elif name in RESERVED_VARIABLES:
                    self.error(var_loc, f"{name!r} is a reserved name in expressions")
            if not self.check_mapping(var_loc, spec, f"variable {name!r}"):
                continue
            self.check_keys(var_loc, spec, VARIABLE_KEYS, "in a variable")
            type_ok = False
            if "type" not in spec:
                self.error(
                    (*var_loc, "type"),
                    f"a variable needs a `type`: one of {_quoted_list(VARIABLE_TYPES)}",
                )
            else:
                type_ok = self.check_choice(
                    (*var_loc, "type"), spec["type"], VARIABLE_TYPES, "`type`"
                )
            if "required" in spec:
                self.check_bool((*var_loc, "required"), spec["required"], "`required`")
            if "label" in spec:
                self.check_text((*var_loc, "label"), spec["label"], "`label`")
            default = spec.get("default")
            if type_ok and default is not None and not _value_matches_type(spec["type"], default):
                self.error(
                    (*var_loc, "default"),
                    f"the default {_describe(default)} is not a valid {spec['type']}",
                )

    def check_start_on(self, start_on, variables):
        """The `start_on` extension (docs/workflow-format.md): an event type that starts
        the workflow, with CEL for the business key and the start variables."""
        loc = ("start_on",)
        if not self.check_mapping(loc, start_on, "`start_on`"):
            return
        self.check_keys(loc, start_on, START_ON_KEYS, "in `start_on`")
        if "event" not in start_on:
            self.error(
                (*loc, "event"), "`start_on` needs `event`: the CloudEvents type that starts it"
            )
        else:
            event = start_on["event"]
            if self.check_string(
                (*loc, "event"), event, "`event`", max_length=MAX_EVENT_TYPE_LENGTH
            ) and any(c.isspace() for c in event):
                self.error((*loc, "event"), f"`event` {event!r} may not contain spaces")
        if "business_key" in start_on:
            self.check_cel((*loc, "business_key"), start_on["business_key"])
        declared = variables if isinstance(variables, dict) else {}
        given = start_on.get("variables", _MISSING)
        if given is not _MISSING and self.check_mapping((*loc, "variables"), given, "`variables`"):
            for name, source in given.items():
                if name not in declared:
                    self.error(
                        (*loc, "variables", name),
                        f"{name!r} is not a declared variable; declare it under `variables`"
                        f"{_did_you_mean(name, list(declared))}",
                    )
                self.check_cel((*loc, "variables", name), source)
        set_by_event = given if isinstance(given, dict) else {}
        for name, spec in declared.items():
            if (
                isinstance(spec, dict)
                and spec.get("required") is True
                and "default" not in spec
                and name not in set_by_event
            ):
                self.error(
                    (*loc, "variables"),
                    f"the required variable {name!r} has no default, so `start_on.variables` "
                    "must set it",
                )

    # --- steps ------------------------------------------------------------------------

    def check_steps(self, steps):
        if steps is _MISSING:
            self.error(("steps",), "a workflow document needs `steps`")
            return False
        if not self.check_list(("steps",), steps, "`steps`"):
            return False
        if not steps:
            self.error(("steps",), "a workflow needs at least a start and an end step")
            return False
        for index, spec in enumerate(steps):
            self.check_step(index, spec)
        return True

    def check_step(self, index, spec):
        loc = ("steps", index)
        if not self.check_mapping(loc, spec, "a step"):
            return
        key = spec.get("key", _MISSING)
        if key is _MISSING:
            self.error((*loc, "key"), "a step needs a `key`")
        else:
            self.check_key_pattern((*loc, "key"), key, "the step key")
        step_type = spec.get("type", _MISSING)
        known_type = None
        if step_type is _MISSING:
            self.error((*loc, "type"), f"a step needs a `type`: one of {_quoted_list(STEP_TYPES)}")
        elif step_type in STEP_TYPES and isinstance(step_type, str):
            known_type = step_type
        else:
            self.error(
                (*loc, "type"),
                f"unknown step type {_describe(step_type)}{_did_you_mean(step_type, STEP_TYPES)}"
                f"; known: {_quoted_list(STEP_TYPES)}",
            )
        if isinstance(key, str):
            step = _Step(index=index, key=key, type=known_type, spec=spec)
            if key in self.steps:
                first = self.steps[key]
                self.error((*loc, "key"), f"duplicate step key {key!r} (also steps[{first.index}])")
            else:
                self.steps[key] = step
                self.step_list.append(step)
        if "name" in spec:
            self.check_string((*loc, "name"), spec["name"], "`name`", max_length=MAX_NAME_LENGTH)
        if known_type is None:
            return
        self.check_keys(
            loc, spec, COMMON_STEP_KEYS + STEP_KEYS[known_type], f"for {_a(known_type)} step"
        )
        check = getattr(self, f"check_{known_type}_step", None)
        if check:
            check(loc, spec)

    def check_end_step(self, loc, spec):
        if "outcome" in spec:
            self.check_word((*loc, "outcome"), spec["outcome"], "`outcome`")
        if "terminate" in spec:
            self.check_bool((*loc, "terminate"), spec["terminate"], "`terminate`")

    def check_automated_step(self, loc, spec):
        action_name = None
        if "action" not in spec:
            self.error((*loc, "action"), "an automated step needs an `action`")
        elif self.check_string((*loc, "action"), spec["action"], "`action`"):
            action_name = spec["action"]
            if actions.get_action(action_name) is None:
                known = actions.action_names()
                self.error(
                    (*loc, "action"),
                    f"unknown action {action_name!r}{_did_you_mean(action_name, known)}"
                    f"; known: {_quoted_list(known)}",
                )
        params = spec.get("params", _MISSING)
        if params is not _MISSING:
            if self.check_mapping((*loc, "params"), params, "`params`"):
                self.check_builtin_params((*loc, "params"), action_name, params)
        elif action_name in BUILTIN_ACTION_PARAMS and BUILTIN_ACTION_PARAMS[action_name][1]:
            required = BUILTIN_ACTION_PARAMS[action_name][1]
            self.error(
                (*loc, "params"),
                f"the action {action_name!r} needs `params` with {_quoted_list(required)}",
            )
        if "output" in spec:
            self.check_identifier((*loc, "output"), spec["output"], "`output`")
        if "retry" in spec:
            self.check_retry((*loc, "retry"), spec["retry"])

    def check_builtin_params(self, loc, action_name, params):
        if action_name not in BUILTIN_ACTION_PARAMS:
            return
        allowed, required = BUILTIN_ACTION_PARAMS[action_name]
        self.check_keys(loc, params, allowed, f"for the action {action_name!r}")
        for name in required:
            if name not in params:
                self.error((*loc, name), f"the action {action_name!r} needs `{name}`")
        if action_name == "set_variables" and "values" in params:
            values = params["values"]
            if self.check_mapping((*loc, "values"), values, "`values`"):
                for name, source in values.items():
                    self.check_identifier((*loc, "values", name), name, "a variable name")
                    self.check_cel((*loc, "values", name), source)
        if action_name == "decide" and "table" in params:
            self.check_key_pattern((*loc, "table"), params["table"], "`table`")
        if action_name == "http_request" and "secret_headers" in params:
            self.check_secret_headers((*loc, "secret_headers"), params["secret_headers"])
        if action_name == "http_request" and "timeout_seconds" in params:
            value = params["timeout_seconds"]
            if not _is_number(value) or value <= 0:
                self.error(
                    (*loc, "timeout_seconds"),
                    f"`timeout_seconds` must be a positive number, not {_describe(value)}",
                )

    def check_secret_headers(self, loc, headers):
        """Values name secrets (`${secret:NAME}`) and hold no `{{ }}` template: a value
        coming from the variables could otherwise name a secret and send it."""
        if not self.check_mapping(loc, headers, "`secret_headers`"):
            return
        for name, value in headers.items():
            if not isinstance(value, str):
                self.error((*loc, name), f"a secret header must be text, not {_describe(value)}")
            elif "{{" in value:
                self.error(
                    (*loc, name),
                    "a secret header takes no {{ }} template, only ${secret:NAME} references",
                )
            elif not actions.SECRET_REFERENCE.search(value):
                self.error(
                    (*loc, name),
                    "a secret header names a secret as ${secret:NAME}; "
                    "put plain values in `headers`",
                )

    def check_retry(self, loc, retry):
        if not self.check_mapping(loc, retry, "`retry`"):
            return
        self.check_keys(loc, retry, RETRY_KEYS, "in `retry`")
        if "max_attempts" in retry:
            value = retry["max_attempts"]
            if not _is_int(value) or value < 1:
                self.error(
                    (*loc, "max_attempts"),
                    f"`max_attempts` must be a whole number of at least 1, not {_describe(value)}",
                )
        for name in ("backoff_seconds", "max_backoff_seconds"):
            if name in retry:
                value = retry[name]
                if not _is_number(value) or value < 0:
                    self.error(
                        (*loc, name),
                        f"`{name}` must be a number of seconds (0 or more), not {_describe(value)}",
                    )
        if "backoff_factor" in retry:
            value = retry["backoff_factor"]
            if not _is_number(value) or value < 1:
                self.error(
                    (*loc, "backoff_factor"),
                    f"`backoff_factor` must be a number of at least 1, not {_describe(value)}",
                )

    def check_human_step(self, loc, spec):
        for name in ("title", "description"):
            if name in spec:
                self.check_text((*loc, name), spec[name], f"`{name}`")
        has_approvers = "approvers" in spec
        if has_approvers:
            self.check_approvers((*loc, "approvers"), spec["approvers"])
        if "assign" in spec:
            self.check_assign((*loc, "assign"), spec["assign"], has_approvers)
        elif not has_approvers:
            self.error(
                (*loc, "assign"),
                "a human step needs an assignee: `assign` with `group` or `to`, or `approvers`",
            )
        outcomes = self.check_outcomes(loc, spec, has_approvers)
        if "comment_required_for" in spec:
            self.check_outcome_list(
                (*loc, "comment_required_for"),
                spec["comment_required_for"],
                outcomes,
                "`comment_required_for`",
            )
        if "request_info" in spec:
            self.check_request_info((*loc, "request_info"), spec["request_info"])
        if "form" in spec:
            self.check_form((*loc, "form"), spec["form"])
        if "priority" in spec:
            self.check_choice((*loc, "priority"), spec["priority"], PRIORITIES, "`priority`")
        due = None
        if "due" in spec:
            due = self.check_duration((*loc, "due"), spec["due"])
        if "timeout" in spec:
            self.check_duration((*loc, "timeout"), spec["timeout"])
        if "business" in spec:
            self.check_bool((*loc, "business"), spec["business"], "`business`")
        if "reminders" in spec:
            self.check_reminders((*loc, "reminders"), spec["reminders"], spec, due)
        if "escalation" in spec:
            self.check_escalation((*loc, "escalation"), spec["escalation"], outcomes)

    def check_assign(self, loc, assign, has_approvers):
        if not self.check_mapping(loc, assign, "`assign`"):
            return
        self.check_keys(loc, assign, ASSIGN_KEYS, "in `assign`")
        if "group" in assign:
            self.check_string((*loc, "group"), assign["group"], "`group`")
        if "to" in assign:
            self.check_string((*loc, "to"), assign["to"], "`to`")
        if "group" in assign and "to" in assign:
            self.error(loc, "`assign` takes `group` or `to`, not both")
        elif "group" not in assign and "to" not in assign and not has_approvers:
            self.error(loc, "`assign` needs `group` (a candidate group) or `to` (one user)")
        if "strategy" in assign:
            strategy = assign["strategy"]
            ok = self.check_choice((*loc, "strategy"), strategy, ASSIGN_STRATEGIES, "`strategy`")
            if ok and strategy != "claim" and "group" not in assign:
                self.error(
                    (*loc, "strategy"), f"`strategy: {strategy}` picks a member of a `group`"
                )
        if "exclude" in assign:
            exclude = assign["exclude"]
            if self.check_list((*loc, "exclude"), exclude, "`exclude`"):
                for index, rule in enumerate(exclude):
                    self.check_choice(
                        (*loc, "exclude", index), rule, EXCLUDE_RULES, "an `exclude` rule"
                    )

    def check_approvers(self, loc, approvers):
        if not self.check_mapping(loc, approvers, "`approvers`"):
            return
        self.check_keys(loc, approvers, APPROVERS_KEYS, "in `approvers`")
        users = approvers.get("users", _MISSING)
        if users is not _MISSING and self.check_list((*loc, "users"), users, "`users`"):
            if not users:
                self.error((*loc, "users"), "`users` must name at least one user")
            seen = set()
            for index, user in enumerate(users):
                if self.check_string((*loc, "users", index), user, "a user"):
                    if user in seen:
                        self.error((*loc, "users", index), f"{user!r} is listed twice")
                    seen.add(user)
        if "group" in approvers:
            self.check_string((*loc, "group"), approvers["group"], "`group`")
        if "users" in approvers and "group" in approvers:
            self.error(loc, "`approvers` takes `users` or `group`, not both")
        elif "users" not in approvers and "group" not in approvers:
            self.error(loc, "`approvers` needs `users` (a list) or `group`")
        policy = approvers.get("policy", "all")
        if "policy" in approvers:
            self.check_choice((*loc, "policy"), policy, APPROVER_POLICIES, "`policy`")
        if policy == "quorum":
            if "quorum" not in approvers:
                self.error((*loc, "quorum"), "`policy: quorum` needs `quorum` (how many)")
            else:
                quorum = approvers["quorum"]
                if not _is_int(quorum) or quorum < 1:
                    self.error(
                        (*loc, "quorum"),
                        f"`quorum` must be a whole number of at least 1, not {_describe(quorum)}",
                    )
                elif isinstance(users, list) and users and quorum > len(users):
                    self.error(
                        (*loc, "quorum"),
                        f"`quorum` is {quorum} but only {len(users)} users are listed",
                    )
        elif "quorum" in approvers:
            self.error((*loc, "quorum"), "`quorum` is only used with `policy: quorum`")

    def check_outcomes(self, loc, spec, has_approvers):
        """Check `outcomes`; return the outcomes the step can decide."""
        if "outcomes" not in spec:
            return list(APPROVER_OUTCOMES if has_approvers else DEFAULT_OUTCOMES)
        outcomes = spec["outcomes"]
        out_loc = (*loc, "outcomes")
        if not self.check_list(out_loc, outcomes, "`outcomes`"):
            return []
        if not outcomes:
            self.error(out_loc, "`outcomes` must list at least one outcome")
        valid = []
        for index, outcome in enumerate(outcomes):
            if not self.check_word((*out_loc, index), outcome, "an outcome"):
                continue
            if outcome in valid:
                self.error((*out_loc, index), f"the outcome {outcome!r} is listed twice")
            elif outcome == "timeout":
                self.error(
                    (*out_loc, index), "'timeout' is reserved for the `on: timeout` transition"
                )
            else:
                valid.append(outcome)
        if has_approvers and sorted(valid) != sorted(APPROVER_OUTCOMES):
            self.error(
                out_loc,
                "with `approvers` the outcomes are approve and reject; leave out `outcomes`",
            )
            return list(APPROVER_OUTCOMES)
        return valid

    def check_outcome_list(self, loc, value, outcomes, what):
        if not self.check_list(loc, value, what):
            return
        for index, outcome in enumerate(value):
            if isinstance(outcome, str) and outcome in outcomes:
                continue
            self.error(
                (*loc, index),
                f"{_describe(outcome)} is not an outcome of this step ({_quoted_list(outcomes)})",
            )

    def check_request_info(self, loc, value):
        if isinstance(value, bool):
            return
        if not isinstance(value, dict):
            self.error(
                loc,
                f"`request_info` must be true, false or a mapping with `to`, not "
                f"{_describe(value)}",
            )
            return
        self.check_keys(loc, value, REQUEST_INFO_KEYS, "in `request_info`")
        if "to" not in value:
            self.error((*loc, "to"), "`request_info` as a mapping needs `to` (a username)")
        else:
            self.check_string((*loc, "to"), value["to"], "`to`")

    def check_form(self, loc, form):
        if not self.check_list(loc, form, "`form`"):
            return
        names = {}
        for index, field_spec in enumerate(form):
            field_loc = (*loc, index)
            if not self.check_mapping(field_loc, field_spec, "a form field"):
                continue
            self.check_keys(field_loc, field_spec, FORM_FIELD_KEYS, "in a form field")
            if "name" not in field_spec:
                self.error((*field_loc, "name"), "a form field needs a `name`")
            elif self.check_identifier((*field_loc, "name"), field_spec["name"], "`name`"):
                name = field_spec["name"]
                if name in names:
                    self.error(
                        (*field_loc, "name"),
                        f"the field {name!r} is already defined in form[{names[name]}]",
                    )
                else:
                    names[name] = index
            field_type = field_spec.get("type", "string")
            type_ok = True
            if "type" in field_spec:
                type_ok = self.check_choice(
                    (*field_loc, "type"), field_type, VARIABLE_TYPES, "`type`"
                )
            if "label" in field_spec:
                self.check_text((*field_loc, "label"), field_spec["label"], "`label`")
            if "required" in field_spec:
                self.check_bool((*field_loc, "required"), field_spec["required"], "`required`")
            bounds = {}
            for bound in ("min", "max"):
                if bound not in field_spec:
                    continue
                value = field_spec[bound]
                if type_ok and field_type not in ("number", "integer"):
                    self.error(
                        (*field_loc, bound),
                        f"`{bound}` only applies to number and integer fields",
                    )
                elif not _is_number(value):
                    self.error(
                        (*field_loc, bound), f"`{bound}` must be a number, not {_describe(value)}"
                    )
                else:
                    bounds[bound] = value
            if len(bounds) == 2 and bounds["min"] > bounds["max"]:
                self.error((*field_loc, "max"), "`max` is smaller than `min`")
            default = field_spec.get("default")
            if type_ok and default is not None and not _value_matches_type(field_type, default):
                self.error(
                    (*field_loc, "default"),
                    f"the default {_describe(default)} is not a valid {field_type}",
                )

    def check_reminders(self, loc, reminders, spec, due):
        if not self.check_list(loc, reminders, "`reminders`"):
            return
        if "due" not in spec:
            self.error(loc, "reminders count back from `due`, and the step has no `due`")
        for index, value in enumerate(reminders):
            before = self.check_duration((*loc, index), value)
            if before is not None and due is not None and before >= due:
                self.error((*loc, index), "a reminder must come before `due`, so be shorter")

    def check_escalation(self, loc, escalation, outcomes):
        if not self.check_list(loc, escalation, "`escalation`"):
            return
        previous = None
        for index, level in enumerate(escalation):
            level_loc = (*loc, index)
            if not self.check_mapping(level_loc, level, "an escalation level"):
                continue
            self.check_keys(level_loc, level, ESCALATION_KEYS, "in an escalation level")
            if "after" not in level:
                self.error((*level_loc, "after"), "an escalation level needs `after`")
            else:
                after = self.check_duration((*level_loc, "after"), level["after"])
                if after is not None:
                    if previous is not None and after < previous:
                        self.error(
                            (*level_loc, "after"),
                            "escalation levels must be in order of `after`",
                        )
                    previous = after
            action = level.get("action", _MISSING)
            if action is _MISSING:
                self.error(
                    (*level_loc, "action"),
                    f"an escalation level needs `action`: one of "
                    f"{_quoted_list(ESCALATION_ACTIONS)}",
                )
                continue
            if not self.check_choice(
                (*level_loc, "action"), action, ESCALATION_ACTIONS, "`action`"
            ):
                continue
            if action in ("notify", "reassign"):
                if "to" in level:
                    self.check_escalation_target((*level_loc, "to"), level["to"])
                elif action == "reassign":
                    self.error((*level_loc, "to"), "`action: reassign` needs `to`")
            elif "to" in level:
                self.error((*level_loc, "to"), f"`action: {action}` takes no `to`")
            if action == "complete":
                if "outcome" not in level:
                    self.error((*level_loc, "outcome"), "`action: complete` needs `outcome`")
                elif level["outcome"] not in outcomes or not isinstance(level["outcome"], str):
                    self.error(
                        (*level_loc, "outcome"),
                        f"{_describe(level['outcome'])} is not an outcome of this step "
                        f"({_quoted_list(outcomes)})",
                    )
            elif "outcome" in level:
                self.error(
                    (*level_loc, "outcome"), "`outcome` is only used with `action: complete`"
                )

    def check_escalation_target(self, loc, target):
        if not self.check_mapping(loc, target, "`to`"):
            return
        self.check_keys(loc, target, ESCALATION_TARGET_KEYS, "in an escalation `to`")
        present = [k for k in ESCALATION_TARGET_KEYS if k in target]
        if len(present) != 1:
            self.error(loc, "`to` needs exactly one of `user`, `group` or `manager`")
        for key in present:
            if key == "manager":
                self.check_choice((*loc, key), target[key], MANAGER_OF, "`manager`")
            else:
                self.check_string((*loc, key), target[key], f"`{key}`")

    def check_join_step(self, loc, spec):
        mode = spec.get("mode", "all")
        if "mode" in spec:
            self.check_choice((*loc, "mode"), mode, JOIN_MODES, "`mode`")
        if mode == "count":
            if "count" not in spec:
                self.error((*loc, "count"), "`mode: count` needs `count` (how many arrivals)")
            elif not _is_int(spec["count"]) or spec["count"] < 1:
                self.error(
                    (*loc, "count"),
                    f"`count` must be a whole number of at least 1, not {_describe(spec['count'])}",
                )
        elif "count" in spec:
            self.error((*loc, "count"), "`count` is only used with `mode: count`")

    def check_timer_step(self, loc, spec):
        has_duration = "duration" in spec
        has_until = "until" in spec
        if has_duration and has_until:
            self.error(loc, "a timer takes `duration` or `until`, not both")
        elif not has_duration and not has_until:
            self.error(loc, "a timer needs `duration` or `until`")
        if has_duration:
            self.check_duration((*loc, "duration"), spec["duration"])
        if has_until:
            self.check_cel((*loc, "until"), spec["until"])
        if "business" in spec:
            business_ok = self.check_bool((*loc, "business"), spec["business"], "`business`")
            if business_ok and has_until and not has_duration:
                self.error((*loc, "business"), "`business` applies to `duration`, not `until`")

    def check_message_step(self, loc, spec):
        if "name" not in spec:
            self.error((*loc, "name"), "a message step needs `name`: the message it waits for")
        if "correlate" not in spec:
            self.error(
                (*loc, "correlate"),
                "a message step needs `correlate`: a CEL expression giving the correlation key",
            )
        else:
            self.check_cel((*loc, "correlate"), spec["correlate"])
        if "timeout" in spec:
            self.check_duration((*loc, "timeout"), spec["timeout"])
        if "output" in spec:
            self.check_identifier((*loc, "output"), spec["output"], "`output`")

    def check_subprocess_step(self, loc, spec):
        if "workflow" not in spec:
            self.error((*loc, "workflow"), "a subprocess step needs `workflow`: a workflow key")
        else:
            self.check_key_pattern((*loc, "workflow"), spec["workflow"], "`workflow`")
        variables = spec.get("variables", _MISSING)
        if variables is not _MISSING and self.check_mapping(
            (*loc, "variables"), variables, "`variables`"
        ):
            for name, source in variables.items():
                self.check_identifier((*loc, "variables", name), name, "a variable name")
                self.check_cel((*loc, "variables", name), source)
        if "output" in spec:
            self.check_identifier((*loc, "output"), spec["output"], "`output`")

    # --- transitions ------------------------------------------------------------------

    def check_transitions(self, transitions):
        if transitions is _MISSING:
            self.error(("transitions",), "a workflow document needs `transitions`")
            return
        if not self.check_list(("transitions",), transitions, "`transitions`"):
            return
        for index, spec in enumerate(transitions):
            self.check_transition(index, spec)

    def resolve_step(self, loc, spec, name):
        step = None
        if name not in spec:
            self.error((*loc, name), f"a transition needs `{name}`: a step key")
        elif not isinstance(spec[name], str):
            self.error((*loc, name), f"`{name}` must be a step key, not {_describe(spec[name])}")
        else:
            value = spec[name]
            step = self.steps.get(value)
            if step is None:
                self.error(
                    (*loc, name), f"unknown step {value!r}{_did_you_mean(value, self.steps)}"
                )
        if step is None:
            self.broken_links = True
        return step

    def check_transition(self, index, spec):
        loc = ("transitions", index)
        if not self.check_mapping(loc, spec, "a transition"):
            self.broken_links = True
            return
        self.check_keys(loc, spec, TRANSITION_KEYS, "in a transition")
        source = self.resolve_step(loc, spec, "from")
        target = self.resolve_step(loc, spec, "to")
        if "name" in spec:
            self.check_string((*loc, "name"), spec["name"], "`name`", max_length=MAX_NAME_LENGTH)
        if "when" in spec:
            self.check_cel((*loc, "when"), spec["when"])
        on_ok = "on" in spec and self.check_word((*loc, "on"), spec["on"], "`on`")
        is_default = False
        if "default" in spec and self.check_bool((*loc, "default"), spec["default"], "`default`"):
            is_default = spec["default"]
        if is_default and "when" in spec:
            self.error((*loc, "default"), "a default transition takes no `when`")
        if is_default and "on" in spec:
            self.error((*loc, "default"), "a transition takes `on` or `default: true`, not both")
        transition = _Transition(index=index, spec=spec, source=source, target=target)
        self.transition_list.append(transition)
        if target is not None:
            target.incoming.append(transition)
            if target.type == "start":
                self.error((*loc, "to"), "a start step cannot have incoming transitions")
        if source is None:
            return
        source.outgoing.append(transition)
        if source.type is None:
            return
        if source.type == "end":
            self.error((*loc, "from"), "an end step cannot have outgoing transitions")
        if "when" in spec and source.type not in CONDITIONAL_STEP_TYPES:
            self.error(
                (*loc, "when"),
                f"`when` belongs to transitions out of exclusive and inclusive steps; "
                f"{source.key!r} is {_a(source.type)} step",
            )
        if on_ok:
            self.check_on((*loc, "on"), spec["on"], source)
        if is_default:
            if source.type in NO_CHOICE_STEP_TYPES:
                self.error(
                    (*loc, "default"),
                    f"{_a(source.type)} step does not choose among its transitions, so "
                    "`default` means nothing there",
                )
            elif source.has_default is not None:
                self.error(
                    (*loc, "default"),
                    f"step {source.key!r} already has a default transition "
                    f"(transitions[{source.has_default}])",
                )
            else:
                source.has_default = index

    def check_on(self, loc, value, source):
        if source.type in ("human", "automated", "message", "subprocess"):
            possible = step_outcomes(source.spec)
            if possible is None or value in possible:
                return
            if not possible:
                self.error(
                    loc,
                    f"{source.type} step {source.key!r} cannot produce {value!r}; "
                    "it has no `timeout`",
                )
            else:
                self.error(
                    loc,
                    f"{source.type} step {source.key!r} cannot produce {value!r}; "
                    f"it can produce {_quoted_list(possible)}",
                )
            return
        self.error(
            loc,
            f"{_a(source.type)} step has no outcomes; `on` belongs to transitions out of "
            "human, automated, message and subprocess steps",
        )

    # --- the graph --------------------------------------------------------------------

    def check_graph(self):
        starts = [s for s in self.step_list if s.type == "start"]
        ends = [s for s in self.step_list if s.type == "end"]
        if not starts:
            self.error(("steps",), "a workflow needs exactly one start step; it has none")
        for extra in starts[1:]:
            self.error(
                extra.loc,
                f"a workflow has exactly one start step; the first is steps[{starts[0].index}]",
            )
        if not ends:
            self.error(("steps",), "a workflow needs at least one end step; it has none")
        reached_from_inclusive = self.reachable(
            [s for s in self.step_list if s.type == "inclusive"], forward=True, include_roots=False
        )
        for step in self.step_list:
            check = getattr(self, f"check_{step.type}_links", None)
            if check:
                check(step, reached_from_inclusive)
        if self.broken_links:
            # A transition to or from an unknown step already has its error; the steps it
            # would have linked are not worth reporting as unreachable or dead ends too.
            return
        if len(starts) == 1:
            reached = self.reachable(starts, forward=True)
            for step in self.step_list:
                if step.key not in reached:
                    self.error(step.loc, f"step {step.key!r} cannot be reached from the start")
        if ends:
            reaching_end = self.reachable(ends, forward=False)
            for step in self.step_list:
                if step.key not in reaching_end:
                    self.error(step.loc, f"no end can be reached from step {step.key!r}")

    def reachable(self, roots, *, forward, include_roots=True):
        """Keys of the steps reachable from `roots` (forward) or that reach them."""
        seen = {s.key for s in roots} if include_roots else set()
        todo = list(roots)
        while todo:
            step = todo.pop()
            links = step.outgoing if forward else step.incoming
            for transition in links:
                other = transition.target if forward else transition.source
                if other is not None and other.key not in seen:
                    seen.add(other.key)
                    todo.append(other)
        return seen

    def check_join_links(self, step, reached_from_inclusive):
        arrivals = len(step.incoming)
        if arrivals < 2:
            self.error(
                step.loc, f"a join needs at least two incoming transitions; it has {arrivals}"
            )
        mode = step.spec.get("mode", "all")
        count = step.spec.get("count")
        if mode == "count" and _is_int(count) and arrivals >= 2 and count > arrivals:
            self.error(
                (*step.loc, "count"),
                f"`count` is {count} but the join has only {arrivals} incoming transitions",
            )
        if mode == "active" and step.key not in reached_from_inclusive:
            self.error(
                (*step.loc, "mode"),
                "`mode: active` waits for the branches of an inclusive step, and no "
                "inclusive step leads to this join",
            )

    def check_exclusive_links(self, step, _reached_from_inclusive):
        if not step.outgoing:
            return
        if not any(t.has_condition or t.is_default for t in step.outgoing):
            self.error(
                step.loc,
                f"the transitions out of {step.type} step {step.key!r} have neither "
                "`when` conditions nor a `default: true`",
            )
            return
        for transition in step.outgoing:
            if not transition.has_condition and not transition.is_default:
                self.error(
                    transition.loc,
                    f"a transition out of {step.type} step {step.key!r} needs `when` or "
                    "`default: true`",
                )

    check_inclusive_links = check_exclusive_links

    def check_human_links(self, step, _reached_from_inclusive):
        if not step.outgoing or any("on" not in t.spec for t in step.outgoing):
            return
        covered = {t.spec["on"] for t in step.outgoing if isinstance(t.spec["on"], str)}
        for outcome in _effective_outcomes(step.spec):
            if outcome not in covered:
                self.error(
                    step.loc,
                    f"the outcome {outcome!r} of step {step.key!r} has no transition; add one "
                    f"with `on: {outcome}` (or one without `on`)",
                )

    def check_automated_links(self, step, _reached_from_inclusive):
        if step.outgoing and all("on" in t.spec for t in step.outgoing):
            self.error(
                step.loc,
                f"step {step.key!r} has no transition for when it completes normally "
                "(one without `on`)",
            )

    check_message_links = check_automated_links


def _a(word):
    """`word` with its indefinite article: "an exclusive", "a timer"."""
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _describe(value):
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str | int | float):
        return repr(value)
    return f"a {type(value).__name__}"


def _order_key(doc, loc):
    """Where `loc` is in the document: keys by their position in their mapping, list items
    by index. A key that is missing sorts after the keys that are there."""
    key = []
    node = doc
    for segment in loc:
        if isinstance(node, dict):
            keys = list(node)
            try:
                position = keys.index(segment)
            except ValueError:
                position = len(keys)
            key.append(position)
            node = node.get(segment) if position < len(keys) else None
        elif isinstance(node, list) and _is_int(segment) and 0 <= segment < len(node):
            key.append(segment)
            node = node[segment]
        else:
            key.append(0)
            node = None
    return tuple(key)


def _line_of(lines, loc):
    """The line of `loc`, or of its nearest enclosing place that has one."""
    for end in range(len(loc), -1, -1):
        line = lines.get(tuple(loc[:end]))
        if line is not None:
            return line
    return None
