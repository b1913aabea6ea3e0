"""Cells: every form parses, matches what it says, and overlaps only when it can."""

import pytest

from orchestrate.engine.decisions import CellError, cells_overlap, parse_cell


@pytest.mark.parametrize(
    ("cell", "matching", "not_matching"),
    [
        ("-", ["gold", 1, None, True], []),
        (None, ["gold", 1], []),
        ("", ["gold"], []),
        ('"gold"', ["gold"], ["silver", 1, None]),
        ("'gold'", ["gold"], ["Gold"]),
        ("12", [12, 12.0], [13, "12", True]),
        (12, [12], [11]),
        ("1.5", [1.5], [1]),
        ("true", [True], [1, "true", False]),
        (False, [False], [0]),
        ("null", [None], [0, ""]),
        ("< 5", [4, -1, 4.99], [5, 6, "4"]),
        ("<= 5", [5, 4], [5.01]),
        ("> 5", [6, 5.5], [5, 4]),
        (">= 5", [5, 6], [4.9]),
        ('> "m"', ["n", "z"], ["a", "m", 13]),
        ('!= "x"', ["y", 1, None], ["x"]),
        ("[1..3]", [1, 2, 3], [0.9, 3.1]),
        ("(1..3)", [1.1, 2], [1, 3]),
        ("[1..3)", [1, 2.9], [3]),
        ("(1..3]", [3, 1.5], [1]),
        ("[ 100 .. 1000 )", [100, 999], [1000]),
        ("[1.5..2.5]", [1.5, 2.5], [1.4]),
        ('["a".."c"]', ["a", "b", "c"], ["d"]),
        ('"silver", "gold"', ["silver", "gold"], ["bronze"]),
        ('"a,b", "c"', ["a,b", "c"], ["a", "b"]),
        ("< 0, [10..20], 99", [-1, 15, 99], [0, 5, 21]),
    ],
)
def test_cell_forms_match_what_they_say(cell, matching, not_matching):
    parsed = parse_cell(cell)
    for value in matching:
        assert parsed.matches(value), (cell, value)
    for value in not_matching:
        assert not parsed.matches(value), (cell, value)


@pytest.mark.parametrize(
    ("cell", "fragment"),
    [
        ("gold", "quote strings"),
        ("[5..1]", "is empty"),
        ('[1.."b"]', "not of the same kind"),
        ("< true", "number or a string"),
        ('"gold', "unclosed quote"),
        ('"a",, "b"', "an empty item"),
        ("[1..2", "not a literal"),
        (["x"], "must be a string"),
    ],
)
def test_bad_cells_say_why(cell, fragment):
    with pytest.raises(CellError, match=fragment):
        parse_cell(cell)


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        ("-", '"x"', True),
        ('"gold"', '"gold", "silver"', True),
        ('"gold"', '"silver"', False),
        ("12", "[10..20]", True),
        ("12", "> 12", False),
        ("12", '"12"', False),
        ("< 5", ">= 5", False),
        ("<= 5", ">= 5", True),
        ("[1..5)", "[5..9]", False),
        ("[1..5]", "[5..9]", True),
        ("(1..5)", "(4..9)", True),
        ("< 5", "< 3", True),
        ('!= "x"', '"x"', False),
        ('!= "x"', '"y"', True),
        ('!= "x"', '!= "y"', True),
        ("!= 3", "[3..3]", False),
        ("!= 3", "[3..4]", True),
        ('> "a"', "> 5", False),
        ("true", "false", False),
    ],
)
def test_overlap_is_reported_unless_provably_disjoint(a, b, overlap):
    assert cells_overlap(parse_cell(a), parse_cell(b)) is overlap
    assert cells_overlap(parse_cell(b), parse_cell(a)) is overlap
