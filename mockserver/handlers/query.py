"""The query endpoint: an insight query's results asked for directly, and async runs' statuses."""

from __future__ import annotations

from mockserver import errors, results
from mockserver.analytics import queries
from mockserver.analytics.properties import QueryError
from mockserver.call import Call, Reply
from mockserver.handlers import handles

# The endpoint always computes when nothing fresh is cached: force_cache counts as blocking.
ENDPOINT_MODES = {"force_cache": "blocking"}


@handles("query_create")
def query_create(call: Call) -> Reply:
    body = call.body
    query = body["query"]
    source = queries.runnable(query) or queries.runnable(query.get("source"))
    if source is None:
        kind = query["source"]["kind"] if isinstance(query.get("source"), dict) else query["kind"]
        raise call.error("query_kind_unsupported", kind=kind)
    mode = "async" if body.get("async") and "refresh" not in body else body.get("refresh") or "blocking"
    mode = ENDPOINT_MODES.get(mode, mode)
    try:
        outcome = results.obtain(call, call.team, source, mode, run_id=body.get("client_query_id"))
    except QueryError as problem:
        raise errors.APIError.of(problem.said(call.texts))
    if outcome.status is not None:
        cached = outcome.response or {"cache_key": results.key_of(call.team, source)}
        return Reply({**cached, "query_status": outcome.status}, pending=True, writes=outcome.writes)
    return Reply(outcome.response, writes=outcome.writes)


@handles("query_retrieve")
def query_retrieve(call: Call) -> Reply:
    status = results.run_status(call, call.path["id"])
    if status is None:
        raise call.error("not_found")
    return Reply({"query_status": status})
