"""A small, hand-written event stream in the analytics engine's tables, for results worked out by hand.

    ctx = tiny_context([
        person("ann", email="ann@example.com"),
        event("ann", "$pageview", "2026-11-20 10:00", **{"$browser": "Chrome"}),
    ])

Events and persons go into a fresh in-memory DuckDB with the engine's own schema, properties as
JSON (as the store's events arrive), so a runner reads them exactly as it reads stored events.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import duckdb

from mockserver.analytics import engine, stream
from mockserver.analytics.context import Context

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)  # a Monday
TEAM = 1
TEST_ACCOUNTS = [{"key": "email", "value": "@hogflix.io", "operator": "not_icontains", "type": "person"}]


@dataclass
class Person:
    distinct_id: str
    properties: dict[str, Any] = field(default_factory=dict)
    created_at: str = "2026-08-01 00:00"


@dataclass
class Event:
    distinct_id: str
    event: str
    at: str  # "YYYY-MM-DD HH:MM[:SS]", UTC
    properties: dict[str, Any] = field(default_factory=dict)
    elements: list[dict[str, Any]] | None = None


def person(distinct_id: str, created_at: str = "2026-08-01 00:00", **properties: Any) -> Person:
    return Person(distinct_id, properties, created_at)


def event(distinct_id: str, name: str, at: str, elements: list[dict[str, Any]] | None = None, **properties: Any) -> Event:
    return Event(distinct_id, name, at, properties, elements)


def person_id(distinct_id: str) -> int:
    return zlib.crc32(distinct_id.encode())


def tiny_context(rows: list[Person | Event], now: datetime = NOW, week_start_day: int = 1,
                 test_accounts: list[dict[str, Any]] | None = None) -> Context:
    database = duckdb.connect(":memory:")
    database.execute(engine.SCHEMA)
    for row in rows:
        if isinstance(row, Person):
            database.execute("INSERT INTO persons VALUES (?, ?, ?, ?, ?, ?)", [
                1, person_id(row.distinct_id), row.distinct_id, row.properties.get("email"), _moment(row.created_at),
                json.dumps(row.properties)])
        else:
            database.execute(
                "INSERT INTO events (project_id, team_id, event, timestamp, person_id, distinct_id, elements_chain, properties)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [1, TEAM, row.event, _moment(row.at), person_id(row.distinct_id), row.distinct_id,
                 json.dumps(row.elements) if row.elements is not None else None, json.dumps(row.properties)])
    engine.add_missing_persons(database)
    return Context(database.cursor(), TEAM, now, week_start_day, TEST_ACCOUNTS if test_accounts is None else test_accounts,
                   engine.settle(database))


def demo_context(now: datetime = NOW, week_start_day: int = 0, scale: int = 1,
                 test_accounts: list[dict[str, Any]] | None = None) -> tuple[Context, duckdb.DuckDBPyConnection]:
    """Project 1's demo stream ending on `now`'s day, in a database of its own (returned too, for
    reading the raw events a property is checked against)."""
    database = duckdb.connect(":memory:")
    database.execute(engine.SCHEMA)
    engine.load_stream(database, stream.generate(1, 1, stream.last_day(now), scale))
    timeline = engine.settle(database)
    context = Context(database.cursor(), 1, now, week_start_day, TEST_ACCOUNTS if test_accounts is None else test_accounts, timeline)
    return context, database


def _moment(text: str) -> datetime:
    for layout in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, layout)
        except ValueError:
            continue
    return datetime.fromisoformat(text)
