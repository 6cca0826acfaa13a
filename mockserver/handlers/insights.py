"""Insights CRUD: list, create, retrieve, update, partial update, and the forbidden destroy."""

from __future__ import annotations

import json
import sqlite3
from functools import lru_cache
from typing import Any, Callable, Hashable, Sequence

import orjson

from mockserver import insight_queries, results
from mockserver.analytics import queries
from mockserver.analytics.properties import QueryError
from mockserver.call import Call, Reply
from mockserver.dates import parse_iso
from mockserver.fragments import Fragments, Kept
from mockserver.handlers import handles
from mockserver.pagination import limit_offset_links, sql_window
from mockserver.rendering import encode_json
from mockserver.representations import insights as representations
from mockserver.store.accounts import Team
from mockserver.store.insights import ListQuery

# Changing these bumps last_modified_at (Insight.MATERIAL_INSIGHT_FIELDS).
MATERIAL_FIELDS = {"name", "description", "filters"}
# Fields whose changes the activity log records (bookkeeping fields are left out, as PostHog does).
LOGGED_FIELDS = ("name", "derived_name", "description", "query", "filters", "deleted", "favorited", "tags")


def serializer_context(call: Call, rows: Sequence[sqlite3.Row] = (), **extra: Any) -> representations.Context:
    """Personal API keys get the deprecated `dashboards` field by default; sessions must opt in.
    The rows' result fields are what is cached for their queries (nothing is computed here)."""
    ctx = representations.Context(store=call.store, team=call.team, include_dashboards=_include_dashboards(call), **extra)
    ctx.cache_keys = {row["id"]: key for row in rows if (key := _cache_key(call, row, ctx.filters_override)) is not None}
    found = call.store.results.many(list(ctx.cache_keys.values())) if ctx.cache_keys else {}
    ctx.results = {insight_id: representations.Results({**found[key]["response"], "is_cached": True})
                   for insight_id, key in ctx.cache_keys.items() if key in found}
    return ctx


def _include_dashboards(call: Call) -> bool:
    return call.principal.via_key or bool(call.query.get("include_dashboards"))


def _team_of(call: Call, row: sqlite3.Row) -> Team:
    """The environment an insight computes over: its own (a project path reaches them all)."""
    return call.team if row["team_id"] == call.team.id else call.store.accounts.team(row["team_id"])


def _source(row: sqlite3.Row, filters_override: dict[str, Any] | None) -> dict[str, Any] | None:
    """The query the mock runs for an insight (None for the ones it computes nothing for)."""
    return _runnable(row["query"], row["filters"], filters_override)


def _runnable(query_text: str | None, filters_text: str, filters_override: dict[str, Any] | None) -> dict[str, Any] | None:
    if query_text is None:
        return queries.runnable(insight_queries.legacy_query(json.loads(filters_text)))
    query = json.loads(query_text)
    return queries.runnable(insight_queries.with_override(query, filters_override) if filters_override else query)


def _cache_key(call: Call, row: sqlite3.Row, filters_override: dict[str, Any] | None) -> str | None:
    """The results cache key of an insight's query (None when the mock computes nothing for it)."""
    team = _team_of(call, row)
    if filters_override:
        source = _source(row, filters_override)
        return results.key_of(team, source) if source is not None else None
    return _stored_query_key(team, row["query"], row["filters"])


@lru_cache(maxsize=4096)
def _stored_query_key(team: Team, query_text: str | None, filters_text: str) -> str | None:
    """An insight's stored query is parsed and hashed once, not on every page that lists it
    (that was two fifths of an unremembered page of 100)."""
    source = _runnable(query_text, filters_text, None)
    return results.key_of(team, source) if source is not None else None


def live_insight(call: Call, *, include_deleted: bool = False) -> sqlite3.Row:
    row = call.store.insights.by_id_or_short_id(call.team.project_id, call.path["id"], include_deleted=include_deleted)
    if row is None:
        raise call.error("not_found")
    return row


