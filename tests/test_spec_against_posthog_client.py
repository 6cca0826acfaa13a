"""The spec against PostHog's newest generated client (issue 11).

tests/fixtures/posthog-client-operations.json holds the facts of the generated client's insights
and elements operations (products/product_analytics/frontend/generated/api.schemas.ts and api.ts
@ 0600a929): every operation, its query parameters, and its request and response fields with
their types, nullability and read-only marks. Every one of them must be in the spec as the client
has it, or an x-fidelity note of the operation (or of a schema it uses) must name it in backticks
and say why the spec differs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator, Mapping

import pytest

from posthog_spec import Operation, default_spec

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "posthog-client-operations.json"
CLIENT = json.loads(FIXTURE.read_text(encoding="utf-8"))
SPEC = default_spec()


def client_operations() -> list[dict[str, Any]]:
    return CLIENT["operations"]


def types_of(schema: Any) -> set[str]:
    """JSON Schema types a schema admits (through refs and unions), "null" included."""
    schema = SPEC.resolve(schema) or {}
    declared = schema.get("type")
    found = set(declared) if isinstance(declared, list) else ({declared} if declared else set())
    for keyword in ("oneOf", "anyOf", "allOf"):
        for branch in schema.get(keyword, []):
            found |= types_of(branch)
    if "const" in schema or "enum" in schema:
        values = [schema["const"]] if "const" in schema else schema["enum"]
        found |= {{bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}.get(type(v), "object")
                  for v in values}
    return found


def properties(schema: Any) -> dict[str, Any]:
    """Every property of an object schema, through refs, allOf and anyOf/oneOf branches."""
    schema = SPEC.resolve(schema) or {}
    found = dict(schema.get("properties", {}))
    for keyword in ("allOf", "anyOf", "oneOf"):
        for branch in schema.get(keyword, []):
            for name, prop in properties(branch).items():
                found.setdefault(name, prop)
    return found


def response_schema(op: Operation) -> Any:
    response = op.responses.get(str(op.success_status()), {})
    return response.get("content", {}).get("application/json", {}).get("schema")


def notes_naming(op: Operation, *schemas: Any) -> str:
    """The text of every note that may explain a difference of this operation."""
    notes = list(op.fidelity)
    for schema in schemas:
        for ref in _refs(schema):
            notes += SPEC.components["schemas"][ref.rsplit("/", 1)[1]].get("x-fidelity", [])
    return " ".join(str(value) for note in notes for value in note.values())


def _refs(schema: Any) -> Iterator[str]:
    if isinstance(schema, Mapping):
        if "$ref" in schema and schema["$ref"].startswith("#/components/schemas/"):
            yield schema["$ref"]
            yield from _refs(SPEC.resolve(schema))
        for value in schema.values():
            yield from _refs(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _refs(value)


def differences(client_op: dict[str, Any]) -> list[str]:
    op = SPEC.operation(client_op["operationId"])
    found: list[str] = []
    if (op.method, op.path) != (client_op["method"], client_op["path"]):
        found.append(f"route: spec {op.method} {op.path}, client {client_op['method']} {client_op['path']}")
    for name, param in client_op["query_parameters"].items():
        ours = op.parameter(name)
        if ours is None:
            found.append(f"query parameter `{name}` is missing")
        elif not ours.json_encoded and param["type"] != "any" and param["type"] not in types_of(ours.schema):
            found.append(f"query parameter `{name}`: client {param['type']}, spec {sorted(types_of(ours.schema))}")
    request = properties(op.body_schema) if op.body_schema else {}
    for name, field in client_op.get("request_fields", {}).items():
        found += _field_differences("request field", name, field, request.get(name))
    response_schema_ = response_schema(op)
    response = properties(response_schema_)
    if client_op.get("paginated"):
        response = properties(SPEC.resolve(response.get("results", {})).get("items"))
    elif client_op.get("response_is_array"):
        response = properties(SPEC.resolve(response_schema_).get("items"))
    for name, field in client_op.get("response_fields", {}).items():
        found += _field_differences("response field", name, field, response.get(name))
    notes = notes_naming(op, op.body_schema, response_schema_)
    return [difference for difference in found if f"`{difference.split('`')[1]}`" not in notes]


def _field_differences(kind: str, name: str, field: dict[str, Any], ours: Any) -> list[str]:
    if ours is None:
        return [f"{kind} `{name}` is missing"]
    problems = []
    types = types_of(ours)
    if field["type"] != "any" and types and field["type"] not in types and not (field["type"] == "number" and "integer" in types):
        problems.append(f"{kind} `{name}`: client {field['type']}, spec {sorted(types)}")
    if field.get("nullable") and types and "null" not in types:
        problems.append(f"{kind} `{name}` is nullable in the client, not in the spec")
    if kind == "response field" and field.get("read_only") and not SPEC.resolve(ours).get("readOnly") and "readOnly" not in str(ours):
        problems.append(f"{kind} `{name}` is read-only in the client, not in the spec")
    if field.get("max_length") and SPEC.resolve(ours).get("maxLength") not in (None, field["max_length"]):
        problems.append(f"{kind} `{name}`: client maxLength {field['max_length']}, spec {SPEC.resolve(ours).get('maxLength')}")
    return problems


def test_the_fixture_holds_the_client_as_read():
    ids = [op["operationId"] for op in client_operations()]
    assert len(ids) == len(set(ids)) == 25
    assert "insights_bulk_set_test_account_filter_create" in ids


@pytest.mark.parametrize("operation_id", [op["operationId"] for op in client_operations()])
def test_every_client_operation_is_in_the_spec(operation_id):
    assert operation_id in {op.operation_id for op in SPEC.operations}
    assert f"environments_{operation_id}" in {op.operation_id for op in SPEC.operations}


@pytest.mark.parametrize("client_op", client_operations(), ids=[op["operationId"] for op in client_operations()])
def test_the_spec_has_every_parameter_and_field_of_the_client_or_a_note_says_why(client_op):
    found = differences(client_op)
    assert not found, f"{client_op['operationId']}: not in the spec, and no x-fidelity note names them:\n" + "\n".join(found)


def test_a_difference_is_only_forgiven_by_a_note_that_names_it():
    """The test itself: an operation of the client with an extra parameter nobody noted fails."""
    invented = {**client_operations()[0], "query_parameters": {"no_such_parameter": {"type": "string"}}}
    assert differences(invented) == ["query parameter `no_such_parameter` is missing"]
