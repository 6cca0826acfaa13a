"""FunnelsQuery: how far each person gets through a funnel's steps, as PostHog's funnel runner answers
it: conversion steps (optionally broken down), conversion over time ("trends") and the time to convert.

PostHog walks each person's events in time order in a UDF (`aggregate_funnel`, Rust; called from
`funnels/funnel_udf.py`): every step-1 event enters the funnel, and a person reaches step k when some
entry is followed by steps 2..k in order, step k at most the conversion window after the entry
(fact sheet §2.2). Here each entry follows its own greedy chain (the first step-2 event after it, the
first step-3 event after that, ...), which reaches exactly as far; a person's result is their furthest
entry, the one that got there first (the latest entry on a tie), whose gaps are the UDF's conversion
times. Everything per person happens in DuckDB (hash joins from the events of steps 2.., which are
few next to a step 1 like $pageview; strict and unordered funnels take one sorted window pass);
Python shapes the few rows left.

The funnel frontends draw most (ordered, no breakdown, no exclusions, steps or time to convert)
takes another way, five times faster at a million events: funnel_walk.py plays the UDF itself, in
numpy, over the events in person order that the engine keeps (timeline.py), and DuckDB only
aggregates what it found. The two ways are held to the same answers (tests/test_analytics_funnels.py)
but one: two identical events of one person at the same microsecond share an order key here and
count once, where the UDF and the walk count both.

What the mock leaves out, with a QueryError: actions, groups and HogQL aggregation, optional steps,
first-time-for-user steps, step breakdown attribution, exclusions in strict funnels, cohort breakdowns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mockserver.analytics import funnel_walk, properties
from mockserver.analytics.context import Context, series_event
from mockserver.analytics.properties import QueryError, Sql
from mockserver.analytics.ranges import DateRange, aware
from mockserver.analytics.timeline import MAX_STEPS, STEP_TYPES, step_bits

# funnelWindowIntervalUnit in seconds, as the UDF gets it (posthog/utils.py DATERANGE_MAP: a month is 31 days).
WINDOW_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86_400, "week": 604_800, "month": 31 * 86_400}
DEFAULT_WINDOW = 14  # days (funnel_query_context.py)
VIZ_TYPES = ("steps", "trends", "time_to_convert")
ORDER_TYPES = ("ordered", "strict", "unordered")
ATTRIBUTIONS = ("first_touch", "last_touch", "all_events")
DEFAULT_BREAKDOWN_LIMIT = 25
BREAKDOWN_OTHER = "Other"  # the literal word, not trends' marker (funnel_udf.py `other_aggregation`)
TRENDS_ROW_LIMIT = 1_000  # funnel_trends_udf.py: rows of (period, breakdown value)
MAX_TIME_BINS, MAX_AUTO_TIME_BINS = 90, 60  # funnel_time_to_convert_udf.py
MICROSECONDS = 1_000_000
KEY_SLOTS = 1024  # an event's order key is its epoch microseconds times this, plus its first step


@dataclass(frozen=True)
class Funnel:
    """A FunnelsQuery as the runner reads it, checked as PostHog's funnels/base.py checks it."""

    steps: list[dict[str, Any]]
    viz: str
    order: str
    window: int  # seconds
    from_step: int
    to_step: int
    exclusions: list[dict[str, Any]]
    breakdown: list[str]  # property keys (a string breakdown is boxed into a list, as PostHog boxes it)
    breakdown_type: str
    attribution: str
    breakdown_limit: int
    normalize_url: bool

    @classmethod
    def of(cls, query: dict[str, Any]) -> "Funnel":
        steps = query.get("series")
        if not isinstance(steps, list) or not steps:
            raise QueryError("A FunnelsQuery needs at least one step in its series.")
        for step in steps:
            _step_event(step)
        if query.get("aggregation_group_type_index") is not None:
            raise QueryError("Funnels aggregated by groups are not supported by the mock: funnels count persons.")
        funnels_filter = query.get("funnelsFilter") or {}
        viz = _choice(funnels_filter, "funnelVizType", VIZ_TYPES)
        order = _choice(funnels_filter, "funnelOrderType", ORDER_TYPES)
        if funnels_filter.get("funnelAggregateByHogQL") not in (None, "person_id"):
            raise QueryError("funnelAggregateByHogQL is not supported by the mock: funnels count persons.")
        unit = funnels_filter.get("funnelWindowIntervalUnit") or "day"
        if unit not in WINDOW_UNIT_SECONDS:
            raise QueryError(f"{unit} not supported")
        interval = funnels_filter.get("funnelWindowInterval") or DEFAULT_WINDOW
        if not isinstance(interval, int) or isinstance(interval, bool) or interval < 0:
            raise QueryError("funnelWindowInterval must be a whole number.")
        last = len(steps) - 1
        from_step, to_step = _step_range(funnels_filter, last)
        exclusions = _exclusions(funnels_filter, steps, order)
        breakdown_filter = query.get("breakdownFilter") or {}
        breakdown = breakdown_filter.get("breakdown")  # not `breakdowns`, which PostHog's funnels do not read either
        keys = [] if not breakdown else [breakdown] if isinstance(breakdown, str) else breakdown
        if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
            raise QueryError("A funnel breakdown must name event or person properties (cohort breakdowns are not supported by the mock).")
        breakdown_type = breakdown_filter.get("breakdown_type") or "event"
        if keys and breakdown_type not in ("event", "person"):
            raise QueryError(f"Funnel breakdowns of type {breakdown_type} are not supported by the mock: use an event or person property.")
        attribution = funnels_filter.get("breakdownAttributionType") or "first_touch"
        if attribution not in ATTRIBUTIONS:
            raise QueryError(f"The breakdown attribution {attribution!r} is not supported by the mock:"
                             f" use one of {', '.join(ATTRIBUTIONS)}.")
        limit = breakdown_filter.get("breakdown_limit") or DEFAULT_BREAKDOWN_LIMIT
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise QueryError("breakdown_limit must be a positive whole number.")
        return cls(steps, viz, order, interval * WINDOW_UNIT_SECONDS[unit], from_step, to_step, exclusions, keys,
                   breakdown_type, attribution, limit, bool(breakdown_filter.get("breakdown_normalize_url")))

    @property
    def per_value(self) -> bool:
        """Whether a person goes through the funnel once per breakdown value (all_events attribution)
        rather than once, under the value of their first (or last) event."""
        return bool(self.breakdown) and self.attribution == "all_events"


