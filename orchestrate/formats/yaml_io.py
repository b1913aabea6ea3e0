"""Reading and writing workflow documents as YAML (or JSON).

YAML is read with the YAML 1.2 idea of booleans: only `true` and `false` are booleans, so
`on: approve` keeps its key `on` and an outcome `yes` stays a word (PyYAML's YAML 1.1
rules would turn both into booleans). Dates are not converted either; a JSON document
gives the same values as its YAML twin. Duplicate keys in a mapping are syntax errors.
"""

import json
import re

import yaml
from yaml.constructor import ConstructorError

from .errors import DocumentSyntaxError, FormatError
from .validation import (
    APPROVERS_KEYS,
    ASSIGN_KEYS,
    COMMON_STEP_KEYS,
    ESCALATION_KEYS,
    ESCALATION_TARGET_KEYS,
    FORM_FIELD_KEYS,
    RETRY_KEYS,
    START_ON_KEYS,
    STEP_KEYS,
    TOP_LEVEL_KEYS,
    TRANSITION_KEYS,
    VARIABLE_KEYS,
)

_BOOL_TAG = "tag:yaml.org,2002:bool"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_BOOL_PATTERN = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")


def _resolvers(base, *, drop):
    """`base`'s implicit resolvers without the tags in `drop`, plus YAML 1.2 booleans."""
    resolvers = {
        first: [(tag, regexp) for tag, regexp in entries if tag not in drop]
        for first, entries in base.yaml_implicit_resolvers.items()
    }
    for first in "tTfF":
        resolvers.setdefault(first, []).append((_BOOL_TAG, _BOOL_PATTERN))
    return resolvers


class _Loader(yaml.SafeLoader):
    yaml_implicit_resolvers = _resolvers(yaml.SafeLoader, drop={_BOOL_TAG, _TIMESTAMP_TAG})

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, _value_node in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=deep)
                try:
                    duplicate = key in seen
                except TypeError:
                    continue  # an unhashable key; the base class reports it
                if duplicate:
                    raise ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"found duplicate key {key!r}",
                        key_node.start_mark,
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _Dumper(yaml.SafeDumper):
    # Strings that our loader reads back as strings are written plain (`on: approve`);
    # timestamps stay quoted so other YAML tools do not read them as dates.
    yaml_implicit_resolvers = _resolvers(yaml.SafeDumper, drop={_BOOL_TAG})

    def ignore_aliases(self, data):
        return True

    def increase_indent(self, flow=False, indentless=False):
        # Indent list items under their key, as the format's examples do.
        return super().increase_indent(flow, False)


class Document(dict):
    """A document read by `load_document`: a dict that also knows the line of each place
    (`lines[("steps", 3, "assign")] == 42`), so errors can point into the file."""

    def __init__(self, *args, lines=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines or {}


def load_document(text_or_bytes, filename=None):
    """Parse a workflow file (YAML, or JSON when `filename` ends in .json or the text is a
    JSON object). Returns the data (a `Document` when it is a mapping); raises
    DocumentSyntaxError with the line and column of a syntax error."""
    text = text_or_bytes
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DocumentSyntaxError(
                [FormatError("", f"the file is not UTF-8 text (byte {exc.start})")]
            ) from None
    if (filename and str(filename).lower().endswith(".json")) or text.lstrip().startswith("{"):
        try:
            return _load_json(text)
        except json.JSONDecodeError as exc:
            if filename and str(filename).lower().endswith(".json"):
                raise DocumentSyntaxError(
                    [
                        FormatError(
                            "",
                            f"JSON syntax error at line {exc.lineno}, column {exc.colno}: "
                            f"{exc.msg}",
                            line=exc.lineno,
                        )
                    ]
                ) from None
            # Not JSON after all: a YAML flow mapping, read below.
    return _load_yaml(text)


def _load_json(text):
    def unique_pairs(pairs):
        result = {}
        for key, value in pairs:
            if key in result:
                raise json.JSONDecodeError(f"duplicate key {key!r}", text, 0)
            result[key] = value
        return result

    data = json.loads(text, object_pairs_hook=unique_pairs)
    return Document(data) if isinstance(data, dict) else data


def _load_yaml(text):
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if mark is None:
            raise DocumentSyntaxError([FormatError("", f"YAML syntax error: {problem}")]) from None
        line, column = mark.line + 1, mark.column + 1
        raise DocumentSyntaxError(
            [
                FormatError(
                    "", f"YAML syntax error at line {line}, column {column}: {problem}", line=line
                )
            ]
        ) from None
    except yaml.YAMLError as exc:
        raise DocumentSyntaxError([FormatError("", f"YAML syntax error: {exc}")]) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        return data
    lines = {}
    _record_lines(node, data, (), lines)
    return Document(data, lines=lines)


def _record_lines(node, data, loc, lines):
    """Walk the YAML node tree alongside the data it gave and note each place's line."""
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode) and isinstance(data, dict):
        # Merge keys (`<<`) reorder pairs; give up below such a mapping.
        if len(node.value) != len(data) or any(k.tag == _MERGE_TAG for k, _ in node.value):
            return
        for (key_node, value_node), (key, value) in zip(node.value, data.items(), strict=True):
            _record_lines(value_node, value, (*loc, key), lines)
            # A key's own line is more useful than where its value starts.
            lines[(*loc, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode) and isinstance(data, list):
        for index, (item_node, item) in enumerate(zip(node.value, data, strict=False)):
            _record_lines(item_node, item, (*loc, index), lines)


# --- writing ----------------------------------------------------------------------------


_WIDTH = 96  # PyYAML folds long strings a little past this column
_LONG_STRING = 80


class _Flow(dict):
    """A mapping written on one line: `{from: a, to: b}`."""


def _represent_flow(dumper, data):
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)


