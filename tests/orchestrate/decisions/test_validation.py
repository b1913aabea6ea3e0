"""Validating `kind: decision_table` documents: every message points at its place."""

import pytest

from orchestrate.formats import load_document, validate_spec
from orchestrate.formats.decision_tables import validate_decision_table
from tests.orchestrate.decisions.tables import DISCOUNT, one_input_table, table


def errors_of(doc):
    return [(e.path, e.message) for e in validate_decision_table(doc)]


def test_the_example_of_the_format_is_valid_and_validate_spec_delegates():
    assert errors_of(DISCOUNT) == []
    assert validate_spec(DISCOUNT) == []


@pytest.mark.parametrize(
    ("doc", "path", "fragment"),
    [
        (table(colour="red"), "colour", "unknown key 'colour' in a decision table"),
        (table(hit_policy="uniq"), "hit_policy", "did you mean 'unique'?"),
        (table(hit_policy=None), "hit_policy", "needs `hit_policy`"),
        (table(aggregation="sum"), "aggregation", "only used with `hit_policy: collect`"),
        (table(hit_policy="collect", aggregation="avg"), "aggregation", "must be one of list"),
        (table(hit_policy="priority"), "priorities", "needs `priorities`"),
        (
            table(priorities={"discount": [1]}),
            "priorities",
            "only used with `hit_policy: priority`",
        ),
        (
            table(hit_policy="priority", priorities={"rebate": [1]}),
            "priorities.rebate",
            "unknown output 'rebate'",
        ),
        (table(key="Bad Key"), "key", "lowercase letters"),
        (table(name=None), "name", "needs a `name`"),
        (table(format=2), "format", "needs `format: 1`"),
        (table(outputs=None), "outputs", "needs `outputs`"),
        (table(outputs=[]), "outputs", "at least one output"),
        (table(outputs=["discount", "discount"]), "outputs[1]", "listed twice"),
        (table(rules=None), "rules", "needs `rules`"),
        (
            table(inputs=[{"name": "tier", "expr": "customer.tier"}, {"name": "tier"}]),
            "inputs[1].expr",
            "needs `expr`",
        ),
        (
            table(inputs=[{"name": "tier", "expr": "customer.tier", "type": "string"}]),
            "inputs[0].type",
            "unknown key 'type' in an input",
        ),
        (
            table(inputs=[{"name": "tier", "expr": "customer.tier +"}]),
            "inputs[0].expr",
            "CEL syntax error at line 1, column ",
        ),
        (
            table(rules=[{"when": {"tier": "gold"}, "then": {"discount": 1}}]),
            "rules[0].when.tier",
            "the cell 'gold' does not parse: 'gold' is not a literal; quote strings",
        ),
        (
            table(rules=[{"when": {"amount": "[9..1]"}, "then": {"discount": 1}}]),
            "rules[0].when.amount",
            "the range [9..1] is empty",
        ),
        (
            table(rules=[{"when": {"region": '"EU"'}, "then": {"discount": 1}}]),
            "rules[0].when.region",
            "unknown input 'region'",
        ),
        (
            table(rules=[{"when": {}, "then": {"discont": 1}}]),
            "rules[0].then.discont",
            "unknown output 'discont'; did you mean 'discount'?",
        ),
        (table(rules=[{"when": {}}]), "rules[0].then", "needs `then`"),
        (
            table(rules=[{"when": {}, "then": {"discount": 1}, "else": {}}]),
            "rules[0].else",
            "unknown key 'else' in a rule",
        ),
    ],
)
def test_refusals_point_at_their_place(doc, path, fragment):
    errors = errors_of(doc)
    assert any(p == path and fragment in m for p, m in errors), errors


def test_unique_reports_rules_that_can_both_match():
    doc = one_input_table(
        "unique",
        [("< 10", "a"), (">= 10", "b"), ("[5..20)", "c"), ('"x"', "d"), ("-", "e")],
    )
    assert errors_of(doc) == [
        ("rules[2]", "rules[0] and rules[2] can both match (hit policy unique)"),
        ("rules[2]", "rules[1] and rules[2] can both match (hit policy unique)"),
        ("rules[4]", "rules[0] and rules[4] can both match (hit policy unique)"),
        ("rules[4]", "rules[1] and rules[4] can both match (hit policy unique)"),
        ("rules[4]", "rules[2] and rules[4] can both match (hit policy unique)"),
        ("rules[4]", "rules[3] and rules[4] can both match (hit policy unique)"),
    ]


def test_unique_rows_differing_in_one_column_do_not_overlap():
    doc = table(
        hit_policy="unique",
        rules=[
            {"when": {"tier": '"gold"', "amount": "< 100"}, "then": {"discount": 1}},
            {"when": {"tier": '"gold"', "amount": ">= 100"}, "then": {"discount": 2}},
            {"when": {"tier": '"silver"'}, "then": {"discount": 3}},
        ],
    )
    assert errors_of(doc) == []


def test_first_allows_overlapping_rules():
    assert errors_of(one_input_table("first", [("-", 1), ("-", 2)])) == []


def test_errors_carry_lines_of_the_file():
    text = (
        "format: 1\nkind: decision_table\nkey: t\nname: T\nhit_policy: first\n"
        "inputs:\n  - {name: x, expr: x}\noutputs: [y]\nrules:\n"
        "  - {when: {x: '1'}, then: {y: 1}}\n  - {when: {x: 'oops'}, then: {y: 2}}\n"
    )
    (error,) = validate_decision_table(load_document(text))
    assert (error.path, error.line) == ("rules[1].when.x", 11)
