"""While the mock serves a file database, WAL checkpoints run on a thread of their own, never in
a request's commit (store/checkpoints.py)."""

from __future__ import annotations

import time

from starlette.testclient import TestClient

from mock_support import P, bearer
from mockserver import Settings, create_app


def autocheckpoint(app) -> int:
    return app.state.server.store.db.scalar("PRAGMA wal_autocheckpoint")


def test_a_served_mock_checkpoints_on_its_own_thread_and_gives_it_back_when_it_stops(tmp_path):
    app = create_app(Settings(db=str(tmp_path / "mock.sqlite3"), strict=True))
    assert autocheckpoint(app) == 1000  # not serving: SQLite's own
    with TestClient(app, headers=bearer()) as client:  # the lifespan runs: serving
        assert autocheckpoint(app) == 0  # a request's commit never checkpoints
        for n in range(30):
            assert client.post(f"{P}/insights/viewed/", json={"insight_ids": [1 + n % 5]}).status_code == 201
        deadline = time.monotonic() + 10
        while app.state.checkpoints.copied == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert app.state.checkpoints.copied > 0
    assert autocheckpoint(app) == 1000


def test_an_in_memory_mock_has_no_checkpoints_to_run():
    app = create_app(Settings(db=":memory:"))
    with TestClient(app):
        assert app.state.checkpoints is None
