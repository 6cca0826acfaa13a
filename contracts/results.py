"""What an insight's numbers must satisfy whatever events a deployment holds: a trend's `count`
against its `data`, a funnel's steps never growing, a retention cohort never smaller than its
returns. These follow from how PostHog's query runners build their results (the sums are the
runners' own: `count = float(sum(data))`, a cumulative line's count is its last point), so they
hold on the mock, a self-hosted PostHog and PostHog Cloud alike, where the numbers themselves
cannot be known.
"""

from __future__ import annotations

import math
from typing import Any

# A trends result item with one of these displays is a total (`aggregated_value`), not a series.
TOTAL_VALUE_DISPLAYS = {"ActionsPie", "ActionsTable", "ActionsBarValue", "WorldMap", "BoldNumber", "CalendarHeatmap"}
RELATIVE = 1e-6  # sums of floats in another order than the target's


def source_of(query: Any) -> dict[str, Any] | None:
    """The query that ran: a bare insight query, or the source of an InsightVizNode."""
    if isinstance(query, dict) and query.get("kind") == "InsightVizNode":
        query = query.get("source")
    return query if isinstance(query, dict) and isinstance(query.get("kind"), str) else None


def problems(source: dict[str, Any], results: Any) -> list[str]:
    """How `results` (an insight's `result`, or a query's `results`) break the rules of its kind."""
    if not isinstance(results, list):
        return []
    judge = _JUDGES.get(source.get("kind"))
    return judge(source, results) if judge else []


def _trends(source: dict[str, Any], results: list[Any]) -> list[str]:
    display = (source.get("trendsFilter") or {}).get("display")
    if display in TOTAL_VALUE_DISPLAYS:
        return []
    cumulative = display == "ActionsLineGraphCumulative"
    return [problem for index, series in _series(results)
            for problem in _series_count(f"series {index}", series, last_point=cumulative)]


def _stickiness(source: dict[str, Any], results: list[Any]) -> list[str]:
    # Cumulative stickiness shows "i+1 or more" (suffix sums); its count stays the plain sum, so
    # the first point equals it.
    cumulative = (source.get("stickinessFilter") or {}).get("computedAs") == "cumulative"
    return [problem for index, series in _series(results)
            for problem in _series_count(f"series {index}", series, first_point=cumulative)]


def _lifecycle(source: dict[str, Any], results: list[Any]) -> list[str]:
    return [problem for index, series in _series(results) for problem in _series_count(f"status {index}", series)]


def _funnels(source: dict[str, Any], results: list[Any]) -> list[str]:
    if (source.get("funnelsFilter") or {}).get("funnelVizType", "steps") != "steps":
        return []
    funnels = results if results and all(isinstance(item, list) for item in results) else [results]
    found = []
    for index, steps in enumerate(funnels):
        counts = [step.get("count") for step in steps if isinstance(step, dict)]
        if all(isinstance(count, (int, float)) for count in counts) and any(b > a for a, b in zip(counts, counts[1:])):
            found.append(f"funnel {index}: step counts {counts} grow; a step counts only persons who did the one before")
    return found


def _retention(source: dict[str, Any], results: list[Any]) -> list[str]:
    found = []
    for cohort in results:
        values = [value.get("count") for value in (cohort.get("values") or []) if isinstance(value, dict)] if isinstance(cohort, dict) else []
        if values and all(isinstance(count, (int, float)) for count in values) and any(count > values[0] for count in values[1:]):
            found.append(f"cohort {cohort.get('label')!r}: returns {values[1:]} exceed the cohort's {values[0]}")
    return found


_JUDGES = {"TrendsQuery": _trends, "StickinessQuery": _stickiness, "LifecycleQuery": _lifecycle,
           "FunnelsQuery": _funnels, "RetentionQuery": _retention}


def _series(results: list[Any]) -> list[tuple[int, dict[str, Any]]]:
    """The time series among the results: items with numeric `data` and `count`, no total."""
    return [(index, item) for index, item in enumerate(results)
            if isinstance(item, dict) and "aggregated_value" not in item and isinstance(item.get("data"), list)
            and isinstance(item.get("count"), (int, float)) and all(isinstance(x, (int, float)) for x in item["data"])]


def _series_count(name: str, series: dict[str, Any], *, last_point: bool = False, first_point: bool = False) -> list[str]:
    data, count = series["data"], series["count"]
    found = []
    for key in ("days", "labels"):
        if isinstance(series.get(key), list) and len(series[key]) != len(data):
            found.append(f"{name}: {len(data)} points but {len(series[key])} {key}")
    if last_point or first_point:
        expected, said = (data[-1] if last_point else data[0]) if data else 0, "its last point" if last_point else "its first point"
    else:
        expected, said = sum(data), "the sum of its data"
    if not math.isclose(count, expected, rel_tol=RELATIVE, abs_tol=RELATIVE):
        found.append(f"{name} ({series.get('label')!r}): count {count} is not {said} ({expected})")
    return found
