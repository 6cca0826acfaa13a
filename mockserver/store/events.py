"""Events and persons written to the store, and what the analytics engine needs to know of them.

The demo projects' stream is generated, not stored (mockserver/analytics/stream.py); this holds
what seed files and tests add, which projects have the demo stream, and a version that changes
with every change, so the engine (one per process) knows when to read events again. The version
is a fresh token each time, never a counter: a reset or a restored snapshot brings back an older
state, and a counter could come back to a number the engine holds different events for.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any, Iterable

from mockserver.store.database import Database

STORED_PERSON_IDS = 10**12  # persons of the store, numbered apart from the generated ones


class Events:
    def __init__(self, db: Database):
        self.db = db

    def version(self) -> str:
        return self.db.scalar("SELECT value FROM meta WHERE key = 'events_version'") or ""

    def demo_stream_in(self, project_id: int) -> bool:
        return project_id in self.demo_projects()

    def demo_projects(self) -> list[int]:
        return json.loads(self.db.scalar("SELECT value FROM meta WHERE key = 'demo_streams'") or "[]")

    def set_demo_projects(self, project_ids: Iterable[int]) -> None:
        self._put("demo_streams", json.dumps(sorted(project_ids)))
        self._changed()

    def add_persons(self, rows: list[dict[str, Any]]) -> None:
        """Persons: project_id, distinct_id, properties (dict), created_at (ISO), and id (None: a new one)."""
        if rows:
            self.db.insert_rows("persons", [{**row, "properties": json.dumps(row.get("properties") or {})} for row in rows])
            self._changed()

    def add(self, rows: list[dict[str, Any]]) -> None:
        """Events: project_id, team_id, event, timestamp (ISO), distinct_id, properties (dict),
        elements_chain (list or None), and id (None: a new one); every row with the same keys."""
        if not rows:
            return
        self.db.insert_rows("events", [{
            **row, "properties": json.dumps(row.get("properties") or {}),
            "elements_chain": json.dumps(row["elements_chain"]) if row.get("elements_chain") is not None else None,
        } for row in rows])
        self._changed()

    def persons(self) -> list[sqlite3.Row]:
        return self.db.query(f"SELECT project_id, id + {STORED_PERSON_IDS} AS person_id, distinct_id, properties, created_at"
                             " FROM persons ORDER BY id")

    def stored(self) -> list[sqlite3.Row]:
        """Every stored event with its person's id (NULL when no person has its distinct id)."""
        return self.db.query(
            f"SELECT e.project_id, e.team_id, e.event, e.timestamp, e.distinct_id, e.properties, e.elements_chain,"
            f" p.id + {STORED_PERSON_IDS} AS person_id"
            " FROM events e LEFT JOIN persons p ON p.project_id = e.project_id AND p.distinct_id = e.distinct_id ORDER BY e.id")

    def _changed(self) -> None:
        self._put("events_version", uuid.uuid4().hex)

    def _put(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        (key, value))
