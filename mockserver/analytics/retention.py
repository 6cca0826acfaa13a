"""RetentionQuery: of the persons who did the target event in an interval (a cohort), how many
did the returning event 1, 2, ... intervals later, as PostHog's retention runner answers it.

PostHog's rules (posthog/hogql_queries/insights/retention_query_runner.py, fact sheet §3):
- The range ends at the start of the interval after `dateRange.date_to` (default now), so the
  current interval is the last cohort; it starts at `date_from` (aligned), or `totalIntervals`
  intervals before the end when there is none (QueryDateRangeWithIntervals).
- Recurring retention (the default): a person is in every cohort whose interval holds one of
  their target events. First-time retention: only in the cohort of their first target event
  ever, and only when that falls in the range; "first ever occurrence" also needs that first
  event to match the target's own property filters.
- Day 0 is the whole cohort; Day k counts the cohort's persons with a returning event k
  intervals later (k < totalIntervals), whatever their other events.
- Every cohort has `totalIntervals` values: a full matrix, zeros where the future has not come.

The per-person work (cohorts, returns) is one DuckDB query; Python lays out the matrix.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from mockserver.analytics import properties
from mockserver.analytics.context import Context
from mockserver.analytics.properties import QueryError, Sql
from mockserver.analytics.ranges import DateRange, align, naive, step

PERIODS = {"Hour": "hour", "Day": "day", "Week": "week", "Month": "month"}
DEFAULT_TOTAL_INTERVALS = 8  # the schema's default (schema.py RetentionFilter.totalIntervals)
RUNNER_TOTAL_INTERVALS = 7  # the runner's own, for an explicit null
MAX_TOTAL_INTERVALS = 1_000
RETENTION_TYPES = ("retention_recurring", "retention_first_time", "retention_first_ever_occurrence")
BREAKDOWN_OTHER = "$$_posthog_breakdown_other_$$"
DEFAULT_BREAKDOWN_LIMIT = 25


def run(query: dict[str, Any], context: Context) -> list[dict[str, Any]]:
    retention_filter = query.get("retentionFilter") or {}
    if query.get("aggregation_group_type_index") is not None:
        raise QueryError("Retention aggregated by groups is not supported by the mock: it counts persons.")
    if retention_filter.get("timeWindowMode") not in (None, "strict_calendar_dates"):
        raise QueryError("Retention over 24-hour windows is not supported by the mock: it uses calendar intervals.")
    lookahead = _total_intervals(retention_filter)
    cohorts = date_range(query, context)
    breakdown = _breakdown(query.get("breakdownFilter") or {})
    counts = _counts(query, retention_filter, lookahead, cohorts, breakdown, context)
    title = cohorts.interval.title()
    starts = cohorts.buckets()
    if breakdown is None:
        cells = counts.get("", {})
        return [_cohort(title, index, moment, lookahead, cells, None) for index, moment in enumerate(starts)]
    results = []
    for value, cells in _ranked(counts, query.get("breakdownFilter") or {}):
        results.extend(_cohort(title, index, moment, lookahead, cells, value) for index, moment in enumerate(starts))
    return results


def date_range(query: dict[str, Any], context: Context) -> DateRange:
    """The cohorts' range: to the end of date_to's interval (so the current interval is the last
    cohort), from date_from's interval or `totalIntervals` intervals before that end."""
    retention_filter = query.get("retentionFilter") or {}
    period = _period(retention_filter)
    raw = query.get("dateRange") or {}
    raw_from = raw.get("date_from") or raw.get("date_to") or "-0d"  # date_to as QueryDateRange reads it
    earliest = context.earliest() if raw_from == "all" else None
    bounds = DateRange.of({"dateRange": {**raw, "date_from": raw_from}}, context.now, context.week_start_day,
                          earliest=earliest, interval=period)
    end = step(align(bounds.date_to, period, bounds.week_start_day), period, 1)
    start = bounds.start if raw.get("date_from") else step(end, period, -_total_intervals(retention_filter))
    return DateRange(start, end - timedelta(microseconds=1), period, bounds.week_start_day)


def _cohort(title: str, index: int, moment: datetime, lookahead: int, cells: dict[tuple[int, int], int],
            breakdown_value: str | None) -> dict[str, Any]:
    """One row of the matrix, keyed as RetentionResult is dumped (its fields in schema order)."""
    return {
        "breakdown_value": breakdown_value,
        "date": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "label": f"{title} {index}",
        "values": [{"count": cells.get((index, k), 0), "label": f"{title} {k}"} for k in range(lookahead)],
    }


