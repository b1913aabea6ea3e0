"""Decision tables: cells, matching, hit policies and the `decide` action.

A table is compiled once (every input expression compiled, every cell parsed) and, for a
published version, cached for the life of the process, as `graph.py` caches graphs.

Cells (see docs/workflow-format.md, "Decision tables"): `-` or an absent input matches
anything; a literal (`"gold"`, `12`, `true`) matches equality; `< 5`, `<= 5`, `> 5`,
`>= 5`, `!= "x"` compare; `[a..b]`, `(a..b)`, `[a..b)`, `(a..b]` are ranges; a comma list
matches any of its items.
"""

import json
import math
import re
from dataclasses import dataclass, field

from orchestrate.models import DecisionTable, VersionStatus

from . import expressions
from .actions import ActionError, register_action

ANY = "-"
HIT_POLICIES = ("unique", "first", "priority", "collect")
AGGREGATIONS = ("list", "sum", "min", "max", "count")

_RANGE = re.compile(r"^([\[(])\s*(.+?)\s*\.\.\s*(.+?)\s*([\])])$")
_COMPARISON = re.compile(r"^(<=|>=|!=|<|>)\s*(.+)$")
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$")


class CellError(ValueError):
    """A cell that does not parse; the message says why."""


class DecisionError(ActionError):
    """A table that cannot be evaluated for some input (a failed `decide` step)."""


# --- values -------------------------------------------------------------------------


def _category(value):
    """Values of different categories never compare equal or ordered."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return type(value).__name__


def _equal(a, b):
    return _category(a) == _category(b) and a == b


def _orderable(a, b):
    return _category(a) == _category(b) and _category(a) in ("number", "string")


def parse_literal(text):
    """`"gold"`, `'gold'`, `12`, `1.5`, `true`, `false`, `null` -> the Python value."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("\\'", "'")
    if text in ("true", "false", "null") or _NUMBER.match(text) or text.startswith('"'):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            pass
    raise CellError(f'{text!r} is not a literal; quote strings ("{text}")')


def _split_items(text):
    """Split a comma list, keeping commas inside quotes and brackets."""
    items, current, quote, depth = [], [], None, 0
    index = 0
    while index < len(text):
        char = text[index]
        if quote:
            current.append(char)
            if char == "\\" and index + 1 < len(text):
                current.append(text[index + 1])
                index += 1
            elif char == quote:
                quote = None
        elif char in "\"'":
            quote = char
            current.append(char)
        elif char in "[(":
            depth += 1
            current.append(char)
        elif char in "])":
            depth -= 1
            current.append(char)
        elif char == "," and depth <= 0:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    if quote:
        raise CellError(f"unclosed quote in {text!r}")
    items.append("".join(current))
    return items


# --- tests: what one item of a cell accepts -------------------------------------------


@dataclass(frozen=True)
class Equal:
    value: object

    def matches(self, value):
        return _equal(value, self.value)


@dataclass(frozen=True)
class NotEqual:
    value: object

    def matches(self, value):
        return not _equal(value, self.value)


@dataclass(frozen=True)
class Interval:
    """Values between `low` and `high` (None: unbounded), each end in or out."""

    low: object = None
    high: object = None
    low_in: bool = False
    high_in: bool = False

    @property
    def sample(self):
        return self.low if self.low is not None else self.high

    def matches(self, value):
        if not _orderable(value, self.sample):
            return False
        if self.low is not None and (value < self.low or (value == self.low and not self.low_in)):
            return False
        return not (
            self.high is not None
            and (value > self.high or (value == self.high and not self.high_in))
        )


def _bound(text, what):
    value = parse_literal(text)
    if _category(value) not in ("number", "string"):
        raise CellError(f"{what} must be a number or a string, not {text.strip()}")
    if isinstance(value, float) and not math.isfinite(value):
        raise CellError(f"{what} must be finite")
    return value


