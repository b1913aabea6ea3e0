"""Validation and writing of `kind: decision_table` documents (docs/workflow-format.md,
"Decision tables").

`validate_decision_table(doc)` returns every problem, in file order, each pointing at
its place (`rules[3].when.amount`); it never raises and never touches the database.
Under `unique` it also reports rules that can match the same input: two cells overlap
unless they provably cannot (disjoint literals, ranges or comparisons), and two rules
overlap when every input's cells do. The check errs on the side of reporting.
"""

import yaml

from orchestrate.engine.decisions import (
    AGGREGATIONS,
    HIT_POLICIES,
    CellError,
    cells_overlap,
    parse_cell,
)

from .validation import (
    FORMAT_VERSION,
    KIND_DECISION_TABLE,
    MAX_NAME_LENGTH,
    _describe,
    _did_you_mean,
    _Validator,
)
from .yaml_io import _WIDTH, _Dumper, _fits_one_line, _Flow

# Allowed keys, in the order the exporter writes them.
TABLE_KEYS = (
    "format",
    "kind",
    "key",
    "name",
    "hit_policy",
    "aggregation",
    "inputs",
    "outputs",
    "priorities",
    "rules",
)
INPUT_KEYS = ("name", "expr")
RULE_KEYS = ("when", "then")
_ANY = parse_cell(None)


def validate_decision_table(doc):
    """Every problem of the decision table document `doc`, as FormatErrors in file order;
    an empty list means it can be imported."""
    validator = _TableValidator(doc)
    validator.run()
    return validator.sorted_errors()


class _TableValidator(_Validator):
    def run(self):
        doc = self.doc
        if not isinstance(doc, dict):
            self.error((), f"a decision table document must be a mapping, not {_describe(doc)}")
            return
        self.check_json_data((), doc)
        self.check_keys((), doc, TABLE_KEYS, "in a decision table")
        self.check_table_header(doc)
        inputs = self.check_inputs(doc.get("inputs", []))
        outputs = self.check_outputs(doc.get("outputs"))
        self.check_policy(doc, outputs)
        rules = self.check_rules(doc.get("rules"), inputs, outputs)
        if doc.get("hit_policy") == "unique" and rules:
            self.check_overlaps(rules, inputs)

    def check_table_header(self, doc):
        if doc.get("format") != FORMAT_VERSION or isinstance(doc.get("format"), bool):
            self.error(("format",), f"a decision table document needs `format: {FORMAT_VERSION}`")
        if doc.get("kind") != KIND_DECISION_TABLE:
            self.error(("kind",), f"a decision table document needs `kind: {KIND_DECISION_TABLE}`")
        if "key" not in doc:
            self.error(("key",), "a decision table needs a `key`")
        else:
            self.check_key_pattern(("key",), doc["key"], "`key`")
        if "name" not in doc:
            self.error(("name",), "a decision table needs a `name`")
        else:
            self.check_string(("name",), doc["name"], "`name`", max_length=MAX_NAME_LENGTH)

    def check_inputs(self, inputs):
        """The input names, in order (those that are valid)."""
        names = []
        if not self.check_list(("inputs",), inputs, "`inputs`"):
            return names
        for index, item in enumerate(inputs):
            loc = ("inputs", index)
            if not self.check_mapping(loc, item, "an input"):
                continue
            self.check_keys(loc, item, INPUT_KEYS, "in an input")
            name = item.get("name")
            if "name" not in item:
                self.error((*loc, "name"), "an input needs a `name`")
            elif self.check_identifier((*loc, "name"), name, "an input `name`"):
                if name in names:
                    self.error((*loc, "name"), f"the input {name!r} is already defined")
                else:
                    names.append(name)
            if "expr" not in item:
                self.error((*loc, "expr"), "an input needs `expr`: a CEL expression")
            else:
                self.check_cel((*loc, "expr"), item["expr"])
        return names

    def check_outputs(self, outputs):
        names = []
        if outputs is None:
            self.error(("outputs",), "a decision table needs `outputs`: a list of names")
            return names
        if not self.check_list(("outputs",), outputs, "`outputs`"):
            return names
        if not outputs:
            self.error(("outputs",), "a decision table needs at least one output")
        for index, name in enumerate(outputs):
            if not self.check_identifier(("outputs", index), name, "an output"):
                continue
            if name in names:
                self.error(("outputs", index), f"the output {name!r} is listed twice")
            else:
                names.append(name)
        return names

    def check_policy(self, doc, outputs):
        policy = doc.get("hit_policy")
        if "hit_policy" not in doc:
            self.error(
                ("hit_policy",),
                f"a decision table needs `hit_policy`: one of {', '.join(HIT_POLICIES)}",
            )
        else:
            self.check_choice(("hit_policy",), policy, HIT_POLICIES, "`hit_policy`")
        if "aggregation" in doc:
            if policy != "collect":
                self.error(
                    ("aggregation",), "`aggregation` is only used with `hit_policy: collect`"
                )
            else:
                self.check_choice(
                    ("aggregation",), doc["aggregation"], AGGREGATIONS, "`aggregation`"
                )
        if policy == "priority" and "priorities" not in doc:
            self.error(
                ("priorities",),
                "`hit_policy: priority` needs `priorities`: for an output, its values best first",
            )
        if "priorities" not in doc:
            return
        priorities = doc["priorities"]
        if policy != "priority":
            self.error(("priorities",), "`priorities` is only used with `hit_policy: priority`")
            return
        if not self.check_mapping(("priorities",), priorities, "`priorities`"):
            return
        if not priorities:
            self.error(("priorities",), "`priorities` needs at least one output")
        for name, order in priorities.items():
            loc = ("priorities", name)
            if name not in outputs:
                self.error(loc, f"unknown output {name!r}{_did_you_mean(name, outputs)}")
            if self.check_list(loc, order, f"the priorities of {name!r}") and not order:
                self.error(loc, f"the priorities of {name!r} are empty")

    def check_rules(self, rules, inputs, outputs):
        """(index, {input: Cell}) for each rule whose cells all parse."""
        parsed = []
        if rules is None:
            self.error(("rules",), "a decision table needs `rules`")
            return parsed
        if not self.check_list(("rules",), rules, "`rules`"):
            return parsed
        for index, rule in enumerate(rules):
            loc = ("rules", index)
            if not self.check_mapping(loc, rule, "a rule"):
                continue
            self.check_keys(loc, rule, RULE_KEYS, "in a rule")
            cells = self.check_when(loc, rule.get("when", {}), inputs)
            self.check_then(loc, rule.get("then"), outputs)
            if cells is not None:
                parsed.append((index, cells))
        return parsed

    def check_when(self, loc, when, inputs):
        loc = (*loc, "when")
        if not self.check_mapping(loc, when, "`when`"):
            return None
        cells, ok = {}, True
        for name, source in when.items():
            if name not in inputs:
                self.error((*loc, name), f"unknown input {name!r}{_did_you_mean(name, inputs)}")
                ok = False
                continue
            try:
                cells[name] = parse_cell(source)
            except CellError as exc:
                self.error((*loc, name), f"the cell {_describe(source)} does not parse: {exc}")
                ok = False
        return cells if ok else None

    def check_then(self, loc, then, outputs):
        loc = (*loc, "then")
        if then is None:
            self.error(loc, "a rule needs `then`: its output values")
            return
        if not self.check_mapping(loc, then, "`then`"):
            return
        if not then:
            self.error(loc, "`then` needs at least one output value")
        for name in then:
            if name not in outputs:
                self.error((*loc, name), f"unknown output {name!r}{_did_you_mean(name, outputs)}")

    def check_overlaps(self, rules, inputs):
        for position, (index, cells) in enumerate(rules):
            for other_index, other_cells in rules[position + 1 :]:
                if all(
                    cells_overlap(cells.get(name, _ANY), other_cells.get(name, _ANY))
                    for name in inputs
                ):
                    self.error(
                        ("rules", other_index),
                        f"rules[{index}] and rules[{other_index}] can both match "
                        "(hit policy unique)",
                    )