def _counts(query: dict[str, Any], retention_filter: dict[str, Any], lookahead: int, cohorts: DateRange,
            breakdown: dict[str, str] | None, context: Context) -> dict[str, dict[tuple[int, int], int]]:
    """{breakdown value ('' without a breakdown): {(cohort index, intervals later): persons}}."""
    period, start, end = cohorts.interval, cohorts.start, cohorts.date_to + timedelta(microseconds=1)
    retention_type = retention_filter.get("retentionType") or "retention_recurring"
    if retention_type not in RETENTION_TYPES:
        raise QueryError(f"Unknown retentionType {retention_type!r}: use one of {', '.join(RETENTION_TYPES)}.")
    target = _entity(retention_filter.get("targetEntity"))
    returning = _entity(retention_filter.get("returningEntity"))
    minimum = retention_filter.get("minimumOccurrences") or 1
    if not isinstance(minimum, int) or minimum < 1:
        raise QueryError("minimumOccurrences must be a whole number of at least 1.")
    sql = Sql()
    columns = [
        f"{_event_is(sql, target['id'])} AS target_event",
        f"{_event_is(sql, target['id'])} AND ({properties.where(sql, target['properties'])}) AS is_target",
        f"{_event_is(sql, returning['id'])} AND ({properties.where(sql, returning['properties'])}) AS is_return",
        f"coalesce({properties.value_of(breakdown['property'], breakdown['type'])}, '') AS breakdown_value"
        if breakdown else "'' AS breakdown_value",
    ]
    # First-time retention looks for each person's first target event before the range too.
    source = context.events_sql(
        sql, start=start if retention_type == "retention_recurring" else None, end=end,
        events=[target["id"], returning["id"]], filters=(query.get("properties"),),
        filter_test_accounts=bool(query.get("filterTestAccounts")),
        persons=bool(breakdown and breakdown["type"] == "person"))
    in_range = f"ts >= {_literal(start)} AND ts < {_literal(end)}"
    text = f"""
        WITH matched AS (SELECT e.person_id AS actor, e.timestamp AS ts, {', '.join(columns)} {source}),
        starts AS ({_cohort_members(retention_type, period, start, end)}),
        returns AS (
            SELECT actor, breakdown_value, {_index('ts', period, start)} AS returned FROM matched
            WHERE is_return AND {in_range} GROUP BY ALL HAVING count(*) >= {minimum}),
        cells AS (
            SELECT actor, breakdown_value, cohort, 0 AS later FROM starts
            UNION ALL
            SELECT s.actor, s.breakdown_value, s.cohort, r.returned - s.cohort FROM starts s JOIN returns r
              ON r.actor = s.actor AND r.breakdown_value = s.breakdown_value
             AND r.returned > s.cohort AND r.returned < s.cohort + {lookahead})
        {_tally(bool(retention_filter.get('cumulative')), lookahead)}"""
    counts: dict[str, dict[tuple[int, int], int]] = {}
    for breakdown_value, cohort, later, persons in context.rows(text, sql):
        counts.setdefault(breakdown_value, {})[(cohort, later)] = persons
    return counts


def _cohort_members(retention_type: str, period: str, start: datetime, end: datetime) -> str:
    """SQL: (person, breakdown value, cohort index) for every cohort a person belongs to."""
    if retention_type == "retention_recurring":
        return (f"SELECT DISTINCT actor, breakdown_value, {_index('ts', period, start)} AS cohort FROM matched"
                f" WHERE is_target AND ts >= {_literal(start)} AND ts < {_literal(end)}")
    same_as_any = " AND first = first_any" if retention_type == "retention_first_ever_occurrence" else ""
    return (f"SELECT actor, breakdown_value, {_index('first', period, start)} AS cohort FROM ("
            "SELECT actor, breakdown_value, min(ts) FILTER (WHERE is_target) AS first,"
            " min(ts) FILTER (WHERE target_event) AS first_any FROM matched GROUP BY ALL)"
            f" WHERE first >= {_literal(start)} AND first < {_literal(end)}{same_as_any}")


