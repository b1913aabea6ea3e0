"""Declared start variables: types, required values and defaults."""

import datetime

TYPES = ("string", "number", "integer", "boolean", "date", "datetime", "list", "object")


def _check(type_name, value):
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "boolean":
        return isinstance(value, bool)
    if type_name == "list":
        return isinstance(value, list)
    if type_name == "object":
        return isinstance(value, dict)
    if type_name == "date":
        try:
            datetime.date.fromisoformat(value)
        except (TypeError, ValueError):
            return False
        return True
    if type_name == "datetime":
        try:
            datetime.datetime.fromisoformat(value)
        except (TypeError, ValueError):
            return False
        return True
    return True


_ARTICLE = {"integer": "an integer", "object": "an object"}


def validate_start_variables(declared, variables):
    """Return (variables with defaults applied, {name: message}) for a start."""
    if not isinstance(variables, dict):
        return {}, {"variables": "must be an object of name: value"}
    values = dict(variables)
    errors = {}
    for name, rules in (declared or {}).items():
        rules = rules or {}
        type_name = rules.get("type", "string")
        if values.get(name) is None:
            if "default" in rules:
                values[name] = rules["default"]
            elif rules.get("required"):
                errors[name] = "This variable is required."
                continue
            else:
                continue
        if not _check(type_name, values[name]):
            expected = _ARTICLE.get(type_name, f"a {type_name}")
            if type_name in ("date", "datetime"):
                expected += " in ISO 8601 form"
            errors[name] = f"Must be {expected}; got {values[name]!r}."
    return values, errors
