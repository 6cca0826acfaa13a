"""The insight actions beyond CRUD: activity, views, trending, cancel, metadata and bulk changes."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import orjson

from mockserver import insight_queries
from mockserver.call import Call, Reply
from mockserver.clock import iso
from mockserver.dates import EARLIEST
from mockserver.handlers import handles
from mockserver.fragments import Fragments
from mockserver.handlers.insights import (changed_fields, live_insight, log_activity, normalize_tags, rendered_rows,
                                          serializer_context)
from mockserver.pagination import page_links, sql_window
from mockserver.representations import insights as representations
from mockserver.representations.activity import activity_entry

MY_LAST_VIEWED_LIMIT = 5
TRENDING_MAX_LIMIT = 100
TRENDING_VIEWERS = 3


@handles("insights_activity_retrieve", "insights_all_activity_retrieve")
def insights_activity(call: Call) -> Reply:
    """Newest first, `page`/`limit` pagination, `total_count` (activity_page_response)."""
    item_id = live_insight(call)["id"] if "id" in call.path else None
    limit, page = call.query["limit"], call.query["page"]
    sql_limit, sql_offset = sql_window(limit, (page - 1) * limit)
    total, rows = call.store.activity.page(call.team.project_id, item_id=item_id, limit=sql_limit, offset=sql_offset)
    users = call.store.accounts.users(row["user_id"] for row in rows)
    results = [activity_entry(row, users.get(row["user_id"])) for row in rows]
    following, previous = page_links(call.url, page=page, limit=limit, has_next=page * limit < total)
    return Reply({"results": results, "next": following, "previous": previous, "total_count": total})


@handles("insights_my_last_viewed_retrieve")
def insights_my_last_viewed(call: Call) -> Reply:
    """A bare list of at most five basic insights; serialized without a request, as PostHog does."""
    rows = call.store.insights.last_viewed_by(call.team.id, call.user_id, MY_LAST_VIEWED_LIMIT)
    ctx = representations.Context(store=call.store, team=call.team, has_request=False, include_dashboards=True)
    viewed = {row["id"]: row["viewer_last_viewed_at"] for row in rows}
    return Reply(representations.basic(ctx, rows, last_viewed_at=viewed))


@handles("insights_trending_retrieve")
def insights_trending(call: Call) -> Reply:
    """Insights with views in the last `days`, by viewer count then last_modified_at; no real paging."""
    days, limit = call.query["days"], min(call.query["limit"], TRENDING_MAX_LIMIT)
    try:
        since = iso(call.moment - timedelta(days=days))
    except OverflowError:
        since = iso(EARLIEST) if days > 0 else iso(call.moment + timedelta(days=1))
    if limit <= 0:
        results: list[Any] = []
    elif call.fragments is not None:
        results = _trending_of_fragments(call, call.fragments, since, limit)
    else:
        rows = call.store.insights.trending(call.team.project_id, since, limit)
        viewers = call.store.insights.recent_viewers(call.team.id, [r["id"] for r in rows], since, TRENDING_VIEWERS)
        results = representations.trending(serializer_context(call), rows, viewers)
    return Reply({"count": len(results), "next": None, "previous": None, "results": results})


def _trending_of_fragments(call: Call, fragments: Fragments, since: str, limit: int) -> list[orjson.Fragment]:
    """Trending with each insight's basic fields as rendered before under its stamp (fragments.py);
    the fields that follow the views (count, viewers) are added to them every time."""
    shown = call.store.insights.trending_stamps(call.team.project_id, since, limit)
    ctx = serializer_context(call)
    variant = ("basic", ctx.include_dashboards, call.store.insights.accounts_stamp())
    bodies = rendered_rows(call, fragments, [(viewed.id, stamp) for viewed, stamp in shown], variant, representations.basic,
                           shows_results=False)
    viewers = call.store.insights.recent_viewers(call.team.id, [viewed.id for viewed, _ in shown], since, TRENDING_VIEWERS)
    tails = representations.trending_tail(ctx, [viewed for viewed, _ in shown], viewers)
    return [orjson.Fragment(bodies[viewed.id][:-1] + b"," + orjson.dumps(tail)[1:]) for (viewed, _), tail in zip(shown, tails)]


@handles("insights_viewed_create")
def insights_viewed(call: Call) -> Reply:
    """201 with an empty body whatever was kept: other projects' and deleted insights are dropped."""
    live = call.store.insights.live_ids(call.team.project_id, call.body["insight_ids"])
    call.store.insights.record_views(call.team.id, call.user_id, live, call.now)
    return Reply(empty=True)


@handles("insights_cancel_create")
def insights_cancel(call: Call) -> Reply:
    """The mock runs no queries, so there is never anything to cancel; PostHog answers the same either way."""
    return Reply(empty=True)


