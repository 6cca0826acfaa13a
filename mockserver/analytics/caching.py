"""PostHog's result cache, as the mock keeps it: the key of a query, how long a result stays
fresh, when a client may ask again, and what each `refresh` mode does with what is cached
(tests/fixtures/posthog-query-results.md §7).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

# cache_target_age: how long after a run its result counts as fresh, by the query's interval.
TARGET_AGE = {None: timedelta(hours=6), "minute": timedelta(minutes=5), "hour": timedelta(hours=1),
              "day": timedelta(hours=6), "week": timedelta(days=1), "month": timedelta(days=1)}
LAZY_TARGET_AGE = {None: timedelta(hours=12), "minute": timedelta(minutes=15), "hour": timedelta(hours=2),
                   "day": timedelta(hours=12), "week": timedelta(days=1), "month": timedelta(days=1)}
PAST_RANGE_MARGIN = timedelta(seconds=10)  # a range that ended before its run never goes stale
VERSION = 2


@dataclass(frozen=True)
class Entry:
    """A cached run: the response as answered, and what its freshness follows."""

    response: dict[str, Any]
    interval: str | None
    date_to: str | None  # the end of the range it covered, when the kind says

    def stored(self) -> dict[str, Any]:
        return {"response": self.response, "interval": self.interval, "date_to": self.date_to}

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> "Entry":
        return cls(stored["response"], stored.get("interval"), stored.get("date_to"))


class Plan(Enum):
    """What an answer does about results."""

    CACHED = "cached"  # answer what is cached (or nothing)
    COMPUTE = "compute"  # compute now and answer that
    ASYNC = "async"  # compute for later: answer what is cached (or nothing) and a query status


def cache_key(team_id: int, source: dict[str, Any], timezone: str) -> str:
    """`cache_` and a hash of what the results depend on: the query (its tags aside), the
    environment and its timezone."""
    query = {key: value for key, value in source.items() if key != "tags"}
    payload = json.dumps({"query": query, "team_id": team_id, "timezone": timezone, "version": VERSION},
                         sort_keys=True, separators=(",", ":"), default=str)
    return "cache_" + hashlib.md5(payload.encode()).hexdigest()


def plan(mode: str, cached: "Entry | None", now: datetime) -> Plan:
    """ExecutionMode: force_cache never computes; blocking computes when nothing fresh is cached;
    force_blocking always; the async modes compute in the background (here: at once, for the
    next read) and answer what is cached meanwhile; async_except_on_cache_miss blocks on a miss."""
    lazy = mode == "lazy_async"
    fresh = cached is not None and not is_stale(cached, now, lazy=lazy)
    if mode == "force_cache":
        return Plan.CACHED
    if mode == "force_blocking":
        return Plan.COMPUTE
    if mode == "blocking":
        return Plan.CACHED if fresh else Plan.COMPUTE
    if mode == "force_async":
        return Plan.ASYNC
    if mode == "async_except_on_cache_miss" and cached is None:
        return Plan.COMPUTE
    return Plan.CACHED if fresh else Plan.ASYNC  # async, lazy_async, async_except_on_cache_miss


def is_stale(cached: "Entry", now: datetime, lazy: bool = False) -> bool:
    last_refresh = _moment(cached.response["last_refresh"])
    if cached.date_to is not None and _moment(cached.date_to) < last_refresh - PAST_RANGE_MARGIN:
        return False
    ages = LAZY_TARGET_AGE if lazy else TARGET_AGE
    return now > last_refresh + ages.get(cached.interval, ages[None])


def target_age(last_refresh: datetime, interval: str | None) -> datetime:
    return last_refresh + TARGET_AGE.get(interval, TARGET_AGE[None])


def next_allowed_refresh(last_refresh: datetime, interval: str | None, span_days: int | None) -> datetime:
    """_refresh_frequency: 3 minutes for hourly data or ranges of at most a week, else 15."""
    if interval == "minute":
        return last_refresh + timedelta(minutes=1)
    if interval == "hour" or (span_days is not None and span_days <= 7):
        return last_refresh + timedelta(minutes=3)
    return last_refresh + timedelta(minutes=15)


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