def _tally(cumulative: bool, lookahead: int) -> str:
    """Persons per (breakdown value, cohort, intervals later). Cumulative retention counts a person
    in every interval up to the last one they came back in (PostHog's `cumulative`)."""
    if not cumulative:
        return "SELECT breakdown_value, cohort, later, count(DISTINCT actor) FROM cells GROUP BY ALL"
    return ("SELECT breakdown_value, cohort, later, count(DISTINCT actor) FROM ("
            "SELECT actor, breakdown_value, cohort, max(later) AS furthest FROM cells GROUP BY ALL"
            f") JOIN range(0, {lookahead}) AS intervals(later) ON later <= furthest GROUP BY ALL")


def _ranked(counts: dict[str, dict[tuple[int, int], int]], breakdown_filter: dict[str, Any]) -> list[tuple[str, dict]]:
    """Breakdown values by cohort sizes summed, biggest first (then by value); past the limit,
    their cells summed into "other" (the runner's _calculate)."""
    totals = {value: sum(n for (_, later), n in cells.items() if later == 0) for value, cells in counts.items()}
    ranked = sorted(totals, key=lambda value: (-totals[value], value))
    limit = breakdown_filter.get("breakdown_limit")
    limit = DEFAULT_BREAKDOWN_LIMIT if limit is None else limit
    kept = [(value, counts[value]) for value in ranked[:limit]]
    if len(ranked) <= limit:
        return kept
    other: dict[tuple[int, int], int] = {}
    for value in ranked[limit:]:
        for cell, n in counts[value].items():
            other[cell] = other.get(cell, 0) + n
    return [*kept, (BREAKDOWN_OTHER, other)]


def _period(retention_filter: dict[str, Any]) -> str:
    period = retention_filter.get("period") or "Day"
    if period not in PERIODS:
        raise QueryError(f"Unknown retention period {period!r}: use one of {', '.join(PERIODS)}.")
    return PERIODS[period]


def _total_intervals(retention_filter: dict[str, Any]) -> int:
    total = retention_filter.get("totalIntervals", DEFAULT_TOTAL_INTERVALS) or RUNNER_TOTAL_INTERVALS
    if not isinstance(total, int) or isinstance(total, bool) or not 0 < total <= MAX_TOTAL_INTERVALS:
        raise QueryError(f"totalIntervals must be a whole number from 1 to {MAX_TOTAL_INTERVALS}.")
    return total


def _entity(entity: dict[str, Any] | None) -> dict[str, Any]:
    """A target or returning entity: an event name (None: any event) and its own property filters."""
    if entity is None:
        return {"id": "$pageview", "properties": None}
    if not isinstance(entity, dict):
        raise QueryError('targetEntity and returningEntity must be objects like {"id": "$pageview", "type": "events"}.')
    if entity.get("type") == "actions" or entity.get("kind") == "ActionsNode":
        raise QueryError("Actions are not supported by the mock: use an event as the retention entity.")
    event = entity.get("id")
    return {"id": event if isinstance(event, str) else None, "properties": entity.get("properties")}


def _event_is(sql: Sql, event: str | None) -> str:
    return "TRUE" if event is None else f"e.event = {sql.value(event)}"


def _breakdown(breakdown_filter: dict[str, Any]) -> dict[str, str] | None:
    """The one breakdown retention reads (PostHog uses the first of `breakdowns`)."""
    if breakdown_filter.get("breakdowns"):
        first = breakdown_filter["breakdowns"][0]
        found = {"property": first.get("property"), "type": first.get("type") or "event"}
    elif breakdown_filter.get("breakdown") is not None:
        found = {"property": breakdown_filter["breakdown"], "type": breakdown_filter.get("breakdown_type") or "event"}
    else:
        return None
    if found["type"] not in ("event", "person") or not isinstance(found["property"], str):
        raise QueryError("Retention breaks down by one event or person property in the mock (not cohorts or groups).")
    return found


def _index(column: str, period: str, start: datetime) -> str:
    """How many whole intervals after the range's start a timestamp falls (start is aligned)."""
    origin = _literal(start)
    if period == "week":
        return f"(date_diff('day', {origin}, {column}) // 7)"
    return f"date_diff('{period}', {origin}, {column})"


def _literal(moment: datetime) -> str:
    return f"TIMESTAMP '{naive(moment).isoformat(sep=' ')}'"

