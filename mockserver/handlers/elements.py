"""Elements: CRUD on the elements kept in an environment, and click statistics from its events
(the analytics engine's: the same clicks the insights count)."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from typing import Any

from mockserver import errors
from mockserver.analytics.properties import QueryError, Sql
from mockserver.call import Call, Reply
from mockserver.dates import parse
from mockserver.handlers import handles
from mockserver.pagination import limit_offset_links, replaced_in_place, sql_window
from mockserver.representations.elements import chain_elements, element
from mockserver.store.insights import MAX_SQLITE_INT

CLICK_EVENTS = ("$autocapture", "$rageclick", "$dead_click")
VALUE_KEYS = ("tag_name", "text", "href", "attr_id")
MAX_VALUES = 100


def _element(call: Call):
    element_id = call.path["id"]
    row = call.store.elements.get(call.team.id, element_id) if element_id <= MAX_SQLITE_INT else None
    if row is None:
        raise call.error("not_found")
    return row


@handles("elements_list")
def elements_list(call: Call) -> Reply:
    limit, offset = call.query.get("limit", 100), call.query.get("offset", 0)
    count, rows = call.store.elements.page(call.team.id, *sql_window(limit, offset))
    following, previous = limit_offset_links(call.url, limit=limit, offset=offset, count=count)
    return Reply({"count": count, "next": following, "previous": previous, "results": [element(r) for r in rows]})


@handles("elements_create")
def elements_create(call: Call) -> Reply:
    element_id = call.store.elements.insert(call.team.id, call.body)
    return Reply(element(call.store.elements.get(call.team.id, element_id)))


@handles("elements_retrieve")
def elements_retrieve(call: Call) -> Reply:
    return Reply(element(_element(call)))


@handles("elements_update", "elements_partial_update")
def elements_update(call: Call) -> Reply:
    row = _element(call)
    call.store.elements.update(row["id"], call.body)
    return Reply(element(call.store.elements.get(call.team.id, row["id"])))


@handles("elements_destroy")
def elements_destroy(call: Call) -> Reply:
    call.store.elements.delete(_element(call)["id"])
    return Reply(empty=True)


@handles("elements_stats_retrieve")
def elements_stats(call: Call) -> Reply:
    """Click counts per (element chain, event), most first; the window defaults to the last 7 days."""
    q = call.query
    since = parse(q.get("date_from", "-7d"), call.moment)
    if since is not None and "date_from" in q and not q["date_from"].startswith("-"):
        since = since.replace(hour=0, minute=0, second=0, microsecond=0)  # absolute dates start the day
    until = parse(q["date_to"], call.moment) if "date_to" in q else None
    events = call.events()
    sql = Sql()
    try:
        source = events.events_sql(sql, start=since, end=until, events=_included_events(call), filters=(q.get("properties") or [],),
                                   filter_test_accounts=bool(q.get("filter_test_accounts")), lenient=True)
        counts = events.rows(f"SELECT e.elements_chain, e.event, count(*) {source} AND e.elements_chain IS NOT NULL GROUP BY ALL", sql)
    except QueryError as problem:  # a property filter the engine cannot apply
        raise errors.APIError.of(problem.said(call.texts))
    ranked = sorted(counts, key=lambda row: (-row[2], _chain_hash(row[0]), row[1]))
    limit, offset = q["limit"], min(q["offset"], len(ranked))
    depth, attributes = q.get("max_element_chain_depth"), q.get("data_attributes")
    results = [
        {"count": count, "hash": _chain_hash(chain), "type": event, "elements": chain_elements(chain, depth, attributes)}
        for chain, event, count in ranked[offset:offset + limit]
    ]
    following = replaced_in_place(call.url, offset=offset + limit) if offset + limit < len(ranked) else None
    previous = replaced_in_place(call.url, offset=offset - limit) if offset - limit >= 0 else None
    return Reply({"results": results, "next": following, "previous": previous},
                 headers={"Cache-Control": "public, max-age=30", "Vary": "Accept, Accept-Encoding, Query-String"})


@handles("elements_values_list")
def elements_values(call: Call) -> Reply:
    """Distinct values of one element property among autocapture clicks, most frequent first."""
    key, needle = call.query["key"], call.query.get("value")
    if key == "selector":
        return Reply([])
    events = call.events()
    sql = Sql()
    source = events.events_sql(sql, start=None, end=None, event="$autocapture")
    chains = events.rows(f"SELECT e.elements_chain, count(*) {source} AND e.elements_chain IS NOT NULL GROUP BY ALL", sql)
    counts: Counter[str] = Counter()
    for chain, times in chains:  # the distinct chains are few: count their elements here
        for node in json.loads(chain):
            value = node.get(key)
            if value is not None and (needle is None or needle in str(value)):
                counts[str(value)] += times
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:MAX_VALUES]
    return Reply([{"name": value} for value, _ in ranked])


def _included_events(call: Call) -> list[str]:
    """Comma-separated names or a JSON array of them, checked as PostHog's view checks them: a
    value that starts like JSON must be a JSON array of strings, then every name a click event
    (the spec's pattern, whose `invalid` error says so)."""
    raw = call.query.get("include")
    if raw is None:
        return list(CLICK_EVENTS)
    names: Any = raw.split(",")
    if raw.startswith("["):
        try:
            names = json.loads(raw)
        except ValueError:
            raise call.error("stats_include_not_json")
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise call.error("stats_include_not_names")
    if not re.fullmatch(call.operation.parameter("include").schema["pattern"], raw):
        raise call.error("stats_include_unsupported")
    return list(dict.fromkeys(names))


def _chain_hash(chain: str) -> str:
    return hashlib.sha1(chain.encode()).hexdigest()[:16]
