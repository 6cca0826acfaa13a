"""What the mock reads out of an insight's query: its wrapper, its kind, its events, a name."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

# Bare sources PostHog wraps in an InsightVizNode (AUTO_WRAPPED_INSIGHT_QUERY_KINDS, 02c0d4b7).
INSIGHT_SOURCE_KINDS = {
    "TrendsQuery": "TRENDS",
    "FunnelsQuery": "FUNNELS",
    "RetentionQuery": "RETENTION",
    "PathsQuery": "PATHS",
    "PathsV2Query": "JOURNEYS",
    "StickinessQuery": "STICKINESS",
    "LifecycleQuery": "LIFECYCLE",
}
WRAPPER_KINDS = {"InsightVizNode", "DataTableNode", "DataVisualizationNode"}
# The table queries generate_metadata accepts besides insights, and what their rows are.
TABLE_LABELS = {"EventsQuery": "Events", "ActorsQuery": "People", "GroupsQuery": "Groups"}


def wrap(query: dict[str, Any]) -> dict[str, Any]:
    """validate_query: a bare HogQLQuery becomes a DataVisualizationNode, a bare insight source an
    InsightVizNode; PostHog dumps the wrapped model without nulls. Anything else is kept as sent."""
    if query.get("kind") == "HogQLQuery":
        return {"kind": "DataVisualizationNode", "source": _without_nulls(query)}
    if query.get("kind") in INSIGHT_SOURCE_KINDS:
        return {"kind": "InsightVizNode", "source": _without_nulls(query)}
    return query


def with_override(query: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """filters_override replaces the date range, interval and test-account filter of the source."""
    if not isinstance(query.get("source"), dict):
        return query
    source = dict(query["source"])
    if "date_from" in override or "date_to" in override:
        source["dateRange"] = {**(source.get("dateRange") or {}), **{k: override[k] for k in ("date_from", "date_to") if k in override}}
    for key, target in (("interval", "interval"), ("filterTestAccounts", "filterTestAccounts")):
        if override.get(key) is not None:
            source[target] = override[key]
    return {**query, "source": source}


def legacy_query(filters: dict[str, Any]) -> dict[str, Any] | None:
    """The query PostHog reads a legacy insight's filters as (filter_to_query), for the kinds the
    mock computes from them: trends and funnels over events. None for anything else."""
    kind = {"TRENDS": "TrendsQuery", "FUNNELS": "FunnelsQuery"}.get(str(filters.get("insight") or "TRENDS").upper())
    events = filters.get("events")
    if kind is None or not isinstance(events, list) or not events:
        return None
    series = [{"kind": "EventsNode", "event": e.get("id"), "name": e.get("name") or e.get("id"),
               **{key: e[key] for key in ("math", "math_property", "custom_name", "properties") if e.get(key)}}
              for e in sorted(events, key=lambda e: e.get("order") or 0) if isinstance(e, dict)]
    query: dict[str, Any] = {"kind": kind, "series": series}
    if filters.get("date_from") or filters.get("date_to"):
        query["dateRange"] = {k: filters[k] for k in ("date_from", "date_to") if filters.get(k)}
    if filters.get("interval"):
        query["interval"] = filters["interval"]
    if isinstance(filters.get("properties"), list) and filters["properties"]:
        query["properties"] = filters["properties"]
    if filters.get("filter_test_accounts"):
        query["filterTestAccounts"] = True
    if filters.get("breakdown") is not None:
        query["breakdownFilter"] = {"breakdown": filters["breakdown"], "breakdown_type": filters.get("breakdown_type") or "event"}
    if kind == "TrendsQuery" and filters.get("display"):
        query["trendsFilter"] = {"display": filters["display"]}
    return query


def kind_of(query: dict[str, Any] | None, filters: dict[str, Any] | None) -> str | None:
    """The value of the list's `insight` filter this insight answers to (fact sheet §3.1)."""
    if not query:
        legacy = (filters or {}).get("insight")
        return str(legacy).upper() if legacy else None
    source = query.get("source") if query.get("kind") in WRAPPER_KINDS else None
    source_kind = source.get("kind") if isinstance(source, dict) else None
    if query.get("kind") == "InsightVizNode" and source_kind in INSIGHT_SOURCE_KINDS:
        return INSIGHT_SOURCE_KINDS[source_kind]
    if source_kind == "HogQLQuery":
        return "SQL"
    return "JSON"


def with_test_account_filter(query: Any, enabled: bool, kinds: set[str]) -> tuple[str, dict[str, Any] | None]:
    """plan_test_account_filter_update: `filterTestAccounts` of the innermost source (through
    wrapper nodes) set to `enabled`. The verdict is "unsupported" when that node's kind has no such
    filter (SQL, Hog), "unchanged" when it already says so (absent counts as off), else "updated"
    with the new query."""
    if not isinstance(query, dict):
        return "unsupported", None
    changed = copy.deepcopy(query)
    node = changed
    while node.get("kind") in WRAPPER_KINDS and isinstance(node.get("source"), dict):
        node = node["source"]
    if node.get("kind") not in kinds:
        return "unsupported", None
    if bool(node.get("filterTestAccounts")) == enabled:
        return "unchanged", None
    node["filterTestAccounts"] = enabled
    return "updated", changed


def events_of(query: dict[str, Any] | None) -> list[str]:
    """Event names the query's series and entities use (PostHog's query_metadata.events)."""
    found: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("kind") == "EventsNode" and isinstance(node.get("event"), str):
                found.append(node["event"])
            if node.get("type") == "events" and isinstance(node.get("id"), str):
                found.append(node["id"])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(query)
    return sorted(set(found))


def filters_hash(team_id: int, query_json: str | None, filters_json: str) -> str:
    """A stable cache key of the insight's results, like PostHog's `cache_<hash>`: a hash of what
    the results depend on, as stored (the stored JSON is canonical: the mock writes it)."""
    return "cache_" + hashlib.md5(f"{team_id}:{query_json}:{filters_json}".encode()).hexdigest()


def suggested_metadata(query: dict[str, Any]) -> dict[str, str]:
    """generate_metadata, without a model: a name and a description read off the query (each at
    most 400 characters, like the insight fields they are meant for)."""
    return {key: text if len(text) <= 400 else text[:399] + "…" for key, text in _metadata(query).items()}


def _metadata(query: dict[str, Any]) -> dict[str, str]:
    source = query.get("source", query) if isinstance(query.get("source"), dict) else query
    kind = source.get("kind", query.get("kind", ""))
    events = events_of(query) or ["all events"]
    subject = " and ".join(_event_label(e) for e in events[:3])
    date_from = (source.get("dateRange") or {}).get("date_from")
    window = f" over {_relative(date_from)}" if date_from else ""
    interval = source.get("interval")
    if kind == "TrendsQuery":
        per = f" per {interval}" if interval else ""
        return {"name": f"{subject} trend", "description": f"How often {subject} happened{per}{window}."}
    if kind == "FunnelsQuery":
        steps = " → ".join(_event_label(e) for e in events_of(query)) or "the funnel steps"
        return {"name": f"{subject} funnel", "description": f"Conversion through {steps}{window}."}
    if kind == "RetentionQuery":
        return {"name": f"{subject} retention", "description": f"How many people come back after {subject}{window}."}
    if kind == "LifecycleQuery":
        return {"name": f"{subject} lifecycle", "description": f"New, returning, resurrecting and dormant users of {subject}{window}."}
    if kind == "StickinessQuery":
        return {"name": f"{subject} stickiness", "description": f"On how many days people did {subject}{window}."}
    if kind in ("PathsQuery", "PathsV2Query"):
        return {"name": "User paths", "description": f"The paths people take through the product{window}."}
    if kind in TABLE_LABELS:
        label = TABLE_LABELS[kind]
        return {"name": f"{label} table", "description": f"A table of {label.lower()}{window}."}
    return {"name": "Insight", "description": "An insight of this project."}


def _event_label(event: str) -> str:
    return {"$pageview": "pageviews", "$autocapture": "clicks", "$screen": "screen views"}.get(event, event)


def _relative(date_from: str) -> str:
    units = {"h": "hour", "d": "day", "w": "week", "m": "month", "q": "quarter", "y": "year"}
    if date_from.startswith("-") and date_from[1:-1].isdigit() and date_from[-1] in units:
        amount, unit = int(date_from[1:-1]), units[date_from[-1]]
        return f"the last {amount} {unit}{'s' if amount != 1 else ''}"
    return f"the time since {date_from}"


def _without_nulls(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_nulls(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [_without_nulls(v) for v in node]
    return node
