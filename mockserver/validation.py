"""Validate the request against the spec, answering in PostHog's error shape.

Validators are compiled once per operation at start-up (jsonschema-rs); the request path only
runs them. Only the first problem is reported, as PostHog does, in the order DRF would find it
(fields in the spec's order, then the kind of problem). Texts are DRF's defaults unless the spec
gives PostHog's own in `x-posthog-errors` (the conditions are listed in the spec's header).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from mockserver import errors
from mockserver.spec import Operation, Parameter, Spec

INTEGER = re.compile(r"^-?[0-9]+$")
BOOLEANS = {"true": True, "false": False}
CONDITIONS = ("required", "null", "empty", "falsy", "type", "range", "length", "choice", "invalid", "unknown")
FALLBACKS = {"falsy": ("falsy", "type", "invalid"), "unknown": ()}
IGNORED_BODY_FIELDS = {"personal_api_key"}  # read by authentication, not part of the resource


@dataclass(frozen=True)
class Problem:
    """One failed check: the top-level field it is about, its condition, and DRF's default answer."""

    field: str | None
    condition: str
    code: str
    detail: str
    attr: str | None

    def entry(self, spec_errors: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The spec's `x-posthog-errors` entry for this condition, if any."""
        for condition in FALLBACKS.get(self.condition, (self.condition, "invalid")):
            if condition in spec_errors:
                return spec_errors[condition]
        return None

    def error(self, spec_errors: Mapping[str, Any], body: Mapping[str, Any] | None = None) -> errors.APIError:
        """PostHog's answer for this condition when the spec gives one, else DRF's default."""
        found = self.entry(spec_errors)
        if found is None:
            return errors.validation_error(self.detail, self.attr, code=self.code)
        entry = {"code": self.code, **found}
        if body is not None and "detail" in entry:
            fields = {k: v for k, v in body.items() if isinstance(v, str)}
            entry["detail"] = entry["detail"].format_map(_Blank(fields))
        return errors.APIError.from_spec(entry, attr=self.attr, detail=self.detail)


class RequestValidator:
    """Everything one operation needs to check a request, compiled once."""

    def __init__(self, spec: Spec, operation: Operation):
        self.spec = spec
        self.operation = operation
        self.query_params = [p for p in operation.parameters if p.location == "query"]
        self.path_params = [
            p for p in operation.parameters if p.location == "path" and p.name != operation.project_param
        ]
        self.param_validators = {(p.location, p.name): spec.validator(p.schema) for p in operation.parameters}
        self.body_validator = spec.validator(operation.body_schema) if operation.body_schema else None
        self.body_properties = spec.resolve(operation.body_schema).get("properties", {}) if operation.body_schema else {}
        self.read_only_fields = self._read_only_fields()

    # Parameters ---------------------------------------------------------------------------------
    def path(self, raw: Mapping[str, str]) -> dict[str, Any]:
        return {p.name: self._parameter(p, raw[p.name]) for p in self.path_params}

    def query(self, raw: Mapping[str, str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for param in self.query_params:
            if param.name in raw and param.checked_by_handler:
                values[param.name] = raw[param.name]  # the handler tells its failures apart
            elif param.name in raw:
                values[param.name] = self._parameter(param, raw[param.name])
            elif param.required:
                raise Problem(param.name, "required", "required", "This field is required.", param.name).error(param.errors)
            elif param.default is not None:
                values[param.name] = param.default
        return values

    def _parameter(self, param: Parameter, raw: str) -> Any:
        value, ok = _coerce(param, raw)
        if not ok:
            code, detail = _unparsable(param.schema, raw)
            raise Problem(param.name, "falsy" if not raw else "type", code, detail, param.name).error(param.errors)
        found = list(self.param_validators[(param.location, param.name)].iter_errors(value))
        if found:
            raise _about_value(param.name, found, value).error(param.errors)
        return value

    # Body ---------------------------------------------------------------------------------------
    def body(self, parsed: Any, *, sent: bool = False) -> Any:
        """The body as the handler sees it: the caller's key field and read-only fields left out.

        No body is an empty object, but a JSON `null` is refused as DRF refuses it
        (Serializer.errors: "No data provided", code null).
        """
        if self.body_validator is None:
            return None
        if parsed is None and sent:
            raise errors.validation_error("No data provided", None, code="null")
        body = {} if parsed is None else parsed
        if not isinstance(body, dict):
            raise errors.validation_error(f"Invalid data. Expected a dictionary, but got {_python_type(body)}.", None)
        body = {k: v for k, v in body.items() if k not in IGNORED_BODY_FIELDS and k not in self.read_only_fields}
        found = list(self.body_validator.iter_errors(body))
        if found:
            raise self._first_body_error(body, found)
        return body

    def _first_body_error(self, body: dict[str, Any], found: list[Any]) -> errors.APIError:
        order = list(self.body_properties)
        problems = [problem for error in found for problem in self._body_problems(body, error)]
        problem = min(
            problems,
            key=lambda p: (order.index(p.field) if p.field in order else len(order), CONDITIONS.index(p.condition)),
        )
        spec_errors = self.body_properties.get(problem.field, {}).get("x-posthog-errors", {})
        if (problem.entry(spec_errors) or {}).get("code") == "parse_error":
            # PostHog's parser validates the query with pydantic: the text says where it failed.
            detail = _query_problem(self.spec, self.body_properties[problem.field], body[problem.field], [])
            problem = Problem(problem.field, problem.condition, "parse_error", detail, None)
        return problem.error(spec_errors, body)

    def _body_problems(self, body: dict[str, Any], error: Any) -> list[Problem]:
        path, kind = list(error.instance_path), type(error.kind).__name__
        if not path and kind == "Required":
            name = error.kind.property
            return [Problem(name, "required", "required", "This field is required.", name)]
        if not path and kind == "AdditionalProperties":
            return [Problem(name, "unknown", "invalid_input", "Unknown field.", name) for name in error.kind.unexpected]
        if not path:
            code, detail = _default_message(error, body)
            return [Problem(None, "invalid", code, detail, None)]
        if len(path) == 1:
            return [_about_value(path[0], [error], body.get(path[0]), depth=1)]
        code, detail = _default_message(error, error.instance)
        return [Problem(path[0], "invalid", code, detail, "__".join(str(p) for p in path))]

    def _read_only_fields(self) -> set[str]:
        """Fields of the written resource that PostHog ignores on a write (DRF drops read-only input)."""
        if not self.operation.body_schema:
            return set()
        success = self.operation.responses.get(str(self.operation.success_status()), {})
        schema = success.get("content", {}).get("application/json", {}).get("schema")
        if not schema:
            return set()
        properties = self.spec.resolve(schema).get("properties", {})
        read_only = {name for name, prop in properties.items() if self.spec.resolve(prop).get("readOnly")}
        return read_only - set(self.body_properties)


def compile_validators(spec: Spec, operations: Iterable[Operation]) -> dict[str, RequestValidator]:
    return {op.operation_id: RequestValidator(spec, op) for op in operations}


# JSON, for bodies and JSON-encoded query parameters ---------------------------------------------
def load_json(raw: str | bytes) -> Any:
    """JSON as the mock keeps it; ValueError for anything it could not store or send back.

    `NaN`/`Infinity`, numbers that overflow a float (`1e400`) and lone UTF-16 surrogates
    (`"\\ud800"`, valid JSON but no UTF-8 text) are refused like a syntax error. `1.0` is the
    integer 1 to JSON Schema, so integral floats become ints, to be stored and sent back as ints.
    """
    return _normalized(json.loads(raw, parse_constant=_refuse_constant))


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"Out of range float values are not JSON compliant: {name}")


def _normalized(value: Any) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("Out of range float values are not JSON compliant")
        return int(value) if value.is_integer() and math.fabs(value) < 2**63 else value
    if isinstance(value, str):
        return _utf8(value)
    if isinstance(value, list):
        return [_normalized(v) for v in value]
    if isinstance(value, dict):
        return {_utf8(k): _normalized(v) for k, v in value.items()}
    return value


def _utf8(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("a string holds a lone surrogate (\\ud800-\\udfff), which is not text") from None
    return text


# Conditions and DRF's texts -------------------------------------------------------------------------
def _about_value(name: str, found: list[Any], value: Any, depth: int = 0) -> Problem:
    """The most telling problem with one value (a parameter, or a body field at `depth` 1)."""
    problems = []
    for error in found:
        kind = type(error.kind).__name__
        code, detail = _default_message(error, value)
        if len(list(error.instance_path)) > depth:
            code, detail = _default_message(error, error.instance)
            condition = "invalid"
        elif value is None and kind in ("Type", "OneOfNotValid", "AnyOf"):
            condition = "null"
        elif value in ({}, [], "") and kind in ("MinProperties", "MinItems", "MinLength"):
            condition = "empty"
        elif kind == "Type":
            condition = "type" if value else "falsy"
        elif kind in ("Minimum", "Maximum", "ExclusiveMinimum", "ExclusiveMaximum"):
            condition = "range"
        elif kind in ("MaxLength", "MinLength", "MaxItems", "MinItems"):
            condition = "length"
        elif kind in ("Enum", "Constant"):
            condition = "choice"
        else:
            condition = "invalid"
        problems.append(Problem(name, condition, code, detail, name))
    return min(problems, key=lambda p: CONDITIONS.index(p.condition))


def _default_message(error: Any, value: Any) -> tuple[str, str]:
    """DRF's code and text for a failed JSON Schema keyword."""
    kind, name = error.kind, type(error.kind).__name__
    if value is None and name == "Type":
        return "null", "This field may not be null."
    if name == "Type":
        expected = [t for t in _types(kind) if t != "null"]
        return _type_message(expected[0] if expected else "string", value)
    if name == "MaxLength":
        return "max_length", f"Ensure this field has no more than {kind.limit} characters."
    if name == "MinLength":
        if value == "":
            return "blank", "This field may not be blank."
        return "min_length", f"Ensure this field has at least {kind.limit} characters."
    if name == "MaxItems":
        return "max_length", f"Ensure this field has no more than {kind.limit} elements."
    if name == "MinItems":
        if value == []:
            return "empty", "This list may not be empty."
        return "min_length", f"Ensure this field has at least {kind.limit} elements."
    if name == "Minimum":
        return "min_value", f"Ensure this value is greater than or equal to {_number(kind.limit)}."
    if name == "Maximum":
        return "max_value", f"Ensure this value is less than or equal to {_number(kind.limit)}."
    if name == "ExclusiveMinimum":
        return "min_value", f"Ensure this value is greater than {_number(kind.limit)}."
    if name == "ExclusiveMaximum":
        return "max_value", f"Ensure this value is less than {_number(kind.limit)}."
    if name in ("Enum", "Constant"):
        return "invalid_choice", f'"{_scalar_text(value)}" is not a valid choice.'
    if name == "Format":
        return "invalid", f"Enter a valid {kind.format.replace('-', ' ')}."
    if name == "MinProperties":
        return "empty", "This field may not be empty."
    return "invalid", "Invalid value."


def _type_message(expected: str, value: Any) -> tuple[str, str]:
    return {
        "integer": ("invalid", "A valid integer is required."),
        "number": ("invalid", "A valid number is required."),
        "boolean": ("invalid", "Must be a valid boolean."),
        "string": ("invalid", "Not a valid string."),
        "array": ("not_a_list", f'Expected a list of items but got type "{_python_type(value)}".'),
        "object": ("invalid", f'Expected a dictionary of items but got type "{_python_type(value)}".'),
    }.get(expected, ("invalid", "Invalid value."))


def _unparsable(schema: Mapping[str, Any], raw: str) -> tuple[str, str]:
    """The answer for a query string that is not even of the parameter's type."""
    expected = schema.get("type", "string")
    if expected in ("array", "object") or "type" not in schema:
        return "invalid", "Value must be valid JSON."
    return _type_message(expected, raw)


def _coerce(param: Parameter, raw: str) -> tuple[Any, bool]:
    """A query or path string as the JSON type its schema expects (False when it cannot be)."""
    if param.json_encoded:
        try:
            return load_json(raw), True
        except (ValueError, RecursionError):
            return None, False
    expected = param.schema.get("type")
    if expected == "integer":
        try:
            return (int(raw), True) if INTEGER.match(raw) else (None, False)
        except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
            return None, False
    if expected == "number":
        try:
            number = float(raw)
        except ValueError:
            return None, False
        return (number, True) if math.isfinite(number) else (None, False)
    if expected == "boolean":
        return (BOOLEANS[raw], True) if raw in BOOLEANS else (None, False)
    return raw, True


# Queries that do not parse: pydantic-like texts ------------------------------------------------------
def _query_problem(spec: Spec, schema: Mapping[str, Any], value: Any, location: list[str]) -> str:
    """Walk a `kind`-discriminated union down to the first problem: `<location>: <problem>`."""
    resolved = spec.resolve(schema)
    prefix = f"{'.'.join(location)}: " if location else ""
    branches = resolved.get("oneOf")
    if branches:
        if not isinstance(value, dict):
            return f"{prefix}Input should be a valid dictionary or instance of a model"
        tags = {spec.resolve(b).get("properties", {}).get("kind", {}).get("const"): b for b in branches}
        if not isinstance(value.get("kind"), str):
            return f"{prefix}Unable to extract tag using discriminator 'kind'"
        if value["kind"] not in tags:
            expected = ", ".join(f"'{tag}'" for tag in tags if tag)
            return f"{prefix}Input tag '{value['kind']}' found using 'kind' does not match any of the expected tags: {expected}"
        return _query_problem(spec, tags[value["kind"]], value, location)
    found = sorted(spec.validator(schema).iter_errors(value), key=lambda e: len(list(e.instance_path)))
    if not found:
        return f"{prefix}Invalid query"
    first = found[0]
    path = list(first.instance_path)
    if type(first.kind).__name__ == "OneOfNotValid":
        inner = _schema_at(spec, resolved, path)
        if inner is not None:
            target = value
            for step in path:
                target = target[step]
            return _query_problem(spec, inner, target, [*location, *map(str, path)])
    if type(first.kind).__name__ == "Required":
        path = [*path, first.kind.property]
    where = ".".join([*location, *map(str, path)])
    return f"{where + ': ' if where else ''}{_pydantic_text(first)}"


def _schema_at(spec: Spec, schema: Mapping[str, Any], path: list[Any]) -> Mapping[str, Any] | None:
    """The subschema that validates the value at `path` (through properties and list items)."""
    for step in path:
        schema = spec.resolve(schema)
        if isinstance(step, int) and "items" in schema:
            schema = schema["items"]
        elif isinstance(step, str) and step in schema.get("properties", {}):
            schema = schema["properties"][step]
        else:
            return None
    return schema


def _pydantic_text(error: Any) -> str:
    kind, name = error.kind, type(error.kind).__name__
    if name == "Required":
        return "Field required"
    if name == "AdditionalProperties":
        return f"Extra inputs are not permitted: {', '.join(kind.unexpected)}"
    if name == "Type":
        expected = [t for t in _types(kind) if t != "null"]
        return f"Input should be a valid {expected[0] if expected else 'value'}"
    if name in ("Enum", "Constant"):
        return "Input should be one of the allowed values"
    if name in ("MaxLength", "MinLength"):
        return f"String should have at {'most' if name == 'MaxLength' else 'least'} {kind.limit} characters"
    if name in ("MaxItems", "MinItems"):
        return f"List should have at {'most' if name == 'MaxItems' else 'least'} {kind.limit} items"
    if name in ("Minimum", "ExclusiveMinimum", "Maximum", "ExclusiveMaximum"):
        relation = "greater" if "Min" in name else "less"
        inclusive = " or equal to" if not name.startswith("Exclusive") else ""
        return f"Input should be {relation} than{inclusive} {_number(kind.limit)}"
    return error.message


def _types(kind: Any) -> list[str]:
    types = kind.types
    return [str(t).lower() for t in (types if isinstance(types, (list, tuple)) else [types])]


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _scalar_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _python_type(value: Any) -> str:
    return {dict: "dict", list: "list", str: "str", int: "int", float: "float", bool: "bool"}.get(type(value), "NoneType")


class _Blank(dict):
    """format_map that leaves unknown `{names}` empty."""

    def __missing__(self, key: str) -> str:
        return ""
