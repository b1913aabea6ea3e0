"""Display templates: `{{ amount }}` or `{{ customer.name }}` insert a variable; nothing
else runs. Output is plain text; pages escape it when they render it."""

import json
import re

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}")
_WHOLE = re.compile(r"^\s*\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}\s*$")
_MISSING = object()


def lookup(context, dotted):
    value = context
    for part in dotted.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def _as_text(value):
    if value is _MISSING or value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def render(template, context):
    """Render a template string; unknown names render as empty text."""
    if not isinstance(template, str):
        return template
    return _PLACEHOLDER.sub(lambda m: _as_text(lookup(context, m.group(1))), template)


def render_value(value, context):
    """Render the strings inside params. A string that is one placeholder keeps the
    variable's own type (a number stays a number in a JSON body)."""
    if isinstance(value, str):
        whole = _WHOLE.match(value)
        if whole:
            found = lookup(context, whole.group(1))
            return None if found is _MISSING else found
        return render(value, context)
    if isinstance(value, dict):
        return {k: render_value(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render_value(v, context) for v in value]
    return value
