"""Property filters and property values as SQL over the engine's events (`e`) and persons (`p`).

A query's `properties` (a list, or a property group of ANDs and ORs), a series' own properties
and a project's test-account filters all become one WHERE clause; breakdowns and math read the
same value expressions. Values compare as text, as PostHog compares them (`toString` of the
property); numbers for math and `gt`/`lt` are read with TRY_CAST, so a value that is not a
number never matches and never fails the query.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from mockserver.analytics.engine import EVENT_COLUMNS, NUMBER_PROPERTIES
from posthog_spec import Catalogue, Said, default_spec


class QueryError(Exception):
    """A query the engine cannot run as asked: in PostHog's words (`text`, a name in the spec's
    catalogue, and the values it is filled with) where PostHog refuses it too, else in the mock's
    own sentence (`detail`, said as `query_not_computable`), one a user can act on."""

    def __init__(self, detail: str | None = None, *, text: str | None = None, **values: Any):
        super().__init__(detail or text)
        self.text, self.values, self.reason = text, values, detail

    def said(self, texts: Catalogue) -> Said:
        if self.text is not None:
            return texts[self.text](**self.values)
        return texts["query_not_computable"](reason=self.reason)

    @property
    def detail(self) -> str:
        """The words a caller reads (from this checkout's spec)."""
        return self.said(default_spec().texts).detail

    def __str__(self) -> str:
        return self.detail


@dataclass
class Sql:
    """SQL text with its `?` parameters, built up in order."""

    parameters: list[Any] = field(default_factory=list)

    def value(self, value: Any) -> str:
        self.parameters.append(value)
        return "?"


def event_property(key: str) -> str:
    """The event property `key` as text (NULL when the event has none)."""
    path = _path(key)
    stored = f"json_extract_string(e.properties, {path})"
    if key in EVENT_COLUMNS:
        return f"COALESCE(e.{EVENT_COLUMNS[key]}, {stored})"
    if key in NUMBER_PROPERTIES:
        events = ", ".join(_literal(event) for event in NUMBER_PROPERTIES[key])
        number = "CASE WHEN e.number = floor(e.number) THEN CAST(CAST(e.number AS BIGINT) AS VARCHAR) ELSE CAST(e.number AS VARCHAR) END"
        return f"COALESCE(CASE WHEN e.event IN ({events}) THEN {number} END, {stored})"
    return stored


def event_number(key: str) -> str:
    """The event property `key` as a number (NULL when absent or not a number)."""
    if key in NUMBER_PROPERTIES:
        events = ", ".join(_literal(event) for event in NUMBER_PROPERTIES[key])
        return f"COALESCE(CASE WHEN e.event IN ({events}) THEN e.number END, TRY_CAST(json_extract_string(e.properties, {_path(key)}) AS DOUBLE))"
    return f"TRY_CAST({event_property(key)} AS DOUBLE)"


def person_property(key: str) -> str:
    return f"json_extract_string(p.properties, {_path(key)})"


def value_of(key: str, kind: str) -> str:
    """A breakdown's or filter's property as text, by its type (event, person)."""
    if kind == "person":
        return person_property(key)
    if kind == "event":
        return event_property(key)
    raise QueryError(f"Breakdowns and filters on {kind} properties are not supported by the mock.")


def where(sql: Sql, *groups: Any, lenient: bool = False) -> str:
    """One condition for every filter of every group (AND between groups); TRUE when there are none.

    `lenient` leaves out the filters the engine cannot apply (element statistics, whose filters
    PostHog applies with its whole HogQL engine) instead of refusing the query.
    """
    parts = [_group(sql, group, lenient) for group in groups if group]
    parts = [part for part in parts if part != "TRUE"]
    return " AND ".join(f"({part})" for part in parts) or "TRUE"


def _group(sql: Sql, group: Any, lenient: bool) -> str:
    if isinstance(group, list):
        return " AND ".join(f"({_group(sql, item, lenient)})" for item in group) or "TRUE"
    if not isinstance(group, dict):
        raise QueryError("Property filters must be objects.")
    if group.get("type") in ("AND", "OR") and "values" in group:
        joiner = f" {group['type']} "
        parts = [f"({_group(sql, item, lenient)})" for item in group["values"] or []]
        return joiner.join(parts) or "TRUE"
    if not lenient:
        return _filter(sql, group)
    given = len(sql.parameters)
    try:
        return _filter(sql, group)
    except QueryError:
        del sql.parameters[given:]
        return "TRUE"


def _filter(sql: Sql, f: dict[str, Any]) -> str:
    kind, key = f.get("type", "event"), f.get("key")
    if not isinstance(key, str):
        raise QueryError("Every property filter needs a key.")
    if kind == "element":
        return _element_filter(sql, key, f.get("operator") or "exact", f.get("value"))
    if kind in ("cohort", "hogql", "group", "session", "data_warehouse", "recording", "log_entry", "feature", "flag"):
        raise QueryError(f"Filters of type {kind} are not supported by the mock.")
    if kind == "person":  # a semi-join: the persons are few, the events many (a join reads JSON per event)
        matched = condition(sql, person_property(key), f.get("operator") or "exact", f.get("value"))
        return f"e.person_id IN (SELECT p.person_id FROM persons p WHERE {matched})"
    return condition(sql, value_of(key, kind), f.get("operator") or "exact", f.get("value"))


def condition(sql: Sql, actual: str, operator: str, expected: Any) -> str:
    """`actual` (a text expression) against `expected` as PostHog's operator says."""
    if operator == "is_set":
        return f"{actual} IS NOT NULL"
    if operator == "is_not_set":
        return f"{actual} IS NULL"
    wanted = [_text(v) for v in (expected if isinstance(expected, list) else [expected])]
    if operator in ("exact", "in"):
        return f"{actual} IN ({', '.join(sql.value(w) for w in wanted)})" if wanted else "FALSE"
    if operator in ("is_not", "not_in"):
        return f"({actual} IS NULL OR {actual} NOT IN ({', '.join(sql.value(w) for w in wanted)}))" if wanted else "TRUE"
    if operator == "icontains":
        return " OR ".join(f"contains(lower({actual}), lower({sql.value(w)}))" for w in wanted) or "FALSE"
    if operator == "not_icontains":
        return f"({actual} IS NULL OR NOT ({' OR '.join(f'contains(lower({actual}), lower({sql.value(w)}))' for w in wanted)}))"
    if operator in ("regex", "not_regex"):
        for w in wanted:
            try:
                re.compile(w)
            except re.error:
                raise QueryError(f"{w!r} is not a valid regular expression.")
        found = " OR ".join(f"regexp_matches({actual}, {sql.value(w)})" for w in wanted) or "FALSE"
        return found if operator == "regex" else f"({actual} IS NULL OR NOT ({found}))"
    if operator in ("gt", "gte", "lt", "lte"):
        symbol = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[operator]
        try:
            number = float(wanted[0])
        except (TypeError, ValueError, IndexError):
            raise QueryError(f"The {operator} operator needs a number, not {expected!r}.")
        return f"TRY_CAST({actual} AS DOUBLE) {symbol} {sql.value(number)}"
    if operator in ("is_date_before", "is_date_after", "is_date_exact"):
        symbol = {"is_date_before": "<", "is_date_after": ">", "is_date_exact": "="}[operator]
        return f"TRY_CAST({actual} AS TIMESTAMP) {symbol} TRY_CAST({sql.value(wanted[0] if wanted else None)} AS TIMESTAMP)"
    raise QueryError(f"The property operator {operator!r} is not supported by the mock.")


def _element_filter(sql: Sql, key: str, operator: str, expected: Any) -> str:
    """Filters on the clicked element chain: tag_name, text, href, selector (as any element's tag)."""
    if key not in ("tag_name", "text", "href", "selector"):
        raise QueryError(f"Element filters on {key!r} are not supported by the mock.")
    field = "tag_name" if key == "selector" else key
    values = f"json_extract_string(e.elements_chain, '$[*].{field}')"
    each = condition(sql, "x", operator, expected)
    if operator in ("is_not", "not_icontains", "not_regex", "not_in"):
        return f"coalesce(list_bool_and(list_transform({values}, lambda x: {each})), TRUE)"
    return f"coalesce(list_bool_or(list_transform({values}, lambda x: {each})), FALSE)"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _path(key: str) -> str:
    return "'$.\"" + key.replace("\\", "\\\\").replace('"', '\\"').replace("'", "''") + "\"'"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
