"""`cancel/` (fact sheet §4.5) and `generate_metadata/` (§4.6) on the in-process mock."""

from __future__ import annotations

import pytest

from mock_support import KEYS, P, as_session, assert_error, bearer, client  # noqa: F401

TRENDS = {"kind": "InsightVizNode", "source": {
    "kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}], "interval": "day", "dateRange": {"date_from": "-7d"}}}
MISSING = "Missing 'query' field in request body"


# cancel -----------------------------------------------------------------------------------------
def test_cancel_answers_201_with_an_empty_body(client):
    response = as_session(client, "POST", f"{P}/insights/cancel/", json={"client_query_id": "0190a2c1-7c3e-7d2a-9c44-1f6b8e2d5a10"})
    assert response.status_code == 201 and response.content == b""


def test_cancel_needs_a_client_query_id(client):
    response = as_session(client, "POST", f"{P}/insights/cancel/", json={})
    assert_error(response, 400, "Field is required.", code="invalid_input", attr="client_query_id")


@pytest.mark.parametrize("key", ["all-access", "insights-write"])
def test_cancel_refuses_personal_api_keys(client, key):
    response = client.post(f"{P}/insights/cancel/", json={"client_query_id": "x"}, headers=bearer(KEYS[key]))
    assert_error(response, 403, "This action does not support personal API key access")


# generate_metadata ------------------------------------------------------------------------------
def metadata(client, query) -> dict:
    response = client.post(f"{P}/insights/generate_metadata/", json={"query": query})
    assert response.status_code == 200, response.text
    return response.json()


def test_generate_metadata_names_and_describes_the_query(client):
    assert metadata(client, TRENDS) == {
        "name": "pageviews trend", "description": "How often pageviews happened per day over the last 7 days."}


def test_generate_metadata_is_deterministic(client):
    first = metadata(client, TRENDS)
    client.clock.advance(days=1)
    assert [metadata(client, TRENDS) for _ in range(3)] == [first] * 3


@pytest.mark.parametrize("query,name", [
    ({"kind": "InsightVizNode", "source": {"kind": "FunnelsQuery", "series": [
        {"kind": "EventsNode", "event": "$pageview"}, {"kind": "EventsNode", "event": "user signed up"}]}},
     "pageviews and user signed up funnel"),
    ({"kind": "InsightVizNode", "source": {"kind": "LifecycleQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}]}},
     "pageviews lifecycle"),
    ({"kind": "InsightVizNode", "source": {"kind": "PathsV2Query"}}, "User paths"),
    ({"kind": "EventsQuery", "select": ["*"]}, "Events table"),
    ({"kind": "ActorsQuery"}, "People table"),
    ({"kind": "GroupsQuery", "group_type_index": 0}, "Groups table"),
])
def test_generate_metadata_follows_the_kind_of_query(client, query, name):
    result = metadata(client, query)
    assert result["name"] == name and result["description"]


def test_generated_texts_fit_the_insight_fields(client):
    series = [{"kind": "EventsNode", "event": f"event {'x' * 300} {n}"} for n in range(3)]
    result = metadata(client, {"kind": "InsightVizNode", "source": {"kind": "TrendsQuery", "series": series}})
    assert len(result["name"]) <= 400 and len(result["description"]) <= 400


@pytest.mark.parametrize("body", [{}, {"query": None}, {"query": {}}, {"query": []}, {"query": ""}, {"query": 0}])
def test_generate_metadata_without_a_query_is_refused(client, body):
    response = client.post(f"{P}/insights/generate_metadata/", json=body)
    assert_error(response, 400, MISSING, code="invalid_input", attr=None)


@pytest.mark.parametrize("query", [
    "abc",
    {"kind": "TrendsQuery", "series": []},  # a bare source is not wrapped here
    {"kind": "HogQLQuery", "query": "select 1"},
    {"kind": "EventsQuery"},
])
def test_generate_metadata_with_an_invalid_query_is_refused(client, query):
    response = client.post(f"{P}/insights/generate_metadata/", json={"query": query})
    assert_error(response, 400, "Invalid query format", code="invalid_input", attr=None)


def test_generate_metadata_needs_ai_data_processing_approved(client):
    store = client.app.state.server.store
    with store.transaction(write=True):
        store.db.execute("UPDATE organizations SET ai_data_processing_approved = 0")
    response = client.post(f"{P}/insights/generate_metadata/", json={"query": TRENDS})
    assert_error(response, 403, "AI data processing must be approved by your organization", code="permission_denied")


def test_generate_metadata_needs_the_write_scope(client):
    response = client.post(f"{P}/insights/generate_metadata/", json={"query": TRENDS}, headers=bearer(KEYS["insights-read"]))
    assert_error(response, 403, "API key missing required scope 'insight:write'")
