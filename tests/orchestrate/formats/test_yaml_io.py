"""Reading workflow files (YAML, JSON) and writing them back as YAML."""

import json
import random

import pytest

from orchestrate.formats import (
    DocumentSyntaxError,
    WorkflowFormatError,
    dump_yaml,
    load_document,
    validate_spec,
)
from tests.orchestrate.formats.documents import full_document, full_yaml, minimal_document

# --- reading --------------------------------------------------------------------------


def test_yaml_syntax_error_has_line_and_column():
    text = "format: 1\nkey: demo\nsteps: [a, b\ntransitions: []\n"
    with pytest.raises(DocumentSyntaxError) as caught:
        load_document(text, filename="demo.yaml")
    [error] = caught.value.errors
    assert error.path == ""
    assert error.message.startswith("YAML syntax error at line 4, column 12: ")
    assert error.line == 4
    assert str(caught.value) == error.message
    assert isinstance(caught.value, WorkflowFormatError)


def test_yaml_bad_indentation():
    text = "format: 1\nsteps:\n  - key: a\n   type: start\n"
    with pytest.raises(DocumentSyntaxError) as caught:
        load_document(text)
    assert "YAML syntax error at line 4" in caught.value.errors[0].message


def test_duplicate_yaml_keys_are_refused():
    text = "format: 1\nkey: a\nname: One\nname: Two\n"
    with pytest.raises(DocumentSyntaxError) as caught:
        load_document(text)
    [error] = caught.value.errors
    assert error.message == "YAML syntax error at line 4, column 1: found duplicate key 'name'"


def test_merge_keys_are_not_duplicates():
    text = "base: &base {a: 1, b: 2}\nother:\n  <<: *base\n  b: 3\n"
    assert load_document(text) == {"base": {"a": 1, "b": 2}, "other": {"a": 1, "b": 3}}


def test_several_yaml_documents_are_refused():
    with pytest.raises(DocumentSyntaxError) as caught:
        load_document("format: 1\n---\nformat: 1\n")
    assert "YAML syntax error at line 2" in caught.value.errors[0].message


def test_on_yes_no_stay_words_and_dates_stay_text():
    text = (
        "transitions:\n"
        "  - {from: a, to: b, on: yes}\n"
        "  - {from: a, to: c, on: off, default: true}\n"
        "outcomes: [yes, no, on, off, y, n]\n"
        "flags: [true, false, True, FALSE]\n"
        "day: 2025-01-31\n"
        "at: 2025-01-31T10:00:00Z\n"
        "count: 3\n"
        "ratio: 1.5\n"
        "nothing: null\n"
    )
    assert load_document(text) == {
        "transitions": [
            {"from": "a", "to": "b", "on": "yes"},
            {"from": "a", "to": "c", "on": "off", "default": True},
        ],
        "outcomes": ["yes", "no", "on", "off", "y", "n"],
        "flags": [True, False, True, False],
        "day": "2025-01-31",
        "at": "2025-01-31T10:00:00Z",
        "count": 3,
        "ratio": 1.5,
        "nothing": None,
    }


def test_json_file_gives_the_same_document():
    text = json.dumps(full_document(), indent=2)
    assert load_document(text, filename="every_step.json") == full_document()
    assert load_document(text) == full_document()  # recognised without the name too


def test_json_syntax_error_has_line_and_column():
    text = '{\n  "format": 1,\n  "key": "a",,\n}'
    with pytest.raises(DocumentSyntaxError) as caught:
        load_document(text, filename="a.json")
    [error] = caught.value.errors
    assert error.message.startswith("JSON syntax error at line 3, column 14: ")
    assert error.line == 3


def test_json_duplicate_keys_are_refused():
    with pytest.raises(DocumentSyntaxError) as caught:
        load_document('{"key": "a", "key": "b"}', filename="a.json")
    assert "duplicate key 'key'" in caught.value.errors[0].message


def test_a_yaml_flow_mapping_is_not_mistaken_for_json():
    assert load_document("{format: 1, key: a}") == {"format": 1, "key": "a"}


def test_bytes_with_a_byte_order_mark():
    assert load_document("\ufeffformat: 1\n".encode()) == {"format": 1}


def test_bytes_that_are_not_utf8():
    with pytest.raises(DocumentSyntaxError) as caught:
        load_document(b"name: caf\xe9\n")
    assert caught.value.errors[0].message == "the file is not UTF-8 text (byte 9)"


