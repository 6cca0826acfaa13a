"""The spec, read once: every operation with its route, scopes, parameters, body and responses.

Both the mock server and the contracts take routes, scopes, status codes, field lists and
PostHog's texts from here, so none of them is written twice (`spec/openapi.yaml` is the single
source of truth).
"""

from __future__ import annotations

import functools
import json
import re
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import jsonschema_rs
import yaml

from posthog_spec.texts import Catalogue

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ENVIRONMENTS_PREFIX = "environments_"  # operation ids of the deprecated /api/environments/ copies
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
PARAM = re.compile(r"\{([^}]+)\}")


def default_spec_path() -> Path:
    """The repository's spec when running from a checkout, else the copy packed into the wheel."""
    checkout = Path(__file__).resolve().parent.parent / "spec" / "openapi.yaml"
    return checkout if checkout.exists() else Path(__file__).resolve().parent / "openapi.yaml"


def canonical_id(operation_id: str) -> str:
    """The same id for both prefixes of one operation (the /api/projects/ one)."""
    return operation_id.removeprefix(ENVIRONMENTS_PREFIX)


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str
    required: bool
    schema: Mapping[str, Any]
    json_encoded: bool
    errors: Mapping[str, Mapping[str, Any]]
    example: Any = None
    checked_by_handler: bool = False
    extensions: Mapping[str, Any] = field(default_factory=dict)  # every `x-` key of the parameter

    @property
    def default(self) -> Any:
        return self.schema.get("default")


