"""Results that add up (issue 13): the rules every deployment's numbers obey whatever its events
(contracts/results.py), held by the mock's own runners over the demo stream, and enforced by the
`results_add_up` check on insight and query answers."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup

from analytics_support import demo_context
from contracts import checks, results
from contracts.semantics import RESULT_QUERIES
from contracts.target import Key
from mockserver.analytics import queries
from posthog_spec import default_spec_path

KEY = Key("phx_" + "q" * 40, ("insight:read", "query:read"))
TREND = {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}]}
SERIES = {"label": "$pageview", "data": [1, 0, 3], "days": ["2026-11-21", "2026-11-22", "2026-11-23"],
          "labels": ["21-Nov", "22-Nov", "23-Nov"], "count": 4.0}


@pytest.fixture(scope="module")
def demo():
    context, database = demo_context()
    yield context
    database.close()


@pytest.mark.parametrize("name", sorted(RESULT_QUERIES))
def test_the_mocks_results_add_up_for_every_query_the_contracts_post(name, demo):
    query = RESULT_QUERIES[name]
    answer = queries.compute(query, demo).results
    assert answer, f"the demo stream gives the {name} query nothing to check"
    assert results.problems(query, answer) == []


def test_a_trend_count_that_is_not_the_sum_of_its_data_is_a_problem():
    [problem] = results.problems(TREND, [{**SERIES, "count": 5.0}])
    assert "count 5.0 is not the sum of its data (4)" in problem


def test_a_cumulative_trend_counts_its_last_point_and_a_total_has_no_series():
    cumulative = {**TREND, "trendsFilter": {"display": "ActionsLineGraphCumulative"}}
    assert results.problems(cumulative, [{**SERIES, "data": [1, 1, 4], "count": 4.0}]) == []
    assert results.problems(cumulative, [{**SERIES, "data": [1, 1, 4], "count": 6.0}])
    total = {**TREND, "trendsFilter": {"display": "BoldNumber"}}
    assert results.problems(total, [{"data": [], "days": [], "count": 0, "aggregated_value": 10}]) == []


def test_points_without_a_day_or_label_each_are_a_problem():
    [problem] = results.problems(TREND, [{**SERIES, "days": SERIES["days"][:2]}])
    assert "3 points but 2 days" in problem


def test_a_funnel_whose_steps_grow_is_a_problem_with_or_without_a_breakdown():
    funnel = {"kind": "FunnelsQuery", "series": []}
    grown = [{"count": 3}, {"count": 5}]
    assert results.problems(funnel, grown) and results.problems(funnel, [[{"count": 5}, {"count": 3}], grown])
    assert results.problems(funnel, [{"count": 5}, {"count": 5}, {"count": 1}]) == []
    trends_viz = {**funnel, "funnelsFilter": {"funnelVizType": "trends"}}
    assert results.problems(trends_viz, [{"count": 3, "data": [10.0, 50.0], "days": ["a", "b"]}]) == []


def test_a_retention_cohort_smaller_than_its_returns_is_a_problem():
    retention = {"kind": "RetentionQuery"}
    cohort = {"label": "Day 0", "values": [{"count": 4}, {"count": 2}]}
    assert results.problems(retention, [cohort]) == []
    assert results.problems(retention, [{**cohort, "values": [{"count": 2}, {"count": 4}]}])


def test_cumulative_stickiness_starts_at_its_count():
    stickiness = {"kind": "StickinessQuery", "series": [], "stickinessFilter": {"computedAs": "cumulative"}}
    assert results.problems(stickiness, [{**SERIES, "data": [4, 3, 1], "count": 4}]) == []
    assert results.problems(stickiness, [{**SERIES, "data": [4, 3, 1], "count": 8}])


def answered(path: str, method: str, body, *, sent=None) -> list:
    """The `results_add_up` failures for this answer to a request to `path` of the spec."""
    schema = schemathesis.openapi.from_path(default_spec_path(), config=SchemathesisConfig.from_dict({"checks": checks.configuration([KEY])}))
    url = "http://testserver" + path.replace("{project_id}", "1").replace("{id}", "1")
    request = httpx.Request(method, url, headers={"Authorization": f"Bearer {KEY.value}"},
                            content=json.dumps(sent).encode() if sent is not None else b"")
    response = httpx.Response(200, request=request, json=body)
    response.elapsed = timedelta(0)
    parameters = {"project_id": "1", **({"id": "1"} if "{id}" in path else {})}
    case = schema[path][method].Case(path_parameters=parameters, **({"body": sent} if sent is not None else {}))
    try:
        case.validate_response(response, checks=[checks.results_add_up])
    except FailureGroup as group:
        return list(group.exceptions)
    return []


def test_results_add_up_judges_an_insights_result_under_its_own_query():
    insight = {"id": 1, "query": {"kind": "InsightVizNode", "source": TREND}, "result": [{**SERIES, "count": 9.0}]}
    [failure] = answered("/api/projects/{project_id}/insights/{id}/", "GET", insight)
    assert isinstance(failure, checks.ResultsDoNotAddUp) and "is not the sum of its data" in failure.message
    assert answered("/api/projects/{project_id}/insights/{id}/", "GET", {**insight, "result": [SERIES]}) == []
    assert answered("/api/projects/{project_id}/insights/{id}/", "GET", {**insight, "result": None}) == []


def test_results_add_up_judges_a_querys_results_under_the_query_sent():
    sent = {"query": TREND}
    [failure] = answered("/api/projects/{project_id}/query/", "POST", {"results": [{**SERIES, "count": 1.0}]}, sent=sent)
    assert isinstance(failure, checks.ResultsDoNotAddUp)
    assert answered("/api/projects/{project_id}/query/", "POST", {"results": [SERIES]}, sent=sent) == []
