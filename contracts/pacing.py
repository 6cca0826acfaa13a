"""Staying under PostHog's throttles (fact sheet §7.3), so a key is not throttled into uselessness.

Budgets come from the spec's `x-rate-limits` (per key and throttle class, e.g. insights 240 a
minute and 1200 an hour), times a fraction (default 0.8) to leave room for the key's other
users. Before each request the pacer waits until sending would stay inside every window.
"""

from __future__ import annotations

import time
from collections import deque
from urllib.parse import urlsplit
from dataclasses import dataclass, field
from typing import Callable

from posthog_spec import Operation, RateLimit, Router


# Requests per generated example, roughly: the case itself, and the checks' extra requests.
PLANNED_PER_EXAMPLE = 3


@dataclass
class Pacer:
    router: Router  # which operation, hence which throttle classes, a request counts against
    fraction: float = 0.8
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    waited: float = 0.0
    history: dict[tuple[str, str], deque[float]] = field(default_factory=dict)

    def before(self, method: str, path: str, key: object) -> None:
        """Wait, if needed, before sending this request with this key."""
        if key is None:
            return  # sessions are never throttled
        operation = self._operation(method, path)
        if operation is None:
            return
        while True:
            now = self.clock()
            wait = max((self._wait(limit, key, now) for limit in operation.rate_limits), default=0.0)
            if wait <= 0:
                break
            self.waited += wait
            self.sleep(wait)
        for limit in operation.rate_limits:
            self.history.setdefault(_bucket(limit, key), deque()).append(self.clock())

    def _wait(self, limit: RateLimit, key: object, now: float) -> float:
        history = self.history.setdefault(_bucket(limit, key), deque())
        while history and history[0] <= now - limit.seconds:
            history.popleft()
        allowed = max(1, int(limit.rate * self.fraction))
        if len(history) < allowed:
            return 0.0
        return history[len(history) - allowed] + limit.seconds - now

    def _operation(self, method: str, url: str) -> Operation | None:
        match = self.router.match(method, urlsplit(url).path)
        return match.operation if match else None


def schemathesis_rates(operations: list[Operation], fraction: float, examples: int) -> list[dict]:
    """`[[operations]]` entries pacing each throttle class on its own (schemathesis takes one rate per
    entry). A class runs at its burst budget when its share of the run fits in its longer windows'
    budgets, else at the rate the strictest longer window allows. Operations run one after another,
    so a class's rate bounds what the key sends at any moment."""
    classes: dict[tuple[RateLimit, ...], list[Operation]] = {}
    for op in operations:
        if op.rate_limits:
            classes.setdefault(op.rate_limits, []).append(op)
    return [
        {"include-operation-id": [op.operation_id for op in ops],
         "rate-limit": class_rate(limits, fraction, planned_requests=examples * len(ops) * PLANNED_PER_EXAMPLE)}
        for limits, ops in classes.items()
    ]


def class_rate(limits: tuple[RateLimit, ...], fraction: float, planned_requests: int) -> str:
    bursts = [limit.rate * fraction * 60 / limit.seconds for limit in limits if limit.seconds <= 60]
    longer = [limit for limit in limits if limit.seconds > 60]
    fits = all(planned_requests <= limit.rate * fraction for limit in longer)
    per_minute = min(bursts) if bursts and fits else min(limit.rate * fraction * 60 / limit.seconds for limit in limits)
    if per_minute >= 1:
        return f"{int(per_minute)}/m"
    return f"{max(1, int(per_minute * 60))}/h"


def _bucket(limit: RateLimit, key: object) -> tuple[str, str]:
    return (f"{limit.scope}:{limit.rate}/{limit.per}", getattr(key, "value", str(key)))
