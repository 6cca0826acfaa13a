"""StickinessQuery: per series, how many persons did the event in exactly 1, 2, ... N intervals of
the range, as PostHog's stickiness runner answers it.

PostHog's rules (posthog/hogql_queries/insights/stickiness_query_runner.py, fact sheet §4):
- A person counts an interval when they did the series' event in it at least once (or as
  `stickinessFilter.stickinessCriteria` says: gte/lte/exact a number of events that interval).
- `data[i]` is the persons active in exactly i+1 intervals; it has one entry per interval of the
  range, zeros included, so its sum is the persons who did the event at all. `computedAs:
  "cumulative"` shows "i+1 or more" instead; `count` stays the plain sum.
- Events count from `date_from` (its day, for weekly buckets: not the week's start) to `date_to`.
- With `compareFilter.compare`, each series is followed by its previous-period twin.

The counting is one DuckDB GROUP BY per series and period; Python fills the intervals.
"""

from __future__ import annotations

import math
from typing import Any

from mockserver.analytics.context import Context, series_event
from mockserver.analytics.properties import QueryError, Sql
from mockserver.analytics.ranges import DateRange, naive

# PostHog's get_count_operator: the criteria's operator as SQL.
CRITERIA_OPERATORS = {"gte": ">=", "lte": "<=", "gt": ">", "lt": "<", "exact": "=", "eq": "="}
UNSUPPORTED_MATHS = {"unique_group", "hogql"}  # PostHog counts persons for every other math


def run(query: dict[str, Any], context: Context) -> list[dict[str, Any]]:
    series = query.get("series")
    if not isinstance(series, list) or not series:
        raise QueryError("A StickinessQuery needs at least one series.")
    if query.get("aggregation_group_type_index") is not None:
        raise QueryError("Stickiness aggregated by groups is not supported by the mock: it counts persons.")
    stickiness_filter = query.get("stickinessFilter") or {}
    cumulative = stickiness_filter.get("computedAs") == "cumulative"
    having = _having(stickiness_filter.get("stickinessCriteria"))
    interval_count = _interval_count(query.get("intervalCount"))
    compare = bool((query.get("compareFilter") or {}).get("compare"))
    periods = _periods(query, context, compare)
    results = []
    for order, node in enumerate(series):
        event = series_event(node)
        if node.get("math") in UNSUPPORTED_MATHS:
            raise QueryError(f"Stickiness with math {node.get('math')!r} is not supported by the mock: it counts persons.")
        for label, period in periods:
            intervals = math.ceil(len(period.buckets()) / (interval_count or 1))
            per_count = _persons_per_interval_count(query, node, event, period, having, interval_count, context)
            data = [per_count.get(n, 0) for n in range(1, intervals + 1)]
            result = {
                "count": sum(data),
                "data": [sum(data[i:]) for i in range(len(data))] if cumulative else data,
                "days": list(range(1, intervals + 1)),
                "label": "All events" if event is None else event,
                "labels": [_interval_label(n, period.interval, cumulative) for n in range(1, intervals + 1)],
                "action": {"order": order, "type": "events", "name": event or "All events", "id": event,
                           "custom_name": node.get("custom_name")},
            }
            if compare:
                result["compare"], result["compare_label"] = True, label
            results.append(result)
    return results


def _persons_per_interval_count(query: dict[str, Any], node: dict[str, Any], event: str | None, period: DateRange,
                                having: str, interval_count: int | None, context: Context) -> dict[int, int]:
    """{number of intervals: persons active in exactly that many}."""
    sql = Sql()
    source = context.events_sql(sql, start=period.count_from, end=period.end, event=event,
                                filters=(query.get("properties"), node.get("properties")),
                                filter_test_accounts=bool(query.get("filterTestAccounts")))
    if interval_count is None:
        bucket = period.sql_bucket()
    else:  # intervals counted back from date_to, intervalCount at a time (PostHog's age())
        date_to = f"TIMESTAMP '{naive(period.end).isoformat(sep=' ')}'"
        bucket = f"floor(date_sub('{period.interval}', e.timestamp, {date_to}) / {interval_count})"
    text = (f"SELECT intervals, count(*) FROM ("
            f"  SELECT actor, count(*) AS intervals FROM ("
            f"    SELECT e.person_id AS actor, {bucket} AS bucket {source} GROUP BY ALL HAVING {having}"
            f"  ) GROUP BY actor"
            f") GROUP BY intervals")
    return dict(context.rows(text, sql))


def _periods(query: dict[str, Any], context: Context, compare: bool) -> list[tuple[str, DateRange]]:
    """The current period and, with compare, the previous one (or the one `compare_to` back)."""
    earliest = context.earliest() if (query.get("dateRange") or {}).get("date_from") == "all" else None
    current = DateRange.of(query, context.now, context.week_start_day, earliest=earliest)
    if not compare:
        return [("current", current)]
    compare_to = (query.get("compareFilter") or {}).get("compare_to")
    return [("current", current), ("previous", current.shifted(compare_to) if compare_to else current.previous())]


def _having(criteria: dict[str, Any] | None) -> str:
    if not criteria:
        return "count(*) > 0"
    operator, value = criteria.get("operator"), criteria.get("value")
    if operator not in CRITERIA_OPERATORS:
        raise QueryError(f"Unknown stickinessCriteria operator {operator!r}: use one of {', '.join(CRITERIA_OPERATORS)}.")
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise QueryError("stickinessCriteria.value must be a number of events.")
    return f"count(*) {CRITERIA_OPERATORS[operator]} {value}"


def _interval_count(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise QueryError("intervalCount must be a whole number of at least 1.")
    return value


def _interval_label(n: int, interval: str, cumulative: bool) -> str:
    return f"{n} {interval}{'' if n == 1 else 's'}{' or more' if cumulative else ''}"

