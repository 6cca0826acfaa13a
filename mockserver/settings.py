"""The mock's configuration, from flags and environment variables, in one place.

Every flag of `posthog-mock serve` has an environment variable `POSTHOG_MOCK_<NAME>`; uvicorn
workers rebuild the settings from the environment, so flags are passed to them that way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from typing import Any, Mapping

ENV_PREFIX = "POSTHOG_MOCK_"
LOCAL_ORIGINS = r"https?://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?"
# Clients on loopback (Starlette's TestClient calls itself "testclient").
LOOPBACK_CLIENTS = frozenset({"127.0.0.1", "::1", "localhost", "testclient"})
LOOPS = ("asyncio", "uvloop")  # uvicorn's names of the event loops it runs


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8010
    db: str = "posthog-mock.sqlite3"
    seed: str = "demo"
    scale: int = 0
    workers: int = 1
    # The event loop. asyncio's answers connections in turn when requests queue up; uvloop's did
    # not: at 64 connections on one saturated worker a few waited up to 1-2 s (p99 0.3-0.8 s
    # against 70-105 ms, at the same throughput within noise; bench/README.md, 2026-12-03).
    loop: str = "asyncio"
    auth: str = "keys"
    reset: bool = False
    strict: bool = False
    rate_limit: str = "off"
    memo: str = "on"
    cors_origins: tuple[str, ...] = field(default=())
    admin: str = "loopback"
    allowed_hosts: tuple[str, ...] = field(default=())  # names the admin surface answers to, besides loopback
    max_body_bytes: int = 1024 * 1024
    site_url: str = "https://us.posthog.com"
    # The workbench (faults.py, journal.py, seedfile.py): latency in ms ("300" or "100-800") and
    # a fraction of calls answered with PostHog's 500, on every API answer; their random draws
    # follow `fault_seed` when it is given.
    latency: str = ""
    fail_rate: float = 0.0
    fault_seed: int | None = None
    prefer: str = "loopback"  # `Prefer: code=503` / `delay=1500` honoured from: loopback | any | off
    seed_files: tuple[str, ...] = field(default=())  # replace the state at every start (YAML or JSON)
    reload: bool = False  # restart when the spec or a seed file changes
    keep_alive: int = 75  # seconds an idle connection stays open (load balancers keep 60)
    journal_size: int = 1000  # requests the journal keeps
    seed_files_loaded: bool = False  # set by the command line once it loaded them (not under --reload)

    def __post_init__(self) -> None:
        problems = []
        if self.auth not in ("keys", "open"):
            problems.append("auth must be 'keys' or 'open'")
        if self.seed not in ("demo", "empty"):
            problems.append("seed must be 'demo' or 'empty'")
        if self.rate_limit not in ("off", "posthog"):
            problems.append("rate_limit must be 'off' or 'posthog'")
        if self.memo not in ("on", "off"):
            problems.append("memo must be 'on' or 'off'")
        if self.loop not in LOOPS:
            problems.append(f"loop must be one of {', '.join(LOOPS)}")
        if self.admin not in ("loopback", "any"):
            problems.append("admin must be 'loopback' or 'any'")
        if self.workers < 1:
            problems.append("workers must be at least 1")
        if self.workers > 1 and self.in_memory:
            problems.append("several workers cannot share an in-memory database; give --db a file")
        if self.scale < 0:
            problems.append("scale must not be negative")
        if not 1 <= self.port <= 65535:
            problems.append(f"port must be between 1 and 65535 (got {self.port})")
        if self.latency and parse_latency(self.latency) is None:
            problems.append(f"latency must be milliseconds or a range of them, e.g. 300 or 100-800 (got {self.latency!r})")
        if not 0 <= self.fail_rate <= 1:
            problems.append(f"fail rate must be between 0 and 1 (got {self.fail_rate})")
        if self.prefer not in ("loopback", "any", "off"):
            problems.append("prefer must be 'loopback', 'any' or 'off'")
        if self.keep_alive < 1:
            problems.append("keep-alive must be at least 1 second")
        if self.journal_size < 1:
            problems.append("journal size must be at least 1")
        if self.reload and self.workers > 1:
            problems.append("--reload restarts a single process; it cannot be used with several workers")
        if "*" in self.cors_origins:
            problems.append("cors origin '*' would let every web page send requests with the developer's session"
                            " (and a wildcard cannot carry credentials); name the origins, e.g."
                            " --cors-origin http://localhost:5173")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def in_memory(self) -> bool:
        return self.db == ":memory:"

    def to_env(self) -> dict[str, str]:
        """The environment that rebuilds these settings (for uvicorn workers)."""
        env = {}
        for f in fields(self):
            value = getattr(self, f.name)
            env[ENV_PREFIX + f.name.upper()] = ",".join(value) if isinstance(value, tuple) else str(value)
        return env

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = _parse(f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_changes(self, **changes: Any) -> "Settings":
        return replace(self, **changes)


def parse_latency(text: str) -> tuple[int, int] | None:
    """"300" -> (300, 300), "100-800" -> (100, 800); None when it is neither."""
    low, _, high = text.strip().partition("-")
    if not low.strip().isdigit() or (high and not high.strip().isdigit()):
        return None
    bounds = (int(low), int(high or low))
    return bounds if bounds[0] <= bounds[1] else None


def _parse(kind: Any, raw: str) -> Any:
    kind = str(kind)
    if kind == "int":
        return int(raw)
    if kind == "int | None":
        return int(raw) if raw.strip() not in ("", "None") else None
    if kind == "float":
        return float(raw)
    if kind == "bool":
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if kind.startswith("tuple"):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw
