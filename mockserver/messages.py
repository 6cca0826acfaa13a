"""DRF's and pydantic's words for a value that failed a JSON Schema keyword, from the catalogue.

PostHog's serializers answer DRF's default texts ("Ensure this field has no more than 400
characters.", code max_length); its query parser answers pydantic's ("source.series: Field
required"). Both are in the spec's `x-posthog-texts`; this module only picks the text for a
failed keyword and fills it in.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from posthog_spec import PostHogText, Said, Spec

# A failed range keyword: the DRF text and the pydantic text that say so.
RANGE_TEXTS = {
    "Minimum": ("min_value", "pydantic_min_value"),
    "Maximum": ("max_value", "pydantic_max_value"),
    "ExclusiveMinimum": ("above_value", "pydantic_above_value"),
    "ExclusiveMaximum": ("below_value", "pydantic_below_value"),
}
LENGTH_TEXTS = {  # DRF text, pydantic text
    "MaxLength": ("max_length", "pydantic_max_length"),
    "MinLength": ("min_length", "pydantic_min_length"),
    "MaxItems": ("max_items", "pydantic_max_items"),
    "MinItems": ("min_items", "pydantic_min_items"),
}
TYPE_TEXTS = {
    "integer": "not_an_integer", "number": "not_a_number", "boolean": "not_a_boolean", "string": "not_a_string",
    "array": "not_a_list", "object": "not_an_object",
}


class Messages:
    def __init__(self, spec: Spec):
        self.spec = spec
        self.texts = spec.texts
        self.text_pattern = spec.document.get("x-text-pattern")  # a text field's: no NUL characters

    def for_keyword(self, error: Any, value: Any) -> Said:
        """DRF's text (and so its code) for a failed JSON Schema keyword."""
        kind, name = error.kind, type(error.kind).__name__
        texts = self.texts
        if value is None and name == "Type":
            return texts["may_not_be_null"]()
        if name == "Type":
            expected = [t for t in _types(kind) if t != "null"]
            return self.for_type(expected[0] if expected else "string", value)
        if name == "MinLength" and value == "":
            return texts["may_not_be_blank"]()
        if name == "MinItems" and value == []:
            return texts["list_may_not_be_empty"]()
        if name in LENGTH_TEXTS:
            return texts[LENGTH_TEXTS[name][0]](limit=kind.limit)
        if name in RANGE_TEXTS:
            return texts[RANGE_TEXTS[name][0]](limit=_number(kind.limit))
        if name in ("Enum", "Constant"):
            return texts["invalid_choice"](value=_scalar_text(value))
        if name == "Format":
            return texts["invalid_format"](format=kind.format.replace("-", " "))
        if name == "Pattern" and kind.pattern == self.text_pattern:
            return texts["null_characters"]()
        if name == "MinProperties":
            return texts["may_not_be_empty"]()
        return texts["invalid_value"]()

    def for_type(self, expected: str, value: Any) -> Said:
        name = TYPE_TEXTS.get(expected)
        if name is None:
            return self.texts["invalid_value"]()
        return self.texts[name](**({"type": python_type(value)} if "type" in self.texts[name].placeholders else {}))

    def for_unparsable(self, schema: Mapping[str, Any], raw: str) -> Said:
        """The answer for a query string that is not even of the parameter's type."""
        expected = schema.get("type", "string")
        if expected in ("array", "object") or "type" not in schema:
            return self.texts["not_json"]()
        return self.for_type(expected, raw)

    def query_problem(self, schema: Mapping[str, Any], value: Any, text: PostHogText) -> Said:
        """PostHog's parse error for a query that does not parse, in the words of `text`: the
        insight's parser says `<location>: <pydantic's text>`, the query endpoint's pydantic's own
        report (`query.<path>` then the text, on lines of their own)."""
        location, problem = self._first_query_problem(schema, value, [])
        where = f"{'.'.join(location)}: " if location else ""
        path = "".join(f".{step}" for step in location)
        return text(location=where, path=path, problem=problem)

    def _first_query_problem(self, schema: Mapping[str, Any], value: Any, location: list[str]) -> tuple[list[str], str]:
        """Walk a `kind`-discriminated union down to the first problem."""
        spec, texts = self.spec, self.texts
        resolved = spec.resolve(schema)
        branches = resolved.get("oneOf")
        if branches:
            if not isinstance(value, dict):
                return location, texts["pydantic_not_a_model"].fill()
            tags = {spec.resolve(b).get("properties", {}).get("kind", {}).get("const"): b for b in branches}
            if not isinstance(value.get("kind"), str):
                return location, texts["pydantic_no_tag"].fill()
            if value["kind"] not in tags:
                expected = ", ".join(f"'{tag}'" for tag in tags if tag)
                return location, texts["pydantic_unknown_tag"].fill(tag=value["kind"], expected=expected)
            return self._first_query_problem(tags[value["kind"]], value, location)
        found = sorted(spec.validator(schema).iter_errors(value), key=lambda e: len(list(e.instance_path)))
        if not found:
            return location, texts["pydantic_invalid"].fill()
        first = found[0]
        path = list(first.instance_path)
        if type(first.kind).__name__ == "OneOfNotValid":
            inner = _schema_at(spec, resolved, path)
            if inner is not None:
                target = value
                for step in path:
                    target = target[step]
                return self._first_query_problem(inner, target, [*location, *map(str, path)])
        if type(first.kind).__name__ == "Required":
            path = [*path, first.kind.property]
        return [*location, *map(str, path)], self._pydantic_text(first)

    def _pydantic_text(self, error: Any) -> str:
        kind, name = error.kind, type(error.kind).__name__
        texts = self.texts
        if name == "Required":
            return texts["pydantic_required"].fill()
        if name == "AdditionalProperties":
            return texts["pydantic_extra"].fill(names=", ".join(kind.unexpected))
        if name == "Type":
            expected = [t for t in _types(kind) if t != "null"]
            return texts["pydantic_type"].fill(type=expected[0] if expected else "value")
        if name in ("Enum", "Constant"):
            return texts["pydantic_choice"].fill()
        if name in LENGTH_TEXTS:
            return texts[LENGTH_TEXTS[name][1]].fill(limit=kind.limit)
        if name in RANGE_TEXTS:
            return texts[RANGE_TEXTS[name][1]].fill(limit=_number(kind.limit))
        return error.message


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


def _types(kind: Any) -> list[str]:
    types = kind.types
    return [str(t).lower() for t in (types if isinstance(types, (list, tuple)) else [types])]


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _scalar_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def python_type(value: Any) -> str:
    """The Python type name DRF's texts show for a JSON value."""
    return {dict: "dict", list: "list", str: "str", int: "int", float: "float", bool: "bool"}.get(type(value), "NoneType")