def _represent_dict(dumper, data):
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=False)


def _represent_list(dumper, data):
    scalars = all(isinstance(item, str | int | float | bool) or item is None for item in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=scalars)


def _represent_str(dumper, data):
    # Several lines keep their breaks; a long line is folded at the output width.
    # (The emitter falls back to quotes where a block scalar is not allowed.)
    if "\n" in data.rstrip("\n"):
        style = "|"
    elif data.endswith("\n") or len(data) > _LONG_STRING:
        style = ">"
    else:
        style = None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(_Flow, _represent_flow)
_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(Document, _represent_dict)
_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(str, _represent_str)


def _fits_one_line(mapping, indent):
    """Whether `{k: v, ...}` fits the line after `indent` columns; long or multi-line
    values read better as a block (PyYAML would break a long flow mapping mid-line)."""
    parts = []
    for key, value in mapping.items():
        # Counting quotes around every string errs on the short side.
        text = f"'{value}'" if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        parts.append(f"{key}: {text}")
    line = "{" + ", ".join(parts) + "}"
    return "\n" not in line and indent + len(line) <= _WIDTH


def _ordered(mapping, order, *, flow_indent=None):
    """A copy of `mapping` with the keys of `order` first, in that order, then the rest
    sorted, so the output does not depend on how the database stored the JSON. With
    `flow_indent` (the column it starts at), the copy is written on one line if it fits."""
    known = [k for k in order if k in mapping]
    rest = sorted((k for k in mapping if k not in order), key=str)
    flow = flow_indent is not None and _fits_one_line(mapping, flow_indent)
    result = _Flow() if flow else {}
    for key in known + rest:
        result[key] = mapping[key]
    return result


def _ordered_step(step):
    if not isinstance(step, dict):
        return step
    step_type = step.get("type")
    simple = all(isinstance(v, str | int | float | bool) or v is None for v in step.values())
    result = _ordered(
        step, COMMON_STEP_KEYS + STEP_KEYS.get(step_type, ()), flow_indent=4 if simple else None
    )
    if isinstance(result.get("retry"), dict):
        result["retry"] = _ordered(result["retry"], RETRY_KEYS, flow_indent=11)
    if isinstance(result.get("assign"), dict):
        result["assign"] = _ordered(result["assign"], ASSIGN_KEYS)
    if isinstance(result.get("approvers"), dict):
        result["approvers"] = _ordered(result["approvers"], APPROVERS_KEYS)
    if isinstance(result.get("form"), list):
        result["form"] = [
            _ordered(f, FORM_FIELD_KEYS, flow_indent=8) if isinstance(f, dict) else f
            for f in result["form"]
        ]
    if isinstance(result.get("escalation"), list):
        result["escalation"] = [_ordered_escalation(level) for level in result["escalation"]]
    return result


def _ordered_escalation(level):
    if not isinstance(level, dict):
        return level
    result = _ordered(level, ESCALATION_KEYS, flow_indent=8)
    if isinstance(result.get("to"), dict):
        result["to"] = _ordered(result["to"], ESCALATION_TARGET_KEYS)
    return result


def ordered_spec(doc):
    """`doc` with the exporter's key order: format, kind, key, name, description,
    variables, calendar, start_on, steps, transitions; steps start with key, type, name."""
    result = _ordered(doc, TOP_LEVEL_KEYS)
    if isinstance(result.get("variables"), dict):
        result["variables"] = {
            name: _ordered(spec, VARIABLE_KEYS, flow_indent=len(str(name)) + 4)
            if isinstance(spec, dict)
            else spec
            for name, spec in result["variables"].items()
        }
    if isinstance(result.get("start_on"), dict):
        result["start_on"] = _ordered(result["start_on"], START_ON_KEYS)
    if isinstance(result.get("steps"), list):
        result["steps"] = [_ordered_step(step) for step in result["steps"]]
    if isinstance(result.get("transitions"), list):
        result["transitions"] = [
            _ordered(t, TRANSITION_KEYS, flow_indent=4) if isinstance(t, dict) else t
            for t in result["transitions"]
        ]
    return result


def dump_yaml(doc):
    """The document as YAML text in a stable, readable layout (one line per transition)."""
    return yaml.dump(
        ordered_spec(doc),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=_WIDTH,
        indent=2,
    )