# --- writing ------------------------------------------------------------------------


def ordered_table(doc):
    """`doc` with the exporter's key order, inputs and rules one line each when they fit."""
    result = {key: doc[key] for key in TABLE_KEYS if key in doc}
    # PostgreSQL's jsonb keeps no key order, so the order comes from the columns here.
    inputs = [i["name"] for i in result.get("inputs") or [] if isinstance(i, dict) and "name" in i]
    outputs = [o for o in result.get("outputs") or [] if isinstance(o, str)]
    if isinstance(result.get("inputs"), list):
        result["inputs"] = [
            _flow(_in_order(item, ["name", "expr"]), 4) for item in result["inputs"]
        ]
    if isinstance(result.get("priorities"), dict):
        result["priorities"] = _flow(_in_order(result["priorities"], outputs), 12)
    if isinstance(result.get("rules"), list):
        result["rules"] = [
            _flow_rule(
                {
                    **rule,
                    "when": _in_order(rule.get("when"), inputs),
                    "then": _in_order(rule.get("then"), outputs),
                }
                if isinstance(rule, dict)
                else rule
            )
            for rule in result["rules"]
        ]
    return result


def _in_order(mapping, order):
    """`mapping` with the keys named in `order` first, in that order, then the rest."""
    if not isinstance(mapping, dict):
        return mapping
    first = {key: mapping[key] for key in order if key in mapping}
    return {**first, **{k: v for k, v in mapping.items() if k not in first}}


def _flow(mapping, indent):
    if isinstance(mapping, dict) and _fits_one_line(mapping, indent):
        return _Flow(mapping)
    return mapping


def _flow_rule(rule):
    if not isinstance(rule, dict):
        return rule
    parts = {
        key: _Flow(rule[key]) if isinstance(rule[key], dict) else rule[key]
        for key in RULE_KEYS
        if key in rule
    }
    # The nested mappings are measured as JSON, a fair estimate of their flow width.
    return _Flow(parts) if _fits_one_line(parts, 4) else parts


def dump_decision_table(doc):
    """The decision table document as YAML text, laid out like the format's example."""
    return yaml.dump(
        ordered_table(doc),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=_WIDTH,
        indent=2,
    )
