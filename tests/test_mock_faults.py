"""Faults and latency (issue 14): rules through /_mock/faults, `--latency`, `--fail-rate`,
`--fault-seed` and the `Prefer` header; every effect, rules that match and rules that do not,
`times`, writes left unchanged, the journal marking every injected fault, and the contracts
refusing to run against a mock with faults active."""

from __future__ import annotations

from typing import Iterator

import httpx
import pytest
from starlette.testclient import TestClient

from contracts.preflight import TargetUnusable
from contracts.runner import Options, run
from contracts.target import Target
from mock_support import KEYS, P, ServedMock, assert_error, bearer, client, create_insight, make_client  # noqa: F401
from mockserver.app import create_app
from mockserver.clock import FrozenClock
from mockserver.faults import ConnectionDropped
from mockserver.settings import Settings
from posthog_spec import default_spec

TEXTS = default_spec().texts


def add_fault(client: TestClient, **rule: object) -> dict:
    response = client.post("/_mock/faults", json=rule)
    assert response.status_code == 201, response.text
    return response.json()


def last_entry(client: TestClient) -> dict:
    return client.get("/_mock/requests", params={"limit": 1}).json()["results"][0]


class Sleeps:
    """The faults' sleep, recorded instead of waited (the time asked for is what is checked)."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)


@pytest.fixture
def sleeps(client) -> Iterator[Sleeps]:
    faults = client.app.state.server.faults
    kept, faults.sleep = faults.sleep, Sleeps()
    yield faults.sleep
    faults.sleep = kept


# Effects ------------------------------------------------------------------------------------------
def test_a_status_rule_answers_posthogs_error_body_for_that_status(client):
    add_fault(client, match={"operation_id": "insights_retrieve"}, effect={"status": 500})
    assert_error(client.get(f"{P}/insights/1/"), 500, TEXTS["server_error"].fill(), type="server_error", code="error")


def test_a_429_carries_retry_after_as_posthogs_throttle_does(client):
    add_fault(client, effect={"status": 429, "retry_after": 30})
    response = client.get(f"{P}/insights/")
    assert_error(response, 429, TEXTS["throttled"].fill(wait=30), code="throttled")
    assert response.headers["retry-after"] == "30"


def test_a_401_is_posthogs_with_its_www_authenticate(client):
    add_fault(client, effect={"status": 401})
    response = client.get(f"{P}/insights/")
    assert_error(response, 401, TEXTS["not_authenticated"].fill())
    assert "resource_metadata" in response.headers["www-authenticate"]


@pytest.mark.parametrize("status,title", [(502, "502 Bad Gateway"), (503, "503 Service Temporarily Unavailable"),
                                          (504, "504 Gateway Time-out")])
def test_gateway_statuses_answer_a_proxys_page_not_posthogs_json(client, status, title):
    add_fault(client, effect={"status": status})
    response = client.get(f"{P}/insights/")
    assert response.status_code == status and response.headers["content-type"].startswith("text/html")
    assert f"<title>{title}</title>" in response.text


def test_latency_delays_the_answer_by_the_time_asked(client, sleeps):
    add_fault(client, match={"method": "GET"}, effect={"latency": 1500})
    assert client.get(f"{P}/insights/1/").status_code == 200
    assert sleeps.asked == [1.5]
    assert last_entry(client)["fault"]["latency_ms"] == 1500


def test_a_latency_range_is_drawn_within_its_bounds(client, sleeps):
    add_fault(client, effect={"latency": "100-300"})
    for _ in range(20):
        client.get(f"{P}/insights/1/")
    assert len(sleeps.asked) == 20 and all(0.1 <= s <= 0.3 for s in sleeps.asked) and len(set(sleeps.asked)) > 1


def test_a_dropped_connection_is_an_exception_in_process(client):
    add_fault(client, effect={"drop": True})
    with pytest.raises(ConnectionDropped):
        client.get(f"{P}/insights/")


def test_over_a_socket_a_dropped_connection_closes_without_an_answer(tmp_path):
    with ServedMock(tmp_path / "drop.sqlite3") as mock, mock.client(headers=bearer()) as c:
        c.post("/_mock/faults", json={"match": {"operation_id": "insights_list"}, "effect": {"drop": True}, "times": 1})
        with pytest.raises(httpx.RemoteProtocolError):
            c.get(f"{P}/insights/")
        assert c.get(f"{P}/insights/").status_code == 200  # the next call, on a new connection
        entry = next(e for e in c.get("/_mock/requests").json()["results"] if e["fault"])
        assert entry["fault"] == {"rules": [entry["fault"]["rules"][0]], "drop": True} and entry["status"] == 0


def test_over_a_socket_a_slow_body_arrives_in_pieces_and_whole(tmp_path):
    with ServedMock(tmp_path / "slow.sqlite3") as mock, mock.client(headers=bearer()) as c:
        whole = c.get(f"{P}/insights/").content
        c.post("/_mock/faults", json={"match": {"path": "/api/projects/*/insights/"}, "effect": {"slow_body": 300}})
        with c.stream("GET", f"{P}/insights/") as response:
            assert response.status_code == 200
            pieces = list(response.iter_raw())
    assert len(pieces) > 1 and b"".join(pieces) == whole


# Matching ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("match,path,headers,hit", [
    ({"operation_id": "insights_list"}, f"{P}/insights/", {}, True),
    ({"operation_id": "insights_list"}, "/api/environments/1/insights/", {}, True),  # both prefixes
    ({"operation_id": "environments_insights_list"}, f"{P}/insights/", {}, False),
    ({"operation_id": "insights_list"}, f"{P}/insights/1/", {}, False),
    ({"method": "post"}, f"{P}/insights/", {}, False),
    ({"path": "/api/projects/*/insights/*/"}, f"{P}/insights/1/", {}, True),
    ({"path": "/api/projects/*/insights/*/"}, f"{P}/insights/", {}, False),
    ({"project": 2}, "/api/projects/2/insights/", {}, True),
    ({"project": 2}, f"{P}/insights/", {}, False),
    ({"key_label": "Insights read-only (Ada)"}, f"{P}/insights/", bearer(KEYS["insights-read"]), True),
    ({"key_label": "Insights read-only (Ada)"}, f"{P}/insights/", {}, False),
])
def test_a_rule_changes_only_the_calls_it_matches(client, match, path, headers, hit):
    add_fault(client, match=match, effect={"status": 503})
    assert (client.get(path, headers=headers).status_code == 503) is hit


def test_times_counts_the_calls_a_rule_changes_then_it_is_gone(client):
    rule = add_fault(client, match={"operation_id": "insights_retrieve"}, effect={"status": 500}, times=2)
    assert rule["remaining"] == 2
    client.get(f"{P}/insights/")  # not matched: no turn taken
    assert [client.get(f"{P}/insights/1/").status_code for _ in range(3)] == [500, 500, 200]
    assert client.get("/_mock/faults").json() == {**client.get("/_mock/faults").json(), "active": False, "rules": []}


def test_the_first_rule_answers_and_later_ones_keep_their_turns(client):
    add_fault(client, effect={"status": 503}, times=1)
    second = add_fault(client, effect={"status": 500}, times=1)
    assert client.get(f"{P}/insights/").status_code == 503
    assert [r["id"] for r in client.get("/_mock/faults").json()["rules"]] == [second["id"]]
    assert client.get(f"{P}/insights/").status_code == 500


def test_a_probability_follows_the_fault_seed():
    def outcomes() -> list[int]:
        c = make_client(fault_seed=7)
        c.post("/_mock/faults", json={"effect": {"status": 503}, "probability": 0.5})
        return [c.get(f"{P}/insights/1/").status_code for _ in range(30)]
    first, again = outcomes(), outcomes()
    assert first == again and {200, 503} == set(first)


# Writes ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("effect", [{"status": 500}, {"status": 503}, {"status": 429}, {"latency": 0, "status": 502}])
def test_a_write_under_an_injected_failure_changes_nothing(client, effect):
    before = client.get("/_mock/state").json()
    add_fault(client, match={"method": "POST"}, effect=effect)
    assert client.post(f"{P}/insights/", json={"name": "Never made", "query": {"kind": "TrendsQuery", "series": []}}).status_code == effect["status"]
    add_fault(client, match={"method": "PATCH"}, effect=effect)
    assert client.patch(f"{P}/insights/1/", json={"name": "Never renamed"}).status_code == effect["status"]
    assert client.get("/_mock/state").json() == before


def test_a_dropped_write_changes_nothing(client):
    before = client.get("/_mock/state").json()
    add_fault(client, match={"method": "PATCH"}, effect={"drop": True})
    with pytest.raises(ConnectionDropped):
        client.patch(f"{P}/insights/1/", json={"deleted": True})
    assert client.get("/_mock/state").json() == before


# The journal ----------------------------------------------------------------------------------------
def test_the_journal_marks_every_injected_fault_and_only_those(client, sleeps):
    rule = add_fault(client, match={"operation_id": "insights_list"}, effect={"status": 503, "latency": 20})
    client.get(f"{P}/insights/")
    client.get(f"{P}/insights/1/")
    client.get(f"{P}/insights/1/", headers={"Prefer": "code=504"})
    faulted, plain, preferred = client.get("/_mock/requests").json()["results"][::-1]
    assert faulted["fault"] == {"rules": [rule["id"]], "latency_ms": 20, "status": 503} and faulted["status"] == 503
    assert plain["fault"] is None and plain["status"] == 200
    assert preferred["fault"] == {"prefer": True, "status": 504}


# Prefer ---------------------------------------------------------------------------------------------
def test_prefer_asks_for_a_status_and_a_delay_for_one_call(client, sleeps):
    response = client.get(f"{P}/insights/", headers={"Prefer": "code=503, delay=1500"})
    assert response.status_code == 503 and sleeps.asked == [1.5]
    assert client.get(f"{P}/insights/").status_code == 200


def test_prefer_is_ignored_from_a_client_off_loopback_and_when_turned_off():
    remote = TestClient(create_app(Settings(db=":memory:", strict=True), clock=FrozenClock()), client=("203.0.113.7", 51000),
                        headers=bearer())
    assert remote.get(f"{P}/insights/", headers={"Prefer": "code=503"}).status_code == 200
    off = make_client(prefer="off")
    assert off.get(f"{P}/insights/", headers={"Prefer": "code=503"}).status_code == 200
    anyone = TestClient(create_app(Settings(db=":memory:", strict=True, prefer="any"), clock=FrozenClock()),
                        client=("203.0.113.7", 51000), headers=bearer())
    assert anyone.get(f"{P}/insights/", headers={"Prefer": "code=503"}).status_code == 503


# Flags ----------------------------------------------------------------------------------------------
def test_fail_rate_one_fails_every_call_until_the_faults_are_cleared():
    c = make_client(fail_rate=1.0)
    assert_error(c.get(f"{P}/insights/"), 500, TEXTS["server_error"].fill())
    assert [r["source"] for r in c.get("/_mock/faults").json()["rules"]] == ["flag"]
    assert c.delete("/_mock/faults").json() == {"removed": 1}
    assert c.get(f"{P}/insights/").status_code == 200


def test_latency_flag_delays_every_api_answer():
    c = make_client(latency="250")
    c.app.state.server.faults.sleep = recorder = Sleeps()
    c.get(f"{P}/insights/")
    c.get("/api/users/@me/")
    assert recorder.asked == [0.25, 0.25]


def test_the_flags_are_checked_when_the_mock_starts():
    with pytest.raises(ValueError, match="latency must be milliseconds"):
        Settings(latency="soon")
    with pytest.raises(ValueError, match="fail rate must be between 0 and 1"):
        Settings(fail_rate=1.5)


# The rules' own checks -------------------------------------------------------------------------------
@pytest.mark.parametrize("rule,attr", [
    ({"effect": {}}, "effect"), ({"effect": {"status": 418}}, "effect.status"), ({"effect": {"latency": "soon"}}, "effect.latency"),
    ({"effect": {"drop": True, "status": 500}}, "effect.drop"), ({"effect": {"status": 500}, "times": 0}, "times"),
    ({"effect": {"status": 500}, "probability": 2}, "probability"), ({"match": {"verb": "GET"}, "effect": {"status": 500}}, "match.verb"),
    ({"match": {"project": "1"}, "effect": {"status": 500}}, "match.project"),
])
def test_a_rule_the_mock_cannot_use_is_refused_naming_the_field(client, rule, attr):
    assert_error(client.post("/_mock/faults", json=rule), 400, type="validation_error", attr=attr)


def test_one_rule_can_be_removed(client):
    rule = add_fault(client, effect={"status": 500})
    assert client.delete(f"/_mock/faults/{rule['id']}").status_code == 204
    assert client.get(f"{P}/insights/").status_code == 200
    assert client.delete(f"/_mock/faults/{rule['id']}").status_code == 404


def test_without_rules_the_pipeline_never_plans_a_fault(client):
    def never(call):
        raise AssertionError("plan() ran with no rule and no Prefer header")
    faults = client.app.state.server.faults
    faults.plan = never
    try:
        assert client.get(f"{P}/insights/").status_code == 200
    finally:
        del faults.plan


# The contracts ---------------------------------------------------------------------------------------
def test_the_contracts_refuse_a_mock_with_faults_unless_allowed():
    app = create_app(Settings(db=":memory:", strict=True), clock=FrozenClock())
    with TestClient(app) as c:
        c.post("/_mock/faults", json={"effect": {"latency": 1}})
        with pytest.raises(TargetUnusable, match="1 fault rule\\(s\\) active.*--allow-faults"):
            run(Target(base_url="http://testserver", project_id="1", app=app), Options(suites=()))
        report = run(Target(base_url="http://testserver", project_id="1", app=app), Options(suites=(), allow_faults=True))
        assert report.exit_code == 0