def run(query: dict[str, Any], context: Context) -> list[Any] | dict[str, Any]:
    """The `results` of PostHog's FunnelsQueryResponse: steps (a list, or lists per breakdown value),
    trends (a list of series) or time to convert (a dict)."""
    funnel = Funnel.of(query)
    date_range = _date_range(query, context)
    if funnel.viz == "trends":
        return _trends(funnel, query, date_range, context)
    if funnel.viz == "time_to_convert":
        return _time_to_convert(funnel, query, date_range, context)
    return _steps(funnel, query, date_range, context)


def _steps(funnel: Funnel, query: dict[str, Any], date_range: DateRange, context: Context) -> list[Any]:
    """Fact sheet §2.3: a list of steps, or a list of them per breakdown value, biggest first."""
    sql = Sql()
    n = len(funnel.steps)
    counts = [f"count(*) FILTER (WHERE reached > {k}) AS c{k}" for k in range(n)]
    # The UDF's timings, in seconds from the previous step; the zero ones are left out (funnel_udf.py).
    times = [f"{aggregate}(d{k}{', 0.5' if aggregate == 'quantile_cont' else ''}) FILTER (WHERE reached > {k} AND d{k} > 0)"
             for k in range(1, n) for aggregate in ("avg", "quantile_cont")]
    gaps = ", ".join(["*", *(f"(u{k} - u{k - 1}) / {MICROSECONDS} AS d{k}" for k in range(1, n))])
    text = f"{_converted_sql(funnel, query, date_range, context, sql)}, timed AS (SELECT {gaps} FROM converted)"
    if funnel.breakdown:
        ranking = ", ".join(f"c{k} DESC" for k in reversed(range(n)))
        text += (f", per_value AS (SELECT prop, {', '.join(counts)} FROM timed GROUP BY prop),"
                 f" ranked AS (SELECT prop, row_number() OVER (ORDER BY {ranking}, prop) AS rank FROM per_value),"
                 f" labelled AS (SELECT CASE WHEN r.rank <= {funnel.breakdown_limit} THEN t.prop ELSE ['{BREAKDOWN_OTHER}'] END"
                 f" AS value, t.* FROM timed t JOIN ranked r ON t.prop = r.prop)"
                 f" SELECT value, {', '.join(counts + times)} FROM labelled GROUP BY value")
    else:
        text += f" SELECT NULL, {', '.join(counts + times)} FROM timed HAVING count(*) > 0"
    rows = context.rows(text, sql)
    rows.sort(key=lambda row: ([-count for count in reversed(row[1:n + 1])], row[0] or []))
    funnels = [_step_results(funnel, row[0], row[1:n + 1], row[n + 1:]) for row in rows]
    return funnels if funnel.breakdown else (funnels[0] if funnels else [])


