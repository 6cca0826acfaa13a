"""Insights as PostHog serializes them: the full, basic and trending shapes (fact sheet §2.1).

Users, tags and dashboard tiles of a page are fetched once for the whole page, not per row.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Sequence

import orjson

from mockserver import insight_queries
from mockserver.representations.users import user_basic
from mockserver.store import Store
from mockserver.store.accounts import Team
from mockserver.store.insights import Viewed

# Access levels of a project without access control: everyone may edit.
RESTRICTION_EVERYONE_CAN_EDIT = 21
PRIVILEGE_CAN_EDIT = 37


@dataclass(frozen=True)
class Results:
    """An insight's result fields as its answer's refresh mode left them: the cached or computed
    response (None: nothing), and the status of a run started in the background."""

    response: dict[str, Any] | None
    status: dict[str, Any] | None = None


@dataclass
class Context:
    """What shapes the representation beyond the row (PostHog's serializer context)."""

    store: Store
    team: Team
    has_request: bool = True
    include_dashboards: bool = True
    search_types: dict[int, str] = field(default_factory=dict)
    filters_override: dict[str, Any] | None = None
    results: dict[int, Results] = field(default_factory=dict)  # by insight id
    refresh_requested: bool = False  # the request named a refresh mode (the timezone is then the team's)
    cache_keys: dict[int, str] = field(default_factory=dict)  # by insight id, for the runnable queries


class _Page:
    """The rows of one answer and the users they refer to (tags and tiles come with the rows), each
    user shaped once for the whole page."""

    def __init__(self, ctx: Context, rows: Sequence[sqlite3.Row]):
        users = ctx.store.accounts.users(
            [row["created_by_id"] for row in rows] + [row["last_modified_by_id"] for row in rows]
        )
        self.shown = {user_id: user_basic(user) for user_id, user in users.items()}

    def user(self, user_id: int | None) -> dict[str, Any] | None:
        return self.shown.get(user_id) if user_id is not None else None


def full(ctx: Context, rows: Sequence[sqlite3.Row]) -> list[dict[str, Any]]:
    """InsightSerializer, with the result fields the context holds for each insight (or empty)."""
    page = _Page(ctx, rows)
    out = []
    for row in rows:
        query, filters = _query_and_filters(row)
        if ctx.filters_override and row["query"] is not None:
            query = insight_queries.with_override(json.loads(row["query"]), ctx.filters_override)
        item = _opening(ctx, row, filters, query, order=row["order"], deleted=bool(row["deleted"]))
        found = ctx.results.get(row["id"]) or Results(None)
        response = found.response or {}
        item.update({
            "last_refresh": response.get("last_refresh"),
            "cache_target_age": response.get("cache_target_age"),
            "next_allowed_client_refresh": response.get("next_allowed_client_refresh"),
            "result": response.get("results"),
            "hasMore": response.get("hasMore"),
            "columns": None,
            "created_at": row["created_at"],
            "created_by": page.user(row["created_by_id"]),
            "description": row["description"],
            "updated_at": row["updated_at"],
            "tags": orjson.Fragment(row["tags_json"]),
            "favorited": bool(row["favorited"]),
            "saved": bool(row["saved"]),
            "last_modified_at": row["last_modified_at"],
            "last_modified_by": page.user(row["last_modified_by_id"]),
            "is_sample": bool(row["is_sample"]),
            "effective_restriction_level": RESTRICTION_EVERYONE_CAN_EDIT,
            "effective_privilege_level": PRIVILEGE_CAN_EDIT,
            "user_access_level": "editor" if ctx.has_request else None,
            "timezone": ctx.team.timezone if ctx.refresh_requested else response.get("timezone"),
            "is_cached": bool(response.get("is_cached")),
            "query_status": found.status,
            "hogql": response.get("hogql"),
            "types": None,
            "resolved_date_range": response.get("resolved_date_range"),
            "query_scan": None,
            "alerts": [],
            "filter_override_context": _override_context(ctx.filters_override),
            "last_viewed_at": row["last_viewed_at"],
        })
        if row["id"] in ctx.search_types:
            item["search_match_type"] = ctx.search_types[row["id"]]
        item["filters_hash"] = ctx.cache_keys.get(row["id"]) or insight_queries.filters_hash(row["team_id"], row["query"], row["filters"])
        out.append(item)
    return out


def basic(ctx: Context, rows: Sequence[sqlite3.Row], *, last_viewed_at: dict[int, str] | None = None) -> list[dict[str, Any]]:
    """InsightBasicSerializer (`basic=true`, my_last_viewed)."""
    page = _Page(ctx, rows)
    return [_basic(ctx, page, row, last_viewed_at) for row in rows]


def trending(ctx: Context, rows: Sequence[sqlite3.Row], viewers: dict[int, list[int]]) -> list[dict[str, Any]]:
    """TrendingInsightSerializer: the basic fields, then the viewer count, up to three viewers and
    the last modifier (`trending_tail`)."""
    tails = trending_tail(ctx, [Viewed(row["id"], row["view_count"], row["last_modified_by_id"]) for row in rows], viewers)
    return [{**item, **tail} for item, tail in zip(basic(ctx, rows), tails)]


def trending_tail(ctx: Context, shown: Sequence[Viewed], viewers: dict[int, list[int]]) -> list[dict[str, Any]]:
    """The fields trending adds after the basic ones, which follow the views rather than the insight."""
    users = ctx.store.accounts.users([uid for ids in viewers.values() for uid in ids] + [v.last_modified_by_id for v in shown])
    return [{
        "view_count": viewed.view_count,
        "viewers": [user_basic(users[uid]) for uid in viewers.get(viewed.id, []) if uid in users],
        "last_modified_by": user_basic(users[viewed.last_modified_by_id]) if viewed.last_modified_by_id in users else None,
    } for viewed in shown]


def _basic(ctx: Context, page: _Page, row: sqlite3.Row, last_viewed_at: dict[int, str] | None) -> dict[str, Any]:
    query, filters = _query_and_filters(row)
    item = _opening(ctx, row, filters, query)
    item.update({
        "description": row["description"],
        "last_refresh": None,
        "refreshing": False,
        "saved": bool(row["saved"]),
        "tags": orjson.Fragment(row["tags_json"]),
        "updated_at": row["updated_at"],
        "created_by": page.user(row["created_by_id"]),
        "created_at": row["created_at"],
        "last_modified_at": row["last_modified_at"],
        "favorited": bool(row["favorited"]),
        "user_access_level": "editor" if ctx.has_request else None,
        "last_viewed_at": (last_viewed_at or {}).get(row["id"], row["last_viewed_at"]),
    })
    if row["id"] in ctx.search_types:
        item["search_match_type"] = ctx.search_types[row["id"]]
    return item


def _opening(ctx: Context, row: sqlite3.Row, filters: Any, query: Any, **between: Any) -> dict[str, Any]:
    """The fields every shape starts with, in PostHog's order (the deprecated `dashboards` only when
    served; `between` are the full shape's fields that come before it)."""
    item: dict[str, Any] = {"id": row["id"], "short_id": row["short_id"], "name": row["name"],
                            "derived_name": row["derived_name"], "filters": filters, "query": query, **between}
    if ctx.include_dashboards:
        item["dashboards"] = orjson.Fragment(row["dashboards_json"])
    item["dashboard_tiles"] = orjson.Fragment(row["tiles_json"])
    return item


def _query_and_filters(row: sqlite3.Row) -> tuple[Any, Any]:
    """Insights with a query show `filters: {}`; legacy ones show their filters (and no query).
    Stored JSON goes out as it was stored (orjson.Fragment), never parsed and encoded again."""
    if row["query"] is not None:
        return orjson.Fragment(row["query"]), {}
    return None, orjson.Fragment(row["filters"])


def _override_context(override: dict[str, Any] | None) -> dict[str, Any] | None:
    if not override:
        return None
    return {"dashboard": override, "tile": None, "overridden_dashboard": None}
