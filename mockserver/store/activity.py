"""The activity log: who changed which insight, how, and when."""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any

from mockserver.store.database import Database


class Activity:
    def __init__(self, db: Database):
        self.db = db

    def log(
        self,
        *,
        team_id: int,
        project_id: int,
        item_id: int,
        activity: str,
        user_id: int | None,
        detail: dict[str, Any],
        created_at: str,
        client: str | None = None,
        scope: str = "Insight",
    ) -> None:
        self.db.execute(
            "INSERT INTO activity_log (id, team_id, project_id, scope, item_id, activity, user_id, detail, created_at, client)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (str(uuid.uuid4()), team_id, project_id, scope, str(item_id), activity, user_id,
             json.dumps(detail, separators=(",", ":")), created_at, client),
        )

    def page(
        self, project_id: int, *, item_id: int | None, limit: int, offset: int, scope: str = "Insight"
    ) -> tuple[int, list[sqlite3.Row]]:
        """(total, entries) newest first; insights are project-wide, so is their activity."""
        where, params = "project_id = ? AND scope = ?", [project_id, scope]
        if item_id is not None:
            where, params = where + " AND item_id = ?", [*params, str(item_id)]
        total = self.db.scalar(f"SELECT COUNT(*) FROM activity_log WHERE {where}", params)
        rows = self.db.query(
            f"SELECT * FROM activity_log WHERE {where} ORDER BY created_at DESC, seq DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return total, rows
