"""Computed query results and async runs, kept as PostHog keeps them in its cache.

A result is written after it is computed (on the event loop's connection: computing happens on a
worker thread that only reads) and read back by every later answer for the same query, in any
worker process, until a computing refresh replaces it.
"""

from __future__ import annotations

import json
from typing import Any

from mockserver.store.database import Database


class Results:
    def __init__(self, db: Database):
        self.db = db

    def get(self, team_id: int, cache_key: str) -> dict[str, Any] | None:
        text = self.db.scalar("SELECT response FROM query_results WHERE team_id = ? AND cache_key = ?", (team_id, cache_key))
        return json.loads(text) if text is not None else None

    def many(self, cache_keys: list[str]) -> dict[str, dict[str, Any]]:
        """The cached responses among these keys, of any environment (a key hashes its environment
        in): a page of insights reads them in one query."""
        rows = self.db.query("SELECT cache_key, response FROM query_results"
                             " WHERE cache_key IN (SELECT value FROM json_each(?))", (json.dumps(cache_keys),))
        return {row["cache_key"]: json.loads(row["response"]) for row in rows}

    def put(self, team_id: int, cache_key: str, response_json: str) -> None:
        self.db.execute("INSERT INTO query_results (team_id, cache_key, response) VALUES (?, ?, ?)"
                        " ON CONFLICT (team_id, cache_key) DO UPDATE SET response = excluded.response",
                        (team_id, cache_key, response_json))

    def start_run(self, team_id: int, run_id: str, cache_key: str, status: dict[str, Any]) -> None:
        self.db.execute("INSERT INTO query_runs (team_id, id, cache_key, status) VALUES (?, ?, ?, ?)"
                        " ON CONFLICT (team_id, id) DO UPDATE SET cache_key = excluded.cache_key, status = excluded.status",
                        (team_id, run_id, cache_key, json.dumps(status)))

    def run(self, team_id: int, run_id: str) -> tuple[str, dict[str, Any]] | None:
        row = self.db.one("SELECT cache_key, status FROM query_runs WHERE team_id = ? AND id = ?", (team_id, run_id))
        return (row["cache_key"], json.loads(row["status"])) if row else None