@handles("insights_generate_metadata_create")
def insights_generate_metadata(call: Call) -> Reply:
    organization = call.store.accounts.organization(call.team.organization_id)
    if not organization["ai_data_processing_approved"]:
        raise call.error("ai_not_approved")
    return Reply(insight_queries.suggested_metadata(call.body["query"]))


@handles("insights_bulk_update_tags_create")
def insights_bulk_update_tags(call: Call) -> Reply:
    body = call.body
    action, tags = body["action"], normalize_tags(body["tags"])
    limit = _max_tag_changes(call)
    if len(body["ids"]) * len(tags) > limit:
        raise call.error("too_many_tag_changes", limit=limit)
    found = {row["id"]: row for row in call.store.insights.by_ids(call.team.project_id, body["ids"])}
    current = call.store.insights.tags_of(list(found))
    updated: list[dict[str, Any]] = []
    for insight_id, row in found.items():
        before = current[insight_id]
        after = {"add": sorted(set(before) | set(tags)), "remove": sorted(set(before) - set(tags)), "set": tags}[action]
        if after != before:
            call.store.insights.set_tags(insight_id, after)
            call.store.insights.update(insight_id, {"updated_at": call.now})
            log_activity(call, row, "updated", changes=[
                {"type": "Insight", "action": "changed", "field": "tags", "before": before, "after": after}
            ])
        updated.append({"id": insight_id, "tags": after})
    # One reason for "not found" and "not editable", by design (TaggedItemViewSetMixin).
    skipped = [{"id": i, "reason": call.say("skipped_not_editable")} for i in dict.fromkeys(body["ids"]) if i not in found]
    return Reply({"updated": updated, "skipped": skipped})


def _max_tag_changes(call: Call) -> int:
    """ids × distinct tags a request may change (the request schema's `x-max-changes`)."""
    return call.spec.resolve(call.operation.body_schema)["x-max-changes"]


@handles("insights_bulk_set_test_account_filter_create")
def insights_bulk_set_test_account_filter(call: Call) -> Reply:
    """Turn "filter out internal and test users" on or off for every saved, live insight; legacy
    ones (no query) are counted and left alone, and each changed insight with a name is logged."""
    enabled = call.body["enabled"]
    kinds = _kinds_with_test_account_filter(call)
    counts = dict.fromkeys(("updated", "unchanged", "unsupported", "skipped", "legacy"), 0)
    for row in call.store.insights.saved_in_project(call.team.project_id):
        if row["query"] is None:
            counts["legacy"] += 1
            continue
        before = json.loads(row["query"])
        verdict, after = insight_queries.with_test_account_filter(before, enabled, kinds)
        counts[verdict] += 1
        if after is None:
            continue
        # PostHog writes query and last_modified_* only (bulk_update): updated_at stays.
        call.store.insights.update(row["id"], {"query": after, "last_modified_at": call.now, "last_modified_by_id": call.user_id})
        log_activity(call, row, "updated", changes=[
            {"type": "Insight", "action": "changed", "field": "query", "before": before, "after": after}])
    return Reply(counts)


def _kinds_with_test_account_filter(call: Call) -> set[str]:
    """Query kinds whose schema has `filterTestAccounts` (KINDS_SUPPORTING_TEST_ACCOUNT_FILTER)."""
    kinds = set()
    for schema in call.spec.components["schemas"].values():
        properties = call.spec.resolve(schema).get("properties", {})
        if "filterTestAccounts" in properties and "const" in properties.get("kind", {}):
            kinds.add(properties["kind"]["const"])
    return kinds


@handles("insights_bulk_delete_create")
def insights_bulk_delete(call: Call) -> Reply:
    deleted, skipped = _bulk_set_deleted(call, True)
    return Reply({"deleted": deleted, "skipped": skipped})


@handles("insights_bulk_restore_create")
def insights_bulk_restore(call: Call) -> Reply:
    restored, skipped = _bulk_set_deleted(call, False)
    return Reply({"restored": restored, "skipped": skipped})


def _bulk_set_deleted(call: Call, deleted: bool) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Only insights in the other state are found: deleting a deleted one is "Insight not found"."""
    ids = call.body["ids"]
    found = call.store.insights.by_ids(call.team.project_id, ids, deleted=not deleted)
    found_ids = [row["id"] for row in found]
    skipped = [{"id": i, "reason": call.say("skipped_not_found")} for i in ids if i not in set(found_ids)]
    if found_ids:
        before_tags = call.store.insights.tags_of(found_ids)
        call.store.insights.set_deleted(found_ids, deleted, now=call.now, user_id=call.user_id)
        call.store.insights.set_tiles_hidden(found_ids, deleted)
        for before in found:
            after = call.store.insights.by_ids(call.team.project_id, [before["id"]], deleted=None)[0]
            tags = before_tags[before["id"]]
            log_activity(call, after, "deleted" if deleted else "restored", changed_fields(before, after, tags, tags))
    done = [{"id": row["id"], "name": row["name"] or row["derived_name"]} for row in found]
    return done, skipped