def test_an_empty_file_is_not_a_workflow():
    doc = load_document("")
    assert doc is None
    assert [str(e) for e in validate_spec(doc)] == [
        "a workflow document must be a mapping, not nothing"
    ]


def test_loaded_documents_know_the_lines_of_their_places():
    text = full_yaml()
    lines = text.splitlines()
    doc = load_document(text)
    assert lines[doc.lines[("steps", 4, "assign")] - 1].strip() == "assign:"
    assert lines[doc.lines[("steps", 4)] - 1].strip() == "- key: approval"
    assert lines[doc.lines[("transitions", 4, "when")] - 1].startswith(
        "  - {from: route, to: approval, when:"
    )


# --- writing --------------------------------------------------------------------------


def test_dump_orders_top_level_and_step_keys():
    doc = minimal_document(description="About it", variables={"n": {"type": "integer"}})
    shuffled = dict(reversed(list(doc.items())))
    shuffled["steps"] = [dict(reversed(list(s.items()))) for s in doc["steps"]]
    assert dump_yaml(shuffled) == (
        "format: 1\n"
        "key: minimal\n"
        "name: Minimal\n"
        "description: About it\n"
        "variables:\n"
        "  n: {type: integer}\n"
        "steps:\n"
        "  - {key: start, type: start}\n"
        "  - key: work\n"
        "    type: automated\n"
        "    action: log\n"
        "    params:\n"
        "      message: hi\n"
        "  - {key: end, type: end}\n"
        "transitions:\n"
        "  - {from: start, to: work}\n"
        "  - {from: work, to: end}\n"
    )


def test_dump_writes_on_as_a_plain_key():
    doc = minimal_document()
    doc["transitions"][1]["on"] = "error"
    assert "  - {from: work, to: end, on: error}\n" in dump_yaml(doc)


def test_dump_of_a_shuffled_document_is_the_same_text():
    doc = full_document()
    rng = random.Random(4)

    def shuffle(node):
        if isinstance(node, dict):
            items = list(node.items())
            rng.shuffle(items)
            return {k: shuffle(v) for k, v in items}
        if isinstance(node, list):
            return [shuffle(v) for v in node]
        return node

    shuffled = shuffle(doc)
    # Variables and params are the author's mappings: their own order is kept.
    shuffled["variables"] = {name: shuffle(spec) for name, spec in doc["variables"].items()}
    for original, step in zip(doc["steps"], shuffled["steps"], strict=True):
        if "params" in original:
            step["params"] = original["params"]
        if "variables" in original:
            step["variables"] = original["variables"]
    assert dump_yaml(shuffled) == dump_yaml(doc)


def test_dump_then_load_gives_the_same_document():
    doc = full_document()
    text = dump_yaml(doc)
    assert load_document(text) == doc
    assert validate_spec(load_document(text)) == []


TRICKY_STRINGS = [
    "on",
    "yes",
    "No",
    "off",
    "null",
    "~",
    "true",
    "1",
    "1.5",
    "0x10",
    "2025-01-31",
    "a: b",
    "- item",
    "# not a comment",
    "{{ amount }}",
    "'quoted'",
    '"double"',
    "  leading spaces",
    "trailing spaces  ",
    "two\nlines",
    "ends with a newline\n",
    "ends with blank lines\n\n",
    "tab\tinside",
    "unicode: café, 東京, 😀",
    'amount > 10000 && region == "EU"',
    "a long string " * 12,
    "a long line that ends with a newline " * 4 + "\n",
    "",
    " ",
    "%percent",
    "@at",
    "`backtick`",
    "*star",
    "&amp",
    "!bang",
    "|pipe",
    ">greater",
]


@pytest.mark.parametrize("text", TRICKY_STRINGS)
def test_strings_survive_a_round_trip(text):
    doc = minimal_document(description=text)
    doc["steps"][1]["params"]["message"] = text
    doc["transitions"][1]["name"] = text
    doc["variables"] = {"v": {"type": "string", "default": text, "label": text}}
    assert load_document(dump_yaml(doc)) == doc


def test_values_of_every_json_type_survive_a_round_trip():
    doc = minimal_document()
    doc["steps"][1] = {
        "key": "work",
        "type": "automated",
        "action": "tests_echo_params",
        "params": {
            "int": -3,
            "float": 2.5,
            "big": 10**20,
            "bools": [True, False],
            "none": None,
            "empty_list": [],
            "empty_map": {},
            "nested": [{"a": [1, {"b": None}]}, []],
        },
    }
    assert load_document(dump_yaml(doc)) == doc
