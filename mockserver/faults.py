"""Faults and latency, injected into API answers so a frontend's loading and error states can be built.

A rule matches calls (operationId, method, path pattern, project, key label) and changes their
answer: a delay (`latency`), a status with the error body PostHog sends with it, a connection
dropped without an answer, or a body sent slowly; for its next `times` matching calls, or with
a `probability`. `--latency` and `--fail-rate` are rules too (source "flag"), and a single call
may ask for its own fault with `Prefer: code=503` or `Prefer: delay=1500` where the mock allows it.

A fault that replaces the answer is decided before the call is authenticated or handled, so a
write under an injected failure changes nothing. Rules live in the workbench database
(sidecar.py), so they are the same for every worker; each worker looks for changes at most every
quarter of a second, so when no rule exists a call pays one comparison of the clock.

The bodies of 502, 503 and 504 are a proxy's, not PostHog's (PostHog's Django never answers
them; the load balancer in front of it does): they are written here, in the words of the nginx
and AWS load balancers in front of PostHog, and deliberately not in the spec's catalogue.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import random
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Mapping

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mockserver import errors, rendering
from mockserver.auth import Authenticator
from mockserver.call import Call
from mockserver.settings import LOOPBACK_CLIENTS, Settings, parse_latency
from posthog_spec import Catalogue

REFRESH_S = 0.25
PREFER = "prefer"
SLOW_BODY_CHUNKS = 10
DEFAULT_RETRY_AFTER_S = 5
# The catalogue texts PostHog answers a status with, when a rule asks for that status.
POSTHOG_ANSWERS = ("invalid_value", "not_authenticated", "not_a_member", "not_found", "throttled", "server_error")
PROXY_ANSWERS = {
    502: "502 Bad Gateway",
    503: "503 Service Temporarily Unavailable",
    504: "504 Gateway Time-out",
}
MATCH_FIELDS = ("operation_id", "method", "path", "project", "key_label")
EFFECT_FIELDS = ("latency", "status", "retry_after", "drop", "slow_body")


class RuleProblem(ValueError):
    """A rule the mock cannot use: what is wrong, and the field (`match.method`, `times`...)."""

    def __init__(self, attr: str, detail: str):
        super().__init__(detail)
        self.attr = attr
        self.detail = detail


class ConnectionDropped(ConnectionError):
    """In-process (no socket to close), a dropped connection is this exception."""


@dataclass(frozen=True)
class Match:
    operation_id: str | None = None  # either prefix's id matches the canonical one
    method: str | None = None
    path: str | None = None  # a glob: `*` is any run of characters, `/` included
    project: int | None = None  # the project (or environment) id in the path
    key_label: str | None = None

    def matches(self, call: Call, key_label: Callable[[Call], str | None]) -> bool:
        operation = call.operation
        if self.operation_id is not None and self.operation_id not in (operation.operation_id, operation.base_id):
            return False
        if self.method is not None and self.method != call.request.method:
            return False
        if self.path is not None and not fnmatch.fnmatchcase(call.request.scope["path"], self.path):
            return False
        if self.project is not None:
            named = call.raw_path.get(operation.project_param) if operation.project_param else None
            if named != str(self.project):
                return False
        return self.key_label is None or key_label(call) == self.key_label


@dataclass(frozen=True)
class Effect:
    latency: tuple[int, int] | None = None  # milliseconds, drawn uniformly between the two
    status: int | None = None
    retry_after: int | None = None  # seconds, for 429
    drop: bool = False
    slow_body: int | None = None  # milliseconds over which the body is sent

    @property
    def replaces_answer(self) -> bool:
        return self.status is not None or self.drop


@dataclass(frozen=True)
class Rule:
    id: str
    match: Match
    effect: Effect
    times: int | None = None
    probability: float | None = None
    source: str = "api"  # api (POST /_mock/faults) or flag (--latency, --fail-rate)

    def as_json(self) -> dict[str, Any]:
        effect = {k: v for k, v in vars(self.effect).items() if v not in (None, False)}
        if self.effect.latency:
            low, high = self.effect.latency
            effect["latency"] = str(low) if low == high else f"{low}-{high}"
        return {"id": self.id, "match": {k: v for k, v in vars(self.match).items() if v is not None},
                "effect": effect, "times": self.times, "probability": self.probability, "source": self.source}


@dataclass
class Injection:
    """What the faults do to one call."""

    latency_ms: int = 0
    answer: Effect | None = None  # the effect that replaces the answer, if any
    slow_body_ms: int | None = None
    rules: list[str] = field(default_factory=list)
    prefer: bool = False

    @property
    def replaces_answer(self) -> bool:
        return self.answer is not None

    def note(self) -> dict[str, Any]:
        """What the journal says of it."""
        noted: dict[str, Any] = {"rules": self.rules} if self.rules else {}
        if self.prefer:
            noted["prefer"] = True
        if self.latency_ms:
            noted["latency_ms"] = self.latency_ms
        if self.answer is not None and self.answer.status is not None:
            noted["status"] = self.answer.status
        if self.answer is not None and self.answer.drop:
            noted["drop"] = True
        if self.slow_body_ms:
            noted["slow_body_ms"] = self.slow_body_ms
        return noted


class Faults:
    def __init__(self, connection: sqlite3.Connection, settings: Settings, texts: Catalogue, *,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, monotonic: Callable[[], float] = time.monotonic):
        self.connection = connection
        self.settings = settings
        self.texts = texts
        self.sleep = sleep
        self.monotonic = monotonic
        self.rng = random.Random(settings.fault_seed)
        self.posthog_answers = {texts[name].status: name for name in POSTHOG_ANSWERS}
        self._rules: list[Rule] = []
        self._version = -1
        self._next_look = 0.0

    # The request path ------------------------------------------------------------------------------
    @property
    def armed(self) -> bool:
        """Whether any rule exists (looked up in the shared database at most every REFRESH_S)."""
        now = self.monotonic()
        if now >= self._next_look:
            self._next_look = now + REFRESH_S
            self._load_if_changed()
        return bool(self._rules)

    def plan(self, call: Call) -> Injection | None:
        """What the rules (and the call's own `Prefer` header) do to this call; None for nothing."""
        injection = Injection()
        if self._rules:
            labels: dict[int, str | None] = {}

            def key_label(c: Call) -> str | None:
                if id(c) not in labels:
                    labels[id(c)] = self.key_label(c)
                return labels[id(c)]

            for rule in self._rules:
                if not rule.match.matches(call, key_label):
                    continue
                if rule.probability is not None and self.rng.random() >= rule.probability:
                    continue
                if rule.effect.replaces_answer and injection.answer is not None:
                    continue  # one answer per call: the first rule's; this one keeps its turns
                if not self._take_turn(rule):
                    continue
                self._apply(injection, rule.effect)
                injection.rules.append(rule.id)
        if PREFER in call.headers and self._prefer_allowed(call):
            self._apply_prefer(injection, call.headers[PREFER])
        if not (injection.rules or injection.prefer):
            return None
        return injection

    async def wait(self, injection: Injection) -> None:
        if injection.latency_ms:
            await self.sleep(injection.latency_ms / 1000)

    def answer(self, injection: Injection, call: Call) -> Response:
        """The answer that replaces the call's: PostHog's error, a proxy's page, or none at all."""
        effect = injection.answer
        assert effect is not None
        if effect.drop:
            return DroppedConnection()
        if effect.status in PROXY_ANSWERS:
            title = PROXY_ANSWERS[effect.status]
            page = f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n"
            return Response(b"" if call.head else page.encode(), status_code=effect.status, media_type="text/html")
        name = self.posthog_answers[effect.status]
        if name == "not_authenticated":
            error = errors.unauthenticated(self.texts, name, effect.status, self.settings.site_url)
        elif name == "throttled":
            error = errors.throttled(self.texts, effect.retry_after or DEFAULT_RETRY_AFTER_S)
        else:
            error = errors.error(self.texts, name)
        return rendering.error_response(error, head=call.head)

    def slowed(self, injection: Injection, answer: Response) -> Response:
        if not injection.slow_body_ms:
            return answer
        return SlowBody(answer, injection.slow_body_ms / 1000, self.sleep)

    # Rules -----------------------------------------------------------------------------------------
    def statuses(self) -> list[int]:
        """The statuses a rule may answer with: PostHog's (with its body) and a proxy's."""
        return sorted({*self.posthog_answers, *PROXY_ANSWERS})

    def rules(self) -> list[dict[str, Any]]:
        rows = self.connection.execute("SELECT id, rule, remaining, hits, created_at FROM fault_rules ORDER BY seq").fetchall()
        return [{**json.loads(rule), "id": rule_id, "remaining": remaining, "hits": hits, "created_at": created}
                for rule_id, rule, remaining, hits, created in rows]

    def add(self, body: Any, *, now: str, source: str = "api") -> dict[str, Any]:
        """A rule from its JSON (POST /_mock/faults); raises RuleProblem naming what is wrong."""
        rule = self.parse(body, source=source)
        self.connection.execute(
            "INSERT INTO fault_rules (id, rule, remaining, created_at) VALUES (?, ?, ?, ?)",
            (rule.id, json.dumps(rule.as_json()), rule.times, now))
        self._changed()
        return next(r for r in self.rules() if r["id"] == rule.id)

    def remove(self, rule_id: str) -> bool:
        removed = self.connection.execute("DELETE FROM fault_rules WHERE id = ?", (rule_id,)).rowcount
        self._changed()
        return bool(removed)

    def clear(self) -> int:
        removed = self.connection.execute("DELETE FROM fault_rules").rowcount
        self._changed()
        return removed

    def install_flags(self, now: str) -> None:
        """`--latency` and `--fail-rate` as rules (source "flag"), in place of any earlier start's."""
        self.connection.execute("DELETE FROM fault_rules WHERE json_extract(rule, '$.source') = 'flag'")
        if self.settings.latency:
            self.add({"effect": {"latency": self.settings.latency}}, now=now, source="flag")
        if self.settings.fail_rate:
            self.add({"effect": {"status": self.texts["server_error"].status}, "probability": self.settings.fail_rate},
                     now=now, source="flag")
        self._changed()

    def parse(self, body: Any, *, source: str = "api") -> Rule:
        if not isinstance(body, Mapping):
            raise RuleProblem("", "A rule is a JSON object: {\"match\": {...}, \"effect\": {...}, \"times\": N}.")
        unknown = set(body) - {"match", "effect", "times", "probability"}
        if unknown:
            raise RuleProblem(sorted(unknown)[0], f"Unknown field; a rule has match, effect, times and probability.")
        match = self._match(body.get("match") or {})
        effect = self._effect(body.get("effect"))
        times, probability = body.get("times"), body.get("probability")
        if times is not None and (type(times) is not int or times < 1):
            raise RuleProblem("times", "times must be a whole number of calls, at least 1.")
        if probability is not None and (type(probability) not in (int, float) or not 0 < probability <= 1):
            raise RuleProblem("probability", "probability must be a number above 0 and at most 1.")
        return Rule(uuid.uuid4().hex[:12], match, effect, times, float(probability) if probability is not None else None, source)

    def _match(self, raw: Any) -> Match:
        if not isinstance(raw, Mapping):
            raise RuleProblem("match", "match must be an object.")
        unknown = set(raw) - set(MATCH_FIELDS)
        if unknown:
            raise RuleProblem(f"match.{sorted(unknown)[0]}", f"Unknown field; match on {', '.join(MATCH_FIELDS)}.")
        for name in ("operation_id", "method", "path", "key_label"):
            if name in raw and (not isinstance(raw[name], str) or not raw[name]):
                raise RuleProblem(f"match.{name}", f"{name} must be a non-empty text.")
        project = raw.get("project")
        if project is not None and (type(project) is not int or project < 1):
            raise RuleProblem("match.project", "project must be a project (or environment) id.")
        return Match(raw.get("operation_id"), raw["method"].upper() if "method" in raw else None, raw.get("path"),
                     project, raw.get("key_label"))

    def _effect(self, raw: Any) -> Effect:
        if not isinstance(raw, Mapping) or not raw:
            raise RuleProblem("effect", "effect must name at least one of latency, status, drop and slow_body.")
        unknown = set(raw) - set(EFFECT_FIELDS)
        if unknown:
            raise RuleProblem(f"effect.{sorted(unknown)[0]}", f"Unknown field; an effect has {', '.join(EFFECT_FIELDS)}.")
        latency = raw.get("latency")
        bounds = None
        if latency is not None:
            bounds = parse_latency(str(latency)) if type(latency) in (int, str) else None
            if bounds is None:
                raise RuleProblem("effect.latency", "latency must be milliseconds or a range of them, e.g. 1500 or \"100-800\".")
        status = raw.get("status")
        if status is not None and (type(status) is not int or status not in self.statuses()):
            allowed = ", ".join(str(s) for s in self.statuses())
            raise RuleProblem("effect.status", f"status must be one of {allowed}.")
        retry_after = raw.get("retry_after")
        if retry_after is not None and (type(retry_after) is not int or retry_after < 0):
            raise RuleProblem("effect.retry_after", "retry_after must be a whole number of seconds.")
        drop = raw.get("drop", False)
        if type(drop) is not bool:
            raise RuleProblem("effect.drop", "drop must be true or false.")
        if drop and status is not None:
            raise RuleProblem("effect.drop", "A dropped connection answers nothing: give drop or status, not both.")
        slow_body = raw.get("slow_body")
        if slow_body is not None and (type(slow_body) is not int or slow_body < 1):
            raise RuleProblem("effect.slow_body", "slow_body must be the milliseconds over which the body is sent.")
        if drop and slow_body is not None:
            raise RuleProblem("effect.slow_body", "A dropped connection sends no body to slow down.")
        if bounds is None and status is None and not drop and slow_body is None:
            raise RuleProblem("effect", "effect must name at least one of latency, status, drop and slow_body.")
        return Effect(bounds, status, retry_after, drop, slow_body)

    # Inside ----------------------------------------------------------------------------------------
    def _apply(self, injection: Injection, effect: Effect) -> None:
        if effect.latency:
            injection.latency_ms += self.rng.randint(*effect.latency)
        if effect.replaces_answer and injection.answer is None:
            injection.answer = effect
        if effect.slow_body and injection.slow_body_ms is None:
            injection.slow_body_ms = effect.slow_body

    def _apply_prefer(self, injection: Injection, header: str) -> None:
        """Prism's `Prefer: code=503` and `Prefer: delay=1500` (also together, comma-separated)."""
        for part in header.replace(";", ",").split(","):
            name, _, value = part.strip().partition("=")
            value = value.strip().strip('"')
            if name.strip() == "code" and value.isdigit() and injection.answer is None:
                status = int(value)
                if status in self.posthog_answers or status in PROXY_ANSWERS:
                    injection.answer = Effect(status=status)
                    injection.prefer = True
            elif name.strip() == "delay" and value.isdigit():
                injection.latency_ms += int(value)
                injection.prefer = True

    def _prefer_allowed(self, call: Call) -> bool:
        if self.settings.prefer == "any":
            return True
        if self.settings.prefer == "off":
            return False
        client = call.request.client.host if call.request.client else ""
        return client in LOOPBACK_CLIENTS

    def key_label(self, call: Call) -> str | None:
        """The label of the key the call carries, without authenticating it (no write, no refusal)."""
        try:
            found = Authenticator._key_candidate(call.incoming)
        except errors.APIError:
            return None
        key = call.store.accounts.key_by_value(found[1]) if found else None
        return key.label if key else None

    def _take_turn(self, rule: Rule) -> bool:
        """One of a counted rule's turns (False when another worker took the last one); hits counted."""
        if rule.times is None:
            self.connection.execute("UPDATE fault_rules SET hits = hits + 1 WHERE id = ?", (rule.id,))
            return True
        taken = self.connection.execute(
            "UPDATE fault_rules SET remaining = remaining - 1, hits = hits + 1 WHERE id = ? AND remaining > 0",
            (rule.id,)).rowcount
        if self.connection.execute("DELETE FROM fault_rules WHERE id = ? AND remaining <= 0", (rule.id,)).rowcount:
            self._changed()
        return bool(taken)

    def _changed(self) -> None:
        self.connection.execute("UPDATE versions SET value = value + 1 WHERE name = 'faults'")
        self._load_if_changed()

    def _load_if_changed(self) -> None:
        version = self.connection.execute("SELECT value FROM versions WHERE name = 'faults'").fetchone()[0]
        if version != self._version:
            self._version = version
            self._rules = [self._stored(rule) for rule in self.rules()]

    @staticmethod
    def _stored(saved: Mapping[str, Any]) -> Rule:
        effect = dict(saved["effect"])
        latency = parse_latency(str(effect["latency"])) if "latency" in effect else None
        return Rule(saved["id"], Match(**saved["match"]),
                    Effect(latency, effect.get("status"), effect.get("retry_after"), effect.get("drop", False),
                           effect.get("slow_body")),
                    saved["remaining"], saved["probability"], saved["source"])



class DroppedConnection(Response):
    """No answer at all: the connection is closed under the request (as a crashed upstream or a
    reset by a proxy would). Over uvicorn the call's socket is closed; in-process there is none,
    so the call raises ConnectionDropped."""

    def __init__(self) -> None:
        self.status_code = 0
        self.body = b""
        self.media_type = None
        self.background = None
        self.raw_headers = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cycle = getattr(receive, "__self__", None)  # uvicorn's RequestResponseCycle holds the socket
        transport = getattr(cycle, "transport", None)
        if transport is None:
            raise ConnectionDropped("the mock dropped the connection (an injected fault)")
        transport.close()
        for _ in range(1000):  # until uvicorn notices, so it does not answer a 500 in our place
            if getattr(cycle, "disconnected", True):
                return
            await asyncio.sleep(0)


class SlowBody(Response):
    """An answer whose headers go at once and whose body trickles out over `seconds`."""

    def __init__(self, answer: Response, seconds: float, sleep: Callable[[float], Awaitable[None]]):
        self.answer = answer
        self.seconds = seconds
        self.sleep = sleep
        self.status_code = answer.status_code
        self.body = answer.body
        self.media_type = answer.media_type
        self.background = None
        self.raw_headers = answer.raw_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        body = bytes(self.body)
        size = max(1, -(-len(body) // SLOW_BODY_CHUNKS))
        chunks = [body[i:i + size] for i in range(0, len(body), size)] or [b""]
        for chunk in chunks:
            await self.sleep(self.seconds / len(chunks))
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