@handles("insights_list")
def insights_list(call: Call) -> Reply:
    q = call.query
    sql_limit, sql_offset = sql_window(q.get("limit", 100), q.get("offset", 0))
    listing = ListQuery(
        project_id=call.team.project_id,
        short_id=q.get("short_id"),
        saved=q.get("saved"),
        created_by_ids=list(q.get("created_by") or []),
        created_by_user_id=call.user_id if "user" in q else None,  # presence-based: ?user=false filters too
        favorited_only="favorited" in q,  # presence-based: ?favorited=false filters too
        kind=q.get("insight"),
        modified_after=_date(call, "date_from"),
        modified_before=_date(call, "date_to"),
        created_after=_date(call, "created_date_from"),
        created_before=_date(call, "created_date_to"),
        viewed_after=_date(call, "last_viewed_date_from"),
        viewed_before=_date(call, "last_viewed_date_to"),
        on_every_dashboard=list(q.get("dashboards") or []),
        with_any_tag=[t.strip().lower() for t in q.get("tags") or [] if t.strip()],
        mentioning_flag=q.get("feature_flag") or None,
        using_every_event=list(q.get("events") or []),
        excluded_names=_feature_flag_insight_names(call) if q.get("hide_feature_flag_insights") else [],
        search=(q.get("search") or "").strip() or None,
        order=q.get("order"),
        limit=sql_limit,
        offset=sql_offset,
    )
    if call.fragments is not None and not q.get("basic") and listing.search is None:
        return Reply(orjson.Fragment(_full_page_of_fragments(call, call.fragments, listing)))
    count, rows, search_types = call.store.insights.page(listing)
    ctx = serializer_context(call, rows, search_types=search_types)
    results = representations.basic(ctx, rows) if q.get("basic") else representations.full(ctx, rows)
    return Reply(_page(call, count, results))


def _page(call: Call, count: int, results: list[Any]) -> dict[str, Any]:
    following, previous = limit_offset_links(call.url, limit=call.query.get("limit", 100), offset=call.query.get("offset", 0),
                                             count=count)
    return {"count": count, "next": following, "previous": previous, "results": results}


def _full_page_of_fragments(call: Call, fragments: Fragments, listing: ListQuery) -> bytes:
    """A page of full insights (its JSON) where the rows whose stamp was seen before come as they
    were rendered then (fragments.py) and only the others are read and rendered. The same page
    asked again with every stamp as it was (and the results' and accounts' stamps) is the same
    bytes, kept whole: that skips assembling a hundred rows again (fragments.py)."""
    count, stamps = call.store.insights.page_stamps(listing)
    accounts, cached_results = call.store.insights.shared_stamps()
    variant = (_include_dashboards(call), accounts)
    whole = (call.url, variant, cached_results, count, tuple(stamps))
    found = fragments.page(whole)
    if found is not None:
        return found
    bodies = rendered_rows(call, fragments, stamps, variant, representations.full, shows_results=True)
    page = encode_json(_page(call, count, [orjson.Fragment(bodies[insight_id]) for insight_id, _ in stamps]))
    fragments.put_page(whole, page)
    return page


def rendered_rows(call: Call, fragments: Fragments, stamps: list[tuple[int, int | None]], variant: Hashable,
                  render: Callable[[representations.Context, list[sqlite3.Row]], list[dict[str, Any]]], *,
                  shows_results: bool) -> dict[int, bytes]:
    """Each insight's JSON by id: as kept under (id, stamp, variant) when it was, else read, rendered
    with `render` and kept. When the shape `shows_results`, a row with a cached result is rendered
    every time (its result fields follow the results, which have no stamp of their own)."""
    kept = dict(zip((insight_id for insight_id, _ in stamps),
                    fragments.get_many([(insight_id, stamp, variant) for insight_id, stamp in stamps])))
    keys = [found.cache_key for found in kept.values() if found is not None and found.cache_key is not None]
    with_results = call.store.results.many(keys) if keys else {}
    again = [insight_id for insight_id, found in kept.items() if found is None or found.cache_key in with_results]
    rows = call.store.insights.by_ids_in_project(call.team.project_id, again) if again else []
    bodies = {insight_id: found.body for insight_id, found in kept.items() if found is not None}
    if rows:
        ctx = serializer_context(call, rows) if shows_results else serializer_context(call)
        for row, item in zip(rows, render(ctx, rows)):
            body = bodies[row["id"]] = encode_json(item)
            if row["id"] not in ctx.results and row["stamp"] is not None:
                fragments.put((row["id"], row["stamp"], variant), Kept(body, ctx.cache_keys.get(row["id"])))
    return bodies