@dataclass(frozen=True)
class RateLimit:
    scope: str
    rate: int
    per: str

    @property
    def seconds(self) -> int:
        return {"second": 1, "minute": 60, "hour": 3600, "day": 86400}[self.per]


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    tag: str
    deprecated: bool
    parameters: tuple[Parameter, ...]
    body_schema: Mapping[str, Any] | None
    responses: Mapping[str, Mapping[str, Any]]
    key_scopes: tuple[str, ...] | None
    accepts_session: bool
    rate_limits: tuple[RateLimit, ...]
    unauthenticated_status: int = 401
    fidelity: tuple[Mapping[str, Any], ...] = field(default=())
    requires_project_admin: bool = False  # `x-requires-project-admin`: beyond the scope, a project admin
    # `x-refuses-valid-data`: PostHog itself refuses some schema-valid requests (a query its
    # runner cannot run as asked), so a 400 to valid data is no contract breach.
    refuses_valid_data: bool = False

    @property
    def base_id(self) -> str:
        """The canonical operation id: the same for both prefixes of one operation."""
        return canonical_id(self.operation_id)

    @property
    def accepts_keys(self) -> bool:
        return self.key_scopes is not None

    @property
    def required_scope(self) -> str | None:
        """The scope a personal API key needs, or None when keys cannot call the operation."""
        return self.key_scopes[0] if self.key_scopes else None

    @property
    def is_write(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH", "DELETE")

    @property
    def project_param(self) -> str | None:
        """The path parameter naming the project (or environment), if the route is project-based."""
        for param in self.parameters:
            if param.location == "path" and param.name in ("project_id", "environment_id"):
                return param.name
        return None

    def parameter(self, name: str, location: str = "query") -> Parameter | None:
        return next((p for p in self.parameters if p.name == name and p.location == location), None)

    @property
    def always_refused(self) -> bool:
        """Whether the operation's only answer to a caller it lets through is a refusal (`x-always`)."""
        return any(response.get("x-always") for response in self.responses.values())

    @property
    def formats(self) -> tuple[str, ...]:
        """The `format` values the operation renders (DRF's renderers): its `format` parameter's, else JSON."""
        param = self.parameter("format")
        return tuple(param.schema.get("enum", ())) if param else ("json",)

    def success_status(self) -> int:
        """The status of the operation doing its job: its 2xx, or the one it answers `x-always`
        (insights_destroy: PostHog's answer to a hard delete is always 405)."""
        always = [int(code) for code, response in self.responses.items() if response.get("x-always")]
        if always:
            return always[0]
        return min(int(code) for code in self.responses if code.isdigit() and code.startswith("2"))

    def path_for(self, **values: Any) -> str:
        """The operation's path with its parameters filled in (`project_id=1, id=42`)."""
        return PARAM.sub(lambda found: str(values[found.group(1)]), self.path)

    def documented_statuses(self) -> set[int]:
        return {int(code) for code in self.responses if code.isdigit()}


@dataclass(frozen=True)
class FrontRefusal:
    """The proxy in front of PostHog refuses a request line or header line longer than
    `longer_than` bytes with one of `statuses`, in its own words (the spec's `x-front-refusal`)."""

    longer_than: int
    statuses: frozenset[int]

    def refused(self, status: int, lines: Iterable[str]) -> bool:
        """Whether an answer with this status to a request of these lines may be the proxy's."""
        return status in self.statuses and any(len(line.encode()) > self.longer_than for line in lines)


class Spec:
    """The OpenAPI document and the operations read from it."""

    def __init__(self, document: Mapping[str, Any]):
        self.document = document
        self.components = document.get("components", {})
        self.operations: tuple[Operation, ...] = tuple(self._read_operations())
        self._by_id = {op.operation_id: op for op in self.operations}
        self._validators: dict[str, Any] = {}
        self.texts = Catalogue(document.get("x-posthog-texts", {}))
        self.path: Path | None = None  # the file it was read from, when it was read from one

    @classmethod
    def load(cls, path: str | Path | None = None) -> "Spec":
        path = Path(path or default_spec_path())
        spec = cls(yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
        spec.path = path
        return spec

    def operation(self, operation_id: str) -> Operation:
        return self._by_id[operation_id]

    @property
    def path_prefix(self) -> str:
        """The folder every operation's path lies under (`/api/`)."""
        common = os.path.commonprefix([op.path for op in self.operations])
        return common[:common.rfind("/") + 1] or "/"

    def under_both_prefixes(self, operation_ids: list[str]) -> list[str]:
        """These canonical operations and their /api/environments/ copies."""
        return [i for op_id in operation_ids for i in (op_id, ENVIRONMENTS_PREFIX + op_id) if i in self._by_id]

    @property
    def front_refusal(self) -> FrontRefusal | None:
        """What the proxy in front of PostHog refuses before PostHog sees it (an x-fidelity note)."""
        for note in self.document.get("x-fidelity", []):
            limit = note.get("x-front-refusal")
            if limit:
                return FrontRefusal(int(limit["longer-than"]), frozenset(int(s) for s in limit["statuses"]))
        return None

    @property
    def error_types(self) -> frozenset[str]:
        """The `type` values of PostHog's error body."""
        error = self.resolve(self.components["schemas"]["Error"])
        return frozenset(error["properties"]["type"]["enum"])

    def resolve(self, node: Any) -> Any:
        """Follow local `$ref`s until a node that is not a reference."""
        while isinstance(node, Mapping) and "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def property_schema(self, schema: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
        """The schema of a top-level property of an object schema (refs followed)."""
        props = self.resolve(schema).get("properties", {})
        return props.get(name)

    def validator(self, schema: Mapping[str, Any]) -> Any:
        """A compiled JSON Schema validator for a schema of this spec (its `$ref`s resolve here).

        Compiled once per distinct schema: the server builds all of them at start-up so the
        request path only runs them (jsonschema-rs, ~10 µs a body).
        """
        key = json.dumps(schema, sort_keys=True, default=str)
        if key not in self._validators:
            root = {"$schema": JSON_SCHEMA_DIALECT, "components": self.components, **schema}
            self._validators[key] = jsonschema_rs.validator_for(root, validate_formats=True)
        return self._validators[key]

    def _read_operations(self) -> Iterator[Operation]:
        default_security = self.document.get("security", [])
        unauthenticated = {t["name"]: t.get("x-unauthenticated-status", 401) for t in self.document.get("tags", [])}
        for path, item in self.document.get("paths", {}).items():
            shared_params = [self.resolve(p) for p in item.get("parameters", [])]
            for method in HTTP_METHODS:
                if method not in item:
                    continue
                raw = item[method]
                params = {(p["name"], p["in"]): p for p in shared_params}
                params.update({(p["name"], p["in"]): p for p in map(self.resolve, raw.get("parameters", []))})
                yield Operation(
                    operation_id=raw["operationId"],
                    method=method.upper(),
                    path=path,
                    tag=(raw.get("tags") or [""])[0],
                    deprecated=bool(raw.get("deprecated", False)),
                    parameters=tuple(self._parameter(p) for p in params.values()),
                    body_schema=self._body_schema(raw),
                    responses={code: self.resolve(resp) for code, resp in raw.get("responses", {}).items()},
                    key_scopes=_key_scopes(raw.get("security", default_security)),
                    accepts_session=any("SessionAuth" in req for req in raw.get("security", default_security)),
                    rate_limits=tuple(RateLimit(**limit) for limit in raw.get("x-rate-limits", [])),
                    unauthenticated_status=unauthenticated.get((raw.get("tags") or [""])[0], 401),
                    fidelity=tuple(raw.get("x-fidelity", [])),
                    requires_project_admin=bool(raw.get("x-requires-project-admin", False)),
                    refuses_valid_data=bool(raw.get("x-refuses-valid-data", False)),
                )

    def _parameter(self, raw: Mapping[str, Any]) -> Parameter:
        if "content" in raw:
            media = raw["content"]["application/json"]
            schema, json_encoded, example = media["schema"], True, media.get("example")
        else:
            schema, json_encoded, example = raw["schema"], False, raw.get("example")
        return Parameter(
            name=raw["name"],
            location=raw["in"],
            required=bool(raw.get("required", False)),
            schema=schema,
            json_encoded=json_encoded,
            errors=raw.get("x-posthog-errors", {}),
            example=example,
            checked_by_handler=bool(raw.get("x-checked-by-handler", False)),
            extensions={key: value for key, value in raw.items() if key.startswith("x-")},
        )

    def _body_schema(self, raw: Mapping[str, Any]) -> Mapping[str, Any] | None:
        body = self.resolve(raw.get("requestBody"))
        if not body:
            return None
        return body["content"]["application/json"]["schema"]


def _key_scopes(security: list[Mapping[str, list[str]]]) -> tuple[str, ...] | None:
    for requirement in security:
        if "PersonalAPIKeyAuth" in requirement:
            return tuple(requirement["PersonalAPIKeyAuth"])
    return None


@functools.lru_cache(maxsize=1)
def default_spec() -> Spec:
    """The spec of this checkout, read once per process."""
    return Spec.load()
