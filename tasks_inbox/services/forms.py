"""Server-side validation of a human step's `form` fields.

Values may come as JSON (the API) or as text (an HTML form); text is converted to the
field's type. Required fields are required for every outcome except a rejection
(`reject`): nobody should have to invent a cost centre to say no.
"""

import datetime

NO_FORM_OUTCOMES = ("reject",)


def _convert(field_type, value):
    if field_type == "number":
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, str):
            value = float(value.strip().replace(",", "."))
            return int(value) if value.is_integer() else value
        if isinstance(value, int | float):
            return value
        raise ValueError
    if field_type == "integer":
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, str):
            return int(value.strip())
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int):
            return value
        raise ValueError
    if field_type == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "on", "yes", "1"):
            return True
        if isinstance(value, str) and value.lower() in ("false", "off", "no", "0"):
            return False
        raise ValueError
    if field_type == "date":
        return datetime.date.fromisoformat(str(value)).isoformat()
    if field_type == "datetime":
        return datetime.datetime.fromisoformat(str(value)).isoformat()
    if field_type == "list":
        if isinstance(value, list):
            return value
        raise ValueError
    if field_type == "object":
        if isinstance(value, dict):
            return value
        raise ValueError
    if not isinstance(value, str):
        raise ValueError
    return value.strip()


_EXPECTED = {
    "number": "a number",
    "integer": "a whole number",
    "boolean": "yes or no",
    "date": "a date (YYYY-MM-DD)",
    "datetime": "a date and time",
    "list": "a list",
    "object": "an object",
    "string": "text",
}


def clean_form(form, data, outcome):
    """Return (values, {field: message}) for `data` against the step's `form`."""
    data = data or {}
    values, errors = {}, {}
    if not isinstance(data, dict):
        return {}, {"data": "Must be an object of field: value."}
    known = {field["name"] for field in form}
    for name in data:
        if name not in known:
            errors[name] = "This task has no such field."
    for field in form:
        name = field["name"]
        field_type = field.get("type", "string")
        raw = data.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip() and field_type != "boolean"):
            if field.get("required") and outcome not in NO_FORM_OUTCOMES:
                errors[name] = "This field is required."
            elif "default" in field:
                values[name] = field["default"]
            continue
        try:
            value = _convert(field_type, raw)
        except (TypeError, ValueError):
            errors[name] = f"Enter {_EXPECTED.get(field_type, field_type)}."
            continue
        if "min" in field and value < field["min"]:
            errors[name] = f"Must be at least {field['min']}."
            continue
        if "max" in field and value > field["max"]:
            errors[name] = f"Must be at most {field['max']}."
            continue
        values[name] = value
    return values, errors
