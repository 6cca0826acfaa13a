"""Validate the request against the spec, answering in PostHog's error shape.

Validators are compiled once per operation at start-up (jsonschema-rs); the request path only
runs them. Only the first problem is reported, as PostHog does, in the order DRF would find it
(fields in the spec's order, then the kind of problem). Texts are DRF's defaults unless the spec
gives PostHog's own in `x-posthog-errors` (the conditions are listed in the spec's header); a
body field marked `x-legacy-write` is refused as PostHog refuses legacy filter writes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from mockserver import errors
from mockserver.call import Call
from mockserver.json_values import load_json
from mockserver.messages import Messages, python_type
from posthog_spec import Operation, Parameter, PostHogText, Said, Spec

INTEGER = re.compile(r"^-?[0-9]+$")
# Query-string booleans as PostHog's str_to_bool reads them (posthog/utils.py), either case.
BOOLEANS = {**dict.fromkeys(("true", "t", "yes", "y", "on", "1"), True), **dict.fromkeys(("false", "f", "no", "n", "off", "0"), False)}
CONDITIONS = ("required", "null", "empty", "falsy", "type", "range", "length", "choice", "invalid", "unknown")
FALLBACKS = {"falsy": ("falsy", "type", "invalid"), "unknown": ()}
IGNORED_BODY_FIELDS = {"personal_api_key"}  # read by authentication, not part of the resource


@dataclass(frozen=True)
class Problem:
    """One failed check: the top-level field it is about, its condition, and DRF's default answer."""

    field: str | None
    condition: str
    said: Said
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
            return errors.APIError.of(self.said, attr=self.attr)
        entry = {"code": self.said.text.code, **found}
        if body is not None and "detail" in entry:
            fields = {k: v for k, v in body.items() if isinstance(v, str)}
            entry["detail"] = entry["detail"].format_map(_Blank(fields))
        return errors.APIError.from_entry(entry, attr=self.attr, detail=self.said.detail)


@dataclass(frozen=True)
class LegacyWriteRule:
    field: str
    unless: str
    error: Mapping[str, Any]


class RequestValidator:
    """Everything one operation needs to check a request, compiled once."""

    def __init__(self, spec: Spec, operation: Operation):
        self.spec = spec
        self.texts = spec.texts
        self.messages = Messages(spec)
        self.operation = operation
        self.query_params = [p for p in operation.parameters if p.location == "query"]
        self.path_params = [
            p for p in operation.parameters if p.location == "path" and p.name != operation.project_param
        ]
        self.param_validators = {(p.location, p.name): spec.validator(p.schema) for p in operation.parameters}
        self.body_validator = spec.validator(operation.body_schema) if operation.body_schema else None
        self.body_properties = spec.resolve(operation.body_schema).get("properties", {}) if operation.body_schema else {}
        self.read_only_fields = self._read_only_fields()
        self.legacy_writes = [
            LegacyWriteRule(name, schema["x-legacy-write"]["unless"], schema["x-legacy-write"]["error"])
            for name, schema in self.body_properties.items() if schema.get("x-legacy-write")
        ]

    def validate(self, call: Call) -> None:
        """The call's path, query and body values as the handler reads them, or the first problem."""
        call.path = self.path(call.raw_path)
        call.query = self.query(call.incoming.query)
        self.refuse_legacy_writes(call.incoming.json())
        call.body = self.body(call.incoming.json(), sent=call.incoming.body.sent)

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
                raise Problem(param.name, "required", self.texts["required"](), param.name).error(param.errors)
            elif param.default is not None:
                values[param.name] = param.default
        return values

    def _parameter(self, param: Parameter, raw: str) -> Any:
        value, ok = _coerce(param, raw)
        if not ok:
            said = self.messages.for_unparsable(param.schema, raw)
            raise Problem(param.name, "falsy" if not raw else "type", said, param.name).error(param.errors)
        found = list(self.param_validators[(param.location, param.name)].iter_errors(value))
        if found:
            raise self._about_value(param.name, found, value).error(param.errors)
        return value

    # Body ---------------------------------------------------------------------------------------
    def refuse_legacy_writes(self, body: Any) -> None:
        """A field marked `x-legacy-write`, sent without the field that replaces it, is refused."""
        if not isinstance(body, dict):
            return
        for rule in self.legacy_writes:
            if body.get(rule.field) is not None and body.get(rule.unless) in (None, {}):
                raise errors.APIError.from_entry(rule.error, attr=None, detail=rule.error["detail"])

    def body(self, parsed: Any, *, sent: bool = False) -> Any:
        """The body as the handler sees it: the caller's key field and read-only fields left out.

        No body is an empty object, but a JSON `null` is refused as DRF refuses it
        (Serializer.errors: "No data provided", code null).
        """
        if self.body_validator is None:
            return None
        if parsed is None and sent:
            raise errors.error(self.texts, "no_data")
        body = {} if parsed is None else parsed
        if not isinstance(body, dict):
            raise errors.error(self.texts, "not_a_dictionary", type=python_type(body))
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
        entry = problem.entry(spec_errors) or {}
        if entry.get("code") == "parse_error":
            # PostHog's parser validates the query with pydantic: the text says where it failed.
            text = PostHogText.from_entry(problem.field, entry)
            if problem.field not in body:
                return errors.APIError.of(text(location="", path="", problem=self.texts["pydantic_required"].fill()))
            return errors.APIError.of(self.messages.query_problem(self.body_properties[problem.field], body[problem.field], text))
        return problem.error(spec_errors, body)

    def _body_problems(self, body: dict[str, Any], error: Any) -> list[Problem]:
        path, kind = list(error.instance_path), type(error.kind).__name__
        if not path and kind == "Required":
            name = error.kind.property
            return [Problem(name, "required", self.texts["required"](), name)]
        if not path and kind == "AdditionalProperties":
            return [Problem(name, "unknown", self.texts["unknown_field"](), name) for name in error.kind.unexpected]
        if not path:
            return [Problem(None, "invalid", self.messages.for_keyword(error, body), None)]
        if len(path) == 1:
            return [self._about_value(path[0], [error], body.get(path[0]), depth=1)]
        said = self.messages.for_keyword(error, error.instance)
        return [Problem(path[0], "invalid", said, "__".join(str(p) for p in path))]

    def _about_value(self, name: str, found: list[Any], value: Any, depth: int = 0) -> Problem:
        """The most telling problem with one value (a parameter, or a body field at `depth` 1)."""
        problems = []
        for error in found:
            kind = type(error.kind).__name__
            said = self.messages.for_keyword(error, value)
            if len(list(error.instance_path)) > depth:
                said = self.messages.for_keyword(error, error.instance)
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
            problems.append(Problem(name, condition, said, name))
        return min(problems, key=lambda p: CONDITIONS.index(p.condition))

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
        return (BOOLEANS[raw.lower()], True) if raw.lower() in BOOLEANS else (None, False)
    return raw, True


class _Blank(dict):
    """format_map that leaves unknown `{names}` empty."""

    def __missing__(self, key: str) -> str:
        return ""
