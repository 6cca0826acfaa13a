"""Results on insights and on the query endpoint, in strict mode (every answer checked against the
spec): PostHog's refresh modes and cache fields (fixture posthog-query-results.md §7, §8), the
demo insights' results, and the properties that hold across kinds."""

from __future__ import annotations

import pytest

from mock_support import KEYS, P, assert_error, bearer, make_client

COMPUTED_KINDS = {"TrendsQuery", "FunnelsQuery", "RetentionQuery", "StickinessQuery", "LifecycleQuery", "PathsQuery"}
DAU = 2  # "Daily active users": a -30d daily trend of $pageview, math dau
TREND = {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}], "dateRange": {"date_from": "-7d"}}


@pytest.fixture
def client():
    with make_client() as c:
        yield c


def insight(client, insight_id: int = DAU, **params) -> dict:
    response = client.get(f"{P}/insights/{insight_id}/", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def query(client, body: dict, path: str = P, **headers) -> object:
    return client.post(f"{path}/query/", json=body, headers=headers or None)


# The insight's refresh modes ---------------------------------------------------------------------
def test_an_insight_answers_no_result_until_a_refresh_computes_it(client):
    before = insight(client)
    assert (before["result"], before["last_refresh"], before["is_cached"], before["timezone"]) == (None, None, False, None)
    computed = insight(client, refresh="blocking")
    assert computed["result"] and computed["is_cached"] is False and computed["timezone"] == "UTC"
    assert computed["last_refresh"] == "2026-11-23T12:00:00Z"
    assert computed["cache_target_age"] == "2026-11-23T18:00:00Z"  # a daily trend stays fresh six hours
    assert computed["next_allowed_client_refresh"] == "2026-11-23T12:15:00Z"  # a month's range: 15 minutes
    assert computed["resolved_date_range"] == {"date_from": "2026-10-24T00:00:00Z", "date_to": "2026-11-23T23:59:59.999999Z"}
    assert computed["hasMore"] is False and computed["query_status"] is None
    cached = insight(client)
    assert cached["result"] == computed["result"] and cached["is_cached"] is True
    assert cached["last_refresh"] == computed["last_refresh"] and cached["timezone"] == "UTC"


def test_blocking_answers_the_cache_while_fresh_and_computes_once_stale(client):
    first = insight(client, refresh="blocking")
    client.clock.advance(seconds=3600)
    assert insight(client, refresh="blocking")["last_refresh"] == first["last_refresh"]
    client.clock.advance(seconds=6 * 3600)
    again = insight(client, refresh="blocking")
    assert again["last_refresh"] == "2026-11-23T19:00:00Z" and again["is_cached"] is False


def test_force_blocking_always_computes_and_force_cache_never_does(client):
    insight(client, refresh="blocking")
    client.clock.advance(seconds=60)
    assert insight(client, refresh="force_blocking")["last_refresh"] == "2026-11-23T12:01:00Z"
    client.clock.advance(seconds=10 * 3600)
    stale = insight(client, refresh="force_cache")
    assert stale["last_refresh"] == "2026-11-23T12:01:00Z" and stale["is_cached"] is True


def test_async_answers_what_is_cached_with_a_status_and_leaves_the_result_for_the_next_read(client):
    started = insight(client, refresh="async")
    assert started["result"] is None
    status = started["query_status"]
    assert status["complete"] is False and status["query_async"] is True and status["insight_id"] == DAU
    assert status["id"] == started["filters_hash"]
    later = insight(client)
    assert later["result"] and later["is_cached"] is True
    polled = client.get(f"{P}/query/{status['id']}/")
    assert polled.status_code == 200
    assert polled.json()["query_status"]["complete"] is True and polled.json()["query_status"]["results"]["results"] == later["result"]


def test_async_except_on_cache_miss_computes_on_a_miss(client):
    answered = insight(client, refresh="async_except_on_cache_miss")
    assert answered["result"] and answered["query_status"] is None


def test_patching_the_query_leaves_the_old_result_behind(client):
    insight(client, refresh="blocking")
    patched = client.patch(f"{P}/insights/{DAU}/", json={"query": {"kind": "InsightVizNode", "source": TREND}})
    assert patched.status_code == 200 and patched.json()["result"] is None
    assert insight(client)["result"] is None
    assert len(insight(client, refresh="blocking")["result"][0]["data"]) == 8


def test_filters_hash_is_the_cache_key_the_query_endpoint_answers(client):
    source = insight(client)["query"]["source"]
    answered = query(client, {"query": source}).json()
    assert answered["cache_key"] == insight(client)["filters_hash"]
    assert insight(client)["result"] == answered["results"]  # the insight reads what the endpoint computed


def test_list_pages_show_cached_results_and_never_compute(client):
    listed = {row["id"]: row for row in client.get(f"{P}/insights/", params={"refresh": "blocking"}).json()["results"]}
    assert listed[DAU]["result"] is None
    insight(client, refresh="blocking")
    listed = {row["id"]: row for row in client.get(f"{P}/insights/").json()["results"]}
    assert listed[DAU]["result"] and listed[DAU]["is_cached"] is True
    same_query = {DAU, 13}  # one query in one environment: one cache key, one result (19 is in staging)
    assert listed[13]["query"] == listed[19]["query"] == listed[DAU]["query"] and listed[19]["result"] is None
    assert all(row["result"] is None for insight_id, row in listed.items() if insight_id not in same_query)


def test_a_query_the_mock_cannot_compute_answers_the_insight_with_an_error_status(client):
    hogql_math = {"kind": "InsightVizNode", "source": {**TREND, "series": [{"kind": "EventsNode", "event": "$pageview", "math": "unique_group"}]}}
    created = client.post(f"{P}/insights/", json={"name": "Groups", "query": hogql_math}).json()
    answered = insight(client, created["id"], refresh="blocking")
    assert answered["result"] is None
    assert answered["query_status"]["error"] is True and "unique_group" in answered["query_status"]["error_message"]


def test_sql_and_table_insights_keep_a_null_result_whatever_refresh_says(client):
    for insight_id in (9, 10, 11):  # HogQL, an events table, Hog
        answered = insight(client, insight_id, refresh="force_blocking")
        assert answered["result"] is None and answered["query_status"] is None


def test_every_demo_insight_of_a_computed_kind_charts_on_refresh(client):
    computed = 0
    for project, key in ((1, KEYS["all-access"]), (2, KEYS["all-access"]), (4, KEYS["acme"])):
        rows = client.get(f"/api/projects/{project}/insights/", headers=bearer(key)).json()["results"]
        for row in rows:
            if (row["query"] or {}).get("source", {}).get("kind") not in COMPUTED_KINDS and row["query"] is not None:
                continue
            answered = client.get(f"/api/projects/{project}/insights/{row['id']}/", params={"refresh": "blocking"},
                                  headers=bearer(key)).json()
            assert answered["result"], (row["id"], row["name"], answered["query_status"])
            computed += 1
    assert computed >= 17  # every trend, funnel, retention, stickiness, lifecycle and paths insight, the legacy one too


# Properties across kinds -------------------------------------------------------------------------
def test_a_trends_count_is_the_sum_of_its_data_for_every_demo_trend(client):
    rows = client.get(f"{P}/insights/", params={"insight": "TRENDS"}).json()["results"]
    for row in rows:
        for series in insight(client, row["id"], refresh="blocking")["result"]:
            assert series["count"] == sum(series["data"])


def test_breakdown_values_sum_to_the_unbroken_total(client):
    broken = {**TREND, "dateRange": {"date_from": "-30d"}, "breakdownFilter": {"breakdown": "$browser"}}
    whole = query(client, {"query": {**broken, "breakdownFilter": None}}).json()["results"][0]["data"]
    parts = query(client, {"query": broken}).json()["results"]
    assert len(parts) >= 3 and [sum(day) for day in zip(*(p["data"] for p in parts))] == whole


def test_a_funnels_first_step_is_the_unique_persons_of_its_event_in_the_window(client):
    # ActionsTable: a total over the whole days of the range, as the funnel reads it (BoldNumber's range is exact)
    window = {"date_from": "-14d"}
    steps = [{"kind": "EventsNode", "event": "$pageview"}, {"kind": "EventsNode", "event": "$autocapture"}]
    funnel = query(client, {"query": {"kind": "FunnelsQuery", "series": steps, "dateRange": window}}).json()["results"]
    persons = query(client, {"query": {**TREND, "dateRange": window, "trendsFilter": {"display": "ActionsTable"},
                                       "series": [{**steps[0], "math": "dau"}]}}).json()["results"][0]["aggregated_value"]
    assert funnel[0]["count"] == persons > funnel[1]["count"] > 0


def test_test_accounts_are_left_out_when_asked(client):
    every = query(client, {"query": TREND}).json()["results"][0]["count"]
    outside = query(client, {"query": {**TREND, "filterTestAccounts": True}}).json()["results"][0]["count"]
    assert 0 < outside < every


def test_dau_never_exceeds_the_events_counted_on_a_day(client):
    total = query(client, {"query": TREND}).json()["results"][0]["data"]
    unique = query(client, {"query": {**TREND, "series": [{"kind": "EventsNode", "event": "$pageview", "math": "dau"}]}}).json()
    assert all(0 < u <= t for u, t in zip(unique["results"][0]["data"], total))


# The query endpoint ------------------------------------------------------------------------------
def test_the_query_endpoint_computes_by_default_and_answers_every_response_field(client):
    answered = query(client, {"query": TREND})
    assert answered.status_code == 200
    body = answered.json()
    assert set(body) == {"cache_key", "cache_target_age", "calculation_trigger", "error", "hasMore", "hogql", "is_cached",
                         "last_refresh", "modifiers", "next_allowed_client_refresh", "query_metadata", "query_status",
                         "resolved_date_range", "results", "timezone", "timings"}
    assert body["is_cached"] is False and body["results"][0]["days"][-1] == "2026-11-23"
    assert query(client, {"query": TREND, "refresh": "force_cache"}).json()["is_cached"] is True  # force_cache is blocking here


def test_the_query_endpoint_runs_an_insight_viz_node_and_the_environments_path(client):
    wrapped = query(client, {"query": {"kind": "InsightVizNode", "source": TREND}}, path="/api/environments/1").json()
    assert wrapped["results"] == query(client, {"query": TREND}).json()["results"]


def test_an_async_query_answers_202_and_its_status_completes(client):
    started = query(client, {"query": TREND, "refresh": "force_async", "client_query_id": "my-run"})
    assert started.status_code == 202
    assert started.json()["query_status"]["id"] == "my-run" and started.json()["query_status"]["complete"] is False
    polled = client.get(f"{P}/query/my-run/")
    assert polled.status_code == 200 and polled.json()["query_status"]["complete"] is True
    assert_error(client.get(f"{P}/query/someone-elses-run/"), 404, "Not found.")


def test_an_unknown_query_kind_answers_pydantics_report(client):
    response = query(client, {"query": {"kind": "Tomato Soup"}})
    assert_error(response, 400, type="invalid_request", code="parse_error", attr=None)
    detail = response.json()["detail"]
    assert detail.startswith("JSON parse error - 1 validation error for QueryRequest\nquery\n  Input tag 'Tomato Soup'")


@pytest.mark.parametrize("body,detail", [
    ({"query": {"kind": "HogQLQuery", "query": "select 1"}}, "Unsupported query kind: HogQLQuery"),
    ({"query": {"kind": "DataTableNode", "source": {"kind": "EventsQuery", "select": ["*"]}}}, "Unsupported query kind: EventsQuery"),
    ({"query": {**TREND, "series": [{"kind": "EventsNode", "event": "$pageview", "math": "sum"}]}}, "The math 'sum' needs a math_property."),
])
def test_queries_the_mock_cannot_run_answer_400_with_the_reason(client, body, detail):
    assert_error(query(client, body), 400, detail, type="validation_error", code="invalid_input", attr=None)


def test_the_query_endpoint_needs_the_query_read_scope(client):
    refused = query(client, {"query": TREND}, **bearer(KEYS["insights-read"]))
    assert_error(refused, 403, "API key missing required scope 'query:read'")
    assert query(client, {"query": TREND}, **bearer(KEYS["all-access"])).status_code == 200


def test_other_environments_compute_over_their_own_events(client):
    staging = query(client, {"query": TREND}, path="/api/environments/3").json()["results"][0]
    assert staging["count"] == 0  # the staging environment has no events
    mobile = query(client, {"query": {**TREND, "series": [{"kind": "EventsNode", "event": "$screen"}]}}, path="/api/projects/2").json()
    assert mobile["results"][0]["count"] > 0