def _parse_item(text):
    text = text.strip()
    if not text:
        raise CellError("an empty item in a list")
    match = _RANGE.match(text)
    if match:
        low = _bound(match.group(2), "a range end")
        high = _bound(match.group(3), "a range end")
        if not _orderable(low, high):
            raise CellError(f"the ends of {text} are not of the same kind")
        if low > high:
            raise CellError(f"the range {text} is empty: {low!r} is above {high!r}")
        return Interval(low, high, match.group(1) == "[", match.group(4) == "]")
    match = _COMPARISON.match(text)
    if match:
        operator, operand = match.groups()
        if operator == "!=":
            return NotEqual(parse_literal(operand))
        value = _bound(operand, f"the value after {operator}")
        if operator.startswith("<"):
            return Interval(high=value, high_in=operator == "<=")
        return Interval(low=value, low_in=operator == ">=")
    return Equal(parse_literal(text))


@dataclass(frozen=True)
class Cell:
    """One condition of a rule; no tests means it matches anything."""

    source: object
    tests: tuple = ()

    @property
    def is_any(self):
        return not self.tests

    def matches(self, value):
        return self.is_any or any(test.matches(value) for test in self.tests)


def parse_cell(source):
    """A Cell from the text of a rule's `when` (or a bare YAML number or boolean)."""
    if source is None:
        return Cell(source)
    if isinstance(source, bool | int | float):
        return Cell(source, (Equal(source),))
    if not isinstance(source, str):
        raise CellError(f"a cell must be a string, a number or true/false, not {source!r}")
    text = source.strip()
    if text in ("", ANY):
        return Cell(source)
    return Cell(source, tuple(_parse_item(item) for item in _split_items(text)))


# --- overlap (for the `unique` check at import) -------------------------------------


def _tests_overlap(a, b):
    """Whether some value could pass both tests; True unless provably not."""
    if isinstance(b, Equal) and not isinstance(a, Equal):
        a, b = b, a
    if isinstance(a, Equal):
        return b.matches(a.value)
    if isinstance(a, NotEqual) or isinstance(b, NotEqual):
        interval = b if isinstance(a, NotEqual) else a
        other = a if isinstance(a, NotEqual) else b
        if isinstance(interval, Interval):
            point = interval.low is not None and interval.low == interval.high
            return not (point and _equal(interval.low, other.value))
        return True
    if not _orderable(a.sample, b.sample):
        return False
    low, low_in = _max_low(a, b)
    high, high_in = _min_high(a, b)
    if low is None or high is None:
        return True
    return low < high or (low == high and low_in and high_in)


def _max_low(a, b):
    if a.low is None:
        return b.low, b.low_in
    if b.low is None or a.low > b.low:
        return a.low, a.low_in
    if b.low > a.low:
        return b.low, b.low_in
    return a.low, a.low_in and b.low_in


def _min_high(a, b):
    if a.high is None:
        return b.high, b.high_in
    if b.high is None or a.high < b.high:
        return a.high, a.high_in
    if b.high < a.high:
        return b.high, b.high_in
    return a.high, a.high_in and b.high_in


def cells_overlap(a, b):
    """Whether one input value could match both cells."""
    if a.is_any or b.is_any:
        return True
    return any(_tests_overlap(x, y) for x in a.tests for y in b.tests)


# --- the compiled table -------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    number: int  # 1-based, in file order
    cells: dict  # input name -> Cell (absent inputs are left out)
    then: dict


@dataclass(frozen=True)
class DecisionResult:
    """What a table gave: the inputs it computed, the matching rows (1-based) and the
    outputs after the hit policy."""

    inputs: dict
    matched: list
    outputs: dict = field(default_factory=dict)


