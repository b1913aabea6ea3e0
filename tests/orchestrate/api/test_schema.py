"""The OpenAPI schema at /api/schema/ describes every operation completely: a request
body and every documented answer have a schema and at least one example, every example
matches its schema, and every list is paginated the DRF way."""

import copy

import jsonschema
import pytest

API = "/api/v1/"
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema():
    # The schema view needs no database, and the test client parses its JSON.
    from django.test import Client

    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def operations(schema):
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", path, method, item[method]


def json_schema(node):
    """OpenAPI 3.0's `nullable` as JSON Schema's null type, everywhere in `node`."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        if "enum" in converted and None not in converted["enum"]:
            converted["enum"] = [*converted["enum"], None]
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def validator_for(schema, body_schema):
    document = {"allOf": [body_schema], "components": schema["components"]}
    return jsonschema.Draft202012Validator(json_schema(copy.deepcopy(document)))


def bodies(operation):
    """(what, media type object) for the request body and every answer."""
    if "requestBody" in operation:
        for media_type, content in operation["requestBody"]["content"].items():
            yield f"request {media_type}", content
    for code, answer in operation["responses"].items():
        contents = answer.get("content")
        if not contents:
            yield f"answer {code}", None
        for media_type, content in (contents or {}).items():
            yield f"answer {code} {media_type}", content


def test_the_schema_lists_the_whole_api(schema):
    names = {name for name, *_ in operations(schema)}

    assert {
        "POST /api/v1/instances/",
        "GET /api/v1/instances/",
        "GET /api/v1/tasks/",
        "POST /api/v1/tasks/{id}/complete/",
        "POST /api/v1/messages/",
        "POST /api/v1/events/",
    } <= names
    assert all(path.startswith(API) for _, path, *_ in operations(schema))


def test_every_body_and_answer_has_a_schema_and_an_example(schema):
    missing = []
    for name, _, _, operation in operations(schema):
        for what, content in bodies(operation):
            if content is None or "schema" not in content:
                missing.append(f"{name}: {what} has no schema")
            elif not content.get("examples"):
                missing.append(f"{name}: {what} has no example")

    assert missing == []


def test_every_example_matches_its_schema(schema):
    wrong = []
    for name, _, _, operation in operations(schema):
        for what, content in bodies(operation):
            if content is None or "schema" not in content:
                continue
            validator = validator_for(schema, content["schema"])
            for key, example in content.get("examples", {}).items():
                for error in validator.iter_errors(example["value"]):
                    wrong.append(f"{name}: {what} example {key!r}: {error.message}")

    assert wrong == []


def test_request_bodies_are_json(schema):
    media_types = {
        media_type
        for _, _, _, operation in operations(schema)
        for media_type in operation.get("requestBody", {}).get("content", {})
    }

    assert media_types == {"application/json", "application/cloudevents+json"}


def test_every_list_is_paginated_with_page_and_page_size(schema):
    lists = [
        (name, operation)
        for name, path, method, operation in operations(schema)
        if method == "get" and not path.endswith("{id}/")
    ]
    assert {name for name, _ in lists} == {
        "GET /api/v1/instances/",
        "GET /api/v1/instances/{id}/history/",
        "GET /api/v1/tasks/",
    }
    for name, operation in lists:
        parameters = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
        assert {"page", "page_size"} <= parameters, name
        page = operation["responses"]["200"]["content"]["application/json"]["schema"]
        component = schema["components"]["schemas"][page["$ref"].rsplit("/", 1)[1]]
        assert set(component["properties"]) == {"count", "next", "previous", "results"}, name
        assert component["properties"]["results"]["type"] == "array", name


@pytest.mark.parametrize(
    ("path", "filters", "choice", "value"),
    [
        ("/api/v1/instances/", {"workflow", "status", "business_key"}, "status", "running"),
        (
            "/api/v1/tasks/",
            {"scope", "workflow", "priority", "due", "q", "sla", "snoozed", "sort"},
            "priority",
            "urgent",
        ),
    ],
)
def test_a_list_documents_its_filters(schema, path, filters, choice, value):
    operation = schema["paths"][path]["get"]
    parameters = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}

    assert set(parameters) == {"page", "page_size", *filters}
    assert value in parameters[choice]["schema"]["enum"]
    assert parameters[choice]["schema"]["type"] == "string"


def test_an_operation_that_needs_credentials_documents_the_401(schema):
    without = [
        name
        for name, _, _, operation in operations(schema)
        if {} not in operation.get("security", [{}]) and "401" not in operation["responses"]
    ]

    assert without == []
    demo = schema["paths"]["/api/v1/demo/purchase-orders/"]["post"]
    assert "401" not in demo["responses"]
