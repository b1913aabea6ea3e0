"""Evaluating tables: inputs from CEL, every hit policy and aggregation, no match."""

import pytest

from orchestrate.engine.decisions import CompiledTable, DecisionError
from tests.orchestrate.decisions.tables import DISCOUNT, one_input_table


def evaluate(doc, **variables):
    return CompiledTable(doc).evaluate(variables)


@pytest.mark.parametrize(
    ("tier", "amount", "matched", "discount"),
    [
        ("gold", 5000, [1, 3], 0.1),
        ("gold", 500, [2, 3], 0.05),
        ("silver", 100, [2, 3], 0.05),
        ("bronze", 5000, [3], 0),
    ],
)
def test_first_takes_the_first_match_in_file_order(tier, amount, matched, discount):
    result = evaluate(DISCOUNT, customer={"tier": tier}, amount=amount)
    assert result.inputs == {"tier": tier, "amount": amount}
    assert result.matched == matched
    assert result.outputs == {"discount": discount}


def test_no_match_gives_an_empty_result():
    doc = one_input_table("first", [("> 10", "big")])
    result = evaluate(doc, x=1)
    assert (result.matched, result.outputs) == ([], {})


def test_unique_gives_the_single_match():
    doc = one_input_table("unique", [("< 10", "small"), (">= 10", "big")])
    assert evaluate(doc, x=10).outputs == {"y": "big"}


def test_unique_refuses_input_that_matches_several_rows_naming_them():
    doc = one_input_table("unique", [("< 10", "a"), ("> 100", "b"), ("[5..6]", "c")])
    with pytest.raises(DecisionError, match="hit policy unique, but rows 1 and 3 match"):
        evaluate(doc, x=5)


def test_priority_takes_the_match_whose_output_ranks_best():
    doc = one_input_table(
        "priority",
        [("-", "low"), ("> 10", "high"), ("> 5", "medium")],
        priorities={"y": ["high", "medium", "low"]},
    )
    assert evaluate(doc, x=7).outputs == {"y": "medium"}
    assert evaluate(doc, x=70).outputs == {"y": "high"}
    assert evaluate(doc, x=1).outputs == {"y": "low"}


@pytest.mark.parametrize(
    ("aggregation", "expected"),
    [
        (None, {"y": [1, 5, 2]}),
        ("list", {"y": [1, 5, 2]}),
        ("sum", {"y": 8}),
        ("min", {"y": 1}),
        ("max", {"y": 5}),
        ("count", {"y": 3}),
    ],
)
def test_collect_aggregates_every_match(aggregation, expected):
    doc = one_input_table(
        "collect", [("-", 1), ("> 0", 5), ("< 0", 100), ("[1..2]", 2)], aggregation=aggregation
    )
    result = evaluate(doc, x=1)
    assert result.matched == [1, 2, 4]
    assert result.outputs == expected


@pytest.mark.parametrize(
    ("aggregation", "expected"),
    [(None, {}), ("sum", {}), ("min", {}), ("max", {}), ("count", {"y": 0})],
)
def test_collect_without_a_match_is_empty_and_count_is_zero(aggregation, expected):
    doc = one_input_table("collect", [("> 10", 1)], aggregation=aggregation)
    assert evaluate(doc, x=1).outputs == expected


def test_collect_sum_refuses_values_that_are_not_numbers():
    doc = one_input_table("collect", [("-", "a"), ("-", 1)], aggregation="sum")
    with pytest.raises(DecisionError, match="cannot sum 'y'"):
        evaluate(doc, x=1)


def test_an_input_that_cannot_be_computed_is_a_decision_error():
    with pytest.raises(DecisionError, match="input 'tier'"):
        evaluate(DISCOUNT, amount=1)
