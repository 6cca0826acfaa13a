"""The analytics engine: every event of every project in one in-memory DuckDB, per process.

Insight results are aggregations over events (counts per day, persons through funnel steps,
returning cohorts), which SQLite answers by scanning rows one by one. DuckDB keeps the events
as compressed columns and scans a million of them in a few milliseconds, outside the GIL, so a
result is computed on a worker thread while the event loop goes on serving other requests.

What it holds: the demo stream of each project (mockserver/analytics/stream.py, generated here,
never stored) and the events and persons written to the store (seed files, tests), read from
SQLite. It is rebuilt when either may have changed: a new day (the demo stream ends today) or a
new version of the stored events (`Events.version`).
"""

from __future__ import annotations

import json
import threading
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone

import duckdb
import numpy as np

from mockserver.analytics import stream
from mockserver.analytics.timeline import Timeline
from mockserver.store import Store
from mockserver.store.events import STORED_PERSON_IDS

INSIGHTS_PER_EVENTS_SCALE = 1000  # `--scale 100000` (insights) grows the demo streams a hundredfold
PERSONS_PER_PROJECT = 10_000_000  # generated persons of project p are p * this + their index

# Event properties kept as columns of their own (the demo stream's); any other key is read
# from the event's JSON properties.
EVENT_COLUMNS = {
    "$current_url": "current_url", "$pathname": "pathname", "$browser": "browser", "$os": "os",
    "$referring_domain": "referring_domain", "$session_id": "session_id", "$screen_name": "screen_name", f"$feature/{stream.FLAG}": "flag_variant",
}
# The demo stream's numeric property, by the events that carry it (its `number` column).
NUMBER_PROPERTIES = {"duration": ("video played",), "amount": ("subscription paid",)}

SCHEMA = """
CREATE TABLE persons (project_id INTEGER, person_id BIGINT, distinct_id VARCHAR, email VARCHAR,
                      created_at TIMESTAMP, properties VARCHAR);
CREATE TABLE events (project_id INTEGER, team_id INTEGER, event VARCHAR, timestamp TIMESTAMP, person_id BIGINT,
                     distinct_id VARCHAR, session_id VARCHAR, current_url VARCHAR, pathname VARCHAR, screen_name VARCHAR, browser VARCHAR,
                     os VARCHAR, referring_domain VARCHAR, flag_variant VARCHAR, number DOUBLE, elements_chain VARCHAR,
                     properties VARCHAR);
"""


