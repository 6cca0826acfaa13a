"""Hardening (issue 12): no 500 from any input, no request that stalls the others, an admin
surface no web page can reach, a reset no other worker sees half-done, clear start-up errors."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from starlette.testclient import TestClient

from mock_support import ALL_ACCESS, KEYS, P, REPO, ServedMock, assert_error, bearer, client, free_port  # noqa: F401
from mockserver import Settings, create_app
from mockserver.clock import FrozenClock
from mockserver.store import search
from posthog_spec import default_spec

SPEC = default_spec()
TEXTS = SPEC.texts
LOCAL_PAGE = "http://localhost:5173"


# 1. No 500 from a long filter list; the last resort answers in PostHog's shape ----------------------------
@pytest.mark.parametrize("param, item", [("dashboards", "1"), ("events", '"$pageview"'), ("created_by", "1"), ("tags", '"kpi"')])
def test_a_filter_list_of_a_thousand_and_more_items_is_answered(client, param, item):
    response = client.get(f"{P}/insights/", params={param: "[" + ",".join([item] * 1500) + "]"})
    assert response.status_code == 200, response.text


def test_a_dashboards_filter_still_needs_every_dashboard_when_repeated(client):
    on_both = {i["id"] for i in client.get(f"{P}/insights/", params={"dashboards": "[1,2]"}).json()["results"]}
    repeated = {i["id"] for i in client.get(f"{P}/insights/", params={"dashboards": "[1,2,2,1,2]"}).json()["results"]}
    assert on_both == repeated == {2}


@pytest.fixture
def crashing():
    """A mock (strict mode off) whose retrieve handler has a bug."""
    app = create_app(Settings(db=":memory:"), clock=FrozenClock())
    server = app.state.server

    def broken(call):
        raise RuntimeError("a bug in a handler")
    server.handlers = {**server.handlers, "insights_retrieve": broken}
    with TestClient(app, headers=bearer(), raise_server_exceptions=False) as c:
        yield c, server


def test_an_unexpected_error_answers_posthogs_500_with_cors_and_is_journalled(crashing, caplog):
    c, server = crashing
    response = c.get(f"{P}/insights/1/", headers={"Origin": LOCAL_PAGE})
    assert_error(response, 500, TEXTS["server_error"].fill(), code="error", type="server_error", attr=None)
    assert response.headers["access-control-allow-origin"] == LOCAL_PAGE
    assert "a bug in a handler" in caplog.text and "Traceback" in caplog.text
    entry = c.get("/_mock/requests").json()
    assert entry["server_errors"] == 1
    assert entry["results"][0]["status"] == 500 and "RuntimeError: a bug in a handler" in entry["results"][0]["problems"]


def test_an_unexpected_error_writes_nothing(crashing):
    c, server = crashing

    def half_done(call):
        call.store.insights.update(1, {"name": "half written"})
        raise RuntimeError("after a write")
    server.handlers = {**server.handlers, "insights_partial_update": half_done}
    assert c.patch(f"{P}/insights/1/", json={"name": "x"}).status_code == 500
    with server.store.transaction():
        assert server.store.insights.by_id_or_short_id(1, "1")["name"] == "Weekly signups"


def test_strict_mode_raises_on_an_unexpected_error():
    app = create_app(Settings(db=":memory:", strict=True), clock=FrozenClock())
    app.state.server.handlers = {**app.state.server.handlers, "insights_retrieve": lambda call: 1 / 0}
    with TestClient(app, headers=bearer()) as c, pytest.raises(ZeroDivisionError):
        c.get(f"{P}/insights/1/")


FUZZ_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats(allow_nan=False) | FUZZ_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(FUZZ_TEXT, inner, max_size=4), max_leaves=12)


@st.composite
def requests(draw):
    """Any operation of the spec, with path values, query parameters, a body and headers drawn
    from what its parameters name and from anything at all."""
    operation = draw(st.sampled_from(SPEC.operations))
    values = {"project_id": "1", "environment_id": "1"}
    path = operation.path_for(**{p.name: quote(draw(st.sampled_from([values.get(p.name, "1"), "QZb2cxTK", "@current"])
                                                    | FUZZ_TEXT.filter(lambda t: t not in ("", ".", ".."))), safe="@")
                                 for p in operation.parameters if p.location == "path"})
    names = [p.name for p in operation.parameters if p.location == "query"] + ["personal_api_key", "x"]
    query = draw(st.dictionaries(st.sampled_from(names), FUZZ_TEXT | JSON_VALUES.map(json.dumps), max_size=4))
    body = draw(st.none() | JSON_VALUES.map(lambda v: json.dumps(v).encode()) | st.binary(max_size=60))
    content_type = draw(st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", "",
                                         "application/x-www-form-urlencoded", "application/vnd.api+json"]))
    authorization = draw(st.sampled_from([f"Bearer {ALL_ACCESS}", f"Bearer {KEYS['insights-read']}", "Bearer phx_nope",
                                          "Basic eDp5", "", f"bearer  {ALL_ACCESS} "]))
    method = draw(st.sampled_from([operation.method, operation.method, "HEAD", "OPTIONS", "TRACE", "PUT"]))
    headers = {"Authorization": authorization, **({"Content-Type": content_type} if content_type else {})}
    return method, path, query, body, headers


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(request=requests())
def test_no_input_makes_the_mock_answer_a_server_error(client, request):
    """In strict mode, so an exception or an answer the spec does not allow fails here too."""
    method, path, query, body, headers = request
    response = client.request(method, path, params=query, content=body, headers=headers)
    assert response.status_code < 500, (method, path, query, body, response.text)


# 2. Search follows its matches; a scanning read does not hold the event loop ----------------------------------
@settings(max_examples=60, deadline=None)
@given(names=st.lists(st.text(st.sampled_from("abcdexyz 1#é"), max_size=16), min_size=1, max_size=12),
       term=st.text(st.sampled_from("abcdexyz 1#é"), min_size=1, max_size=10))
def test_similar_search_from_the_index_is_pg_trgm_similarity(names, term):
    """The counts read from the index give exactly what scoring every name would."""
    app = create_app(Settings(db=":memory:", seed="empty"), clock=FrozenClock())
    store = app.state.server.store
    with store.transaction(write=True):
        for n, name in enumerate(names, start=1):
            store.insights.insert({"team_id": 1, "project_id": 1, "short_id": f"s{n:07d}", "name": name,
                                   "updated_at": "x", "last_modified_at": "x"})
        brute = {n: search.similarity(term, name) for n, name in enumerate(names, start=1)}
        found = search.similar_insights(store.db.connection, term)
    assert found.keys() == {n for n, score in brute.items() if score >= search.SIMILARITY_THRESHOLD}
    assert all(abs(found[n] - brute[n]) < 1e-9 for n in found)


@pytest.mark.parametrize("term, expected", [("100%", {"Conversion 100% day"}), ("a_b", {"a_b rate"}),
                                            ("*", {"Stars * here"}), ("[x]", {"Tag [x] test"})])
def test_exact_search_takes_special_characters_literally(client, term, expected):
    for name in ("Conversion 100% day", "Conversion 1000 day", "a_b rate", "axb rate", "Stars * here", "Tag [x] test"):
        client.post(f"{P}/insights/", json={"name": name, "query": {"kind": "TrendsQuery", "series": []}})
    results = client.get(f"{P}/insights/", params={"search": term}).json()["results"]
    assert {r["name"] for r in results} == expected and {r["search_match_type"] for r in results} == {"exact"}


def test_a_scanning_read_runs_off_the_event_loop(tmp_path):
    """While element stats is held inside its handler, a GET of an insight is answered."""
    app = create_app(Settings(db=str(tmp_path / "mock.sqlite3"), strict=True), clock=FrozenClock())
    server = app.state.server
    inside, release = threading.Event(), threading.Event()
    stats = server.handlers["elements_stats_retrieve"]

    def held(call):
        inside.set()
        release.wait(30)
        return stats(call)
    server.handlers = {**server.handlers, "elements_stats_retrieve": held}

    async def scenario() -> tuple[int, bool, int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=bearer()) as http:
            slow = asyncio.create_task(http.get(f"{P}/elements/stats/"))
            await asyncio.to_thread(inside.wait, 30)
            quick = await http.get(f"{P}/insights/1/")
            still_held = not slow.done()
            release.set()
            return quick.status_code, still_held, (await slow).status_code

    assert asyncio.run(scenario()) == (200, True, 200)


# 3. The admin surface: no web page can reach it ----------------------------------------------------------
def test_admin_writes_need_a_json_body_type_and_mint_nothing_otherwise(client):
    before = len(client.get("/_mock/requests").json()["results"])
    refused = client.post("/_mock/keys", content='{"scopes": ["*"]}', headers={"Content-Type": "text/plain"})
    assert_error(refused, 415, TEXTS["unsupported_media_type"].fill(media_type="text/plain"))
    assert_error(client.post("/_mock/reset"), 415)
    assert len(client.get("/_mock/requests").json()["results"]) == before  # nothing reached the API either


def test_admin_refuses_a_foreign_web_page(client):
    assert_error(client.post("/_mock/reset", json={}, headers={"Origin": "https://evil.example"}), 403)
    assert client.post("/_mock/session", json={}, headers={"Origin": LOCAL_PAGE}).status_code == 201


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8010", "192.168.1.5:8010"])
def test_admin_refuses_a_host_name_that_is_not_loopback(client, host):
    """DNS rebinding: a foreign page whose name now points at 127.0.0.1 cannot read the demo keys."""
    assert_error(client.get("/_mock/demo", headers={"Host": host}), 403)


def test_admin_answers_a_host_name_it_was_given():
    app = create_app(Settings(db=":memory:", strict=True, allowed_hosts=("mock.dev.internal",)), clock=FrozenClock())
    with TestClient(app) as c:
        assert c.get("/_mock/demo", headers={"Host": "mock.dev.internal:8010"}).status_code == 200
        assert_error(c.get("/_mock/demo", headers={"Host": "other.internal"}), 403)


def test_admin_bodies_obey_the_size_limit_and_labels_their_length(client):
    assert_error(client.post("/_mock/keys", json={"scopes": ["*"], "label": "x" * 2_000_000}), 413)
    assert_error(client.post("/_mock/keys", json={"scopes": ["*"], "label": "x" * 41}), 400, attr="label")
    assert client.post("/_mock/keys", json={"scopes": ["*"], "label": "x" * 40}).status_code == 201


# 4. CORS with credentials never reflects every origin --------------------------------------------------------
def test_a_wildcard_cors_origin_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="name the origins"):
        Settings(cors_origins=("*",))


# 5. Reset is one transaction ----------------------------------------------------------------------------------
def test_a_reset_is_never_seen_half_done_by_another_worker(tmp_path):
    """Seeding 3,000 insights takes long enough that reads on the other worker meet it."""
    with ServedMock(tmp_path / "mock.sqlite3", "--workers", "2", "--scale", "3000") as mock:
        statuses: list[int] = []
        done = threading.Event()

        def read() -> None:
            with mock.client(headers=bearer()) as http:
                while not done.is_set():
                    statuses.append(http.get(f"{P}/insights/1/").status_code)

        readers = [threading.Thread(target=read) for _ in range(4)]
        for reader in readers:
            reader.start()
        with mock.client() as admin:
            for _ in range(8):
                assert admin.post("/_mock/reset", json={}).status_code == 200
        done.set()
        for reader in readers:
            reader.join(30)
    assert len(statuses) > 15 and set(statuses) == {200}, sorted(set(statuses))


# 8. Start-up problems: one clear line and a non-zero exit -------------------------------------------------------
def serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mockserver", "serve", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60)


def test_a_port_out_of_range_is_refused_before_anything_starts():
    done = serve("--port", "99999", "--db", ":memory:")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == ["posthog-mock: port must be between 1 and 65535 (got 99999)"]


@pytest.mark.parametrize("make_db", [lambda d: d / "no" / "such" / "dir.sqlite3", lambda d: _not_a_database(d)])
def test_a_database_that_cannot_be_used_is_one_line(tmp_path, make_db):
    done = serve("--db", str(make_db(tmp_path)), "--port", str(free_port()))
    assert done.returncode == 1 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("posthog-mock: cannot use ") and "Traceback" not in done.stderr


def _not_a_database(directory):
    path = directory / "notes.sqlite3"
    path.write_text("these are notes, not a database\n" * 100)
    return path


def test_a_port_in_use_is_reported_before_the_banner(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = serve("--db", str(tmp_path / "m.sqlite3"), "--port", str(port))
    assert done.returncode == 1 and "serving" not in done.stdout
    assert done.stderr.strip() == f"posthog-mock: cannot listen on 127.0.0.1:{port}: Address already in use"


# 9. NUL characters -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("body, attr", [({"name": "a\x00b"}, "name"), ({"description": "\x00"}, "description"),
                                        ({"tags": ["fine", "no\x00"]}, "tags__1")])
def test_nul_characters_in_text_fields_are_refused_and_nothing_is_written(client, body, attr):
    before = client.get(f"{P}/insights/1/").json()
    assert_error(client.patch(f"{P}/insights/1/", json=body), 400, TEXTS["null_characters"].fill(),
                 code="null_characters_not_allowed", attr=attr)
    assert client.get(f"{P}/insights/1/").json() == before


def test_nul_characters_in_element_fields_are_refused(client):
    assert_error(client.post(f"{P}/elements/", json={"text": "a\x00"}), 400, code="null_characters_not_allowed", attr="text")


# Integers beyond 64 bits, echoed back (issue 17) -----------------------------------------------------------
BIG = -4730891809144454512640


def test_an_integer_beyond_64_bits_is_echoed_back_in_json_and_csv(client):
    override = json.dumps({"breakdown_filter": {"breakdown": [BIG]}})
    answer = client.get(f"{P}/insights/1/", params={"filters_override": override})
    assert answer.status_code == 200
    assert answer.json()["filter_override_context"]["dashboard"]["breakdown_filter"]["breakdown"] == [BIG]
    as_csv = client.get(f"{P}/insights/1/", params={"filters_override": override, "format": "csv"})
    assert as_csv.status_code == 200 and str(BIG) in as_csv.text


def test_a_stored_query_with_an_integer_beyond_64_bits_is_answered_everywhere(client):
    query = {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview", "math_property": "x"}],
             "breakdownFilter": {"breakdown": BIG}}
    created = client.post(f"{P}/insights/", json={"name": "big", "query": query})
    assert created.status_code == 201, created.text
    insight = created.json()["id"]
    assert client.patch(f"{P}/insights/{insight}/", json={"query": {**query, "breakdownFilter": {"breakdown": BIG - 1}}}).status_code == 200
    activity = client.get(f"{P}/insights/{insight}/activity/")
    assert activity.status_code == 200 and str(BIG - 1) in activity.text
    assert client.get(f"{P}/insights/", params={"search": "big"}).status_code == 200
