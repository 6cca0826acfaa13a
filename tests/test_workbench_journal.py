"""The request journal and the workbench page's footing on the admin surface (issue 14): one
journal for all workers, bounded, with bodies (keys masked), callers, 5xx answers and filters;
the page served on loopback, its writes passing the admin surface's rules."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import pytest
from starlette.testclient import TestClient

from mock_support import ALL_ACCESS, KEYS, P, ServedMock, bearer, client, make_client  # noqa: F401
from mockserver import sidecar
from mockserver.app import create_app
from mockserver.clock import FrozenClock
from mockserver import journal as journal_module
from mockserver.journal import Entry, Journal
from mockserver.settings import Settings

DEADLINE_S = 10.0


def test_an_entry_holds_the_bodies_the_caller_and_the_time_taken(client):
    client.post(f"{P}/insights/", json={"name": "Journalled", "query": {"kind": "HogQuery", "code": "return 1"}})
    entry = client.get("/_mock/requests").json()["results"][0]
    assert entry["caller"] == "All access (Ada)" and entry["duration_ms"] > 0 and entry["status"] == 201
    detail = client.get(f"/_mock/requests/{entry['id']}").json()
    assert '"name":"Journalled"' in detail["request"]["body"] and detail["request"]["content_type"] == "application/json"
    assert '"name":"Journalled"' in detail["response"]["body"] and detail["response"]["truncated"] is False


def test_keys_never_reach_the_journal_whole(client):
    client.get(f"{P}/insights/", params={"personal_api_key": KEYS["insights-read"]}, headers={"Authorization": ""})
    client.post(f"{P}/insights/", json={"personal_api_key": ALL_ACCESS, "query": {"kind": "HogQuery", "code": "return 1"}},
                headers={"Authorization": ""})
    entries = client.get("/_mock/requests").json()["results"]
    shown = str(entries) + str([client.get(f"/_mock/requests/{e['id']}").json() for e in entries])
    assert KEYS["insights-read"] not in shown and ALL_ACCESS not in shown
    assert f"personal_api_key={KEYS['insights-read'][:4]}...{KEYS['insights-read'][-4:]}" in entries[1]["query"]


def test_a_session_is_named_as_the_caller(client):
    cookie = client.post("/_mock/session", json={}).json()["sessionid"]
    client.cookies.clear()
    client.get("/api/users/@me/", headers={"Authorization": "", "Cookie": f"sessionid={cookie}"})
    assert client.get("/_mock/requests").json()["results"][0]["caller"] == "session of ada@hogflix.io"


def test_the_journal_filters_by_status_and_operation(client):
    client.get(f"{P}/insights/1/")
    client.get(f"{P}/insights/", headers=bearer(KEYS["elements"]))
    client.get("/api/environments/1/insights/")
    by_status = client.get("/_mock/requests", params={"status": "4xx"}).json()["results"]
    assert [(e["operation_id"], e["status"]) for e in by_status] == [("insights_list", 403)]
    by_operation = client.get("/_mock/requests", params={"operation": "insights_list"}).json()["results"]
    assert [e["operation_id"] for e in by_operation] == ["environments_insights_list", "insights_list"]
    newest = by_operation[0]["id"]
    client.get(f"{P}/insights/2/")
    assert [e["path"] for e in client.get("/_mock/requests", params={"after": newest}).json()["results"]] == [f"{P}/insights/2/"]


def test_the_journal_keeps_its_newest_entries_only():
    c = make_client(journal_size=3)
    for n in range(1, 6):
        c.get(f"{P}/insights/{n}/")
    assert [e["path"] for e in c.get("/_mock/requests").json()["results"]] == [f"{P}/insights/{n}/" for n in (5, 4, 3)]


def entry(n: int) -> Entry:
    return Entry(at=FrozenClock().now(), method="GET", path=f"/api/projects/1/insights/{n}/", operation_id="insights_retrieve",
                 status=200)


def test_entries_pushed_out_before_they_are_written_are_never_written():
    journal = Journal(sidecar.connect(":memory:"), size=3)
    for n in range(1, 11):  # no event loop here: they wait until read
        journal.add(entry(n))
    assert [e["path"] for e in journal.recent(10)] == [f"/api/projects/1/insights/{n}/" for n in (10, 9, 8)]
    assert journal.connection.execute("SELECT max(id) FROM journal").fetchone()[0] == 3  # ids are never reused


def test_a_served_mocks_journal_is_written_by_a_thread_of_its_own_not_the_event_loop(tmp_path, monkeypatch):
    monkeypatch.setattr(journal_module, "FLUSH_DELAY_S", 0.05)
    db = str(tmp_path / "mock.sqlite3")
    writer, threads = sidecar.connect(db), []
    writer.set_trace_callback(lambda sql: threads.append(threading.current_thread().name) if sql.startswith("INSERT INTO journal ") else None)
    journal = Journal(sidecar.connect(db), size=10, writer=writer)

    async def requests_then_a_pause() -> None:
        for n in range(1, 6):
            journal.add(entry(n))
        await asyncio.sleep(0.2)  # the batch goes on its own

    asyncio.run(requests_then_a_pause())
    assert [e["path"] for e in journal.recent(10)] == [f"/api/projects/1/insights/{n}/" for n in range(5, 0, -1)]
    assert threads and all(name.startswith("journal") for name in threads), threads


def test_a_batch_the_writer_thread_cannot_write_is_logged(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(journal_module, "FLUSH_DELAY_S", 0.05)
    db = str(tmp_path / "mock.sqlite3")
    writer = sidecar.connect(db)
    journal = Journal(sidecar.connect(db), size=10, writer=writer)
    writer.close()  # every write now fails

    async def a_request_then_a_pause() -> None:
        journal.add(entry(1))
        await asyncio.sleep(0.2)

    asyncio.run(a_request_then_a_pause())
    assert "the request journal could not write a batch" in caplog.text


def test_a_repeated_answer_is_stored_once_and_forgotten_with_its_entries():
    c = make_client(journal_size=3)
    for _ in range(3):  # the memo answers the same bytes each time
        c.get(f"{P}/insights/?limit=100")
    entries = c.get("/_mock/requests").json()["results"]
    bodies = {c.get(f"/_mock/requests/{e['id']}").json()["response"]["body"] for e in entries}
    assert len(bodies) == 1 and '"results"' in bodies.pop()
    journal = c.app.state.server.journal
    assert journal.connection.execute("SELECT count(*) FROM journal_bodies").fetchone()[0] == 1
    for n in (1, 2, 3):
        c.get(f"{P}/insights/{n}/")
    journal.flush()
    assert journal.connection.execute("SELECT count(*) FROM journal_bodies").fetchone()[0] == 3


def test_a_journal_written_by_an_older_mock_is_replaced(tmp_path):
    db = tmp_path / "old.sqlite3"
    old = sqlite3.connect(sidecar.path_for(str(db)))
    old.execute("CREATE TABLE journal (id INTEGER PRIMARY KEY, request_body BLOB, request_size INTEGER)")
    old.commit()
    old.close()
    with ServedMock(db) as mock, mock.client(headers=bearer()) as c:
        assert c.get(f"{P}/insights/1/").status_code == 200
        entry = c.get("/_mock/requests").json()["results"][0]
        assert c.get(f"/_mock/requests/{entry['id']}").json()["response"]["body"].startswith('{"id":1,')


def test_server_errors_are_in_the_journal():
    app = create_app(Settings(db=":memory:"), clock=FrozenClock())
    app.state.server.handlers = {**app.state.server.handlers, "insights_retrieve": lambda call: 1 / 0}
    with TestClient(app, headers=bearer(), raise_server_exceptions=False) as c:
        assert c.get(f"{P}/insights/1/").status_code == 500
        entry = c.get("/_mock/requests", params={"status": "5xx"}).json()["results"][0]
    assert entry["operation_id"] == "insights_retrieve" and "ZeroDivisionError: division by zero" in entry["problems"]


def test_every_worker_reads_the_same_journal(tmp_path):
    with ServedMock(tmp_path / "shared.sqlite3", "--workers", "2") as mock:
        for n in range(1, 21):  # new connections, spread over both workers
            with mock.client(headers=bearer()) as c:
                assert c.get(f"{P}/insights/{n % 10 + 1}/", params={"n": n}).status_code == 200
        deadline = time.monotonic() + DEADLINE_S
        reads: list[list[int]] = []
        while time.monotonic() < deadline:
            with mock.client() as c:
                results = c.get("/_mock/requests", params={"limit": 100}).json()["results"]
            reads.append([e["id"] for e in results])
            if len(results) == 20 and len(reads) >= 4 and reads[-1] == reads[-2] == reads[-3]:
                break
            time.sleep(0.05)  # poll interval, bounded by the deadline
        workers = {e["worker"] for e in results}
    assert len(results) == 20 and len(workers) == 2, (len(results), workers)
    assert reads[-1] == reads[-2] == reads[-3]


# The page ----------------------------------------------------------------------------------------
def test_the_root_leads_to_the_workbench_page(client):
    assert client.get("/", follow_redirects=False).headers["location"] == "/_mock/"
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "PostHog mock" in page.text and "/_mock/assets/swagger-ui/swagger-ui-bundle.js" in page.text
    assert client.get("/_mock/assets/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_other_methods_on_the_root_stay_the_apis(client):
    assert client.post("/", json={}).json()["detail"] == "Endpoint not found."


def test_the_overview_shows_the_keys_projects_and_modes(client):
    overview = client.get("/_mock/overview").json()
    assert overview["auth"] == "keys" and overview["explorer_key"] == ALL_ACCESS
    assert {k["label"]: k["value"] for k in overview["keys"]}["Elements read-write (Ada)"] == KEYS["elements"]
    assert [p["id"] for o in overview["organizations"] for p in o["projects"]] == [1, 2, 4]
    assert overview["organizations"][0]["projects"][0]["environments"] == [{"id": 1, "name": "Hogflix Web"},
                                                                          {"id": 3, "name": "Hogflix Web (staging)"}]


def test_the_fidelity_notes_are_the_specs(client):
    sections = client.get("/_mock/fidelity").json()["sections"]
    assert sections[0]["title"] == "All operations"
    assert any(s["code"] == "insights_list" for s in sections)


@pytest.mark.parametrize("origin,allowed", [
    ("http://testserver", True),  # the page itself, served by the mock
    ("http://localhost:5173", True),  # a local frontend, inside the CORS policy
    ("https://evil.example", False),
])
def test_the_pages_writes_pass_the_admin_surfaces_rules(client, origin, allowed):
    response = client.post("/_mock/faults", json={"effect": {"latency": 1}}, headers={"Origin": origin})
    assert (response.status_code == 201) is allowed
    cleared = client.request("DELETE", "/_mock/faults", headers={"Origin": origin})
    assert (cleared.status_code == 200) is allowed


def test_a_write_that_is_not_json_is_refused_even_from_the_page(client):
    response = client.post("/_mock/faults", content=b"effect=drop", headers={"Origin": "http://testserver",
                                                                             "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 415
