"""State you can save and load (issue 14): `GET/POST /_mock/state`, `--seed-file` (YAML or JSON,
repeatable, checked against the spec's schemas and the store's rules, never half loaded),
`--reload`, and idle connections kept open."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from mock_support import ALL_ACCESS, P, REPO, ServedMock, bearer, client, create_insight  # noqa: F401
from mockserver import seedfile
from mockserver.settings import Settings

README = REPO / "README.md"
EXAMPLE_KEY = "phx_hedgebank_frontend_key_0001"
DEADLINE_S = 30.0
UVICORN_OLD_KEEP_ALIVE_S = 5


def readme_seed_file() -> str:
    text = README.read_text(encoding="utf-8")
    block = text[text.index("<!-- seed-example:start -->"):text.index("<!-- seed-example:end -->")]
    return re.search(r"```yaml\n(.*?)```", block, re.DOTALL).group(1)


def load(client, *paths: Path) -> dict[str, int]:
    server = client.app.state.server
    return seedfile.load_files(server.store, paths, server.spec, server.clock)


# Export and import ----------------------------------------------------------------------------------
def test_the_exported_state_loads_back_as_it_was(client):
    create_insight(client, name="Made before the export", tags=["saved"])
    client.post(f"{P}/insights/viewed/", json={"insight_ids": [3]})
    client.post("/_mock/keys", json={"scopes": ["insight:read"], "label": "Minted"})
    saved = client.get("/_mock/state").json()
    client.post("/_mock/reset", json={})
    assert client.get("/_mock/state").json() != saved
    response = client.post("/_mock/state", json=saved)
    assert response.status_code == 200 and response.json()["loaded"]["insights"] == 23
    assert client.get("/_mock/state").json() == saved
    assert client.get(f"{P}/insights/", params={"search": "Made before"}).json()["results"][0]["tags"] == ["saved"]


def test_keys_travel_hashed_and_still_work_after_a_load(client):
    value = client.post("/_mock/keys", json={"scopes": ["insight:read"]}).json()["value"]
    saved = client.get("/_mock/state").json()
    assert value not in json.dumps(saved)
    client.post("/_mock/reset", json={})
    client.post("/_mock/state", json=saved)
    assert client.get(f"{P}/insights/", headers=bearer(value)).status_code == 200


def test_one_projects_state_replaces_that_project_and_leaves_the_others(client):
    saved = client.get("/_mock/state", params={"project": 1}).json()
    assert saved["project"] == 1 and "users" not in saved
    assert {e["id"] for e in saved["environments"]} == {1, 3}
    client.patch(f"{P}/insights/1/", json={"name": "Changed in project 1"})
    client.patch("/api/projects/2/insights/20/", json={"name": "Changed in project 2"})
    assert client.post("/_mock/state", json=saved).status_code == 200
    assert client.get(f"{P}/insights/1/").json()["name"] == "Weekly signups"
    assert client.get("/api/projects/2/insights/20/").json()["name"] == "Changed in project 2"
    assert client.get("/_mock/state", params={"project": 1}).json() == saved


def test_an_unknown_project_cannot_be_exported(client):
    assert client.get("/_mock/state", params={"project": 99}).status_code == 400


# Seed files -----------------------------------------------------------------------------------------
def test_the_readme_example_seed_file_starts_the_mock(tmp_path):
    fixture = tmp_path / "hedgebank.yaml"
    fixture.write_text(readme_seed_file())
    with ServedMock(tmp_path / "seeded.sqlite3", "--seed-file", str(fixture)) as mock, \
            mock.client(headers=bearer(EXAMPLE_KEY)) as c:
        insights = c.get("/api/projects/10/insights/").json()["results"]
        assert [(i["name"], i["tags"], i["dashboards"]) for i in insights] == [("Checkout conversion", ["checkout"], [10])]
        assert c.get("/api/projects/10/insights/trending/").json()["results"][0]["id"] == 1  # viewed 2 hours ago
        assert c.get("/api/projects/10/elements/stats/").json()["results"][0]["elements"][0]["text"] == "Pay now"
        assert c.get("/api/users/@me/").json()["email"] == "lin@hedgebank.example"
        assert c.get("/api/users/@me/", headers=bearer(ALL_ACCESS)).status_code == 401  # no demo data, no demo keys


def test_seed_files_in_json_add_up_and_may_start_from_the_demo(client, tmp_path):
    first = tmp_path / "base.json"
    first.write_text(json.dumps({"base": "demo", "insights": [{"team_id": 1, "name": "From JSON", "query": {
        "kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}]}, "created_at": "-3d"}]}))
    second = tmp_path / "more.yaml"
    second.write_text("views:\n  - {user_id: 1, insight_id: 23, last_viewed_at: -1h}\n")
    assert load(client, first, second) == {"insights": 1, "views": 1}
    made = client.get(f"{P}/insights/23/").json()
    assert made["name"] == "From JSON" and made["created_at"] == "2026-11-20T12:00:00.000000Z"  # 3 days before the clock
    assert client.get(f"{P}/insights/").json()["count"] == 19  # the demo's 18 and this one


BAD_FILES = {
    "not yaml": ("insights: [{name: oops\n", "is not YAML or JSON (line 2, column 1)"),
    "unknown section": ("dashbaords: []\n", "dashbaords: unknown section"),
    "query against the spec": ("base: demo\ninsights:\n  - {team_id: 1, query: {kind: NotAQuery}}\n", "insights[0].query"),
    "missing reference": ("base: demo\ninsights:\n  - {team_id: 99, query: {kind: HogQuery, code: 'return 1'}}\n",
                          "insights[0].team_id: no environment 99 in the state being loaded"),
    "duplicate id": ("base: demo\ndashboards:\n  - {id: 1, team_id: 1, name: Again}\n",
                     "dashboards[0].id: 1 is used twice"),
    "label too long": ("base: demo\npersonal_api_keys:\n  - {user_id: 1, label: '" + "x" * 41 + "', value: phx_long_label_key_1, scopes: ['*']}\n",
                       "personal_api_keys[0].label"),
    "wrong type": ("base: demo\ninsights:\n  - {team_id: 1, favorited: 'yes', query: {kind: HogQuery, code: 'return 1'}}\n",
                   "insights[0].favorited: 'yes' is not true or false"),
    "taken short id": ("base: demo\ninsights:\n  - {team_id: 1, short_id: QZb2cxTK, query: {kind: HogQuery, code: 'return 1'}}\n",
                       "insights[0].short_id: 'QZb2cxTK' is taken in environment 1"),
}


@pytest.mark.parametrize("kind", BAD_FILES)
def test_a_bad_seed_file_names_the_file_the_place_and_the_problem_and_loads_nothing(client, tmp_path, kind):
    text, expected = BAD_FILES[kind]
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    client.post(f"{P}/insights/", json={"name": "Made before", "query": {"kind": "HogQuery", "code": "return 1"}})
    before = client.get("/_mock/state").json()
    with pytest.raises(seedfile.SeedFileError) as raised:
        load(client, bad)
    assert f"{bad}: " in str(raised.value) and expected in str(raised.value), str(raised.value)
    assert client.get("/_mock/state").json() == before


def test_a_bad_state_document_is_refused_and_changes_nothing(client):
    before = client.get("/_mock/state").json()
    response = client.post("/_mock/state", json={**before, "insights": [*before["insights"], {"team_id": 1, "query": None}]})
    assert response.status_code == 400
    assert "request body: insights[22]: an insight needs a query" in response.json()["detail"]
    assert client.get("/_mock/state").json() == before


def test_a_bad_seed_file_stops_the_start_and_leaves_the_database_as_it_was(tmp_path):
    db = tmp_path / "kept.sqlite3"
    with ServedMock(db) as mock, mock.client(headers=bearer()) as c:
        created = create_insight(c, name="Kept")
    bad = tmp_path / "bad.yaml"
    bad.write_text("insights:\n  - {team_id: 99}\n")
    done = subprocess.run([sys.executable, "-m", "mockserver", "serve", "--db", str(db), "--seed-file", str(bad)],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"{bad}: insights[0]: an insight needs a query" in done.stderr
    with ServedMock(db) as mock, mock.client(headers=bearer()) as c:
        assert c.get(f"{P}/insights/{created['id']}/").json()["name"] == "Kept"


def test_reset_goes_back_to_the_seed_files(tmp_path):
    fixture = tmp_path / "hedgebank.yaml"
    fixture.write_text(readme_seed_file())
    with ServedMock(tmp_path / "reset.sqlite3", "--seed-file", str(fixture)) as mock, \
            mock.client(headers=bearer(EXAMPLE_KEY)) as c:
        c.patch("/api/projects/10/insights/1/", json={"name": "Renamed"})
        assert c.post("/_mock/reset", json={}).status_code == 200
        assert c.get("/api/projects/10/insights/1/").json()["name"] == "Checkout conversion"


def test_reload_restarts_with_a_changed_seed_file(tmp_path):
    fixture = tmp_path / "hedgebank.yaml"
    fixture.write_text(readme_seed_file())
    with ServedMock(tmp_path / "reload.sqlite3", "--seed-file", str(fixture), "--reload") as mock:
        fixture.write_text(readme_seed_file().replace("name: Checkout conversion", "name: Edited in the fixture"))
        deadline = time.monotonic() + DEADLINE_S
        name = None
        while time.monotonic() < deadline and name != "Edited in the fixture":
            try:
                name = httpx.get(f"{mock.base_url}/api/projects/10/insights/1/", headers=bearer(EXAMPLE_KEY), timeout=2).json()["name"]
            except (httpx.TransportError, ValueError):
                pass  # the server is restarting
            time.sleep(0.1)  # poll interval, bounded by the deadline
        assert name == "Edited in the fixture"


def test_reload_is_for_one_process():
    with pytest.raises(ValueError, match="--reload restarts a single process"):
        Settings(reload=True, workers=2, db="x.sqlite3")


# Connections ----------------------------------------------------------------------------------------
def _request_on(sock: socket.socket, path: str) -> bytes:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {ALL_ACCESS}\r\n\r\n".encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(65536)
    head, _, body = answer.partition(b"\r\n\r\n")
    length = int(re.search(rb"content-length: (\d+)", head, re.IGNORECASE).group(1))
    while len(body) < length:
        body += sock.recv(65536)
    return head


def test_an_idle_connection_outlives_uvicorns_old_five_seconds(tmp_path):
    """PostHog's CLI pauses for seconds between two requests on one connection; a load balancer
    in front of PostHog keeps it 60 s. The pause here is the scenario, not a wait for something."""
    with ServedMock(tmp_path / "idle.sqlite3") as mock, socket.create_connection(("127.0.0.1", mock.port)) as sock:
        assert _request_on(sock, f"{P}/insights/1/").startswith(b"HTTP/1.1 200")
        time.sleep(UVICORN_OLD_KEEP_ALIVE_S + 1)
        assert _request_on(sock, f"{P}/insights/2/").startswith(b"HTTP/1.1 200")


def test_keep_alive_is_configurable(tmp_path):
    with ServedMock(tmp_path / "short.sqlite3", "--keep-alive", "1") as mock, socket.create_connection(("127.0.0.1", mock.port)) as sock:
        assert _request_on(sock, f"{P}/insights/1/").startswith(b"HTTP/1.1 200")
        sock.settimeout(DEADLINE_S)
        assert sock.recv(1) == b""  # the server closed the idle connection
