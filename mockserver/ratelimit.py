"""PostHog's throttles for personal-API-key requests (`--rate-limit posthog`), fact sheet §7.3.

DRF's SimpleRateThrottle: per key and throttle class, the times of recent requests; a request
beyond the rate is refused with a wait of (time left in the window) / (requests left + 1).
Sessions are never throttled. Rates come from the operation's `x-rate-limits` in the spec.
Counts are kept per server process.
"""

from __future__ import annotations

import math
from collections import deque

from mockserver import errors
from mockserver.auth import Principal
from mockserver.clock import Clock
from posthog_spec import Catalogue, Operation, RateLimit


class Throttle:
    def __init__(self, clock: Clock, texts: Catalogue):
        self.clock = clock
        self.texts = texts
        self.history: dict[tuple[str, str], deque[float]] = {}

    def check(self, operation: Operation, principal: Principal) -> None:
        if not principal.via_key or not operation.rate_limits:
            return
        now = self.clock.now().timestamp()
        waits = []
        for limit in operation.rate_limits:
            history = self.history.setdefault((_bucket(limit), principal.key.id), deque())
            while history and history[0] <= now - limit.seconds:
                history.popleft()
            if len(history) >= limit.rate:
                remaining = limit.seconds - (now - history[0])
                waits.append(remaining / max(limit.rate - len(history) + 1, 1))
        if waits:
            raise errors.throttled(self.texts, max(1, math.ceil(max(waits))))
        for limit in operation.rate_limits:
            self.history[(_bucket(limit), principal.key.id)].append(now)

    def clear(self) -> None:
        self.history.clear()


def _bucket(limit: RateLimit) -> str:
    return f"{limit.scope}:{limit.rate}/{limit.per}"
