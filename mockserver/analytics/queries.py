"""Which queries the mock computes, and running one: the runner of its kind over the events.

An insight's stored query is usually an InsightVizNode around the query that runs; `/query/`
gets the query itself. Either way the runnable node is found the same way, so an insight and
a `/query/` call for the same query compute (and cache) the same thing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from mockserver.analytics import funnels, lifecycle, paths, retention, stickiness, trends
from mockserver.analytics.context import Context
from mockserver.analytics.ranges import DateRange

Runner = Callable[[dict[str, Any], Context], Any]
RUNNERS: dict[str, Runner] = {
    "TrendsQuery": trends.run, "FunnelsQuery": funnels.run, "RetentionQuery": retention.run,
    "StickinessQuery": stickiness.run, "LifecycleQuery": lifecycle.run, "PathsQuery": paths.run,
}
# Kinds whose response carries `hasMore` (the others' models have no such field).
WITH_HAS_MORE = {"TrendsQuery"}
# Kinds whose response says which dates it covered (`resolved_date_range`).
WITH_RESOLVED_RANGE = {"TrendsQuery", "FunnelsQuery", "LifecycleQuery"}


def runnable(query: Any) -> dict[str, Any] | None:
    """The node the mock runs for this query (a bare runnable query, or an InsightVizNode's
    source), or None when the mock computes nothing for it (HogQL, tables, Hog)."""
    if not isinstance(query, dict):
        return None
    if query.get("kind") in RUNNERS:
        return query
    source = query.get("source")
    if query.get("kind") == "InsightVizNode" and isinstance(source, dict) and source.get("kind") in RUNNERS:
        return source
    return None


@dataclass
class Computed:
    """A run's results and what the cache policy reads off its query."""

    results: Any
    has_more: bool | None
    date_range: DateRange | None  # what the query covered, for resolved_date_range and staleness
    interval: str | None  # the interval the cache's target age follows

    @property
    def span_days(self) -> int | None:
        if self.date_range is None:
            return None
        return math.ceil((self.date_range.date_to - self.date_range.date_from).total_seconds() / 86400)


def compute(source: dict[str, Any], context: Context) -> Computed:
    kind = source["kind"]
    answer = RUNNERS[kind](source, context)
    if isinstance(answer, trends.Answer):
        return Computed(answer.results, answer.has_more, answer.date_range, answer.date_range.interval)
    date_range = _date_range(source, context)
    interval = date_range.interval if date_range else None
    return Computed(answer, None, date_range if kind in WITH_RESOLVED_RANGE else None, interval)


def _date_range(source: dict[str, Any], context: Context) -> DateRange | None:
    """The range a runner without an answer of its own covered, read off the query as it reads it."""
    if source["kind"] == "RetentionQuery":
        return retention.date_range(source, context)
    earliest = context.earliest() if (source.get("dateRange") or {}).get("date_from") == "all" else None
    if source["kind"] == "PathsQuery":
        return DateRange.of(source, context.now, context.week_start_day, earliest=earliest, interval="day")
    return DateRange.of(source, context.now, context.week_start_day, earliest=earliest)


def resolved(date_range: DateRange | None) -> dict[str, datetime] | None:
    if date_range is None:
        return None
    return {"date_from": date_range.date_from, "date_to": date_range.date_to}
