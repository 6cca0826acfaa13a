"""LifecycleQuery: per interval, the persons who did the event for the first time (new), again
after the interval before (returning), again after a gap (resurrecting), and those who stopped
(dormant, counted negative), as PostHog's lifecycle runner answers it.

PostHog's rules (posthog/hogql_queries/insights/lifecycle/lifecycle_query_runner.py, fact sheet §5):
- A person's active intervals are read from one interval before the range to one after it;
  events with `$process_person_profile` false have no person and are left out.
- An active interval is `new` when it is the person's first one and the person was created in
  it (their `created_at`, not their first event: a person created earlier is `resurrecting`);
  `returning` when the person was active in the interval just before; else `resurrecting`.
- An interval right after an active one without activity holds the person as `dormant`.
- Four series in this order: new, returning, resurrecting, dormant; `data` and `count` are
  floats; `lifecycleFilter.toggledLifecycles` only hides series in PostHog's chart, the runner
  answers all four.

The statuses are window functions in one DuckDB query; Python fills the intervals.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from mockserver.analytics.context import Context, series_event
from mockserver.analytics.properties import QueryError, Sql
from mockserver.analytics.ranges import DateRange, align, aware, step

STATUSES = ("new", "returning", "resurrecting", "dormant")
# Events sent without a person profile belong to no person's lifecycle (the runner's event_filter).
PERSONLESS_EVENTS_LEFT_OUT = {"key": "$process_person_profile", "operator": "is_not", "value": "false", "type": "event"}


def run(query: dict[str, Any], context: Context) -> list[dict[str, Any]]:
    series = query.get("series")
    if not isinstance(series, list) or not series:
        raise QueryError("A LifecycleQuery needs one series.")
    if len(series) > 1:
        raise QueryError("A LifecycleQuery reads one series: the mock does not combine several.")
    if query.get("aggregation_group_type_index") is not None:
        raise QueryError("Lifecycle aggregated by groups is not supported by the mock: it follows persons.")
    node = series[0]
    event = series_event(node)
    period = _period(query, event, context)
    buckets = _buckets(period, bool((query.get("dateRange") or {}).get("explicitDate")))
    counts = _counts(query, node, event, period, context)
    name = "All events" if event is None else event
    action = {"id": event, "name": name, "type": "events", "order": 0, "math": "total"}
    if node.get("custom_name") is not None:
        action["custom_name"] = node["custom_name"]
    results = []
    for status in STATUSES:
        data = [float(counts.get((bucket, status), 0)) for bucket in buckets]
        results.append({
            "action": action,
            "data": data,
            "count": float(sum(data)),
            "labels": [period.label(bucket) for bucket in buckets],
            "days": [period.day(bucket) for bucket in buckets],
            "label": f"{name} - {status}",
            "status": status,
        })
    return results


def _counts(query: dict[str, Any], node: dict[str, Any], event: str | None, period: DateRange,
            context: Context) -> dict[tuple[datetime, str], int]:
    """{(interval start, status): persons}, dormant ones negative."""
    sql = Sql()
    interval = period.interval
    first = step(period.start, interval, -1)
    after = step(align(period.end, interval, period.week_start_day), interval, 1) - timedelta(microseconds=1)
    source = context.events_sql(
        sql, start=first, end=after, event=event,
        filters=(query.get("properties"), node.get("properties"), [PERSONLESS_EVENTS_LEFT_OUT]),
        filter_test_accounts=bool(query.get("filterTestAccounts")))
    one = f"INTERVAL 1 {interval.upper()}"
    text = f"""
        WITH active AS (SELECT DISTINCT e.person_id AS actor, {period.sql_bucket()} AS period {source}),
        ordered AS (
            SELECT actor, period,
                   lag(period) OVER by_actor AS previous,
                   lead(period) OVER by_actor AS following,
                   row_number() OVER by_actor AS position,
                   {period.sql_bucket('created.created_at')} AS created_period
            FROM active LEFT JOIN (SELECT person_id, min(created_at) AS created_at FROM persons GROUP BY person_id) created
              ON created.person_id = active.actor
            WINDOW by_actor AS (PARTITION BY actor ORDER BY period))
        SELECT period, CASE WHEN position = 1 AND period = created_period THEN 'new'
                            WHEN position > 1 AND previous = period - {one} THEN 'returning'
                            ELSE 'resurrecting' END AS status, count(*)
        FROM ordered GROUP BY ALL
        UNION ALL
        SELECT period + {one}, 'dormant', -count(*) FROM ordered
        WHERE following IS NULL OR following <> period + {one} GROUP BY ALL"""
    return {(aware(bucket), status): number for bucket, status, number in context.rows(text, sql)}


def _period(query: dict[str, Any], event: str | None, context: Context) -> DateRange:
    earliest = context.earliest(event) if (query.get("dateRange") or {}).get("date_from") == "all" else None
    return DateRange.of(query, context.now, context.week_start_day, earliest=earliest)


def _buckets(period: DateRange, explicit: bool) -> list[datetime]:
    """The interval starts from date_from's to date_to's; with explicit dates, only those inside."""
    return [bucket for bucket in period.buckets() if bucket >= period.date_from] if explicit else period.buckets()
