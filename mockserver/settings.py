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


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8010
    db: str = "posthog-mock.sqlite3"
    seed: str = "demo"
    scale: int = 0
    workers: int = 1
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


def _parse(kind: Any, raw: str) -> Any:
    kind = str(kind)
    if kind == "int":
        return int(raw)
    if kind == "bool":
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if kind.startswith("tuple"):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw
