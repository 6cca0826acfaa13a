"""TrendsQuery: each series counted per interval (or over the whole range), as PostHog's trends
runner answers it: series, math, breakdowns with an "other" bucket, compare, formulas.

Counting happens in one GROUP BY per series and period (bucket, and breakdown values when there
are any); the rest (filling empty buckets, ranking values, formulas, cumulative sums) is
arithmetic on the few rows that come back. Shapes and rules: tests/fixtures/posthog-query-results.md §1.
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

from mockserver.analytics import properties
from mockserver.analytics.context import Context, series_event
from mockserver.analytics.properties import QueryError, Sql
from mockserver.analytics.ranges import DateRange, aware, naive, step

BREAKDOWN_OTHER = "$$_posthog_breakdown_other_$$"
BREAKDOWN_NULL = "$$_posthog_breakdown_null_$$"
DEFAULT_BREAKDOWN_LIMIT = 25
WORLD_MAP_BREAKDOWN_LIMIT = 250
# Displays that show one number per series (and breakdown value) instead of a line.
TOTAL_VALUE_DISPLAYS = {"BoldNumber", "ActionsPie", "ActionsTable", "WorldMap", "ActionsBarValue", "CalendarHeatmap"}
PERCENTILES = {"median": 0.5, "p75": 0.75, "p90": 0.9, "p95": 0.95, "p99": 0.99}
PROPERTY_MATHS = {"sum", "avg", "min", "max", *PERCENTILES}
ACTIVE_WINDOWS = {"weekly_active": 7, "monthly_active": 30}
SUPPORTED_MATHS = {"total", "dau", "unique_session", *ACTIVE_WINDOWS, *PROPERTY_MATHS}
# The interval from which weekly (monthly) actives are simply each interval's unique persons.
ACTIVE_AS_UNIQUE = {"weekly_active": ("week", "month"), "monthly_active": ("month",)}


@dataclass(frozen=True)
class Trend:
    """A query's settings every series reads."""

    query: dict[str, Any]
    breakdowns: list[dict[str, Any]]
    limit: int
    total_value: bool
    display: str

    @classmethod
    def of(cls, query: dict[str, Any]) -> "Trend":
        display = (query.get("trendsFilter") or {}).get("display") or "ActionsLineGraph"
        breakdown_filter = query.get("breakdownFilter") or {}
        default = WORLD_MAP_BREAKDOWN_LIMIT if display == "WorldMap" else DEFAULT_BREAKDOWN_LIMIT
        return cls(query, _breakdowns(breakdown_filter), breakdown_filter.get("breakdown_limit") or default,
                   display in TOTAL_VALUE_DISPLAYS, display)


@dataclass
class Answer:
    results: list[dict[str, Any]]
    has_more: bool
    date_range: DateRange


def run(query: dict[str, Any], context: Context) -> Answer:
    series = query.get("series")
    if not isinstance(series, list) or not series:
        raise QueryError("A TrendsQuery needs at least one series.")
    trend = Trend.of(query)
    date_range = DateRange.of(query, context.now, context.week_start_day, earliest=context.earliest() if (query.get("dateRange") or {}).get("date_from") == "all" else None,
                              interval="day" if trend.total_value else None, exact=trend.display == "BoldNumber")
    compare = query.get("compareFilter") or {}
    periods = [("current", date_range)]
    if compare.get("compare"):
        periods.append(("previous", date_range.shifted(compare["compare_to"]) if compare.get("compare_to")
                        else date_range.previous()))
    formulas = _formulas(query.get("trendsFilter") or {})
    results: list[dict[str, Any]] = []
    has_more = False
    for label, period in periods:
        computed = []
        for index, node in enumerate(series):
            found, more = _series(trend, node, index, period, context, many=len(series) > 1)
            computed.append(found)
            has_more = has_more or more
        found = [r for n, (formula, name) in enumerate(formulas) for r in _formula(formula, name, n, computed, trend)] \
            if formulas else [result for per_series in computed for result in per_series]
        if compare.get("compare"):
            for result in found:
                result["compare"], result["compare_label"] = True, label
        results.extend(found)
    if trend.display == "ActionsLineGraphCumulative":
        for result in results:
            result["data"] = list(accumulate(result["data"]))
            result["count"] = float(result["data"][-1]) if result["data"] else 0.0
    return Answer(results, has_more, date_range)