def events_scale(insights_scale: int) -> int:
    """How many times its profile's persons each demo stream has, for `--scale` (insights):
    a thousand insights per step, so the largest scale (100k) holds about 1.3M events."""
    return max(1, insights_scale // INSIGHTS_PER_EVENTS_SCALE)


@dataclass(frozen=True)
class Version:
    """What the engine's content follows: the day the demo streams end, the stored events' version."""

    last_day: datetime
    stored: str


@dataclass(frozen=True)
class Loaded:
    """The engine's content at one version: the database and its events in person order."""

    database: duckdb.DuckDBPyConnection
    timeline: Timeline


class Engine:
    """One per process. `open()` gives a cursor over the current content, rebuilt when stale, and
    its timeline; each call gets its own cursor (DuckDB cursors are not shared across threads).
    The store is the caller's: a worker thread reads through its own connection."""

    def __init__(self, scale: int = 1):
        self.scale = scale
        self._lock = threading.Lock()
        self._loaded: Loaded | None = None
        self._version: Version | None = None

    def open(self, store: Store, now: datetime) -> tuple[duckdb.DuckDBPyConnection, Timeline]:
        version = Version(stream.last_day(now), store.events.version())
        with self._lock:
            if self._loaded is None or version != self._version:
                self._loaded = self._build(store, version)
                self._version = version
            return self._loaded.database.cursor(), self._loaded.timeline

    def _build(self, store: Store, version: Version) -> Loaded:
        database = duckdb.connect(":memory:")
        database.execute(SCHEMA)
        teams = {team.project_id: team.id for team in store.accounts.main_teams()}
        for project_id in store.events.demo_projects():
            if project_id in teams:
                load_stream(database, stream.generate(project_id, teams[project_id], version.last_day, self.scale))
        _load_stored(database, store)
        return Loaded(database, settle(database))


def load_stream(database: duckdb.DuckDBPyConnection, generated: stream.Stream) -> None:
    persons, events, pid = generated.persons, generated.events, generated.project_id
    count = len(persons["first_day"])
    first_person = pid * PERSONS_PER_PROJECT
    database.register("generated_persons", {
        "idx": np.arange(count), "created": persons["created"], "internal": persons["internal"], "plan": persons["plan"],
        "country": persons["country"], "browser": persons["browser"], "os": persons["os"],
        "referrer": persons["referrer"], "flag": persons["flag"]})
    email = (f"CASE WHEN idx = 0 THEN 'ada@hogflix.io' WHEN internal THEN 'staff' || idx || '@{stream.TEST_ACCOUNT_DOMAIN}'"
             " ELSE 'viewer' || idx || '@example.com' END")
    database.execute(f"""
        INSERT INTO persons SELECT {pid}, {first_person} + idx, 'user-' || lpad(idx::VARCHAR, 5, '0'), {email},
            make_timestamp(created * 1000000),
            json_object('email', {email}, 'plan', {_lookup(stream.PLANS)}[plan + 1],
                        'country', {_lookup(stream.COUNTRIES)}[country + 1],
                        '$initial_browser', {_lookup(stream.BROWSERS)}[browser + 1],
                        '$initial_os', {_lookup(stream.OSES)}[os + 1],
                        '$initial_referring_domain', {_lookup(stream.REFERRERS)}[referrer + 1],
                        '$feature/{stream.FLAG}', {_lookup(stream.FLAG_VARIANTS)}[flag + 1])::VARCHAR
        FROM generated_persons""")
    database.unregister("generated_persons")
    person = events["person"]
    database.register("generated", {
        "event_code": events["event"], "ts": events["timestamp"], "person_index": person,
        "session": events["session"], "url_code": events["url"], "chain_code": events["chain"], "number": events["number"],
        "browser_code": persons["browser"][person], "os_code": persons["os"][person],
        "referrer_code": persons["referrer"][person], "flag_code": persons["flag"][person]})
    web = "$pageview" in generated.event_names
    urls = _lookup(stream.URLS)
    database.execute(f"""
        INSERT INTO events SELECT
            {pid}, {generated.team_id}, {_lookup(generated.event_names)}[event_code + 1],
            make_timestamp(ts * 1000000), {first_person} + person_index, 'user-' || lpad(person_index::VARCHAR, 5, '0'),
            lower(hex(session)),
            {f"CASE WHEN url_code >= 0 THEN {urls}[url_code + 1] END" if web else "NULL"},
            {f"CASE WHEN url_code >= 0 THEN regexp_extract({urls}[url_code + 1], 'https?://[^/]+(/.*)', 1) END" if web else "NULL"},
            {"NULL" if web else f"CASE WHEN url_code >= 0 THEN {_lookup(stream.SCREENS)}[url_code + 1] END"},
            {_lookup(stream.BROWSERS) + "[browser_code + 1]" if web else "NULL"}, {_lookup(stream.OSES)}[os_code + 1],
            {_lookup(stream.REFERRERS)}[referrer_code + 1], {_lookup(stream.FLAG_VARIANTS)}[flag_code + 1],
            CASE WHEN isnan(number) THEN NULL ELSE number END,
            CASE WHEN chain_code >= 0 THEN {_lookup(stream.CHAIN_TEXTS)}[chain_code + 1] END,
            NULL
        FROM generated""")
    database.unregister("generated")


def _load_stored(database: duckdb.DuckDBPyConnection, store: Store) -> None:
    """Events and persons written to the store (seed files, tests), with their JSON properties,
    handed to DuckDB as columns (row by row inserts cost about a millisecond each)."""
    persons = store.events.persons()
    if persons:
        _insert_columns(database, "persons", {
            "project_id": [p["project_id"] for p in persons], "person_id": [p["person_id"] for p in persons],
            "distinct_id": [p["distinct_id"] for p in persons],
            "email": [json.loads(p["properties"]).get("email") for p in persons],
            "created_at": [_naive(p["created_at"]) for p in persons], "properties": [p["properties"] for p in persons]})
    events = store.events.stored()
    if events:
        _insert_columns(database, "events", {
            "project_id": [e["project_id"] for e in events], "team_id": [e["team_id"] for e in events],
            "event": [e["event"] for e in events], "timestamp": [_naive(e["timestamp"]) for e in events],
            "person_id": [e["person_id"] if e["person_id"] is not None else _person_of(e["distinct_id"]) for e in events],
            "distinct_id": [e["distinct_id"] for e in events], "elements_chain": [e["elements_chain"] for e in events],
            "properties": [e["properties"] for e in events]})
    add_missing_persons(database)


def add_missing_persons(database: duckdb.DuckDBPyConnection) -> None:
    """PostHog makes a person of any distinct id it has not seen: so does the engine, with no
    properties, created at its first event."""
    database.execute("INSERT INTO persons SELECT project_id, person_id, any_value(distinct_id), NULL, min(timestamp), '{}'"
                     " FROM events WHERE person_id NOT IN (SELECT person_id FROM persons) GROUP BY project_id, person_id")


def settle(database: duckdb.DuckDBPyConnection) -> Timeline:
    """What the engine does once every event is in: event names become an ENUM (an event condition
    then compares small integers, not texts: a 30-day funnel's selection over 1.3M events took 15 ms
    with texts, 5 with the ENUM), and the events are put in person order once (timeline.py)."""
    if database.execute("SELECT count(*) FROM events").fetchone()[0]:  # an ENUM needs a value
        database.execute("CREATE TYPE event_name AS ENUM (SELECT DISTINCT event FROM events WHERE event IS NOT NULL ORDER BY event)")
        database.execute("ALTER TABLE events ALTER event SET DATA TYPE event_name")
    return Timeline.of(database)


def _insert_columns(database: duckdb.DuckDBPyConnection, table: str, columns: dict[str, list]) -> None:
    arrays = {name: np.array(values, dtype="datetime64[us]" if values and isinstance(values[0], datetime) else object)
              for name, values in columns.items()}
    database.register("incoming", arrays)
    database.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM incoming")
    database.unregister("incoming")


def _naive(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(timezone.utc).replace(tzinfo=None)


def _person_of(distinct_id: str) -> int:
    """A person for an event whose distinct id has none: one per distinct id, as PostHog makes one."""
    return 2 * STORED_PERSON_IDS + zlib.crc32(distinct_id.encode())


def _lookup(values: list[str]) -> str:
    """A DuckDB list literal to index with a code (1-based)."""
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"