@handles("insights_create")
def insights_create(call: Call) -> Reply:
    body = call.body
    team = call.team
    query = insight_queries.wrap(body["query"])
    dashboard_ids = _known_dashboards(call, body.get("dashboards"))
    insight_id = call.store.insights.insert({
        "team_id": team.id,
        "project_id": team.project_id,
        "short_id": call.store.insights.new_short_id(team.id),
        "name": body.get("name"),
        "derived_name": body.get("derived_name"),
        "description": body.get("description"),
        "query": query,
        "filters": {},
        "order": body.get("order"),
        "deleted": body.get("deleted", False),
        "saved": body.get("saved", True),
        "favorited": body.get("favorited", False),
        "created_at": call.now,
        "created_by_id": call.user_id,
        "updated_at": call.now,
        "last_modified_at": call.now,
        "last_modified_by_id": call.user_id,
        "kind": insight_queries.kind_of(query, None),
        "events": insight_queries.events_of(query),
    })
    call.store.insights.record_views(team.id, call.user_id, [insight_id], call.now)
    if dashboard_ids:
        call.store.insights.place_on_dashboards(insight_id, dashboard_ids)
    call.store.insights.set_tags(insight_id, normalize_tags(body.get("tags") or []))
    row = call.store.insights.by_id_or_short_id(team.project_id, str(insight_id), include_deleted=True)
    log_activity(call, row, "created", changes=None)
    return Reply(representations.full(serializer_context(call, [row]), [row])[0])


@handles("insights_retrieve")
def insights_retrieve(call: Call) -> Reply:
    """The insight, with its results as `refresh` says (PostHog's default only reads the cache)."""
    row = live_insight(call)
    ctx = serializer_context(call, [row], filters_override=call.query.get("filters_override"))
    writes = []
    source = _source(row, ctx.filters_override)
    ctx.refresh_requested = "refresh" in call.request.query_params  # sent, not the spec's default
    if source is not None and not call.query.get("basic"):
        team = _team_of(call, row)
        try:
            outcome = results.obtain(call, team, source, call.query["refresh"], insight_id=row["id"])
        except QueryError as problem:  # PostHog answers the insight, its status saying what failed
            failed = results.failed_status(call, team, ctx.cache_keys[row["id"]], row["id"], problem.said(call.texts).detail)
            ctx.results[row["id"]] = representations.Results(None, failed)
        else:
            ctx.results[row["id"]] = representations.Results(outcome.response, outcome.status)
            writes = outcome.writes
    item = representations.basic(ctx, [row])[0] if call.query.get("basic") else representations.full(ctx, [row])[0]
    dashboard_id = call.query.get("from_dashboard")
    tile = call.store.insights.tile(row["id"], dashboard_id) if dashboard_id else None
    if tile is not None:
        item["color"] = tile["color"]
        item["layouts"] = json.loads(tile["layouts"])
    return Reply(item, writes=writes)


@handles("insights_update", "insights_partial_update")
def insights_update(call: Call) -> Reply:
    body = call.body
    # Only PATCH {"deleted": false} (the JSON boolean) can reach a soft-deleted insight.
    restoring = call.operation.method == "PATCH" and body.get("deleted") is False
    before = live_insight(call, include_deleted=restoring)
    changes: dict[str, Any] = {}
    for name in ("name", "derived_name", "description", "order", "deleted", "favorited"):
        if name in body:
            changes[name] = body[name]
    if "query" in body:
        query = insight_queries.wrap(body["query"])
        changes.update(query=query, kind=insight_queries.kind_of(query, None), events=insight_queries.events_of(query))
    changes["saved"] = body.get("saved", True)  # any update saves the insight unless told otherwise
    changes["is_sample"] = False
    changes["updated_at"] = call.now
    if body.keys() & MATERIAL_FIELDS:
        changes.update(last_modified_at=call.now, last_modified_by_id=call.user_id)
    call.store.insights.update(before["id"], changes, current=before)
    if "tags" in body:
        call.store.insights.set_tags(before["id"], normalize_tags(body["tags"]))
    dashboard_change = None
    if body.get("deleted"):
        call.store.insights.set_tiles_hidden([before["id"]], True)
    elif "dashboards" in body:
        dashboard_change = _move_to_dashboards(call, before["id"], body["dashboards"])
    after = call.store.insights.by_id_or_short_id(call.team.project_id, str(before["id"]), include_deleted=True)
    logged = changed_fields(before, after, json.loads(before["tags_json"]), json.loads(after["tags_json"]))
    if dashboard_change:
        logged.append(dashboard_change)
    verb = "updated"
    if bool(before["deleted"]) != bool(after["deleted"]):
        verb = "deleted" if after["deleted"] else "restored"
    if logged:
        log_activity(call, after, verb, changes=logged)
    return Reply(representations.full(serializer_context(call, [after]), [after])[0])


