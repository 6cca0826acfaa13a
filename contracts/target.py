"""What the contracts run against: a base URL (or an ASGI app), a project, and keys with known scopes.

Against the toolkit's own mock the runner needs nothing else: it asks the mock's admin surface
for keys with any scopes and for a session, and first for a snapshot of its state, which it
restores when the run ends, so a developer's mock is left as the run found it. Against PostHog,
keys and their scopes are given.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx

MOCK_DEMO = "/_mock/demo"
MOCK_SNAPSHOTS = "/_mock/snapshots"
CLOUD = {"cloud-us": "https://us.posthog.com", "cloud-eu": "https://eu.posthog.com"}


@dataclass(frozen=True)
class Key:
    """A personal API key and the scopes it is known to have (never printed in full)."""

    value: str = field(repr=False)
    scopes: tuple[str, ...]
    scoped_teams: tuple[int, ...] | None = None

    @classmethod
    def parse(cls, flag: str, scopes: str | None = None) -> "Key":
        """`KEY=scope,scope` as given on the command line (`--token`, `--posthog-token`) or in
        POSTHOG_CONTRACTS_TOKENS; `scopes` stands in for a flag given without them."""
        value, _, listed = flag.partition("=")
        listed = listed or scopes
        if not listed:
            raise ValueError("every key needs its scopes: --token KEY=scope,scope (or --token-scopes for a single key)")
        return cls(value.strip(), tuple(s.strip() for s in listed.split(",") if s.strip()))

    @property
    def fingerprint(self) -> str:
        """What names the key where its value must not appear (the checks' configuration)."""
        return fingerprint(self.value)

    @property
    def redacted(self) -> str:
        return f"{self.value[:4]}…{self.value[-4:]}" if len(self.value) > 12 else "phx_…"

    def __str__(self) -> str:
        return f"{self.redacted} ({', '.join(self.scopes)})"


@dataclass
class Target:
    base_url: str
    project_id: str
    keys: list[Key] = field(default_factory=list)
    session_cookie: str | None = field(default=None, repr=False)
    app: Any = None
    is_mock: bool = False
    timeout: float = 30.0
    # The target's time, for pacing and for waiting out 429s (a frozen clock in some tests).
    monotonic: Callable[[], float] = field(default=time.monotonic, repr=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    snapshot: str | None = None  # the mock's state before the run, to restore after it

    @classmethod
    def resolve_base_url(cls, name_or_url: str) -> str:
        """`cloud-us`, `cloud-eu` or a URL."""
        return CLOUD.get(name_or_url, name_or_url).rstrip("/")

    def client(self) -> httpx.Client:
        """A synchronous client: over the network, or straight into the ASGI app."""
        if self.app is not None:
            from starlette.testclient import TestClient

            return TestClient(self.app, base_url=self.base_url, raise_server_exceptions=False)
        return httpx.Client(base_url=self.base_url, timeout=self.timeout)

    def detect_mock(self) -> bool:
        """The toolkit's mock answers its admin surface; PostHog does not."""
        with self.client() as client:
            try:
                response = client.get(MOCK_DEMO)
            except httpx.HTTPError:
                return False
        self.is_mock = response.is_success and "keys" in _json(response)
        return self.is_mock

    def mint_key(self, scopes: list[str], scoped_teams: list[int] | None = None, user_id: int | None = None) -> Key:
        """A new key from the mock's admin surface (only the mock can do this), of the demo user
        or of `user_id`."""
        if not self.is_mock:
            raise RuntimeError("keys can be minted only on the toolkit's mock; pass --token for other targets")
        wanted: dict[str, Any] = {"scopes": scopes, "scoped_teams": scoped_teams, "label": "contracts"}
        if user_id is not None:
            wanted["user_id"] = user_id
        with self.client() as client:
            response = client.post("/_mock/keys", json=wanted)
        response.raise_for_status()
        return Key(response.json()["value"], tuple(scopes), tuple(scoped_teams) if scoped_teams else None)

    def open_session(self) -> str:
        with self.client() as client:
            response = client.post("/_mock/session", json={})
        response.raise_for_status()
        self.session_cookie = response.json()["sessionid"]
        return self.session_cookie

    def prepare(self) -> None:
        """Against the mock: a snapshot of its state before anything is changed, then an
        all-access key and a session when none were given."""
        if self.detect_mock():
            self.snapshot = self._take_snapshot()
            if not self.keys:
                self.keys.append(self.mint_key(["*"]))
            if self.session_cookie is None:
                self.open_session()

    def restore(self) -> bool:
        """Put the mock back as the run found it (keys it minted included); False if it could not."""
        if self.snapshot is None:
            return False
        with self.client() as client:
            restored = client.post(f"{MOCK_SNAPSHOTS}/{self.snapshot}/restore", json={}).is_success
            client.delete(f"{MOCK_SNAPSHOTS}/{self.snapshot}")
        self.snapshot = None
        return restored

    def _take_snapshot(self) -> str | None:
        """None from a mock too old to take one."""
        with self.client() as client:
            response = client.post(MOCK_SNAPSHOTS, json={})
        return response.json().get("snapshot") if response.is_success else None

    def broadest_key(self) -> Key:
        """The key used where any key will do: `*` if there is one, else the one with most scopes."""
        if not self.keys:
            raise RuntimeError("no personal API key: pass --token (or run against the toolkit's mock)")
        return max(self.keys, key=lambda k: (("*" in k.scopes), len(k.scopes), k.scoped_teams is None))

    def secrets(self) -> list[str]:
        """Every secret of this target, for redaction."""
        return [k.value for k in self.keys] + ([self.session_cookie] if self.session_cookie else [])


def fingerprint(key_value: str) -> str:
    return hashlib.sha256(key_value.encode()).hexdigest()


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {}
