"""Insights, their tags, dashboard tiles and views, as rows.

What the rows mean (presence-based filters, soft delete, who may see what) is decided by the
handlers; this module only turns those decisions into SQL.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import sqlite3
import string
from dataclasses import dataclass, field
from typing import Any, Iterable, NamedTuple, Sequence

from mockserver.store import search, stamps
from mockserver.store.database import Database

SHORT_ID_ALPHABET = string.ascii_letters + string.digits
MAX_SQLITE_INT = 2**63 - 1

# Sortable fields of `order` and their columns; `-` for descending.
ORDER_COLUMNS = {
    "order": '"order"', "id": "id", "name": "name", "created_at": "created_at", "updated_at": "updated_at",
    "last_modified_at": "last_modified_at", "last_viewed_at": "last_viewed_at", "created_by": "created_by_id",
    "favorited": "favorited", "short_id": "short_id",
}

NOT_NULL_ORDER_COLUMNS = {"id", "updated_at", "last_modified_at", "favorited", "short_id"}

# Every insight row comes with its tags and shown dashboard tiles, as JSON built by SQLite, so a
# page of insights is one query and the JSON goes out as it is (serializers.py).
_SHOWN_TILES = ("FROM dashboard_tiles dt JOIN dashboards d ON d.id = dt.dashboard_id"
                " WHERE dt.insight_id = i.id AND coalesce(dt.deleted, 0) = 0 AND d.deleted = 0 ORDER BY dt.id")
WITH_RELATED = (
    "i.*, (SELECT json_group_array(tag) FROM (SELECT tag FROM insight_tags WHERE insight_id = i.id ORDER BY tag)) AS tags_json,"
    " (SELECT json_group_array(json_object('id', id, 'dashboard_id', dashboard_id, 'deleted', json(deleted))) FROM ("
    "SELECT dt.id, dt.dashboard_id, CASE WHEN dt.deleted IS NULL THEN 'null' WHEN dt.deleted THEN 'true' ELSE 'false' END"
    f" AS deleted {_SHOWN_TILES})) AS tiles_json,"
    f" (SELECT json_group_array(dashboard_id) FROM (SELECT dt.dashboard_id {_SHOWN_TILES})) AS dashboards_json,"
    " (SELECT stamp FROM insight_stamps WHERE insight_id = i.id) AS stamp"
)

INSIGHT_COLUMNS = (
    "team_id", "project_id", "short_id", "name", "derived_name", "description", "query", "filters", "order",
    "deleted", "saved", "favorited", "is_sample", "created_at", "created_by_id", "updated_at",
    "last_modified_at", "last_modified_by_id", "kind", "events", "last_viewed_at",
)


@dataclass
class ListQuery:
    """The list filters, already interpreted (see handlers/insights.py)."""

    project_id: int
    short_id: str | None = None
    saved: bool | None = None
    created_by_ids: list[int] = field(default_factory=list)
    created_by_user_id: int | None = None
    favorited_only: bool = False
    kind: str | None = None
    modified_after: str | None = None
    modified_before: str | None = None
    created_after: str | None = None
    created_before: str | None = None
    viewed_after: str | None = None
    viewed_before: str | None = None
    on_every_dashboard: list[int] = field(default_factory=list)
    with_any_tag: list[str] = field(default_factory=list)
    mentioning_flag: str | None = None
    using_every_event: list[str] = field(default_factory=list)
    excluded_names: list[str] = field(default_factory=list)
    search: str | None = None
    order: str | None = None
    limit: int = 100
    offset: int = 0



class Viewed(NamedTuple):
    """An insight trending shows: what its shape adds to the basic one comes from these."""
    id: int
    view_count: int
    last_modified_by_id: int | None

class Insights:
    def __init__(self, db: Database):
        self.db = db

    # Reading ------------------------------------------------------------------------------------
    def by_id_or_short_id(self, project_id: int, ident: str, *, include_deleted: bool = False) -> sqlite3.Row | None:
        """PostHog's safely_get_object: all digits try the primary key first, then the short_id."""
        live = "" if include_deleted else " AND deleted = 0"
        if ident.isdigit() and int(ident) <= MAX_SQLITE_INT:
            row = self.db.one(f"SELECT {WITH_RELATED} FROM insights i WHERE id = ? AND project_id = ?{live}", (int(ident), project_id))
            if row:
                return row
        return self.db.one(
            f"SELECT {WITH_RELATED} FROM insights i WHERE short_id = ? AND project_id = ?{live} ORDER BY id LIMIT 1",
            (ident, project_id),
        )

    def by_ids_in_project(self, project_id: int, ids: Sequence[int]) -> list[sqlite3.Row]:
        """Insights of the project among these ids, deleted or not, in no particular order. The ids
        drive the join: `id IN (...)` had SQLite walk the project's index (81 us for one id at 1k insights, 14 now)."""
        return self.db.query(
            f"SELECT {WITH_RELATED} FROM (SELECT DISTINCT value FROM json_each(?)) m CROSS JOIN insights i ON i.id = m.value"
            " WHERE i.project_id = ?", (json.dumps(list(ids)), project_id),
        )

    def saved_in_project(self, project_id: int) -> list[sqlite3.Row]:
        """The project's saved, live insights, oldest first."""
        return self.db.query(
            f"SELECT {WITH_RELATED} FROM insights i WHERE project_id = ? AND deleted = 0 AND saved = 1 ORDER BY id",
            (project_id,),
        )

    def by_ids(self, project_id: int, ids: Iterable[int], *, deleted: bool | None = False) -> list[sqlite3.Row]:
        wanted = _existing_ids(ids)
        if not wanted:
            return []
        state = "" if deleted is None else f" AND deleted = {int(deleted)}"
        return self.db.query(
            f"SELECT {WITH_RELATED} FROM insights i WHERE project_id = ?{state} AND id IN ({_marks(wanted)}) ORDER BY id",
            (project_id, *wanted),
        )

    def live_ids(self, project_id: int, ids: Iterable[int]) -> list[int]:
        """Which of these are the project's live insights (their ids only: nothing else is read)."""
        wanted = _existing_ids(ids)
        if not wanted:
            return []
        return [row[0] for row in self.db.query(
            f"SELECT id FROM insights WHERE project_id = ? AND deleted = 0 AND id IN ({_marks(wanted)}) ORDER BY id",
            (project_id, *wanted))]

    def page(self, q: ListQuery) -> tuple[int, list[sqlite3.Row], dict[int, str]]:
        """(count, rows of the page, search match type per id when searching)."""
        where, params = self._where(q)
        if q.search:
            return self._search_page(q, where, params)
        total = self._count(q, where, params)
        rows = self.db.query(
            f"SELECT {WITH_RELATED} FROM insights i WHERE {where} ORDER BY {_order_by(q.order)} LIMIT ? OFFSET ?",
            (*params, q.limit, q.offset),
        )
        return total, rows, {}

    def page_stamps(self, q: ListQuery) -> tuple[int, list[tuple[int, int]]]:
        """(count, (id, stamp) of each row of the page) for a list without search: what a reader
        that kept rendered rows under their stamps needs to know which it must read again."""
        where, params = self._where(q)
        total = self._count(q, where, params)
        stamped = self.db.query(
            f"SELECT i.id, s.stamp FROM insights i LEFT JOIN insight_stamps s ON s.insight_id = i.id"
            f" WHERE {where} ORDER BY {_order_by(q.order)} LIMIT ? OFFSET ?", (*params, q.limit, q.offset))
        return total, [(row[0], row[1]) for row in stamped]

    def answer_stamps(self, project_id: int, ident: str) -> tuple[Any, ...]:
        """What an answer about the insight `ident` (id or short id) follows: its stamp (of each
        insight the ident may name), the accounts' and the cached results' (store/stamps.py)."""
        number = int(ident) if ident.isdigit() and int(ident) <= MAX_SQLITE_INT else None  # as by_id_or_short_id reads it
        row = self.db.one(
            "SELECT (SELECT stamp FROM insight_stamps WHERE insight_id = (SELECT id FROM insights WHERE id = ? AND project_id = ?)),"
            " (SELECT group_concat(s.stamp) FROM insights i JOIN insight_stamps s ON s.insight_id = i.id"
            " WHERE i.short_id = ? AND i.project_id = ?),"
            " (SELECT value FROM meta WHERE key = ?), (SELECT value FROM meta WHERE key = ?)",
            (number, project_id, ident, project_id, stamps.ACCOUNTS, stamps.RESULTS))
        return tuple(row)

    def shared_stamps(self) -> tuple[str | None, str | None]:
        """The accounts' stamp and the cached results' (store/stamps.py), in one read."""
        row = self.db.one("SELECT (SELECT value FROM meta WHERE key = ?), (SELECT value FROM meta WHERE key = ?)",
                          (stamps.ACCOUNTS, stamps.RESULTS))
        return row[0], row[1]

    def accounts_stamp(self) -> str | None:
        """The stamp of the accounts (users, teams, projects), which insights' JSON shows (store/stamps.py)."""
        return self.db.scalar("SELECT value FROM meta WHERE key = ?", (stamps.ACCOUNTS,))

    def _count(self, q: ListQuery, where: str, params: list[Any]) -> int:
        kept = self._kept_count(q)
        return kept if kept is not None else self.db.scalar(f"SELECT COUNT(*) FROM insights i WHERE {where}", params)

    def _kept_count(self, q: ListQuery) -> int | None:
        """The count from insight_counts when only `saved` filters the list (None otherwise):
        saved insights, plus unsaved ones shown on a listed dashboard, or the unsaved ones."""
        narrowed = dataclasses.replace(q, saved=None, order=None, limit=0, offset=0)
        if narrowed != ListQuery(project_id=q.project_id, limit=0, offset=0):
            return None
        counted = "SELECT coalesce(sum(n), 0) FROM insight_counts WHERE project_id = ? AND deleted = 0"
        if q.saved is None:
            return self.db.scalar(counted, (q.project_id,))
        if q.saved is False:
            return self.db.scalar(f"{counted} AND saved = 0", (q.project_id,))
        on_listed_dashboards = self.db.scalar(
            "SELECT COUNT(DISTINCT i.id) FROM dashboard_tiles dt JOIN dashboards d ON d.id = dt.dashboard_id"
            " JOIN insights i ON i.id = dt.insight_id WHERE i.project_id = ? AND i.deleted = 0 AND i.saved = 0"
            " AND coalesce(dt.deleted, 0) = 0 AND d.deleted = 0 AND d.creation_mode != 'unlisted'",
            (q.project_id,),
        )
        return self.db.scalar(f"{counted} AND saved = 1", (q.project_id,)) + on_listed_dashboards

    def _search_page(self, q: ListQuery, where: str, params: list[Any]) -> tuple[int, list[sqlite3.Row], dict[int, str]]:
        """Exact (substring) matches; only when there are none, similar (trigram) ones. The matches
        come from indexes (store/search.py) and the other filters narrow them, so the cost follows
        the matches, not the project's size."""
        exact = search.containing(self.db.connection, q.search)
        exact |= {row[0] for row in self.db.query(
            "SELECT insight_id FROM insight_tags WHERE tag IN (SELECT DISTINCT tag FROM insight_tags WHERE instr(tag, ?) > 0)",
            (q.search.lower(),))}
        found = self._among(exact, where, params)
        if found:
            relevance = lambda row: (row["name"] or row["derived_name"] or "").lower()  # noqa: E731  (then newest)
            return self._matched_page(q, found, relevance, "exact")
        scores = search.similar_insights(self.db.connection, q.search)
        return self._matched_page(q, self._among(scores, where, params), lambda row: -scores[row["id"]], "similar")

    def _among(self, ids: Iterable[int], where: str, params: list[Any]) -> list[sqlite3.Row]:
        """Of these insights, the ones the list's filters keep (id, name and derived name)."""
        return self.db.query(
            f"SELECT i.id, i.name, i.derived_name FROM json_each(?) m CROSS JOIN insights i ON i.id = m.value WHERE {where}",
            (json.dumps(list(ids)), *params),
        )

    def _matched_page(self, q: ListQuery, found: list[sqlite3.Row], relevance: Any, match_type: str
                      ) -> tuple[int, list[sqlite3.Row], dict[int, str]]:
        """A page of the matches: in `order` when asked, else by relevance, then newest first."""
        ids = [row["id"] for row in found]
        if q.order:
            rows = self.db.query(
                f"SELECT {WITH_RELATED} FROM json_each(?) m CROSS JOIN insights i ON i.id = m.value"
                f" ORDER BY {_order_by(q.order)} LIMIT ? OFFSET ?",
                (json.dumps(ids), q.limit, q.offset),
            )
        else:
            page = [row["id"] for row in sorted(found, key=lambda row: (relevance(row), -row["id"]))[q.offset:q.offset + q.limit]]
            by_id = {row["id"]: row for row in self.by_ids_in_project(q.project_id, page)}
            rows = [by_id[i] for i in page]
        return len(found), rows, {row["id"]: match_type for row in rows}

    def _where(self, q: ListQuery) -> tuple[str, list[Any]]:
        clauses, params = ["i.project_id = ?", "i.deleted = 0"], [q.project_id]

        def add(clause: str, *values: Any) -> None:
            clauses.append(clause)
            params.extend(values)

        if q.short_id is not None:
            add("i.short_id = ?", q.short_id)
        if q.saved is True:
            add(
                "(i.saved = 1 OR EXISTS (SELECT 1 FROM dashboard_tiles dt JOIN dashboards d ON d.id = dt.dashboard_id"
                " WHERE dt.insight_id = i.id AND coalesce(dt.deleted, 0) = 0 AND d.deleted = 0"
                " AND d.creation_mode != 'unlisted'))"
            )
        elif q.saved is False:
            add("i.saved = 0")
        if q.created_by_ids:
            add("i.created_by_id IN (SELECT value FROM json_each(?))", _json_ids(q.created_by_ids))
        if q.created_by_user_id is not None:
            add("i.created_by_id = ?", q.created_by_user_id)
        if q.favorited_only:
            add("i.favorited = 1")
        if q.kind:
            add("i.kind = ?", q.kind)
        for column, op, value in (
            ("last_modified_at", ">", q.modified_after), ("last_modified_at", "<", q.modified_before),
            ("created_at", ">", q.created_after), ("created_at", "<", q.created_before),
            ("last_viewed_at", ">", q.viewed_after), ("last_viewed_at", "<", q.viewed_before),
        ):
            if value is not None:
                add(f"i.{column} {op} ?", value)
        # Lists from the query string go in as one JSON parameter, however long they are (one
        # expression per item overflowed SQLite's expression tree at ~1,000 items).
        if q.on_every_dashboard:
            wanted = sorted({storable_id(i) for i in q.on_every_dashboard})
            add(
                "(SELECT COUNT(DISTINCT dt.dashboard_id) FROM dashboard_tiles dt WHERE dt.insight_id = i.id"
                " AND coalesce(dt.deleted, 0) = 0 AND dt.dashboard_id IN (SELECT value FROM json_each(?))) = ?",
                json.dumps(wanted), len(wanted),
            )
        if q.with_any_tag:
            add("EXISTS (SELECT 1 FROM insight_tags t WHERE t.insight_id = i.id AND t.tag IN (SELECT value FROM json_each(?)))",
                json.dumps(q.with_any_tag))
        if q.mentioning_flag:
            needle = f"%$feature/{q.mentioning_flag}%"
            add("(i.query LIKE ? OR i.filters LIKE ? OR i.filters LIKE ?)", needle, needle, f"%{q.mentioning_flag}%")
        if q.using_every_event:
            events = sorted(set(q.using_every_event))
            add("(SELECT COUNT(DISTINCT e.value) FROM json_each(i.events) e WHERE e.value IN (SELECT value FROM json_each(?))) = ?",
                json.dumps(events), len(events))
        if q.excluded_names:
            add("coalesce(i.name, '') NOT IN (SELECT value FROM json_each(?))", json.dumps(q.excluded_names))
        return " AND ".join(clauses), params

    def tags_of(self, ids: Sequence[int]) -> dict[int, list[str]]:
        tags: dict[int, list[str]] = {i: [] for i in ids}
        if ids:
            for row in self.db.query(
                f"SELECT insight_id, tag FROM insight_tags WHERE insight_id IN ({_marks(ids)}) ORDER BY tag", ids
            ):
                tags[row[0]].append(row[1])
        return tags

    def tiles_of(self, ids: Sequence[int]) -> dict[int, list[sqlite3.Row]]:
        """Shown tiles (not hidden, dashboard not deleted) per insight."""
        tiles: dict[int, list[sqlite3.Row]] = {i: [] for i in ids}
        if ids:
            for row in self.db.query(
                "SELECT dt.* FROM dashboard_tiles dt JOIN dashboards d ON d.id = dt.dashboard_id"
                f" WHERE dt.insight_id IN ({_marks(ids)}) AND coalesce(dt.deleted, 0) = 0 AND d.deleted = 0"
                " ORDER BY dt.id",
                ids,
            ):
                tiles[row["insight_id"]].append(row)
        return tiles

    def tile(self, insight_id: int, dashboard_id: int) -> sqlite3.Row | None:
        return self.db.one(
            "SELECT dt.* FROM dashboard_tiles dt JOIN dashboards d ON d.id = dt.dashboard_id"
            " WHERE dt.insight_id = ? AND dt.dashboard_id = ? AND coalesce(dt.deleted, 0) = 0 AND d.deleted = 0",
            (insight_id, storable_id(dashboard_id)),
        )

    def dashboards(self, project_id: int, ids: Iterable[int]) -> dict[int, sqlite3.Row]:
        wanted = _existing_ids(ids)
        if not wanted:
            return {}
        rows = self.db.query(
            f"SELECT * FROM dashboards WHERE project_id = ? AND deleted = 0 AND id IN ({_marks(wanted)})",
            (project_id, *wanted),
        )
        return {row["id"]: row for row in rows}

    # Writing ------------------------------------------------------------------------------------
    def new_short_id(self, team_id: int) -> str:
        while True:
            candidate = "".join(secrets.choice(SHORT_ID_ALPHABET) for _ in range(8))
            if not self.db.scalar("SELECT 1 FROM insights WHERE team_id = ? AND short_id = ?", (team_id, candidate)):
                return candidate

    def insert(self, values: dict[str, Any]) -> int:
        return self.db.insert_row("insights", _stored(values))

    def insert_many(self, rows: list[dict[str, Any]]) -> None:
        """Many insights at once, with their ids given (generated data for benchmarks)."""
        self.db.insert_rows("insights", [{"id": row["id"], **_stored(row)} for row in rows])

    def add_tags(self, pairs: list[tuple[int, str]]) -> None:
        """(insight id, tag) pairs, added to what the insights have."""
        self.db.insert_rows("insight_tags", [{"insight_id": i, "tag": tag} for i, tag in pairs])

    def count_in_project(self, project_id: int) -> int:
        """Every insight of the project, deleted ones too."""
        return self.db.scalar("SELECT COUNT(*) FROM insights WHERE project_id = ?", (project_id,))

    def largest_id(self) -> int:
        return self.db.scalar("SELECT MAX(id) FROM insights") or 0

    def add_dashboard(self, **values: Any) -> None:
        self.db.insert_row("dashboards", values)

    def add_tile(self, **values: Any) -> None:
        """A dashboard tile as it is (hidden or shown, with its color and layouts)."""
        self.db.insert_row("dashboard_tiles", values)

    def update(self, insight_id: int, values: dict[str, Any], *, current: sqlite3.Row | None = None) -> None:
        """With the `current` row, the columns that already hold their value are left out: a trigger
        on a column (the search index of the names, the counts of saved insights) runs whenever the
        column is SET, changed or not (a PATCH of `favorited` in process: 345 -> 320 us)."""
        stored = _stored(values)
        if current is not None:
            stored = {column: value for column, value in stored.items() if current[column] != value}
        self.db.update_row("insights", insight_id, stored)
        if not stored.keys().isdisjoint(search.FIELDS):
            search.keep_stale_few(self.db.connection)

    def set_deleted(self, ids: Sequence[int], deleted: bool, *, now: str, user_id: int) -> None:
        self.db.execute(
            f"UPDATE insights SET deleted = ?, updated_at = ?, last_modified_at = ?, last_modified_by_id = ?"
            f" WHERE id IN ({_marks(ids)})",
            (int(deleted), now, now, user_id, *ids),
        )

    def set_tags(self, insight_id: int, tags: Iterable[str]) -> None:
        self.db.execute("DELETE FROM insight_tags WHERE insight_id = ?", (insight_id,))
        self.db.executemany(
            "INSERT INTO insight_tags (insight_id, tag) VALUES (?, ?)", [(insight_id, t) for t in sorted(set(tags))]
        )

    def set_tiles_hidden(self, insight_ids: Sequence[int], hidden: bool) -> None:
        self.db.execute(
            f"UPDATE dashboard_tiles SET deleted = ? WHERE insight_id IN ({_marks(insight_ids)})",
            (1 if hidden else 0, *insight_ids),
        )

    def place_on_dashboards(self, insight_id: int, dashboard_ids: Sequence[int]) -> None:
        """Show the insight on exactly these dashboards (tiles added, hidden or shown again)."""
        keep = set(dashboard_ids)
        existing = {row["dashboard_id"]: row for row in self.db.query(
            "SELECT * FROM dashboard_tiles WHERE insight_id = ?", (insight_id,))}
        for dashboard_id, tile in existing.items():
            hidden = dashboard_id not in keep
            if bool(tile["deleted"]) != hidden:
                self.db.execute("UPDATE dashboard_tiles SET deleted = ? WHERE id = ?", (int(hidden), tile["id"]))
        for dashboard_id in sorted(keep - existing.keys()):
            self.db.execute(
                "INSERT INTO dashboard_tiles (dashboard_id, insight_id, deleted) VALUES (?, ?, NULL)",
                (dashboard_id, insight_id),
            )

    # Views --------------------------------------------------------------------------------------
    def record_views(self, team_id: int, user_id: int, insight_ids: Sequence[int], now: str) -> None:
        """Upsert one view per (team, user, insight); the insight remembers its latest view.

        Latest, not last written: PostHog annotates Max(last_viewed_at) over the views, and the
        seed (or a view recorded with an older time) may write an earlier view after a later one.
        """
        self.db.executemany(
            "INSERT INTO insight_views (team_id, user_id, insight_id, last_viewed_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (team_id, user_id, insight_id) DO UPDATE SET last_viewed_at = excluded.last_viewed_at",
            [(team_id, user_id, i, now) for i in insight_ids],
        )
        if insight_ids:
            self.db.execute(
                "UPDATE insights SET last_viewed_at = ?"
                f" WHERE id IN ({_marks(insight_ids)}) AND (last_viewed_at IS NULL OR last_viewed_at < ?)",
                (now, *insight_ids, now),
            )

    def last_viewed_by(self, team_id: int, user_id: int, limit: int) -> list[sqlite3.Row]:
        """The user's latest views in this exact team, live insights only, newest first."""
        return self.db.query(
            f"SELECT {WITH_RELATED}, v.last_viewed_at AS viewer_last_viewed_at FROM insight_views v"
            " JOIN insights i ON i.id = v.insight_id"
            " WHERE v.team_id = ? AND v.user_id = ? AND i.deleted = 0"
            " ORDER BY v.last_viewed_at DESC, i.id DESC LIMIT ?",
            (team_id, user_id, limit),
        )

    def trending(self, project_id: int, since: str, limit: int) -> list[sqlite3.Row]:
        """Live insights viewed since `since`, by viewer count, then last_modified_at. Starts from the
        views in the window (their time index), so the cost follows the views, not the project's size;
        the tags and tiles are read for the `limit` insights shown, not for every one viewed."""
        return self.db.query(f"{_TRENDING} SELECT {WITH_RELATED}, shown.view_count FROM shown"
                             f" CROSS JOIN insights i ON i.id = shown.id ORDER BY {_TRENDING_ORDER}", (since, project_id, limit))

    def trending_stamps(self, project_id: int, since: str, limit: int) -> list[tuple[Viewed, int | None]]:
        """What `trending` shows, as the view counts and last modifiers with each insight's stamp: for a
        reader that kept the insights' rendered fields under their stamps (fragments.py)."""
        rows = self.db.query(
            f"{_TRENDING} SELECT i.id, shown.view_count, i.last_modified_by_id, s.stamp FROM shown"
            f" CROSS JOIN insights i ON i.id = shown.id LEFT JOIN insight_stamps s ON s.insight_id = i.id"
            f" ORDER BY {_TRENDING_ORDER}", (since, project_id, limit))
        return [(Viewed(row[0], row[1], row[2]), row[3]) for row in rows]

    def recent_viewers(self, team_id: int, insight_ids: Sequence[int], since: str, per_insight: int) -> dict[int, list[int]]:
        viewers: dict[int, list[int]] = {i: [] for i in insight_ids}
        if insight_ids:
            for row in self.db.query(
                "SELECT insight_id, user_id FROM insight_views"
                f" WHERE team_id = ? AND last_viewed_at >= ? AND insight_id IN ({_marks(insight_ids)})"
                " ORDER BY last_viewed_at DESC, user_id",
                (team_id, since, *insight_ids),
            ):
                if len(viewers[row[0]]) < per_insight:
                    viewers[row[0]].append(row[1])
        return viewers


_TRENDING_ORDER = "view_count DESC, i.last_modified_at DESC, i.id DESC"
# The insights trending shows: `shown` (id, view_count), from the views since ?, in project ?, at most ? of them.
_TRENDING = (
    "WITH viewed AS (SELECT insight_id, count(*) AS view_count FROM insight_views WHERE last_viewed_at >= ? GROUP BY insight_id),"
    " shown AS (SELECT i.id, viewed.view_count FROM viewed CROSS JOIN insights i ON i.id = viewed.insight_id"
    f" WHERE i.project_id = ? AND i.deleted = 0 ORDER BY {_TRENDING_ORDER} LIMIT ?)"
)


def _existing_ids(ids: Iterable[int]) -> list[int]:
    """The ids a row could have (SQLite integers above 0), sorted, each once: a request may name any integer."""
    return sorted({i for i in ids if 0 < i <= MAX_SQLITE_INT})


def storable_id(value: int) -> int:
    """An id SQLite can hold; ids beyond its range cannot exist, so they become 0 (matches nothing)."""
    return value if -MAX_SQLITE_INT <= value <= MAX_SQLITE_INT else 0


def _order_by(order: str | None) -> str:
    """SQL ORDER BY for `order`, with Postgres' NULL placement (last ascending, first descending).

    Written to match the indexes: the default ordering is insights_by_default_order, and columns
    that cannot be NULL get no NULL term, so an index on them serves the order directly."""
    if not order:
        return 'i."order" IS NULL, i."order", i.id DESC'
    if order == "-last_viewed_at":
        return "i.last_viewed_at IS NULL, i.last_viewed_at DESC, i.id DESC"
    if order == "last_viewed_at":
        return "i.last_viewed_at IS NOT NULL, i.last_viewed_at, i.id"
    descending = order.startswith("-")
    name = order.lstrip("-")
    column = "i." + ORDER_COLUMNS[name]
    if name in NOT_NULL_ORDER_COLUMNS:
        return f"{column} DESC, i.id DESC" if descending else f"{column}, i.id"
    if descending:
        return f"{column} IS NULL DESC, {column} DESC, i.id DESC"
    return f"{column} IS NULL, {column}, i.id"


def _json_ids(ids: Iterable[int]) -> str:
    return json.dumps(sorted({storable_id(i) for i in ids}))


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


def _stored(values: dict[str, Any]) -> dict[str, Any]:
    """The insight columns among `values`, as SQLite holds them (JSON text, booleans as 0/1)."""
    return {c: _column_value(values[c]) for c in INSIGHT_COLUMNS if c in values}


def _column_value(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return int(value)
    return value
