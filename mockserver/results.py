"""Results for an insight or a `/query/` call under PostHog's `refresh` modes: what is cached,
what is computed now, what an async mode starts.

Computing reads the analytics engine (on a worker thread when the store is a file); the cache
write that follows is handed back to the pipeline as a Reply write, which runs it on the event
loop's connection. Async modes have no background worker here: the run happens at once, so the
status they answer is already complete when first polled (`GET /query/{id}/`).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from mockserver.analytics import caching, queries
from mockserver.analytics.caching import Entry, Plan
from mockserver.call import Call
from mockserver.rendering import encode_json
from mockserver.store import Store
from mockserver.store.accounts import Team

Write = Callable[[Store], None]
STATUS_LIFETIME = timedelta(minutes=10)  # how long an async run's status can be polled, as PostHog keeps it


@dataclass
class Outcome:
    """The response fields to answer (None: nothing cached and nothing computed), the status of a
    run started in the background, and the writes that keep what was computed."""

    response: dict[str, Any] | None
    status: dict[str, Any] | None = None
    writes: list[Write] = field(default_factory=list)


def key_of(team: Team, source: dict[str, Any]) -> str:
    return caching.cache_key(team.id, source, team.timezone)


def obtain(call: Call, team: Team, source: dict[str, Any], mode: str, *, insight_id: int | None = None,
           run_id: str | None = None) -> Outcome:
    """Results for `source` over `team`'s events as `mode` says; raises QueryError when a
    computation cannot run."""
    key = key_of(team, source)
    stored = call.store.results.get(team.id, key)
    entry = Entry.from_stored(stored) if stored is not None else None
    plan = caching.plan(mode, entry, call.moment)
    if plan is Plan.CACHED:
        return Outcome(_as_cached(entry))
    fresh = _computed(call, team, source, key)
    writes: list[Write] = [_keep(team.id, key, fresh)]
    if plan is Plan.COMPUTE:
        return Outcome(fresh.response, None, writes)
    status = _status(call, team, run_id or key, insight_id)
    writes.append(lambda store: store.results.start_run(team.id, status["id"], key, status))
    return Outcome(_as_cached(entry), status, writes)


def run_status(call: Call, run_id: str) -> dict[str, Any] | None:
    """The status of a run started by an async mode, complete with its results (the run is done)."""
    found = call.store.results.run(call.team.id, run_id)
    if found is None:
        return None
    key, status = found
    stored = call.store.results.get(call.team.id, key)
    if stored is None:
        return None
    response = Entry.from_stored(stored).response
    return {**status, "complete": True, "end_time": response["last_refresh"], "pickup_time": status["start_time"],
            "results": response}


def failed_status(call: Call, team: Team, run_id: str, insight_id: int | None, detail: str) -> dict[str, Any]:
    """The status an insight answers with when its query cannot be computed (the answer is still 200)."""
    return {**_status(call, team, run_id, insight_id), "query_async": False, "complete": True, "error": True,
            "error_message": detail, "end_time": _moment(call.moment)}


def _computed(call: Call, team: Team, source: dict[str, Any], key: str) -> Entry:
    computed = queries.compute(source, call.events(team))
    last_refresh = call.moment
    response: dict[str, Any] = {
        "cache_key": key,
        "cache_target_age": caching.target_age(last_refresh, computed.interval),
        "calculation_trigger": None,
        "error": None,
        "hogql": None,
        "is_cached": False,
        "last_refresh": last_refresh,
        "modifiers": None,
        "next_allowed_client_refresh": caching.next_allowed_refresh(last_refresh, computed.interval, computed.span_days),
        "query_metadata": None,
        "query_status": None,
        "resolved_date_range": queries.resolved(computed.date_range),
        "results": computed.results,
        "timezone": team.timezone,
        "timings": None,
    }
    if source["kind"] in queries.WITH_HAS_MORE:
        response["hasMore"] = computed.has_more
    plain = json.loads(encode_json(response))  # as it will be read back from the cache
    date_to = plain["resolved_date_range"]["date_to"] if plain["resolved_date_range"] else None
    return Entry(plain, computed.interval, date_to)


def _keep(team_id: int, key: str, entry: Entry) -> Write:
    text = encode_json(entry.stored()).decode()
    return lambda store: store.results.put(team_id, key, text)


def _as_cached(entry: Entry | None) -> dict[str, Any] | None:
    return {**entry.response, "is_cached": True} if entry is not None else None


def _status(call: Call, team: Team, run_id: str, insight_id: int | None) -> dict[str, Any]:
    """A QueryStatus as PostHog answers it when a run has just been enqueued."""
    return {
        "id": run_id, "query_async": True, "team_id": team.id, "insight_id": insight_id, "dashboard_id": None,
        "error": False, "complete": False, "error_message": None, "results": None, "pickup_time": None,
        "start_time": _moment(call.moment), "end_time": None, "expiration_time": _moment(call.moment + STATUS_LIFETIME),
        "task_id": str(uuid.uuid4()), "query_progress": None, "labels": None,
    }


def _moment(moment: datetime) -> str:
    """A moment as PostHog's renderer writes it (and as the cached responses hold it)."""
    return json.loads(encode_json(moment))
