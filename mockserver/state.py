"""The state as a document (`GET /_mock/state`), and what the workbench page shows of it.

The export is a seed file (seedfile.py): every record with every field, keys by their
secure_value (the mock never knows a key's value after minting it), so `POST /_mock/state` or
`posthog-mock serve --seed-file` brings back the same state on another machine. With a project,
only that project's data (its environments, dashboards, insights, views, activity, elements and
events); loading it replaces that project's data and leaves the rest of the mock alone.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from mockserver import seed
from mockserver.clock import iso
from mockserver.seedfile import SECTIONS, Column, Section
from mockserver.store import Store
from mockserver.store.accounts import secure_value

if TYPE_CHECKING:
    from mockserver.pipeline import MockServer

FORMAT = "posthog-mock-state/1"
# Per section, how one project's records are found (`?` is the project id).
PROJECT_FILTERS = {
    "projects": "id = ?",
    "environments": "project_id = ?",
    "dashboards": "project_id = ?",
    "insights": "project_id = ?",
    "dashboard_tiles": "insight_id IN (SELECT id FROM insights WHERE project_id = ?)"
                       " OR dashboard_id IN (SELECT id FROM dashboards WHERE project_id = ?)",
    "views": "insight_id IN (SELECT id FROM insights WHERE project_id = ?)",
    "activity": "project_id = ?",
    "elements": "team_id IN (SELECT id FROM teams WHERE project_id = ?)",
    "persons": "project_id = ?",
    "events": "project_id = ?",
}
ORDER = {"activity": "seq", "memberships": "user_id, organization_id", "views": "team_id, user_id, insight_id",
         "personal_api_keys": "created_at, id"}


def export(store: Store, *, project: int | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {"format": FORMAT}
    if project is not None:
        document["project"] = project
    with store.transaction():
        if project is None:  # the generated streams are not records: the document says which projects have one
            document["demo_streams"] = store.events.demo_projects()
        tags = _tags(store)
        for section in SECTIONS:
            if project is not None and section.name not in PROJECT_FILTERS:
                continue
            where = PROJECT_FILTERS[section.name].replace("?", str(int(project))) if project is not None else "1"
            rows = store.db.query(f'SELECT * FROM "{section.table}" WHERE {where} ORDER BY {ORDER.get(section.name, "id")}')
            document[section.name] = [_record(section, row, tags) for row in rows]
    return document


def _record(section: Section, row: Any, tags: dict[int, list[str]]) -> dict[str, Any]:
    record = {column.name: _value(column, row[column.name]) for column in section.columns}
    if section.name == "insights":
        record["tags"] = tags.get(row["id"], [])
    if section.name == "activity":
        record["item_id"] = str(row["item_id"])
    return record


def _value(column: Column, stored: Any) -> Any:
    if stored is None:
        return None
    if column.kind == "json":
        return json.loads(stored)
    if column.kind in ("bool", "flag"):
        return bool(stored)
    return stored


def _tags(store: Store) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for insight_id, tag in store.db.query("SELECT insight_id, tag FROM insight_tags ORDER BY insight_id, tag"):
        found.setdefault(insight_id, []).append(tag)
    return found


def overview(server: MockServer, *, base_url: str) -> dict[str, Any]:
    """How to connect, for the workbench page: the keys (with their values where the mock knows
    them: the demo keys), the organizations' projects and environments, and the server's modes."""
    store = server.store
    known = {secure_value(key.value): key.value for key in seed.DEMO_KEYS}
    with store.transaction():
        users = {row["id"]: row["email"] for row in store.db.query("SELECT id, email FROM users")}
        keys = [{
            "label": row["label"], "value": known.get(row["secure_value"]), "mask_value": row["mask_value"],
            "scopes": json.loads(row["scopes"]), "scoped_teams": json.loads(row["scoped_teams"]) if row["scoped_teams"] else None,
            "user": users.get(row["user_id"]),
        } for row in store.db.query("SELECT * FROM personal_api_keys ORDER BY created_at, id")]
        organizations = [{"id": row["id"], "name": row["name"], "projects": []}
                         for row in store.db.query("SELECT o.* FROM organizations o ORDER BY"
                                                   " (SELECT min(id) FROM projects WHERE organization_id = o.id), o.name")]
        by_id = {organization["id"]: organization for organization in organizations}
        teams = store.db.query("SELECT id, project_id, name FROM teams ORDER BY id")
        for row in store.db.query("SELECT id, organization_id, name FROM projects ORDER BY id"):
            by_id[row["organization_id"]]["projects"].append({
                "id": row["id"], "name": row["name"],
                "environments": [{"id": t["id"], "name": t["name"]} for t in teams if t["project_id"] == row["id"]],
            })
    explorer_key = next((k["value"] for k in keys if k["value"] and "*" in k["scopes"] and not k["scoped_teams"]), None)
    return {
        "base_url": base_url,
        "auth": server.settings.auth,
        "prefer": server.settings.prefer,
        "event_loop": _running_loop(),
        "session_route": "/_mock/session",
        "keys": keys,
        "explorer_key": explorer_key,
        "organizations": organizations,
        "now": iso(server.clock.now()),
    }


def _running_loop() -> str:
    """The event loop serving this worker, by its library's name ("asyncio", "uvloop"): `--loop` as
    uvicorn applied it."""
    return type(asyncio.get_running_loop()).__module__.partition(".")[0]
