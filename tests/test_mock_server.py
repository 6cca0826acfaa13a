"""The mock over a real socket: `python -m mockserver serve` on a free loopback port, with a file
database in a tmp dir. What only the wire shows: an empty 405 and 201, CORS for browsers, a
restart that keeps state, two workers sharing one database, settings from the environment."""

from __future__ import annotations

import httpx
import pytest

from mock_support import ALL_ACCESS, KEYS, P, ServedMock, bearer
from mockserver import seed

QUERY = {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}]}
WORKER_SEARCH_CONNECTIONS = 60


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with ServedMock(tmp_path_factory.mktemp("served") / "mock.sqlite3", "--strict") as mock:
        yield mock


@pytest.fixture
def http(served):
    with served.client(headers=bearer()) as c:
        yield c


def test_delete_insight_returns_405_with_an_empty_body_and_keeps_it(http):
    before = http.get(f"{P}/insights/2/").json()
    response = http.delete(f"{P}/insights/2/")
    assert response.status_code == 405
    assert response.content == b"" and response.headers["content-length"] == "0"
    assert "content-type" not in response.headers
    assert http.get(f"{P}/insights/2/").json() == before


def test_viewed_returns_201_with_an_empty_body_for_foreign_and_deleted_ids(http):
    response = http.post(f"{P}/insights/viewed/", json={"insight_ids": [18, 20, 22, 99999]})
    assert response.status_code == 201
    assert response.content == b"" and response.headers["content-length"] == "0"


def test_viewed_returns_201_for_a_mix_and_records_only_live_ones(http):
    session = http.post("/_mock/session", json={}).json()["sessionid"]
    http.cookies.clear()
    assert http.post(f"{P}/insights/viewed/", json={"insight_ids": [18, 22, 11]}).status_code == 201
    last = http.get(f"{P}/insights/my_last_viewed/", headers={"Authorization": "", "Cookie": f"sessionid={session}"}).json()
    assert last[0]["id"] == 11 and 18 not in [i["id"] for i in last]


def test_errors_go_over_the_wire_in_posthogs_shape(http):
    response = http.get(f"{P}/insights/", headers={"Authorization": ""})
    assert response.status_code == 403 and response.headers["content-type"] == "application/json"
    assert response.json() == {"type": "authentication_error", "code": "not_authenticated",
                               "detail": "Authentication credentials were not provided.", "attr": None}
    response = http.get(f"{P}/elements/", headers={"Authorization": "Bearer phx_nope"})
    assert response.status_code == 401 and "resource_metadata" in response.headers["www-authenticate"]


def test_trailing_slash_and_current_over_the_wire(http):
    assert http.get("/api/projects/@current/insights").json()["count"] == http.get(f"{P}/insights/").json()["count"]


def test_cors_preflight_from_a_localhost_origin_is_allowed(http):
    response = http.options(f"{P}/insights/", headers={
        "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


def test_cors_allows_a_browser_on_localhost_to_read_answers(http):
    response = http.get(f"{P}/insights/1/", headers={"Origin": "http://127.0.0.1:5173"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://127.0.0.1:5173"
    assert "Origin" in response.headers["vary"]


def test_cors_refuses_other_origins_by_default(http):
    preflight = http.options(f"{P}/insights/", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in http.get(f"{P}/insights/1/", headers={"Origin": "https://evil.example"}).headers


def test_options_without_cors_answers_the_allowed_methods(http):
    response = http.options(f"{P}/insights/1/")
    assert response.status_code == 200 and response.headers["allow"] == "DELETE, GET, HEAD, OPTIONS, PATCH, PUT"


def test_cors_origins_can_be_configured(tmp_path):
    with ServedMock(tmp_path / "mock.sqlite3", "--cors-origin", "https://app.example") as mock, mock.client() as c:
        headers = {"Access-Control-Request-Method": "GET"}
        allowed = c.options(f"{P}/insights/", headers={"Origin": "https://app.example", **headers})
        assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == "https://app.example"
        assert c.options(f"{P}/insights/", headers={"Origin": "http://localhost:3000", **headers}).status_code == 400


def test_restart_keeps_state_in_the_database_file(tmp_path):
    db = tmp_path / "kept.sqlite3"
    with ServedMock(db) as first, first.client(headers=bearer()) as c:
        created = c.post(f"{P}/insights/", json={"name": "Survives a restart", "query": QUERY}).json()
        c.patch(f"{P}/insights/3/", json={"deleted": True})
        key = c.post("/_mock/keys", json={"scopes": ["insight:read"]}).json()["value"]
        banner = first.stop()
    assert first.base_url in banner and all(k.value in banner for k in seed.DEMO_KEYS)
    with ServedMock(db) as second, second.client(headers=bearer(key)) as c:
        assert c.get(f"{P}/insights/{created['id']}/").json()["name"] == "Survives a restart"
        assert c.get(f"{P}/insights/3/").status_code == 404
        assert c.get(f"{P}/insights/").json()["count"] == 18  # 18 seeded, one deleted, one created
    with ServedMock(db, "--reset") as third, third.client(headers=bearer(ALL_ACCESS)) as c:
        assert c.get(f"{P}/insights/{created['id']}/").status_code == 404
        assert c.get(f"{P}/insights/3/").status_code == 200
        assert c.get(f"{P}/insights/", headers=bearer(key)).status_code == 403


def test_two_workers_share_one_database(tmp_path):
    with ServedMock(tmp_path / "shared.sqlite3", "--workers", "2") as mock, mock.client(headers=bearer()) as first:
        created = first.post(f"{P}/insights/", json={"name": "Written by one worker", "query": QUERY}).json()
        other = _client_on_another_worker(mock, than=first)
        try:
            assert other.get(f"{P}/insights/{created['id']}/").json()["name"] == "Written by one worker"
            other.patch(f"{P}/insights/{created['id']}/", json={"name": "Renamed by the other"})
        finally:
            other.close()
        assert first.get(f"{P}/insights/{created['id']}/").json()["name"] == "Renamed by the other"


def _client_on_another_worker(mock: ServedMock, *, than: httpx.Client) -> httpx.Client:
    """A client whose (kept-alive) connection is served by another worker than `than`'s (the
    journal is one for all workers; its answers name the worker that read it)."""
    taken = than.get("/_mock/requests", params={"limit": 1}).json()["worker"]
    for _ in range(WORKER_SEARCH_CONNECTIONS):
        candidate = mock.client(headers=bearer())
        if candidate.get("/_mock/requests", params={"limit": 1}).json()["worker"] != taken:
            return candidate
        candidate.close()
    raise AssertionError(f"no connection out of {WORKER_SEARCH_CONNECTIONS} reached a second worker")


def test_settings_come_from_the_environment(tmp_path):
    with ServedMock(tmp_path / "open.sqlite3", env={"POSTHOG_MOCK_AUTH": "open"}) as mock, mock.client() as c:
        assert c.get(f"{P}/insights/my_last_viewed/").json()[0]["id"] == 1  # no credentials: the demo session
        assert c.get(f"{P}/insights/", headers=bearer(KEYS["elements"])).status_code == 403


@pytest.mark.parametrize("flags, loop", [((), "asyncio"), (("--loop", "uvloop"), "uvloop")])
def test_the_event_loop_is_asyncio_unless_told(tmp_path, flags, loop):
    """asyncio's loop answers queued connections in turn; uvloop's left a few waiting for seconds."""
    with ServedMock(tmp_path / "loop.sqlite3", *flags) as mock, mock.client() as c:
        assert c.get("/_mock/overview").json()["event_loop"] == loop
