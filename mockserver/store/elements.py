"""Elements kept in an environment (their click statistics come from the analytics engine's events)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from mockserver.store.database import Database

ELEMENT_FIELDS = ("text", "tag_name", "attr_class", "href", "attr_id", "nth_child", "nth_of_type", "attributes", "order")


class Elements:
    def __init__(self, db: Database):
        self.db = db

    def page(self, team_id: int, limit: int, offset: int) -> tuple[int, list[sqlite3.Row]]:
        total = self.db.scalar("SELECT COUNT(*) FROM elements WHERE team_id = ?", (team_id,))
        rows = self.db.query(
            "SELECT * FROM elements WHERE team_id = ? ORDER BY id LIMIT ? OFFSET ?", (team_id, limit, offset)
        )
        return total, rows

    def get(self, team_id: int, element_id: int) -> sqlite3.Row | None:
        return self.db.one("SELECT * FROM elements WHERE team_id = ? AND id = ?", (team_id, element_id))

    def insert(self, team_id: int, values: dict[str, Any]) -> int:
        return self.db.insert_row("elements", {"team_id": team_id, **_stored(values)})

    def update(self, element_id: int, values: dict[str, Any]) -> None:
        self.db.update_row("elements", element_id, _stored(values))

    def delete(self, element_id: int) -> None:
        self.db.execute("DELETE FROM elements WHERE id = ?", (element_id,))


def _stored(values: dict[str, Any]) -> dict[str, Any]:
    """The element fields among `values`, as their columns hold them (lists and objects as JSON)."""
    return {c: _stored_value(c, values[c]) for c in ELEMENT_FIELDS if c in values}


def _stored_value(column: str, value: Any) -> Any:
    if column == "attr_class":
        return json.dumps(value) if value is not None else None
    if column == "attributes":
        return json.dumps(value if value is not None else {})
    return value