def _step_results(funnel: Funnel, value: list[str] | None, counts: tuple, times: tuple) -> list[dict[str, Any]]:
    """One funnel's steps with the fields and key order of PostHog's `_serialize_step` (funnels/base.py,
    funnel_udf.py `_format_single_funnel`); no person URLs, which only the legacy API sent."""
    results = []
    for index, node in enumerate(funnel.steps):
        event = node.get("event")
        if funnel.order == "unordered":
            step = {"action_id": None, "name": f"Completed {index + 1} step{'s' if index else ''}", "custom_name": None}
        else:
            step = {"action_id": event, "name": event, "custom_name": node.get("custom_name")}
        step.update({"order": index, "people": [], "count": counts[index], "type": "events",
                     "average_conversion_time": times[2 * index - 2] if index else None,
                     "median_conversion_time": times[2 * index - 1] if index else None})
        if funnel.breakdown:
            step.update({"breakdown": value, "breakdown_value": value})
        results.append(step)
    return results


def _trends(funnel: Funnel, query: dict[str, Any], period: DateRange, context: Context) -> list[dict[str, Any]]:
    """Fact sheet §2.4: per entrance period (the interval of the step-1 event), the percentage of the
    persons who entered and reached funnelFromStep that went on to funnelToStep (funnel_trends_udf.py)."""
    sql = Sql()
    text = (f"{_converted_sql(funnel, query, period, context, sql, by_period=True)}"
            f" SELECT bucket, prop, count(*) FILTER (WHERE reached > {funnel.from_step}),"
            f" count(*) FILTER (WHERE reached > {funnel.to_step}) FROM converted GROUP BY ALL")
    reached: dict[Any, dict[datetime, tuple[int, int]]] = {}
    for bucket, value, entered, converted in context.rows(text, sql):
        reached.setdefault(tuple(value) if value is not None else None, {})[aware(bucket)] = (entered, converted)
    buckets = period.buckets()
    if funnel.breakdown:
        # PostHog keeps the rows of the values most entered (then the greatest value), then lists them by value.
        totals = {value: sum(entered for entered, _ in per_bucket.values()) for value, per_bucket in reached.items()}
        ranked = sorted(totals, key=lambda value: (totals[value], value), reverse=True)
        kept = ranked[:min(funnel.breakdown_limit * len(buckets), TRENDS_ROW_LIMIT) // len(buckets)]
        return [{**_conversion_series(reached[value], buckets, period), "breakdown_value": list(value)} for value in sorted(kept)]
    return [_conversion_series(reached.get(None, {}), buckets, period)]


def _conversion_series(reached: dict[datetime, tuple[int, int]], buckets: list[datetime], period: DateRange) -> dict[str, Any]:
    data = []
    for bucket in buckets:
        entered, converted = reached.get(bucket, (0, 0))
        data.append(round(converted / entered * 100, 2) if entered else 0.0)  # ClickHouse's if() makes the 0 a float
    return {"count": len(buckets), "data": data, "days": [period.day(bucket) for bucket in buckets],
            "labels": [period.label(bucket) for bucket in buckets]}


def _time_to_convert(funnel: Funnel, query: dict[str, Any], date_range: DateRange, context: Context) -> dict[str, Any]:
    """Fact sheet §2.5: a histogram of the seconds persons took from funnelFromStep to funnelToStep,
    binned as funnel_time_to_convert_udf.py bins them. Breakdowns do not split it."""
    last = len(funnel.steps) - 1
    if not 0 < funnel.to_step <= last:
        allowed = ", ".join(map(str, range(1, last + 1)))
        raise QueryError(f"Filter parameter funnel_to_step can only be one of {allowed} for time to convert!")
    sql = Sql()
    text = (f"{_converted_sql(funnel, query, date_range, context, sql)}"
            f" SELECT (u{funnel.to_step} - u{funnel.from_step}) / {MICROSECONDS} FROM converted WHERE reached > {funnel.to_step}")
    timings = [row[0] for row in context.rows(text, sql)]
    requested = (query.get("funnelsFilter") or {}).get("binCount")
    bin_count = (min(max(requested, 1), MAX_TIME_BINS) if isinstance(requested, int)
                 else min(MAX_AUTO_TIME_BINS, max(1, math.ceil(round(len(timings) ** (1 / 3), 9)))))
    low = math.floor(min(timings)) if timings else 0
    high = math.ceil(max(timings)) if timings else 0
    width = math.ceil((high - low) / bin_count) or 60
    counts = [0] * (bin_count + 1)
    for timing in timings:
        counts[math.floor((timing - low) / width)] += 1
    return {"average_conversion_time": sum(timings) / len(timings) if timings else None,
            "bins": [[round(low + index * width), count] for index, count in enumerate(counts)]}


def _converted_sql(funnel: Funnel, query: dict[str, Any], date_range: DateRange, context: Context, sql: Sql,
                   by_period: bool = False) -> str:
    """`WITH ...` ending in `converted`: each person's furthest attempt (per breakdown value with
    all_events attribution, per entrance period when `by_period`): `reached` (how many steps),
    `u0`.. (when each step was done, in epoch microseconds), `prop` and `bucket`.

    Exclusions follow the UDF: an attempt that sees an exclusion event between funnelFromStep and
    funnelToStep is spoiled, and a person whose furthest attempt is spoiled drops out of the funnel
    altogether (fact sheet §2.2)."""
    if _walkable(funnel, by_period):
        return _walked_sql(funnel, query, date_range, context)
    n = len(funnel.steps)
    attempts = {"ordered": _ordered_attempts, "strict": _strict_attempts, "unordered": _unordered_attempts}[funnel.order]
    period = date_range if by_period else None
    bucket = period.sql_bucket("make_timestamp(u0)") if period else "NULL"
    chosen = "{'reached': reached, 'u': [" + _columns("u", n) + "]}"
    times = ", ".join(f"chosen.u[{k + 1}] AS u{k}" for k in range(n))
    return (f"WITH {_tagged_sql(funnel, query, date_range, context, sql)}, {attempts(funnel, period)},"
            f" best AS (SELECT prop, {bucket} AS bucket, max(reach_eff) AS furthest,"
            f" arg_min({chosen}, (-reached, pick1, pick2)) FILTER (WHERE NOT excluded) AS chosen"
            f" FROM attempts GROUP BY person, prop, bucket),"
            f" converted AS (SELECT prop, bucket, chosen.reached AS reached, {times} FROM best WHERE chosen.reached = furthest)")


def _walkable(funnel: Funnel, by_period: bool) -> bool:
    """Whether funnel_walk.py computes `converted`: an ordered funnel with one attempt per person
    (no breakdown, no entrance periods) and no exclusions, in steps that fit a bit mask."""
    return (funnel.order == "ordered" and not funnel.breakdown and not funnel.exclusions and not by_period
            and len(funnel.steps) <= MAX_STEPS)


def _walked_sql(funnel: Funnel, query: dict[str, Any], date_range: DateRange, context: Context) -> str:
    """`WITH converted AS ...` over the result of funnel_walk.py, registered on the context's cursor:
    DuckDB selects the funnel's events (as for the SQL walk), numpy walks them in person order."""
    n = len(funnel.steps)
    if _chosen_by_name_and_time(funnel, query, context):
        selection = context.timeline.of_events(context.team_id, [_step_event(node) for node in funnel.steps],
                                               *context.span_us(date_range.date_from, date_range.date_to))
    else:
        sql, kind = Sql(), STEP_TYPES[step_bits(n)]
        bits = [f"CASE WHEN {_matches(sql, _step_event(node), node)} THEN {1 << k}::{kind} ELSE 0::{kind} END"
                for k, node in enumerate(funnel.steps)]
        source = _source_sql(funnel, query, date_range, context, sql)  # after the steps: parameters are in order
        selected = context.columns(f"SELECT e.rowid AS row, {' | '.join(bits)} AS steps {source}", sql)
        selection = context.timeline.select(selected["row"], selected["steps"])
    walked = funnel_walk.walk(selection, n, funnel.window * MICROSECONDS)
    context.cursor.register("walked", {"reached": walked.reached, **{f"u{k}": walked.times[k] for k in range(n)}})
    return f"WITH converted AS (SELECT NULL::VARCHAR[] AS prop, NULL AS bucket, reached, {_columns('u', n)} FROM walked)"


def _chosen_by_name_and_time(funnel: Funnel, query: dict[str, Any], context: Context) -> bool:
    """Whether no property filter (a step's, the query's, test accounts') chooses among the funnel's
    events: then the timeline picks them by name and time without asking DuckDB."""
    groups = [query.get("properties"), *([context.test_account_filters] if query.get("filterTestAccounts") else []),
              *(node.get("properties") for node in funnel.steps)]
    return properties.where(Sql(), *groups) == "TRUE"


def _source_sql(funnel: Funnel, query: dict[str, Any], date_range: DateRange, context: Context, sql: Sql) -> str:
    """FROM and WHERE over the events a funnel reads: its steps' and exclusions' events (every event
    for a strict funnel, since any other event breaks the sequence) in the date range, filtered."""
    nodes = [*funnel.steps, *funnel.exclusions]
    return context.events_sql(
        sql, start=date_range.date_from, end=date_range.date_to,
        events=None if funnel.order == "strict" else [node.get("event") for node in nodes],
        filters=(query.get("properties"),), filter_test_accounts=bool(query.get("filterTestAccounts")),
        persons=bool(funnel.breakdown) and funnel.breakdown_type == "person")


def _tagged_sql(funnel: Funnel, query: dict[str, Any], date_range: DateRange, context: Context, sql: Sql) -> str:
    """CTEs ending in `tagged`: the events a funnel reads, a flag per step (`s0`..) and exclusion (`x0`..),
    the first step an event is (`step`), its breakdown value (`prop`), its time (`us`, epoch
    microseconds) and its place in the person's time order (`key`: ties put the earlier step first, as
    the UDF plays simultaneous events most generously)."""
    steps = [f"({_matches(sql, _step_event(node), node)}) AS s{i}" for i, node in enumerate(funnel.steps)]
    exclusions = [f"({_matches(sql, _exclusion_event(node), node)}) AS x{j}" for j, node in enumerate(funnel.exclusions)]
    source = _source_sql(funnel, query, date_range, context, sql)
    columns = ", ".join(["e.person_id AS person", "e.timestamp AS ts", *steps, *exclusions, f"{_breakdown_value(funnel)} AS prop_basic"])
    flags = [f"s{i}" for i in range(len(funnel.steps))] + [f"x{j}" for j in range(len(funnel.exclusions))]
    wanted = "TRUE" if funnel.order == "strict" else " OR ".join(flags)
    first_step = f"CASE {' '.join(f'WHEN s{i} THEN {i}' for i in range(len(funnel.steps)))} ELSE {len(funnel.steps)} END"
    if funnel.breakdown and not funnel.per_value:
        # First (last) touch: the value of the person's first (last) funnel event that has one (funnel_udf.py `_prop_vals`).
        pick = "arg_min" if funnel.attribution == "first_touch" else "arg_max"
        empty = "[" + ", ".join("''" for _ in funnel.breakdown) + "]"
        attributed = (f", attributed AS (SELECT person, coalesce({pick}(prop_basic, ts) FILTER"
                      f" (WHERE array_to_string(prop_basic, '') <> ''), {empty}) AS prop FROM funnel_events GROUP BY person)")
        prop, join = "a.prop", " JOIN attributed a ON a.person = f.person"
    else:
        attributed, prop, join = "", "f.prop_basic", ""
    return (f"funnel_events AS (SELECT * FROM (SELECT {columns} {source}) WHERE {wanted}){attributed},"
            f" tagged AS (SELECT f.person, {prop} AS prop, epoch_us(f.ts) AS us, epoch_us(f.ts) * {KEY_SLOTS} + {first_step} AS key,"
            f" {', '.join(f'f.{flag}' for flag in flags)}, {first_step} AS step FROM funnel_events f{join})")


def _ordered_attempts(funnel: Funnel, period: DateRange | None) -> str:
    """CTEs ending in `attempts`, each an entry (step-1 event) and how far it gets.

    Of the entries before the same first step-2 event only the latest matters: it has the same chain
    in a tighter window, and the UDF keeps it too. So the attempts are, per step-2 event, the latest
    entry before it within the window (per entrance period for trends), plus one entry per person that
    may get no further; each later step is the first such event after the previous one, within the
    window. Only the events of steps 2.. are joined to, which are few next to a step 1 like $pageview."""
    n, window = len(funnel.steps), funnel.window * MICROSECONDS
    same = _same_actor(funnel)
    period_of = (lambda column: f", {period.sql_bucket(f'make_timestamp({column})')}") if period else (lambda column: "")
    firsts = (f"SELECT person, prop, max(key) AS k0{', NULL AS k1' if n > 1 else ''} FROM tagged WHERE s0"
              f" GROUP BY person, prop{period_of('us')}")
    if n > 1:
        ctes = [f"entered AS (SELECT c.person, c.prop, c.key AS k1, max(a.key) AS k0 FROM tagged c JOIN tagged a ON {same}"
                f" AND a.s0 AND a.key < c.key AND a.us >= c.us - {window} WHERE c.s1 GROUP BY c.person, c.prop, c.key{period_of('a.us')}),"
                f" chain1 AS (SELECT person, prop, k0, min(k1) AS k1 FROM entered GROUP BY person, prop, k0 UNION ALL {firsts})"]
    else:
        ctes = [f"chain1 AS ({firsts})"]
    for k in range(2, n):
        ctes.append(f"chain{k} AS (SELECT c.*, (SELECT min(a.key) FROM tagged a WHERE {same} AND a.s{k} AND a.key > c.k{k - 1}"
                    f" AND a.us <= c.k0 // {KEY_SLOTS} + {window}) AS k{k} FROM chain{k - 1} c)")
    micros = ", ".join(f"k{k} // {KEY_SLOTS} AS u{k}" for k in range(n))
    reached = " + ".join(["1", *(f"(k{k} IS NOT NULL)::INTEGER" for k in range(1, n))])
    ctes.append(f"reached AS (SELECT *, {micros}, {reached} AS reached FROM chain{max(n - 1, 1)})")
    source, spoiled, caps = "reached", [], []
    for j, exclusion in enumerate(funnel.exclusions):
        start, end = exclusion["funnelFromStep"], exclusion["funnelToStep"]
        # The first exclusion event after the attempt's funnelFromStep event: does it come before funnelToStep?
        ctes.append(f"excluded{j} AS (SELECT c.*, (SELECT min(a.us) FROM tagged a WHERE {same} AND a.x{j}"
                    f" AND a.key > c.k{start}) AS x{j} FROM {source} c)")
        source = f"excluded{j}"
        spoils = f"(x{j} IS NOT NULL AND reached > {start} AND x{j} <= u0 + {window} AND (reached <= {end} OR x{j} < u{end}))"
        # A spoiled attempt still goes one step past where it was spoiled toward the person's furthest.
        steps_before = " + ".join(f"(reached > {k} AND u{k} < x{j})::INTEGER" for k in range(n))
        spoiled.append(spoils)
        caps.append(f"CASE WHEN {spoils} THEN {steps_before} + 1 ELSE {n} END")
    u_reached = f"CASE reached {' '.join(f'WHEN {k + 1} THEN u{k}' for k in range(n))} END"
    reach_eff = f"least(reached, {', '.join(caps)})" if caps else "reached"
    ctes.append(f"attempts AS (SELECT person, prop, reached, {_columns('u', n)}, {' OR '.join(spoiled) or 'FALSE'} AS excluded,"
                f" {reach_eff} AS reach_eff, {u_reached} AS pick1, -u0 AS pick2 FROM {source})")
    return ", ".join(ctes)


def _strict_attempts(funnel: Funnel, period: DateRange | None) -> str:
    """CTEs ending in `attempts`: one per run of events that reaches a step of a strict funnel.

    At every event the UDF forgets the steps the event does not do (funnel_order_type "strict"), so
    the steps must come in consecutive events, except that an event may repeat the step before it: a
    repeated step keeps its place, a repeated first step enters again from the later event. So runs
    of consecutive events doing the same steps fold into one (its first event advances, its last one
    enters), and the runs of steps 1..k must follow one another. Exact when each event does one step."""
    n, window, partition = len(funnel.steps), funnel.window * MICROSECONDS, _partition(funnel)
    mask = " + ".join(f"s{i}::INTEGER * {1 << i}" for i in range(n))
    lags = "".join(f", lag(mask, {i}) OVER w AS m{i}, lag(first_us, {i}) OVER w AS f{i}, lag(last_us, {i}) OVER w AS e{i}"
                   for i in range(1, n))
    runs = [" AND ".join([*(f"coalesce(({_lagged('mask', 'm', i)} >> {j - i}) & 1 = 1, FALSE)" for i in range(j + 1)),
                          f"first_us - {_lagged('last_us', 'e', j)} <= {window}"]) for j in range(n)]
    reached = f"CASE {' '.join(f'WHEN {runs[j]} THEN {j + 1}' for j in reversed(range(n)))} ELSE 0 END"
    entry = {r: _lagged("last_us", "e", r - 1) for r in range(1, n + 1)}  # the run that entered, for each reach
    entered = f"CASE reached {' '.join(f'WHEN {r} THEN {entry[r]}' for r in entry)} END AS u0"
    advanced = [f"CASE reached {' '.join(f'WHEN {r} THEN ' + _lagged('first_us', 'f', r - 1 - k) for r in range(k + 1, n + 1))}"
                f" END AS u{k}" for k in range(1, n)]
    return (f"masked AS (SELECT person, prop, key, us, {mask} AS mask,"  # runs: rows between two changes of mask
            f" row_number() OVER (PARTITION BY {partition} ORDER BY key)"
            f" - row_number() OVER (PARTITION BY {partition}, {mask} ORDER BY key) AS island FROM tagged),"
            f" runs AS (SELECT person, prop, mask, min(key) AS key, min(us) AS first_us, max(us) AS last_us FROM masked"
            f" GROUP BY person, prop, mask, island),"
            f" lagged AS (SELECT *{lags} FROM runs WINDOW w AS (PARTITION BY {partition} ORDER BY key)),"
            f" ended AS (SELECT *, {reached} AS reached FROM lagged),"
            f" attempts AS (SELECT person, prop, reached, {', '.join([entered, *advanced])}, FALSE AS excluded,"
            f" reached AS reach_eff, key AS pick1, 0 AS pick2 FROM ended WHERE reached > 0)")


def _unordered_attempts(funnel: Funnel, period: DateRange | None) -> str:
    """CTEs ending in `attempts`: one per step event, with the steps done within the window up to it
    (the UDF's unordered walk keeps, per step, the events no older than the window) and the first
    event of each. An event doing several steps counts for the first of them."""
    n, window = len(funnel.steps), funnel.window * MICROSECONDS
    earliest = ", ".join(f"min(CASE WHEN step = {m} THEN us END) OVER recent AS f{m}" for m in range(n))
    ctes = [f"recent AS (SELECT person, prop, key, us, {earliest} FROM tagged WHERE step < {n}"
            f" WINDOW recent AS (PARTITION BY {_partition(funnel)} ORDER BY us RANGE BETWEEN {window} PRECEDING AND CURRENT ROW)),"
            f" fronts AS (SELECT *, list_sort(list_filter([{_columns('f', n)}], lambda v: v IS NOT NULL)) AS done FROM recent),"
            f" stepped AS (SELECT *, {', '.join(f'done[{k + 1}] AS u{k}' for k in range(n))} FROM fronts)"]
    source, spoiled = "stepped", []
    for j in range(len(funnel.exclusions)):
        ctes.append(f"excluded{j} AS (SELECT c.*, a.us AS x{j} FROM {source} c ASOF LEFT JOIN"
                    f" (SELECT person, prop, us FROM tagged WHERE x{j}) a ON {_same_actor(funnel)} AND c.u0 < a.us)")
        source = f"excluded{j}"
        spoiled.append(f"(x{j} IS NOT NULL AND x{j} < done[-1])")
    ctes.append(f"attempts AS (SELECT person, prop, len(done) AS reached, {_columns('u', n)}, {' OR '.join(spoiled) or 'FALSE'}"
                f" AS excluded, len(done) AS reach_eff, key AS pick1, 0 AS pick2 FROM {source})")
    return ", ".join(ctes)


def _matches(sql: Sql, event: str | None, node: dict[str, Any]) -> str:
    name = f"e.event = {sql.value(event)}" if event is not None else "TRUE"
    return f"{name} AND {properties.where(sql, node.get('properties'))}"


def _breakdown_value(funnel: Funnel) -> str:
    """An event's breakdown value as a list of texts, one per property ('' when unset), as PostHog's
    `get_breakdown_expr` boxes it; breakdown_normalize_url trims trailing / ? # ('' becomes '/')."""
    if not funnel.breakdown:
        return "NULL::VARCHAR[]"
    values = []
    for key in funnel.breakdown:
        value = f"coalesce({properties.value_of(key, funnel.breakdown_type)}, '')"
        if funnel.normalize_url:
            trimmed = f"regexp_replace({value}, '[/?#]*$', '')"
            value = f"CASE WHEN {trimmed} = '' THEN '/' ELSE {trimmed} END"
        values.append(value)
    return "[" + ", ".join(values) + "]"


def _partition(funnel: Funnel) -> str:
    return "person, prop" if funnel.per_value else "person"


def _same_actor(funnel: Funnel) -> str:
    return "a.person = c.person" + (" AND a.prop = c.prop" if funnel.per_value else "")


def _columns(prefix: str, n: int) -> str:
    return ", ".join(f"{prefix}{k}" for k in range(n))


def _lagged(column: str, prefix: str, back: int) -> str:
    """A run's `column`, or the one of the run `back` runs before it (`{prefix}{back}`)."""
    return column if back == 0 else f"{prefix}{back}"


def _step_event(node: Any) -> str | None:
    if not isinstance(node, dict):
        raise QueryError("Every funnel step must be an EventsNode object.")
    event = series_event(node)
    if node.get("math") not in (None, "total"):  # `total` is every series' default, and what a funnel step counts anyway
        raise QueryError(f"Funnel steps with math {node['math']!r} are not supported by the mock.")
    if node.get("optionalInFunnel"):
        raise QueryError("Optional funnel steps are not supported by the mock.")
    return event


def _exclusion_event(node: dict[str, Any]) -> str | None:
    kind = node.get("kind", "FunnelExclusionEventsNode")
    if kind == "FunnelExclusionActionsNode":
        raise QueryError("Actions are not supported by the mock: use a FunnelExclusionEventsNode exclusion.")
    if kind not in ("FunnelExclusionEventsNode", "EventsNode"):
        raise QueryError(f"Exclusions of kind {kind} are not supported by the mock.")
    event = node.get("event")
    if event is not None and not isinstance(event, str):
        raise QueryError("An exclusion's event must be an event name or null.")
    return event


def _choice(funnels_filter: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    value = funnels_filter.get(key) or allowed[0]
    if value not in allowed:
        raise QueryError(f"{key} must be one of {', '.join(allowed)}, not {value!r}.")
    return value


def _step_range(funnels_filter: dict[str, Any], last: int) -> tuple[int, int]:
    """funnelFromStep/funnelToStep (trends and time to convert), checked with funnels/base.py's words."""
    start, end = funnels_filter.get("funnelFromStep"), funnels_filter.get("funnelToStep")
    if start is not None and not (isinstance(start, int) and 0 <= start <= last - 1):
        raise QueryError(text="funnel_from_step_out_of_bounds", last=last - 1)
    if end is not None:
        if not (isinstance(end, int) and 1 <= end <= last):
            raise QueryError(text="funnel_to_step_out_of_bounds", last=last)
        if start is not None and start >= end:
            raise QueryError(text="funnel_step_range_invalid")
    return start or 0, last if end is None else end


def _exclusions(funnels_filter: dict[str, Any], steps: list[dict[str, Any]], order: str) -> list[dict[str, Any]]:
    """funnelsFilter.exclusions, checked with funnels/base.py's and funnel_udf.py's words."""
    exclusions = funnels_filter.get("exclusions") or []
    if exclusions and order == "strict":
        raise QueryError("Exclusions in strict funnels are not supported by the mock.")
    last = len(steps) - 1
    for exclusion in exclusions:
        if not isinstance(exclusion, dict):
            raise QueryError("Every exclusion must be a FunnelExclusionEventsNode object.")
        _exclusion_event(exclusion)
        start, end = exclusion.get("funnelFromStep"), exclusion.get("funnelToStep")
        if not isinstance(start, int) or not isinstance(end, int):
            raise QueryError("Every exclusion needs funnelFromStep and funnelToStep.")
        if start >= end:
            raise QueryError(text="exclusion_range_reversed")
        if start >= last:
            raise QueryError(text="exclusion_start_past_steps")
        if end > last:
            raise QueryError(text="exclusion_end_past_steps")
        for step in steps[start:end + 1]:
            covers = not step.get("properties") or step.get("properties") == exclusion.get("properties")
            if step.get("event") == exclusion.get("event") and covers:
                raise QueryError(text="exclusion_is_a_step")
        if order == "unordered" and (start != 0 or end != last):
            raise QueryError(text="partial_exclusion_unordered")
    return exclusions


def _date_range(query: dict[str, Any], context: Context) -> DateRange:
    """Funnel events count from date_from itself, never from the start of its week or month
    (funnel_event_query.py reads `date_from()`); the entrance periods of trends are aligned."""
    earliest = None
    if (query.get("dateRange") or {}).get("date_from") == "all":
        row = context.cursor.execute("SELECT min(timestamp) FROM events WHERE team_id = ?", [context.team_id]).fetchone()
        earliest = aware(row[0]) if row and row[0] else None
    return DateRange.of(query, context.now, context.week_start_day, earliest=earliest)
