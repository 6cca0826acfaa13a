"""Remembered reads are exact: the same answer until the data changes, never across a write, never
for answers that move with the clock, never across callers (memo.py)."""

from __future__ import annotations

from mock_support import P, bearer, make_client, session_headers
from mockserver import Settings, create_app
from mockserver.store import Store


def counting_retrieves(client) -> list[int]:
    """One item per GET insight the handler answers (not the memo), from now on."""
    server = client.app.state.server
    handled: list[int] = []
    retrieve = server.handlers["insights_retrieve"]
    server.handlers = {**server.handlers, "insights_retrieve": lambda call: handled.append(1) or retrieve(call)}
    return handled


def test_a_read_is_answered_again_until_a_write_changes_it():
    client = make_client()
    handled = counting_retrieves(client)
    first = client.get(f"{P}/insights/1/")
    assert client.get(f"{P}/insights/1/").content == first.content
    assert len(handled) == 1, "the second read is the remembered answer"
    assert client.patch(f"{P}/insights/1/", json={"name": "Renamed"}).status_code == 200
    assert client.get(f"{P}/insights/1/").json()["name"] == "Renamed"
    assert len(handled) == 2


def test_unknown_keys_and_projects_are_refused_without_being_remembered():
    client = make_client()
    accounts = client.app.state.server.store.accounts
    for _ in range(2):  # the first notes the key's use: a write to the accounts, which forgets what was read
        assert client.get(f"{P}/insights/1/").status_code == 200
    remembered = len(accounts._cache)
    for n in range(50):
        assert client.get(f"{P}/insights/", headers=bearer(f"phx_fuzzed{n}")).status_code == 403
        assert client.get(f"/api/projects/{1000 + n}/insights/").status_code == 404
    assert len(accounts._cache) <= remembered
    assert not [key for key in accounts._cache if key[1] in range(1000, 1050) or str(key[1]).startswith("phx_fuzzed")]


def test_an_answer_is_remembered_per_caller():
    client = make_client()
    with_key = client.get(f"{P}/insights/1/").json()
    with_session = client.get(f"{P}/insights/1/", headers=session_headers(client)).json()
    assert "dashboards" in with_key and "dashboards" not in with_session  # served to keys, not to sessions


def test_answers_that_move_with_the_clock_are_not_remembered():
    client = make_client()
    insight = client.post(f"{P}/insights/", json={"name": "Fresh", "query": {"kind": "HogQuery", "code": "1"}}).json()
    recent = client.get(f"{P}/insights/", params={"created_date_from": "-1d", "limit": 100})
    assert insight["id"] in [i["id"] for i in recent.json()["results"]]
    trending = client.get(f"{P}/insights/trending/", params={"days": 1})
    assert insight["id"] in [i["id"] for i in trending.json()["results"]]
    client.clock.advance(days=3)  # no write, only time passes
    later = client.get(f"{P}/insights/", params={"created_date_from": "-1d", "limit": 100})
    assert insight["id"] not in [i["id"] for i in later.json()["results"]]
    trending = client.get(f"{P}/insights/trending/", params={"days": 1})
    assert insight["id"] not in [i["id"] for i in trending.json()["results"]]


def test_a_write_by_another_process_is_seen_at_once(tmp_path):
    db = str(tmp_path / "mock.sqlite3")
    from starlette.testclient import TestClient

    worker = TestClient(create_app(Settings(db=db)), headers=bearer())
    assert worker.get(f"{P}/insights/1/").json()["name"] == "Weekly signups"
    other = Store.open(db)  # another worker's connection to the same file
    with other.transaction(write=True):
        other.insights.update(1, {"name": "Renamed elsewhere"})
    assert worker.get(f"{P}/insights/1/").json()["name"] == "Renamed elsewhere"


def test_the_memo_can_be_turned_off_and_answers_are_the_same():
    remembered, fresh = make_client(), make_client(memo="off")
    for url in (f"{P}/insights/?limit=5", f"{P}/insights/2/", f"{P}/elements/values/?key=tag_name"):
        for _ in range(2):
            assert remembered.get(url).json() == fresh.get(url).json(), url
    assert fresh.app.state.server.memo is None and remembered.app.state.server.memo.answers


def test_page_links_follow_the_host_asked_even_when_the_page_is_remembered():
    client = make_client()
    assert "//testserver/" in client.get(f"{P}/insights/?limit=1").json()["next"]
    other_host = client.get(f"{P}/insights/?limit=1", headers={"host": "mock.local:8010"}).json()
    assert other_host["next"].startswith("http://mock.local:8010/")


def test_a_get_with_a_body_is_not_answered_from_memory():
    client = make_client()
    assert client.get(f"{P}/insights/1/").status_code == 200
    response = client.request("GET", f"{P}/insights/1/", content=b"{", headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json()["code"] == "parse_error"


def test_a_remembered_insight_outlives_a_write_to_another_insight_but_not_one_to_itself():
    client = make_client()
    handled = counting_retrieves(client)
    first = client.get(f"{P}/insights/1/")
    assert client.patch(f"{P}/insights/2/", json={"name": "Another one renamed"}).status_code == 200
    assert client.get(f"{P}/insights/1/").content == first.content
    assert len(handled) == 1, "a write to insight 2 leaves insight 1's answer good"
    assert client.patch(f"{P}/insights/1/", json={"tags": ["fresh"]}).status_code == 200
    assert client.get(f"{P}/insights/1/").json()["tags"] == ["fresh"]
    assert len(handled) == 2


def test_a_remembered_insight_is_answered_anew_once_its_result_is_cached():
    client = make_client()
    computable = next(i["id"] for i in client.get(f"{P}/insights/").json()["results"]
                      if client.get(f"{P}/insights/{i['id']}/").json()["result"] is None
                      and client.get(f"{P}/insights/{i['id']}/", params={"refresh": "blocking"}).json()["result"] is not None)
    assert client.get(f"{P}/insights/{computable}/").json()["result"] is not None  # the cached result, not the remembered null


def test_a_remembered_insight_reads_its_stamps_only_once_the_database_has_changed():
    client = make_client()
    insights = client.app.state.server.store.insights
    read, asked = insights.answer_stamps, []
    insights.answer_stamps = lambda project_id, ident: asked.append(ident) or read(project_id, ident)
    for _ in range(3):
        client.get(f"{P}/insights/1/")
    assert asked == ["1"], "the first read keeps the stamps; the next ones see the generation unmoved"
    client.patch(f"{P}/insights/2/", json={"name": "Elsewhere"})
    for _ in range(3):
        client.get(f"{P}/insights/1/")
    assert asked == ["1", "1"], "after a write, one read checks the stamps and the answer is good again"
