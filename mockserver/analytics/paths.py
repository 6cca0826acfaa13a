"""PathsQuery: the most travelled steps from one path item (a page, a screen, an event) to the next, as
PostHog's paths runner (`insights/paths_query_runner.py`) answers it (fact sheet §6).

PostHog orders each person's events by time, cuts them into sessions where 30 minutes or more pass
between two events (not by $session_id), collapses repeats of one item in a row (keeping the last),
keeps `stepLimit` items per session (from startPoint on, up to endPoint) and counts each step
"n_item" → "n+1_item" over all sessions; the `edgeLimit` heaviest edges are kept, then only those
reachable from a first step. All of it is SQL over the session's events; Python keeps the reachable edges.

Left out: team path cleaning (`pathReplacements`: the mock's projects have none), HogQL path items,
funnel paths (`funnelPathsFilter`); the last two raise a QueryError.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from mockserver.analytics import properties
from mockserver.analytics.context import Context
from mockserver.analytics.properties import QueryError, Sql
from mockserver.analytics.ranges import DateRange, aware

SESSION_GAP_SECONDS = 30 * 60
DEFAULT_STEP_LIMIT = 5
DEFAULT_EDGE_LIMIT = 50
EVENT_TYPES = ("$pageview", "$screen", "custom_event", "hogql")
ELLIPSIS = "..."  # what stands for the middle of a path cut between startPoint and endPoint


def run(query: dict[str, Any], context: Context) -> list[dict[str, Any]]:
    paths_filter = query.get("pathsFilter") or {}
    _refuse_unsupported(query, paths_filter)
    sql = Sql()
    text = _edges_sql(query, paths_filter, _date_range(query, context), context, sql)
    rows = _reachable_from_first_step(context.rows(text, sql))
    return [{"source": source, "target": target, "value": value, "average_conversion_time": seconds * 1000.0}
            for source, target, value, seconds in rows]


def _edges_sql(query: dict[str, Any], paths_filter: dict[str, Any], date_range: DateRange, context: Context, sql: Sql) -> str:
    # Parameters go in the order their text reads: groupings, then the item they group, then the filters.
    grouped = _grouped(sql, paths_filter, "raw_item")
    item = _path_item(sql, paths_filter)
    source = context.events_sql(sql, start=date_range.date_from, end=date_range.date_to, filters=(query.get("properties"),),
                                filter_test_accounts=bool(query.get("filterTestAccounts")))
    wanted = _included(sql, paths_filter)
    # Events at the same moment keep the order they were stored in, as PostHog's time-ordered uuids keep them.
    by_time = "PARTITION BY person ORDER BY ts, arrival"
    in_session = "PARTITION BY person, session ORDER BY ts, arrival"
    text = (f"WITH path_events AS (SELECT * FROM (SELECT person, ts, arrival, event, {grouped} AS item FROM"
            f" (SELECT e.person_id AS person, e.timestamp AS ts, e.rowid AS arrival, e.event AS event, {item} AS raw_item"
            f" {source})) WHERE {wanted}),"
            f" neighbours AS (SELECT *, lag(ts) OVER ({by_time}) AS previous_ts, lead(ts) OVER ({by_time}) AS next_ts,"
            f" lead(item) OVER ({by_time}) AS next_item FROM path_events),"
            # A run of one item keeps its last event (PostHog compares each item with the next one); a run never
            # spans sessions. Session starts are kept too, to number the sessions.
            f" marked AS (SELECT person, ts, arrival, item,"
            f" coalesce(epoch(ts) - epoch(previous_ts) >= {SESSION_GAP_SECONDS}, TRUE) AS starts_session,"
            f" coalesce(next_item <> item OR epoch(next_ts) - epoch(ts) >= {SESSION_GAP_SECONDS}, TRUE) AS ends_run"
            f" FROM neighbours),"
            f" sessions AS (SELECT *, sum(starts_session::INTEGER) OVER ({by_time} ROWS UNBOUNDED PRECEDING) AS session"
            f" FROM marked WHERE starts_session OR ends_run),"
            f" compact AS (SELECT person, session, ts, item, row_number() OVER ({in_session}) AS position FROM sessions"
            f" WHERE ends_run),"
            f" {_limited_sql(sql, paths_filter)},"
            f" steps AS (SELECT (position - 1)::VARCHAR || '_' || lag(item) OVER w AS source,"
            f" position::VARCHAR || '_' || item AS target, epoch(ts) - epoch(lag(ts) OVER w) AS seconds"
            f" FROM limited WINDOW w AS (PARTITION BY person, session ORDER BY position))"
            f" SELECT source, target, count(*) AS value, avg(seconds) FROM steps WHERE source IS NOT NULL"
            f" GROUP BY source, target")
    weights = []
    if paths_filter.get("minEdgeWeight"):
        weights.append(f"count(*) >= {sql.value(paths_filter['minEdgeWeight'])}")
    if paths_filter.get("maxEdgeWeight"):
        weights.append(f"count(*) <= {sql.value(paths_filter['maxEdgeWeight'])}")
    if weights:
        text += " HAVING " + " AND ".join(weights)
    limit = paths_filter.get("edgeLimit") or DEFAULT_EDGE_LIMIT
    return text + f" ORDER BY value DESC, source, target LIMIT {sql.value(limit)}"


def _path_item(sql: Sql, paths_filter: dict[str, Any]) -> str:
    """What a step of the path is: $current_url for pageviews (one trailing slash dropped), $screen_name
    for screens, the event name otherwise; then the local cleaning rules, in order."""
    item = "e.event"
    if _reads_as_item("$pageview", paths_filter):
        url = f"regexp_replace(coalesce({properties.event_property('$current_url')}, ''), '(.)/$', '\\1')"
        item = f"CASE WHEN e.event = '$pageview' THEN {url} ELSE {item} END"
    if _reads_as_item("$screen", paths_filter):
        item = f"CASE WHEN e.event = '$screen' THEN {properties.event_property('$screen_name')} ELSE {item} END"
    item = f"coalesce({item}, '')"
    for rule in paths_filter.get("localPathCleaningFilters") or []:
        if not isinstance(rule, dict) or not isinstance(rule.get("regex"), str):
            raise QueryError("Every path cleaning filter needs a regex and an alias.")
        item = f"regexp_replace({item}, {sql.value(rule['regex'])}, {sql.value(rule.get('alias') or '')}, 'g')"
    return item


def _grouped(sql: Sql, paths_filter: dict[str, Any], column: str) -> str:
    """pathGroupings: an item matching a grouping (`*` matches anything, anywhere in the item) becomes
    the grouping itself (PostHog's `multiMatchAnyIndex`)."""
    groupings = paths_filter.get("pathGroupings") or []
    if not groupings:
        return column
    cases = " ".join(f"WHEN regexp_matches({column}, {sql.value(re.escape(g).replace(chr(92) + '*', '.*'))})"
                     f" THEN {sql.value(g)}" for g in groupings)
    return f"CASE {cases} ELSE {column} END"


def _reads_as_item(event: str, paths_filter: dict[str, Any]) -> bool:
    """PostHog's `_should_query_event`: with no includeEventTypes, any event not excluded."""
    include = paths_filter.get("includeEventTypes")
    return event in include if include else event not in (paths_filter.get("excludeEvents") or [])


def _included(sql: Sql, paths_filter: dict[str, Any]) -> str:
    """The events a path is made of. With no includeEventTypes PostHog reads every event (and, as its
    `_get_event_query` returns early, leaves excludeEvents out of the filter too)."""
    include = paths_filter.get("includeEventTypes")
    if not include:
        return "TRUE"
    kinds = {"$pageview": "event = '$pageview'", "$screen": "event = '$screen'", "custom_event": "NOT starts_with(event, '$')"}
    conditions = [" OR ".join(kinds[kind] for kind in include if kind in kinds) or "TRUE"]
    excluded = paths_filter.get("excludeEvents") or []
    if excluded:
        conditions.append(f"item NOT IN ({', '.join(sql.value(str(name)) for name in excluded)})")
    return " AND ".join(f"({condition})" for condition in conditions)


def _limited_sql(sql: Sql, paths_filter: dict[str, Any]) -> str:
    """The CTE `limited`: the part of each session's path PostHog keeps, renumbered from 1.

    Only startPoint: from its first occurrence, stepLimit items. Only endPoint: up to its first
    occurrence, the last stepLimit items. Both: from the start to the first end after it, and when that
    is longer than stepLimit, its first and last stepLimit // 2 items around a "..." item. Sessions that
    do not reach the points are left out."""
    limit = paths_filter.get("stepLimit") or DEFAULT_STEP_LIMIT
    start, end = paths_filter.get("startPoint"), paths_filter.get("endPoint")
    session = "PARTITION BY person, session"
    if start and end:
        half = limit // 2
        spans = (f"SELECT *, min(CASE WHEN item = {sql.value(end)} AND position >= start_at THEN position END)"
                 f" OVER ({session}) AS end_at FROM (SELECT *, min(CASE WHEN item = {sql.value(start)} THEN position END)"
                 f" OVER ({session}) AS start_at FROM compact)")
        return (f"spans AS (SELECT *, position - start_at + 1 AS kept, end_at - start_at + 1 AS length FROM ({spans})"
                f" WHERE start_at IS NOT NULL AND end_at IS NOT NULL AND position BETWEEN start_at AND end_at),"
                f" limited AS (SELECT person, session, ts,"
                f" CASE WHEN length > {limit} AND kept = {half + 1} THEN '{ELLIPSIS}' ELSE item END AS item,"
                f" CASE WHEN length > {limit} AND kept > {half + 1} THEN kept - length + {2 * half + 1}"
                f" ELSE kept END AS position FROM spans"
                f" WHERE length <= {limit} OR kept <= {half + 1} OR kept > length - {half})")
    point = end or start
    if not point:
        return f"limited AS (SELECT person, session, ts, item, position FROM compact WHERE position <= {limit})"
    if len(point) > 1 and point.endswith("/"):
        point = point[:-1]  # as a pageview's item has it
    targeted = (f"SELECT *, min(CASE WHEN item = {sql.value(point)} THEN position END) OVER ({session}) AS target"
                f" FROM compact")
    if end:
        return (f"limited AS (SELECT person, session, ts, item, position - greatest(target - {limit}, 0) AS position"
                f" FROM ({targeted}) WHERE position <= target AND position > target - {limit})")
    return (f"limited AS (SELECT person, session, ts, item, position - target + 1 AS position FROM ({targeted})"
            f" WHERE position >= target AND position < target + {limit})")


def _reachable_from_first_step(rows: list[tuple]) -> list[tuple]:
    """PostHog's `validate_results`: an edge stays when its source can be reached from a "1_" node
    through the edges that came back."""
    targets: dict[str, list[str]] = defaultdict(list)
    for source, target, *_ in rows:
        targets[source].append(target)
    seen: set[str] = set()
    stack = [source for source, *_ in rows if source.startswith("1_")]
    while stack:
        node = stack.pop()
        seen.add(node)
        stack.extend(target for target in targets[node] if target not in seen)
    return [row for row in rows if row[0] in seen]


def _refuse_unsupported(query: dict[str, Any], paths_filter: dict[str, Any]) -> None:
    include = paths_filter.get("includeEventTypes") or []
    if not isinstance(include, list):
        raise QueryError("includeEventTypes must be a list.")
    unknown = [kind for kind in include if kind not in EVENT_TYPES]
    if unknown:
        raise QueryError(f"includeEventTypes takes {', '.join(EVENT_TYPES)}, not {unknown[0]!r}.")
    if "hogql" in include:
        raise QueryError("HogQL path items are not supported by the mock: use $pageview, $screen or custom_event.")
    if query.get("funnelPathsFilter"):
        raise QueryError("Funnel paths (funnelPathsFilter) are not supported by the mock.")
    for key in ("startPoint", "endPoint"):
        if paths_filter.get(key) is not None and not isinstance(paths_filter[key], str):
            raise QueryError(f"{key} must be a path item (text).")
    for key in ("stepLimit", "edgeLimit", "minEdgeWeight", "maxEdgeWeight"):
        value = paths_filter.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise QueryError(f"{key} must be a positive whole number.")


def _date_range(query: dict[str, Any], context: Context) -> DateRange:
    """PostHog reads the range with no interval: from date_from's day to the end of date_to's."""
    earliest = None
    if (query.get("dateRange") or {}).get("date_from") == "all":
        row = context.cursor.execute("SELECT min(timestamp) FROM events WHERE team_id = ?", [context.team_id]).fetchone()
        earliest = aware(row[0]) if row and row[0] else None
    return DateRange.of(query, context.now, context.week_start_day, earliest=earliest, interval="day")
