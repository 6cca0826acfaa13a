"""Drift: where our spec and PostHog's published OpenAPI document disagree, for the insights and
elements operations.

Compared per operation (matched by method and path, whatever the path parameters are called):
the operation itself, its query parameters (presence, type, required), request and response
fields (presence, type, nullability; for pages, the fields of their results), and the scopes a
personal API key needs. Both OpenAPI 3.0 (`nullable: true`) and 3.1 (type lists) are read.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

import httpx
import yaml

SCOPE = re.compile(r"^/api/(projects|environments)/\{[^}]+\}/(insights|elements)(/|$)")
METHODS = ("get", "put", "post", "patch", "delete")


@dataclass(frozen=True)
class Difference:
    operation: str
    aspect: str
    ours: Any
    theirs: Any

    def line(self) -> str:
        return f"  {self.aspect}: ours {_show(self.ours)}, PostHog's {_show(self.theirs)}"


def load(file_or_url: str) -> dict[str, Any]:
    if re.match(r"^https?://", file_or_url):
        response = httpx.get(file_or_url, timeout=60, follow_redirects=True)
        response.raise_for_status()
        text = response.text
    else:
        text = Path(file_or_url).read_text(encoding="utf-8")
    return json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)


def compare(ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> list[Difference]:
    mine, published = _Document(ours), _Document(theirs)
    found: list[Difference] = []
    for key in sorted(mine.operations.keys() | published.operations.keys()):
        label = f"{key[0].upper()} {key[1]}"
        a, b = mine.operations.get(key), published.operations.get(key)
        if a is None or b is None:
            found.append(Difference(label, "operation", "present" if a else "absent", "present" if b else "absent"))
            continue
        found += _differences(label, "query parameter", mine.parameters(a), published.parameters(b))
        found += _differences(label, "request field", mine.fields(mine.request_schema(a)), published.fields(published.request_schema(b)))
        found += _differences(label, "response field", mine.fields(mine.response_schema(a)), published.fields(published.response_schema(b)))
        if mine.scopes(a) != published.scopes(b):
            found.append(Difference(label, "key scopes", mine.scopes(a), published.scopes(b)))
    return found


def render(differences: list[Difference]) -> str:
    if not differences:
        return "No drift: our spec and PostHog's schema agree on every insights and elements operation."
    lines = [f"{len(differences)} differences between our spec and PostHog's schema:"]
    for operation in dict.fromkeys(d.operation for d in differences):
        lines += ["", operation] + [d.line() for d in differences if d.operation == operation]
    return "\n".join(lines)


def _differences(label: str, aspect: str, ours: dict[str, Any], theirs: dict[str, Any]) -> Iterator[Difference]:
    for name in sorted(ours.keys() | theirs.keys()):
        if ours.get(name) != theirs.get(name):
            yield Difference(label, f"{aspect} {name}", ours.get(name, "absent"), theirs.get(name, "absent"))


class _Document:
    def __init__(self, document: Mapping[str, Any]):
        self.document = document
        self.operations: dict[tuple[str, str], dict[str, Any]] = {}
        for path, item in document.get("paths", {}).items():
            if not SCOPE.match(path):
                continue
            shared = item.get("parameters", [])
            for method in METHODS:
                if method in item:
                    self.operations[(method, _normalised(path))] = {**item[method], "_shared": shared}

    def resolve(self, node: Any) -> Any:
        while isinstance(node, Mapping) and "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def parameters(self, operation: Mapping[str, Any]) -> dict[str, Any]:
        found = {}
        for raw in [*operation["_shared"], *operation.get("parameters", [])]:
            param = self.resolve(raw)
            if param.get("in") != "query":
                continue
            schema = param.get("schema") or next(iter(param.get("content", {}).values()), {}).get("schema", {})
            found[param["name"]] = {"type": self.types(schema), "required": bool(param.get("required"))}
        return found

    def request_schema(self, operation: Mapping[str, Any]) -> Any:
        content = self.resolve(operation.get("requestBody", {})).get("content", {})
        return content.get("application/json", {}).get("schema")

    def response_schema(self, operation: Mapping[str, Any]) -> Any:
        for code, response in sorted(operation.get("responses", {}).items()):
            if str(code).startswith("2"):
                return self.resolve(response).get("content", {}).get("application/json", {}).get("schema")
        return None

    def fields(self, schema: Any, prefix: str = "") -> dict[str, Any]:
        """Field -> type (with null when nullable); a page's results count as its fields."""
        schema = self._flattened(schema)
        if schema is None:
            return {}
        out: dict[str, Any] = {}
        for name, prop in schema.get("properties", {}).items():
            out[prefix + name] = self.types(prop)
            items = self._flattened(self.resolve(prop).get("items")) if isinstance(self.resolve(prop), Mapping) else None
            if name == "results" and not prefix and items:
                out.update(self.fields(items, prefix="results[]."))
        return out

    def types(self, schema: Any) -> str:
        schema = self.resolve(schema) or {}
        found: set[str] = set()
        declared = schema.get("type")
        found |= set(declared) if isinstance(declared, list) else ({declared} if declared else set())
        if schema.get("nullable"):
            found.add("null")
        for keyword in ("oneOf", "anyOf", "allOf"):
            for branch in schema.get(keyword, []):
                found |= set(self.types(branch).split("|")) - {"any"}
        if not found and ("const" in schema or "enum" in schema):
            found |= {_json_type(v) for v in ([schema["const"]] if "const" in schema else schema["enum"])}
        return "|".join(sorted(found)) or "any"

    def scopes(self, operation: Mapping[str, Any]) -> list[str] | None:
        security = operation.get("security", self.document.get("security", []))
        for requirement in security:
            if "PersonalAPIKeyAuth" in requirement:
                return sorted(requirement["PersonalAPIKeyAuth"])
        return None

    def _flattened(self, schema: Any) -> Mapping[str, Any] | None:
        """An object schema with the properties of every allOf/anyOf/oneOf branch merged."""
        schema = self.resolve(schema)
        if not isinstance(schema, Mapping):
            return None
        properties = dict(schema.get("properties", {}))
        for keyword in ("allOf", "anyOf", "oneOf"):
            for branch in schema.get(keyword, []):
                branch = self._flattened(branch)
                if branch:
                    for name, prop in branch.get("properties", {}).items():
                        properties.setdefault(name, prop)
        return {"properties": properties} if properties else None


def _normalised(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path.rstrip("/") + "/")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}[type(value)]


def _show(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else value