@handles("insights_destroy")
def insights_destroy(call: Call) -> Reply:
    """ForbidDestroyModel: an empty body (always 405, the spec says); the insight is not even looked up."""
    return Reply(empty=True)


# Shared rules ---------------------------------------------------------------------------------------
def normalize_tags(tags: list[str]) -> list[str]:
    """Tags are lowercased and trimmed; blank ones are dropped and duplicates merged."""
    return sorted({t.strip().lower() for t in tags if t.strip()})


def changed_fields(before: sqlite3.Row, after: sqlite3.Row, before_tags: list[str], after_tags: list[str]) -> list[dict[str, Any]]:
    """PostHog's changes_between for the logged fields: created, deleted or changed."""
    out = []
    for name in LOGGED_FIELDS:
        if name == "tags":
            old, new = before_tags, after_tags
        elif name in ("query", "filters"):
            if before[name] == after[name]:
                continue  # the same text is the same JSON, not parsed twice on every PATCH
            old, new = _json(before[name]), _json(after[name])
            if name == "filters":
                old, new = old or None, new or None
        elif name in ("deleted", "favorited"):
            old, new = bool(before[name]), bool(after[name])
        else:
            old, new = before[name], after[name]
        if old == new:
            continue
        action = "created" if old in (None, []) else "deleted" if new in (None, []) else "changed"
        out.append({"type": "Insight", "action": action, "field": name, "before": old, "after": new})
    return out


def log_activity(call: Call, row: sqlite3.Row, verb: str, changes: list[dict[str, Any]] | None) -> None:
    """Activity is logged only for insights with a name or a derived name (log_and_report_insight_activity)."""
    name = row["name"] or row["derived_name"]
    if not name:
        return
    call.store.activity.log(
        team_id=call.team.id,
        project_id=call.team.project_id,
        item_id=row["id"],
        activity=verb,
        user_id=call.user_id,
        detail={"changes": changes, "trigger": None, "name": name, "short_id": row["short_id"], "type": None},
        created_at=call.now,
        client=call.headers.get("x-posthog-client"),
    )


def _known_dashboards(call: Call, dashboard_ids: list[int] | None) -> list[int]:
    if not dashboard_ids:
        return []
    known = call.store.insights.dashboards(call.team.project_id, dashboard_ids)
    unknown = [i for i in dashboard_ids if i not in known]
    if unknown:
        raise call.error("dashboard_not_found", ids=", ".join(str(i) for i in unknown))
    return list(dict.fromkeys(dashboard_ids))


def _move_to_dashboards(call: Call, insight_id: int, dashboard_ids: list[int]) -> dict[str, Any] | None:
    """Place the insight on exactly these dashboards; the activity log gets a synthetic change."""
    wanted = _known_dashboards(call, dashboard_ids)
    before = [t["dashboard_id"] for t in call.store.insights.tiles_of([insight_id])[insight_id]]
    call.store.insights.place_on_dashboards(insight_id, wanted)
    if sorted(before) == sorted(wanted):
        return None
    names = call.store.insights.dashboards(call.team.project_id, [*before, *wanted])

    def described(ids: list[int]) -> list[dict[str, Any]]:
        return [{"id": i, "name": names[i]["name"]} for i in sorted(ids) if i in names]
    return {"type": "Insight", "action": "changed", "field": "dashboards", "before": described(before), "after": described(wanted)}


def _feature_flag_insight_names(call: Call) -> list[str]:
    """The two insights PostHog creates for every feature flag, as the spec names them."""
    return list(call.operation.parameter("hide_feature_flag_insights").extensions["x-insight-names"])


def _date(call: Call, name: str) -> str | None:
    value = call.query.get(name)
    return parse_iso(value, call.moment) if value else None


def _json(raw: str | None) -> Any:
    return json.loads(raw) if raw is not None else None