class CompiledTable:
    """A valid `kind: decision_table` document, ready to evaluate."""

    def __init__(self, spec):
        self.key = spec["key"]
        self.hit_policy = spec["hit_policy"]
        self.aggregation = spec.get("aggregation") or "list"
        self.inputs = [(item["name"], item["expr"]) for item in spec.get("inputs", [])]
        self.outputs = list(spec.get("outputs", []))
        self.priorities = spec.get("priorities") or {}
        for _name, expr in self.inputs:
            expressions.compile_expression(expr)
        self.rules = [
            Rule(
                number=index + 1,
                cells={
                    name: parse_cell(source)
                    for name, source in (rule.get("when") or {}).items()
                    if not parse_cell(source).is_any
                },
                then=dict(rule.get("then") or {}),
            )
            for index, rule in enumerate(spec.get("rules", []))
        ]

    def evaluate(self, context):
        """Evaluate against `context` (variables, maybe `instance` and `now`); raises
        DecisionError for an input that cannot be computed or a broken hit policy."""
        values = {}
        for name, expr in self.inputs:
            try:
                values[name] = expressions.to_json_value(expressions.evaluate(expr, context))
            except expressions.ExpressionError as exc:
                raise DecisionError(f"decision table {self.key!r}, input {name!r}: {exc}") from None
        matched = [
            rule
            for rule in self.rules
            if all(cell.matches(values.get(name)) for name, cell in rule.cells.items())
        ]
        outputs = self._apply_hit_policy(matched)
        return DecisionResult(inputs=values, matched=[r.number for r in matched], outputs=outputs)

    def _apply_hit_policy(self, matched):
        if self.hit_policy == "collect":
            return self._collect(matched)
        if not matched:
            return {}
        if self.hit_policy == "unique" and len(matched) > 1:
            rows = _and_list([str(rule.number) for rule in matched])
            raise DecisionError(
                f"decision table {self.key!r} has hit policy unique, but rows {rows} "
                "match the input"
            )
        if self.hit_policy == "priority":
            return dict(min(matched, key=self._rank).then)
        return dict(matched[0].then)

    def _rank(self, rule):
        """Lower is better: per output in `priorities`, the index of the row's value."""
        rank = []
        for name, order in self.priorities.items():
            value = rule.then.get(name)
            position = next((i for i, v in enumerate(order) if _equal(v, value)), len(order))
            rank.append(position)
        return (*rank, rule.number)

    def _collect(self, matched):
        if self.aggregation == "count":
            return {name: sum(1 for r in matched if name in r.then) for name in self.outputs}
        result = {}
        for name in self.outputs:
            values = [rule.then[name] for rule in matched if name in rule.then]
            if not values:
                continue
            if self.aggregation == "list":
                result[name] = values
                continue
            if self.aggregation == "sum":
                if not all(_category(v) == "number" for v in values):
                    raise DecisionError(
                        f"decision table {self.key!r}: cannot sum {name!r}, not all numbers"
                    )
                result[name] = sum(values)
                continue
            if any(not _orderable(values[0], v) for v in values):
                raise DecisionError(
                    f"decision table {self.key!r}: cannot take the {self.aggregation} of "
                    f"{name!r}, the values are not all numbers or all strings"
                )
            result[name] = min(values) if self.aggregation == "min" else max(values)
        return result


def _and_list(words):
    return ", ".join(words[:-1]) + f" and {words[-1]}" if len(words) > 1 else words[0]


_CACHE: dict[tuple, CompiledTable] = {}


def compiled_table_for(version):
    """The compiled table of `version` (cached unless it is a draft); the key includes the
    publication time, as ids come back after rolled-back inserts."""
    key = (version.pk, version.published_at)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    table = CompiledTable(version.to_spec())
    if version.status != VersionStatus.DRAFT:
        _CACHE[key] = table
    return table


def clear_table_cache():
    _CACHE.clear()


def current_table(key):
    """The compiled current published version of the table `key`; DecisionError if none."""
    table = DecisionTable.objects.filter(key=key).first()
    version = table.current_version() if table else None
    if version is None:
        raise DecisionError(f"no published version of the decision table {key!r}")
    return compiled_table_for(version)


@register_action("decide", pure=True)
def decide(params, ctx):
    """`table: KEY` -> the outputs of the table's current published version."""
    key = params.get("table")
    if not key:
        raise DecisionError("decide needs `table`: a decision table key")
    return current_table(str(key)).evaluate(ctx.expression_context).outputs
