"""Requests for the hypothesis suites: a curl line for each, and throttling honoured.

PostHog throttles personal-API-key requests per key (fact sheet §7.3). A 429 is never a
contract failure: the client waits as told (Retry-After, or the seconds in the spec's `throttled`
text), retries a bounded number of times, and counts it for the report.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from typing import Any

import httpx

from contracts.pacing import Pacer
from contracts.target import Key, Target
from posthog_spec import PostHogText


@dataclass
class Exchange:
    method: str
    url: str
    headers: dict[str, str]
    body: Any
    response: httpx.Response

    def curl(self) -> str:
        parts = ["curl", "-X", self.method]
        for name, value in self.headers.items():
            shown = "Bearer [Filtered]" if name.lower() == "authorization" else "[Filtered]" if name.lower() == "cookie" else value
            parts += ["-H", f"{name}: {shown}"]
        if self.body is not None:
            parts += ["-d", json.dumps(self.body)]
        parts.append(self.url)
        return " ".join(shlex.quote(p) for p in parts)


@dataclass
class Client:
    """Opens its connection at the first request, so a suite that never sends one costs nothing."""

    target: Target
    throttle_text: PostHogText  # the spec's `throttled`: its status, and how long to wait in its detail
    max_retries: int = 5
    # As long as the target says, up to an hour (insights' longest throttle window): a 429 given
    # up on would be reported as the target's answer, a failure that is none.
    max_wait: float = 3600.0
    throttled: int = 0
    waited: float = 0.0
    exchanges: list[Exchange] = field(default_factory=list)
    pacer: Pacer | None = None

    _http: httpx.Client | None = field(default=None, init=False, repr=False)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def request(self, method: str, path: str, *, key: Key | None = None, session: bool = False,
                params: dict[str, Any] | None = None, body: Any = None) -> Exchange:
        headers: dict[str, str] = {}
        if key is not None:
            headers["Authorization"] = f"Bearer {key.value}"
        if session and self.target.session_cookie:
            headers["Cookie"] = f"sessionid={self.target.session_cookie}"
        if body is not None:
            headers["Content-Type"] = "application/json"
        content = json.dumps(body).encode() if body is not None else None
        if self._http is None:
            self._http = self.target.client()
        for attempt in range(self.max_retries + 1):
            if self.pacer:
                self.pacer.before(method, path, key)
            response = self._http.request(method, path, params=params, content=content, headers=headers)
            if response.status_code != self.throttle_text.status or attempt == self.max_retries:
                break
            wait = min(self._wait_for(response), self.max_wait)
            self.throttled += 1
            self.waited += wait
            self.target.sleep(wait)
        exchange = Exchange(method, str(response.request.url), headers, body, response)
        self.exchanges.append(exchange)
        return exchange

    def throttling_note(self) -> str | None:
        if not self.throttled:
            return None
        return f"{self.throttled} throttled answers (429), waited {self.waited:.0f} s in all"

    def _wait_for(self, response: httpx.Response) -> float:
        retry_after = response.headers.get("retry-after", "")
        if retry_after.isdigit():
            return float(retry_after)
        try:
            return float(self.throttle_text.match(response.json().get("detail"))["wait"])
        except (ValueError, AttributeError, TypeError):  # no JSON, no such detail, or no number in it
            return 1.0