def _series(trend: Trend, node: dict[str, Any], index: int, period: DateRange, context: Context,
            many: bool) -> tuple[list[dict[str, Any]], bool]:
    """The results of one series in one period, and whether breakdown values were folded into Other."""
    event = series_event(node)
    math = node.get("math") or "total"
    if math not in SUPPORTED_MATHS:
        raise QueryError(f"The math {math!r} is not supported by the mock: use one of {', '.join(sorted(SUPPORTED_MATHS))}.")
    if math in PROPERTY_MATHS and not node.get("math_property"):
        raise QueryError(f"The math {math!r} needs a math_property.")
    buckets = period.buckets()
    counts = _counts(trend, node, event, math, period, buckets, context)
    values, folded = _ranked(counts, trend)
    label = _event_label(node)
    results = []
    for value in values:
        per_bucket = counts[value]
        result: dict[str, Any]
        if trend.total_value:
            result = {"data": [], "days": [], "count": 0, "aggregated_value": _number(per_bucket.get(None, 0))}
        else:
            empty = 0.0 if math in PROPERTY_MATHS else 0
            data = [_number(per_bucket.get(bucket, empty)) for bucket in buckets]
            result = {"data": data, "labels": [period.label(b) for b in buckets], "days": [period.day(b) for b in buckets],
                      "count": float(sum(data))}
        result["label"] = label
        result["filter"] = _filter_of(trend, period)
        result["action"] = _action(node, index, math, buckets)
        result["order"] = index
        if trend.breakdowns:
            shown = value[0] if len(value) == 1 else "::".join(value)
            result["breakdown_value"] = value[0] if len(value) == 1 else list(value)
            result["label"] = f"{label} - {shown}" if many else shown
        results.append(result)
    return results, folded


def _counts(trend: Trend, node, event, math, period: DateRange, buckets: list[datetime], context: Context) -> dict:
    """{breakdown value tuple: {bucket start (None when totalled): number}}."""
    sql = Sql()
    if period.interval in ACTIVE_AS_UNIQUE.get(math, ()):
        math = "dau"
    window = ACTIVE_WINDOWS.get(math)
    start = period.count_from
    if window:  # the persons active in the window before each bucket (before date_to, for one number)
        start = (period.date_to if trend.total_value else period.start) - timedelta(days=window)
    source = context.events_sql(
        sql, start=start, end=period.date_to, event=event,
        filters=(trend.query.get("properties"), node.get("properties")),
        filter_test_accounts=bool(trend.query.get("filterTestAccounts")),
        persons=any(b["type"] == "person" for b in trend.breakdowns))
    value_columns = [f"coalesce(nullif({properties.value_of(b['property'], b['type'])}, ''), '{BREAKDOWN_NULL}') AS b{n}"
                     for n, b in enumerate(trend.breakdowns)]
    if window and not trend.total_value:
        rows = _active_counts(sql, source, value_columns, window, period, buckets, context)
    else:
        bucket = "NULL" if trend.total_value else period.sql_bucket()
        select = ", ".join([f"{bucket} AS bucket", *value_columns, f"{_aggregate(math, node)} AS value"])
        rows = context.rows(f"SELECT {select} {source} GROUP BY ALL", sql)
    counts: dict[tuple, dict] = {}
    for bucket, *values, number in rows:
        counts.setdefault(tuple(values), {})[aware(bucket) if bucket is not None else None] = number
    if not trend.breakdowns:
        counts.setdefault((), {})  # no events: one series of zeros
    return counts


