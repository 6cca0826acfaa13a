"""Insight results: how fast the runners compute, against plain SQL, and what a busy engine costs others.

`python -m bench.analytics [--runs 30] [--scales 1,10,100] [--served-scale 100000]`

In process, for project 1's demo stream at each events scale (1: ~12k events, 100: ~1.3M), it
times two workloads over the analytics engine (DuckDB) and over the same events in a plain
SQLite table written the obvious way (a GROUP BY, a funnel of self-joins), in the same run:
  trend_breakdown  a 30-day daily trend of $pageview broken down by $browser
  funnel_4_steps   $pageview -> $autocapture -> user signed up -> onboarding completed, 30 days
It reports p50/p99 per scale, the SQLite/engine ratio, and how time grows with events (the
exponent k in time ~ events^k between the two largest scales: 1 is linear).

Served, it starts `posthog-mock serve --scale N` (N insights, N/1000 times the demo events) and
measures GET of an insight alone and while two clients keep posting heavy queries
(`refresh=force_blocking`), so the ratio says whether computing blocks other requests.
Results are printed and written as JSON under bench/results/. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import math
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import duckdb
import httpx

from bench.settings import REPO_ROOT, RESULTS_DIR
from bench.soak import KEY, _free_port, _percentile, _rss_kib, _wait_until_ready
from mockserver.analytics import engine, queries, stream
from mockserver.analytics.context import Context

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
TREND = {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}], "interval": "day",
         "dateRange": {"date_from": "-30d"}, "breakdownFilter": {"breakdown": "$browser", "breakdown_type": "event"}}
FUNNEL_STEPS = ["$pageview", "$autocapture", "user signed up", "onboarding completed"]
FUNNEL = {"kind": "FunnelsQuery", "series": [{"kind": "EventsNode", "event": e} for e in FUNNEL_STEPS],
          "dateRange": {"date_from": "-30d"}, "funnelsFilter": {"funnelWindowInterval": 14, "funnelWindowIntervalUnit": "day"}}
WORKLOADS = {"trend_breakdown": TREND, "funnel_4_steps": FUNNEL}
WINDOW_S = 14 * 86400


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.analytics", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="timed runs per workload and scale (default 30)")
    parser.add_argument("--scales", default="1,10,100", help="events scales, comma-separated (default 1,10,100)")
    parser.add_argument("--served-scale", type=int, default=100_000, help="--scale of the served mock (0: skip)")
    parser.add_argument("--served-requests", type=int, default=200, help="GETs timed alone and under load")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    record: dict[str, Any] = {"command": " ".join(["python -m bench.analytics", *(argv or sys.argv[1:])]),
                              "in_process": [in_process(int(s), args.runs) for s in args.scales.split(",")]}
    record["growth"] = growth(record["in_process"])
    if args.served_scale:
        record["served"] = served(args.served_scale, args.served_requests)
    print(render(record))
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"analytics-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps(record, indent=2), encoding="utf-8")
    print(f"results: {path}")
    return 0


# In process --------------------------------------------------------------------------------------
def in_process(scale: int, runs: int) -> dict[str, Any]:
    generated = stream.generate(1, 1, stream.last_day(NOW), scale)
    database = duckdb.connect(":memory:")
    database.execute(engine.SCHEMA)
    started = time.perf_counter()
    engine.load_stream(database, generated)
    timeline = engine.settle(database)
    build_s = time.perf_counter() - started
    context = Context(database.cursor(), 1, NOW, 1, [], timeline)
    plain = _sqlite_copy(database)
    found: dict[str, Any] = {"scale": scale, "events": len(generated), "engine_build_s": round(build_s, 2), "workloads": {}}
    for name, query in WORKLOADS.items():
        if query["kind"] not in queries.RUNNERS:
            continue
        engine_ms = _times(lambda: queries.compute(query, context), runs)
        sqlite_ms = _times(lambda: BASELINES[name](plain), max(3, runs // 5))
        found["workloads"][name] = {
            "engine": _summary(engine_ms), "sqlite_group_by": _summary(sqlite_ms),
            "sqlite_over_engine_p50": round(statistics.median(sqlite_ms) / statistics.median(engine_ms), 1),
        }
    plain.close()
    database.close()
    return found


def _sqlite_copy(database: duckdb.DuckDBPyConnection) -> sqlite3.Connection:
    """The same events in a plain SQLite table, indexed as one would: by event and time."""
    plain = sqlite3.connect(":memory:")
    plain.execute("CREATE TABLE events (event TEXT, timestamp TEXT, person_id INTEGER, browser TEXT)")
    rows = database.execute("SELECT event, strftime(timestamp, '%Y-%m-%dT%H:%M:%S'), person_id, browser FROM events").fetchall()
    plain.executemany("INSERT INTO events VALUES (?, ?, ?, ?)", rows)
    plain.execute("CREATE INDEX events_by_event_time ON events (event, timestamp)")
    plain.execute("CREATE INDEX events_by_person ON events (person_id, event, timestamp)")
    return plain


def _sqlite_trend(plain: sqlite3.Connection) -> list:
    return plain.execute(
        "SELECT substr(timestamp, 1, 10) AS day, coalesce(browser, ''), count(*) FROM events"
        " WHERE event = '$pageview' AND timestamp >= ? AND timestamp <= ? GROUP BY 1, 2",
        (_since(30), NOW.strftime("%Y-%m-%dT%H:%M:%S"))).fetchall()


def _sqlite_funnel(plain: sqlite3.Connection) -> list:
    """Each step: the persons whose next step follows the previous one within the window."""
    steps, params = [], []
    previous = None
    for n, event in enumerate(FUNNEL_STEPS):
        if previous is None:
            steps.append(f"s{n} AS (SELECT person_id, min(timestamp) AS t, min(timestamp) AS start FROM events"
                         " WHERE event = ? AND timestamp >= ? AND timestamp <= ? GROUP BY person_id)")
            params += [event, _since(30), NOW.strftime("%Y-%m-%dT%H:%M:%S")]
        else:
            steps.append(f"s{n} AS (SELECT e.person_id, min(e.timestamp) AS t, p.start FROM {previous} p JOIN events e"
                         " ON e.person_id = p.person_id AND e.event = ? AND e.timestamp >= p.t"
                         f" AND e.timestamp <= datetime(p.start, '+{WINDOW_S} seconds') AND e.timestamp <= ? GROUP BY e.person_id)")
            params += [event, NOW.strftime("%Y-%m-%dT%H:%M:%S")]
        previous = f"s{n}"
    counts = " UNION ALL ".join(f"SELECT {n}, count(*) FROM s{n}" for n in range(len(FUNNEL_STEPS)))
    return plain.execute(f"WITH {', '.join(steps)} {counts}", params).fetchall()


BASELINES: dict[str, Callable[[sqlite3.Connection], list]] = {"trend_breakdown": _sqlite_trend, "funnel_4_steps": _sqlite_funnel}


def growth(scales: list[dict[str, Any]]) -> dict[str, Any]:
    """time ~ events^k between the two largest scales, per workload (k = 1: linear)."""
    if len(scales) < 2:
        return {}
    small, large = scales[-2], scales[-1]
    found = {}
    for name in large["workloads"]:
        t1, t2 = small["workloads"][name]["engine"]["p50_ms"], large["workloads"][name]["engine"]["p50_ms"]
        found[name] = {"events": [small["events"], large["events"]], "p50_ms": [t1, t2],
                       "exponent": round(math.log(t2 / t1) / math.log(large["events"] / small["events"]), 2)}
    return found


# Served ------------------------------------------------------------------------------------------
def served(scale: int, requests: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {KEY}"}
    with tempfile.TemporaryDirectory(prefix="posthog-analytics-") as scratch:
        port = _free_port()
        started = time.perf_counter()
        server = subprocess.Popen(
            [sys.executable, "-m", "mockserver", "serve", "--port", str(port), "--db", str(Path(scratch) / "a.sqlite3"),
             "--scale", str(scale), "--rate-limit", "off"],
            cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_until_ready(base, server, workers=0, timeout_s=900)  # one process; seeding N insights takes a while
            with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
                first = time.perf_counter()
                http.post("/api/projects/1/query/", json={"query": TREND}).raise_for_status()  # builds the engine
                warm_s = time.perf_counter() - first
                ready_s = time.perf_counter() - started
                alone = _get_times(http, requests)
                heavy: list[float] = []
                stop = threading.Event()
                loaders = [threading.Thread(target=_keep_querying, args=(base, headers, stop, heavy)) for _ in range(2)]
                for loader in loaders:
                    loader.start()
                time.sleep(0.5)
                busy = _get_times(http, requests)
                stop.set()
                for loader in loaders:
                    loader.join(120)
            rss = _rss_kib(server.pid)
        finally:
            server.terminate()
            server.communicate(timeout=30)
    return {
        "scale": scale, "events_scale": engine.events_scale(scale), "start_s": round(ready_s, 1),
        "first_query_s": round(warm_s, 2), "rss_mib": round(rss / 1024, 1),
        "get_insight_alone": _summary(alone), "get_insight_under_heavy_queries": _summary(busy),
        "heavy_query": _summary(heavy), "heavy_queries_answered": len(heavy),
        "busy_over_alone_p99": round(_percentile(busy, 99) / _percentile(alone, 99), 2),
    }


def _keep_querying(base: str, headers: dict[str, str], stop: threading.Event, times: list[float]) -> None:
    with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
        n = 0
        while not stop.is_set():
            query = WORKLOADS[list(WORKLOADS)[n % len(WORKLOADS)]] if FUNNEL["kind"] in queries.RUNNERS else TREND
            n += 1
            started = time.perf_counter()
            http.post("/api/projects/1/query/", json={"query": query, "refresh": "force_blocking"})
            times.append((time.perf_counter() - started) * 1000)


def _get_times(http: httpx.Client, requests: int) -> list[float]:
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        http.get("/api/projects/1/insights/1/").raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    return times


# Helpers -----------------------------------------------------------------------------------------
def _times(work: Callable[[], Any], runs: int, budget_s: float = 60.0) -> list[float]:
    """Timed runs after a warm one; a slow baseline stops once it has spent its budget (at least one run)."""
    work()  # warm
    found: list[float] = []
    spent = 0.0
    while len(found) < runs and (not found or spent < budget_s):
        started = time.perf_counter()
        work()
        found.append((time.perf_counter() - started) * 1000)
        spent += found[-1] / 1000
    return found


def _summary(ms: list[float]) -> dict[str, float]:
    return {"runs": len(ms), "p50_ms": round(_percentile(ms, 50), 2), "p99_ms": round(_percentile(ms, 99), 2)}


def _since(days: int) -> str:
    return (stream.last_day(NOW) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S")


def render(record: dict[str, Any]) -> str:
    lines = ["Insight results (in process, project 1's demo stream)"]
    for scale in record["in_process"]:
        lines.append(f"  scale {scale['scale']}: {scale['events']:,} events (engine built in {scale['engine_build_s']} s)")
        for name, w in scale["workloads"].items():
            lines.append(f"    {name:16} engine p50 {w['engine']['p50_ms']} ms, p99 {w['engine']['p99_ms']} ms;"
                         f" SQLite GROUP BY p50 {w['sqlite_group_by']['p50_ms']} ms ({w['sqlite_over_engine_p50']}x)")
    for name, g in record.get("growth", {}).items():
        lines.append(f"  growth {name}: {g['events'][0]:,} -> {g['events'][1]:,} events, p50 {g['p50_ms'][0]} -> {g['p50_ms'][1]} ms,"
                     f" time ~ events^{g['exponent']}")
    served_record = record.get("served")
    if served_record:
        s = served_record
        lines += [f"Served (--scale {s['scale']}: events x{s['events_scale']}): ready in {s['start_s']} s, first query {s['first_query_s']} s,"
                  f" RSS {s['rss_mib']} MiB",
                  f"  GET insight alone: p50 {s['get_insight_alone']['p50_ms']} ms, p99 {s['get_insight_alone']['p99_ms']} ms",
                  f"  GET insight while 2 clients post heavy queries: p50 {s['get_insight_under_heavy_queries']['p50_ms']} ms,"
                  f" p99 {s['get_insight_under_heavy_queries']['p99_ms']} ms ({s['busy_over_alone_p99']}x alone)",
                  f"  heavy queries served: {s['heavy_queries_answered']}, p50 {s['heavy_query']['p50_ms']} ms, p99 {s['heavy_query']['p99_ms']} ms"]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
