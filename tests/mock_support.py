"""What the mock server's own tests share: an in-process mock, demo credentials, a served mock.

In-process tests use a fresh `:memory:` mock in strict mode (every answer is checked against the
spec) with a frozen clock, so each test starts from the seed at a known moment. Tests where the
wire matters start the real command (`python -m mockserver serve`) on a free loopback port.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx2 import Response
from starlette.testclient import TestClient

from mockserver import seed
from mockserver.app import create_app
from mockserver.clock import FrozenClock
from mockserver.settings import Settings
from mockserver.store import Store

REPO = Path(__file__).resolve().parent.parent
KEYS = {key.name: key.value for key in seed.DEMO_KEYS}
ALL_ACCESS = KEYS["all-access"]
P = "/api/projects/1"  # the demo project: environments 1 and 3, Ada (user 1) its owner
ERROR_KEYS = {"type", "code", "detail", "attr"}
SERVER_START_DEADLINE = 30.0


def bearer(key: str = ALL_ACCESS) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def one_project_store() -> Store:
    """An empty in-memory store but for an organization, project 1 and its team 1 (for store tests)."""
    store = Store.open(":memory:")
    with store.transaction(write=True):
        store.db.execute("INSERT INTO organizations (id, name, slug, created_at) VALUES ('o', 'O', 'o', 'x')")
        store.db.execute("INSERT INTO projects (id, uuid, organization_id, name, api_token, created_at, updated_at)"
                         " VALUES (1, 'u', 'o', 'P', 't', 'x', 'x')")
        store.db.execute("INSERT INTO teams (id, project_id, uuid, name, api_token) VALUES (1, 1, 'u', 'P', 't')")
    return store


def make_client(**settings: Any) -> TestClient:
    """A fresh seeded mock (strict, in memory, frozen clock) and a client holding the all-access key."""
    clock = FrozenClock()
    app = create_app(Settings(db=":memory:", strict=True, **settings), clock=clock)
    client = TestClient(app, headers=bearer())
    client.clock = clock  # type: ignore[attr-defined]  (tests move time with client.clock.advance)
    return client


class SeededMock:
    """One in-process mock for a whole test session, put back to the seed before each test.

    Copying the seeded database back (SQLite's backup API) takes a fraction of a millisecond,
    where seeding a new mock takes tens: the clock is rewound, the journal and fault rules emptied and the client's
    cookies and headers reset too, so each test starts as if on a new mock.
    """

    def __init__(self) -> None:
        self.client = make_client()
        self.client.__enter__()
        self.server = self.client.app.state.server
        self.seeded = sqlite3.connect(":memory:")
        self.server.store.db.connection.backup(self.seeded)
        self.start = self.client.clock.now()
        self.headers = dict(self.client.headers)

    def fresh(self) -> TestClient:
        self.server.store.db.load_from(self.seeded)
        self.client.clock.advance(seconds=(self.start - self.client.clock.now()).total_seconds())
        self.server.journal.clear()
        self.server.faults.clear()
        self.client.cookies.clear()
        self.client.headers = self.headers
        return self.client

    def close(self) -> None:
        self.client.__exit__(None, None, None)
        self.seeded.close()


_seeded: SeededMock | None = None


@pytest.fixture
def client() -> TestClient:
    """The test session's mock, as freshly seeded, with the all-access key (built on first use)."""
    global _seeded
    if _seeded is None:
        _seeded = SeededMock()
        atexit.register(_seeded.close)
    return _seeded.fresh()


def session_headers(client: TestClient, user_id: int = seed.DEMO_USER_ID) -> dict[str, str]:
    """Headers of a session of the demo user (or another) and no key: the cookie comes from the
    admin surface, and the client's jar is emptied so it never rides along unasked."""
    response = client.post("/_mock/session", json={"user_id": user_id})
    assert response.status_code == 201, response.text
    client.cookies.clear()
    return {"Authorization": "", "Cookie": f"sessionid={response.json()['sessionid']}"}


def as_session(client: TestClient, method: str, url: str, **kwargs: Any) -> Response:
    """A request of the demo user's session (no key)."""
    headers = {**session_headers(client), **kwargs.pop("headers", {})}
    return client.request(method, url, headers=headers, **kwargs)


def mint_key(client: TestClient, scopes: list[str], **extra: Any) -> str:
    response = client.post("/_mock/keys", json={"scopes": scopes, **extra})
    assert response.status_code == 201, response.text
    return response.json()["value"]


def assert_error(
    response: Response, status: int, detail: str | None = None, *, code: str | None = None,
    type: str | None = None, attr: Any = ...,
) -> dict[str, Any]:
    """PostHog's error body: exactly {type, code, detail, attr}, with the given values."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert all(isinstance(body[k], str) for k in ("type", "code", "detail")), body
    if detail is not None:
        assert body["detail"] == detail, body
    if code is not None:
        assert body["code"] == code, body
    if type is not None:
        assert body["type"] == type, body
    if attr is not ...:
        assert body["attr"] == attr, body
    return body


def create_insight(client: TestClient, **fields: Any) -> dict[str, Any]:
    body = {"query": {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}]}, **fields}
    response = client.post(f"{P}/insights/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def ids(response: Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["results"]]


# A served mock ------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServedMock:
    """`python -m mockserver serve` in a subprocess (its own process group, so workers stop with it)."""

    def __init__(self, db: Path, *args: str, env: dict[str, str] | None = None):
        self.db = db
        self.args = args
        self.extra_env = env or {}
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "ServedMock":
        env = {k: v for k, v in os.environ.items() if not k.startswith("POSTHOG_MOCK_")} | self.extra_env
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mockserver", "serve", "--port", str(self.port), "--db", str(self.db), *self.args],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self._wait_until_ready()
        return self

    def stop(self) -> str:
        """Stop the server (and its workers); its output."""
        if self.process is None:
            return ""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            output, _ = self.process.communicate(timeout=SERVER_START_DEADLINE)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            output, _ = self.process.communicate()
        self.process = None
        return output.decode(errors="replace")

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30, **kwargs)

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + SERVER_START_DEADLINE
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the mock exited early:\n{self.stop()}")
            try:
                if httpx.get(f"{self.base_url}/_mock/openapi.json", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)  # poll interval, bounded by the deadline
        output = self.stop()
        raise RuntimeError(f"the mock did not answer within {SERVER_START_DEADLINE}s:\n{output}")

    def __enter__(self) -> "ServedMock":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