def _active_counts(sql: Sql, source: str, value_columns: list[str], window: int, period: DateRange,
                   buckets: list[datetime], context: Context) -> list[tuple]:
    """Weekly and monthly actives: per bucket, the persons seen in the `window` days up to its end."""
    ends = ", ".join(f"({sql.value(naive(b))}, {sql.value(naive(min(step(b, period.interval, 1), period.date_to + timedelta(microseconds=1))))})"
                     for b in buckets)
    columns = ", ".join(["e.person_id", "e.timestamp", *value_columns])
    keys = "".join(f"a.b{n}, " for n in range(len(value_columns)))
    text = (f"WITH active AS (SELECT {columns} {source}), buckets(bucket, bucket_end) AS (VALUES {ends}) "
            f"SELECT b.bucket, {keys}count(DISTINCT a.person_id) FROM buckets b JOIN active a "
            f"ON a.timestamp < b.bucket_end AND a.timestamp >= b.bucket_end - INTERVAL {window} DAY GROUP BY ALL")
    return context.rows(text, sql)


def _aggregate(math: str, node: dict[str, Any]) -> str:
    if math == "total":
        return "count(*)"
    if math in ("dau", *ACTIVE_WINDOWS):
        return "count(DISTINCT e.person_id)"
    if math == "unique_session":
        return f"count(DISTINCT coalesce({properties.event_property('$session_id')}, ''))"
    number = properties.event_number(node["math_property"])
    if math in PERCENTILES:
        return f"coalesce(quantile_cont({number}, {PERCENTILES[math]}), 0)"
    return f"coalesce({math}({number}), 0)"


def _breakdowns(breakdown_filter: dict[str, Any]) -> list[dict[str, Any]]:
    if breakdown_filter.get("breakdowns"):
        found = [{"property": b.get("property"), "type": b.get("type") or "event"} for b in breakdown_filter["breakdowns"]]
    elif breakdown_filter.get("breakdown") is not None:
        found = [{"property": breakdown_filter["breakdown"], "type": breakdown_filter.get("breakdown_type") or "event"}]
    else:
        return []
    for b in found:
        if not isinstance(b["property"], str):
            raise QueryError("A breakdown must name a property: cohort and multiple-value breakdowns are not supported by the mock.")
        if b["type"] not in ("event", "person"):
            raise QueryError(f"Breakdowns of type {b['type']} are not supported by the mock: use an event or person property.")
    return found


def _ranked(counts: dict, trend: Trend) -> tuple[list[tuple], bool]:
    """Breakdown values in PostHog's order (values by total, then the null value, then Other), the
    ones past the limit summed into Other; empty null rows left out. True when any was folded."""
    if not trend.breakdowns:
        return [()], False
    totals = {value: sum(n or 0 for n in per_bucket.values()) for value, per_bucket in counts.items()}
    if trend.total_value:
        ranked = sorted(totals, key=lambda value: (-totals[value], value))
    else:
        ranked = sorted(totals, key=lambda value: (BREAKDOWN_NULL in value, -totals[value], value))
    kept, rest = ranked[:trend.limit], ranked[trend.limit:]
    kept = [value for value in kept if not (BREAKDOWN_NULL in value and totals[value] == 0)]
    if not rest:
        return kept, False
    if (trend.query.get("breakdownFilter") or {}).get("breakdown_hide_other_aggregation"):
        return kept, True
    other = tuple(BREAKDOWN_OTHER for _ in trend.breakdowns)
    merged: dict = {}
    for value in rest:
        for bucket, number in counts[value].items():
            merged[bucket] = (merged.get(bucket) or 0) + (number or 0)
    counts[other] = merged
    return [*kept, other], True


def _formulas(trends_filter: dict[str, Any]) -> list[tuple[str, str | None]]:
    if trends_filter.get("formulaNodes"):
        return [(node["formula"], node.get("custom_name")) for node in trends_filter["formulaNodes"] if node.get("formula")]
    if trends_filter.get("formulas"):
        return [(formula, None) for formula in trends_filter["formulas"] if formula]
    if trends_filter.get("formula"):
        return [(trends_filter["formula"], None)]
    return []


def _formula(formula: str, custom_name: str | None, index: int, computed: list[list[dict]], trend: Trend) -> list[dict]:
    """The formula over the series (A is the first), bucket by bucket, per breakdown value; a
    series without that value counts as zeros."""
    evaluate = _compile(formula, len(computed))
    by_value = [{_key(r): r for r in results} for results in computed]
    values = list(dict.fromkeys(value for results in by_value for value in results))
    found = []
    for value in values:
        rows = [results.get(value) for results in by_value]
        first = next(row for row in rows if row is not None)
        result = {**first, "label": custom_name or f"Formula ({formula})", "action": None, "order": index}
        if trend.total_value:
            result["data"] = None
            result["aggregated_value"] = float(evaluate([row["aggregated_value"] if row else 0 for row in rows]))
        else:
            width = len(first["data"])
            result["data"] = [evaluate([row["data"][i] if row else 0 for row in rows]) for i in range(width)]
            result["count"] = float(sum(result["data"]))
        found.append(result)
    if trend.breakdowns:
        found.sort(key=lambda r: (BREAKDOWN_OTHER in _key(r), BREAKDOWN_NULL in _key(r), -(r.get("count") or 0)))
    return found


def _key(result: dict[str, Any]) -> tuple:
    value = result.get("breakdown_value")
    return tuple(value) if isinstance(value, list) else (value,)


OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _compile(formula: str, series: int):
    """A formula of series letters, numbers, + - * / and brackets, as a function of the letters' values."""
    try:
        tree = ast.parse(formula.upper(), mode="eval")
    except SyntaxError:
        raise QueryError(f"The formula {formula!r} is not valid: use series letters, numbers, + - * / and brackets.")

    def value(node: ast.AST, letters: list[float]) -> float:
        if isinstance(node, ast.Expression):
            return value(node.body, letters)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.Name) and len(node.id) == 1 and 0 <= ord(node.id) - 65 < series:
            return letters[ord(node.id) - 65]
        if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
            left, right = value(node.left, letters), value(node.right, letters)
            if isinstance(node.op, ast.Div) and right == 0:
                return 0  # a bucket that divides by zero is 0, not an error
            return OPERATORS[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return -value(node.operand, letters) if isinstance(node.op, ast.USub) else value(node.operand, letters)
        raise QueryError(f"The formula {formula!r} is not valid: use series letters A to {chr(64 + series)}, numbers,"
                         " + - * / and brackets.")

    value(tree, [0] * series)  # refuse a bad formula before any result is built
    return lambda letters: value(tree, letters)


def _event_label(node: dict[str, Any]) -> str:
    event = node.get("event")
    return event if event is not None else "All events"


def _action(node: dict[str, Any], index: int, math: str, buckets: list[datetime]) -> dict[str, Any]:
    return {
        "days": buckets, "id": node.get("event"), "type": "events", "order": index, "name": _event_label(node),
        "custom_name": node.get("custom_name"), "math": math, "math_property": node.get("math_property"),
        "math_hogql": node.get("math_hogql"), "math_group_type_index": node.get("math_group_type_index"),
        "properties": {},
    }


def _filter_of(trend: Trend, period: DateRange) -> dict[str, Any]:
    """The legacy echo of the query PostHog puts on every result (its None values left out)."""
    query = trend.query
    echo = {"insight": "TRENDS", "properties": query.get("properties"), "filter_test_accounts": query.get("filterTestAccounts"),
            "date_to": period.date_to, "date_from": period.date_from, "entity_type": "events", "interval": period.interval,
            **(query.get("trendsFilter") or {}), **(query.get("breakdownFilter") or {})}
    return {key: value for key, value in echo.items() if value is not None}



def _number(value: Any) -> float | int:
    """Counts are integers, other maths floats; an empty bucket is 0."""
    return 0 if value is None else value
