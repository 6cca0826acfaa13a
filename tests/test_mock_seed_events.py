"""Persons and events a seed file or a state document brings: insight results and element
statistics count them (beside the demo streams a document names), and an export carries them."""

from __future__ import annotations

from mock_support import P, client  # noqa: F401

TREND = {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "order paid", "math": "dau"}],
         "dateRange": {"date_from": "-7d"}, "breakdownFilter": {"breakdown": "plan", "breakdown_type": "person"}}
DOCUMENT = {
    "base": "demo",
    "persons": [{"project_id": 1, "distinct_id": "lin", "properties": {"email": "lin@example.com", "plan": "team"}},
                {"project_id": 1, "distinct_id": "max", "properties": {"email": "max@example.com", "plan": "free"}}],
    "events": [
        {"team_id": 1, "event": "order paid", "timestamp": "-2d", "distinct_id": "lin", "properties": {"amount": 30}},
        {"team_id": 1, "event": "order paid", "timestamp": "-1d", "distinct_id": "lin", "properties": {"amount": 12}},
        {"team_id": 1, "event": "order paid", "timestamp": "-1d", "distinct_id": "max"},
        {"team_id": 1, "event": "$autocapture", "timestamp": "-1h", "distinct_id": "max",
         "elements_chain": [{"tag_name": "button", "text": "Pay for it all"}]},
    ],
}


def test_a_seed_documents_persons_and_events_are_counted_by_insight_queries(client):
    assert client.post("/_mock/state", json=DOCUMENT).status_code == 200
    results = client.post(f"{P}/query/", json={"query": TREND}).json()["results"]
    assert {r["breakdown_value"]: r["count"] for r in results} == {"team": 2, "free": 1}
    total = client.post(f"{P}/query/", json={"query": {**TREND, "breakdownFilter": None, "series": [
        {"kind": "EventsNode", "event": "order paid", "math": "sum", "math_property": "amount"}]}}).json()["results"][0]
    assert total["count"] == 42


def test_a_seed_documents_clicks_reach_element_statistics(client):
    client.post("/_mock/state", json=DOCUMENT)
    texts = [v["name"] for v in client.get(f"{P}/elements/values/", params={"key": "text", "value": "Pay for"}).json()]
    assert texts == ["Pay for it all"]


def test_the_state_export_carries_persons_events_and_which_projects_stream(client):
    client.post("/_mock/state", json=DOCUMENT)
    saved = client.get("/_mock/state").json()
    assert saved["demo_streams"] == [1, 2, 4]
    assert [p["distinct_id"] for p in saved["persons"]] == ["lin", "max"] and len(saved["events"]) == 4
    client.post("/_mock/reset", json={})
    assert client.post(f"{P}/query/", json={"query": TREND}).json()["results"] == []
    client.post("/_mock/state", json=saved)
    assert client.get("/_mock/state").json() == saved
    assert len(client.post(f"{P}/query/", json={"query": TREND}).json()["results"]) == 2


def test_a_document_without_demo_streams_has_only_its_own_events(client):
    client.post("/_mock/state", json={**DOCUMENT, "base": "demo", "demo_streams": []})
    pageviews = {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}]}
    assert client.post(f"{P}/query/", json={"query": pageviews}).json()["results"][0]["count"] == 0
