"""TrendsQuery results worked out by hand, on the events of PostHog's own trends tests
(test_trends_query_runner.py `_create_test_events`, fixture posthog-query-results.md §1.9),
plus the properties that hold on the demo stream."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from analytics_support import event, person, tiny_context
from mockserver.analytics import trends
from mockserver.analytics.properties import QueryError
from mockserver.rendering import encode_json

PAGEVIEWS = {"p1": ("Chrome", 10, [11, 12, 13, 15, 17, 19]), "p2": ("Firefox", 20, [9, 12]),
             "p3": ("Edge", 30, [12]), "p4": ("Safari", 40, [15])}
PAGELEAVES = {"p1": [11, 12, 13], "p2": [13], "p3": [13], "p4": [16]}
JAN_9_TO_19 = {"date_from": "2020-01-09", "date_to": "2020-01-19"}
JAN_9_TO_20 = {"date_from": "2020-01-09", "date_to": "2020-01-20"}


@pytest.fixture(scope="module")
def ctx():
    rows = []
    for who, (browser, prop, days) in PAGEVIEWS.items():
        rows.append(person(who, email=f"{who}@example.com"))
        rows += [event(who, "$pageview", f"2020-01-{d:02d} 12:00", **{"$browser": browser, "prop": prop}) for d in days]
    for who, days in PAGELEAVES.items():
        rows += [event(who, "$pageleave", f"2020-01-{d:02d} 12:00") for d in days]
    return tiny_context(rows, now=datetime(2020, 1, 20, 12, tzinfo=timezone.utc), week_start_day=0)


def trend(ctx, date_range=JAN_9_TO_19, math="total", **extra):
    series = extra.pop("series", None) or [{"kind": "EventsNode", "event": "$pageview", "math": math,
                                            **({"math_property": "prop"} if math in ("sum", "avg") else {})}]
    return trends.run({"kind": "TrendsQuery", "series": series, "dateRange": date_range, **extra}, ctx)


def test_a_daily_trend_counts_events_per_day_with_posthogs_days_and_labels(ctx):
    result = trend(ctx).results[0]
    assert result["data"] == [1, 0, 1, 3, 1, 0, 2, 0, 1, 0, 1]
    assert result["count"] == 10.0 and result["label"] == "$pageview" and result["order"] == 0
    assert result["days"][0] == "2020-01-09" and result["days"][-1] == "2020-01-19"
    assert result["labels"][0] == "9-Jan-2020" and result["labels"][-1] == "19-Jan-2020"
    assert result["action"]["math"] == "total" and result["action"]["id"] == "$pageview"
    assert b'"days":["2020-01-09T00:00:00Z"' in encode_json(result["action"])
    assert result["filter"]["insight"] == "TRENDS" and result["filter"]["interval"] == "day"


@pytest.mark.parametrize("math,data", [
    ("dau", [1, 0, 1, 3, 1, 0, 2, 0, 1, 0, 1, 0]),
    ("weekly_active", [1, 1, 2, 3, 3, 3, 4, 4, 4, 4, 2, 2]),
    ("monthly_active", [1, 1, 2, 3, 3, 3, 4, 4, 4, 4, 4, 4]),
    ("sum", [20, 0, 10, 60, 10, 0, 50, 0, 10, 0, 10, 0]),
    ("avg", [20, 0, 10, 20, 10, 0, 25, 0, 10, 0, 10, 0]),
])
def test_math_aggregates_each_day_as_posthog_does(ctx, math, data):
    assert trend(ctx, JAN_9_TO_20, math=math).results[0]["data"] == data


def test_weekly_actives_at_a_weekly_interval_are_each_weeks_unique_persons(ctx):
    result = trend(ctx, JAN_9_TO_20, math="weekly_active", interval="week").results[0]
    assert result["data"] == [2, 4, 1]
    assert result["labels"] == ["9\u201311 Jan", "12\u201318 Jan", "19\u201320 Jan"]


def test_monthly_buckets_count_whole_months_with_month_labels(ctx):
    result = trend(ctx, {"date_from": "2019-12-31", "date_to": "2020-02-01"}, math="monthly_active", interval="month").results[0]
    assert result["data"] == [0, 4, 0] and result["labels"] == ["Dec 2019", "Jan 2020", "Feb 2020"]


def test_cumulative_display_sums_the_days_and_counts_the_last(ctx):
    result = trend(ctx, JAN_9_TO_20, trendsFilter={"display": "ActionsLineGraphCumulative"}).results[0]
    assert result["data"] == [1, 1, 2, 5, 6, 6, 8, 8, 9, 9, 10, 10] and result["count"] == 10.0


@pytest.mark.parametrize("formula,data,count", [("A+2*B", [1, 0, 3, 5, 7, 0, 2, 2, 1, 0, 1], 22), ("A-B", [1, 0, 0, 2, -2, 0, 2, -1, 1, 0, 1], 4)])
def test_a_formula_combines_the_series_day_by_day(ctx, formula, data, count):
    series = [{"kind": "EventsNode", "event": "$pageview"}, {"kind": "EventsNode", "event": "$pageleave"}]
    result, = trend(ctx, series=series, trendsFilter={"formula": formula}).results
    assert (result["data"], result["count"], result["label"], result["action"]) == (data, count, f"Formula ({formula})", None)


def test_breakdown_values_rank_by_total_then_name_and_sum_to_the_total(ctx):
    answer = trend(ctx, breakdownFilter={"breakdown": "$browser"})
    assert [(r["breakdown_value"], r["count"], r["label"]) for r in answer.results] == [
        ("Chrome", 6, "Chrome"), ("Firefox", 2, "Firefox"), ("Edge", 1, "Edge"), ("Safari", 1, "Safari")]
    assert not answer.has_more
    whole = trend(ctx).results[0]["data"]
    assert [sum(day) for day in zip(*(r["data"] for r in answer.results))] == whole


def test_values_past_the_breakdown_limit_are_summed_into_other(ctx):
    answer = trend(ctx, breakdownFilter={"breakdown": "$browser", "breakdown_limit": 2})
    assert [(r["breakdown_value"], r["count"]) for r in answer.results] == [
        ("Chrome", 6), ("Firefox", 2), (trends.BREAKDOWN_OTHER, 2)]
    assert answer.has_more
    hidden = trend(ctx, breakdownFilter={"breakdown": "$browser", "breakdown_limit": 2, "breakdown_hide_other_aggregation": True})
    assert [r["breakdown_value"] for r in hidden.results] == ["Chrome", "Firefox"] and hidden.has_more


def test_a_missing_breakdown_value_is_posthogs_null_value_after_the_others(ctx):
    answer = trend(ctx, breakdownFilter={"breakdown": "prop_that_only_some_have"})
    assert [r["breakdown_value"] for r in answer.results] == [trends.BREAKDOWN_NULL]
    series = [{"kind": "EventsNode", "event": "$pageview"}, {"kind": "EventsNode", "event": "$pageleave"}]
    labels = [r["label"] for r in trend(ctx, series=series, breakdownFilter={"breakdown": "$browser"}).results]
    assert labels[0] == "$pageview - Chrome" and labels[-1] == f"$pageleave - {trends.BREAKDOWN_NULL}"


def test_a_person_property_breakdown_reads_the_persons(ctx):
    answer = trend(ctx, breakdownFilter={"breakdown": "email", "breakdown_type": "person"})
    assert {r["breakdown_value"]: r["count"] for r in answer.results} == {
        "p1@example.com": 6, "p2@example.com": 2, "p3@example.com": 1, "p4@example.com": 1}


def test_compare_adds_the_previous_period_with_its_own_days(ctx):
    current, previous = trend(ctx, {"date_from": "2020-01-15", "date_to": "2020-01-19"}, compareFilter={"compare": True}).results
    assert (current["compare"], current["compare_label"], previous["compare_label"]) == (True, "current", "previous")
    assert current["days"] == ["2020-01-15", "2020-01-16", "2020-01-17", "2020-01-18", "2020-01-19"]
    assert previous["days"] == ["2020-01-10", "2020-01-11", "2020-01-12", "2020-01-13", "2020-01-14"]
    assert previous["data"] == [0, 1, 3, 1, 0]


def test_a_relative_week_compares_with_the_week_before_sharing_a_day(ctx):
    current, previous = trend(ctx, {"date_from": "-7d"}, compareFilter={"compare": True}).results
    assert (current["days"][0], current["days"][-1]) == ("2020-01-13", "2020-01-20")
    assert (previous["days"][0], previous["days"][-1]) == ("2020-01-06", "2020-01-13")


def test_total_value_displays_answer_one_aggregated_value(ctx):
    result = trend(ctx, trendsFilter={"display": "ActionsPie"}).results[0]
    assert (result["data"], result["days"], result["count"], result["aggregated_value"]) == ([], [], 0, 10)
    assert "labels" not in result
    assert trend(ctx, JAN_9_TO_20, math="dau", trendsFilter={"display": "BoldNumber"}).results[0]["aggregated_value"] == 4


def test_property_filters_and_test_accounts_narrow_the_events(ctx):
    chrome = [{"key": "$browser", "value": "Chrome", "operator": "exact", "type": "event"}]
    assert trend(ctx, properties=chrome).results[0]["count"] == 6
    grouped = {"type": "AND", "values": [{"type": "OR", "values": [*chrome, {"key": "$browser", "value": ["Edge"], "type": "event"}]}]}
    assert trend(ctx, properties=grouped).results[0]["count"] == 7
    series = [{"kind": "EventsNode", "event": "$pageview", "properties": [{"key": "prop", "value": 20, "operator": "gt"}]}]
    assert trend(ctx, series=series).results[0]["count"] == 2  # p3 (30) and p4 (40)
    not_p1 = [{"key": "email", "value": "p1@", "operator": "not_icontains", "type": "person"}]
    assert trend(ctx, properties=not_p1).results[0]["count"] == 4


def test_no_events_give_a_series_of_zeros_and_no_breakdown_rows(ctx):
    nothing = [{"kind": "EventsNode", "event": "never happened"}]
    assert trend(ctx, series=nothing).results[0]["data"] == [0] * 11
    assert trend(ctx, series=nothing, breakdownFilter={"breakdown": "$browser"}).results == []


@pytest.mark.parametrize("query,detail", [
    ({"series": []}, "A TrendsQuery needs at least one series."),
    ({"series": [{"kind": "ActionsNode", "id": 1}]}, "Actions are not supported by the mock"),
    ({"series": [{"kind": "EventsNode", "event": "$pageview", "math": "unique_group"}]}, "The math 'unique_group' is not supported"),
    ({"series": [{"kind": "EventsNode", "event": "$pageview", "math": "sum"}]}, "needs a math_property"),
    ({"interval": "fortnight"}, "Unknown interval 'fortnight'"),
    ({"dateRange": {"date_from": "yesterday-ish"}}, "is not a date"),
    ({"trendsFilter": {"formula": "A + import os"}}, "is not valid"),
    ({"trendsFilter": {"formula": "A + C"}}, "use series letters A to A"),
    ({"properties": [{"key": "$browser", "operator": "between", "value": [1, 2]}]}, "operator 'between' is not supported"),
    ({"properties": [{"key": "$browser", "operator": "regex", "value": "(("}]}, "is not a valid regular expression"),
])
def test_queries_the_mock_cannot_run_say_why(ctx, query, detail):
    base = {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}], **query}
    with pytest.raises(QueryError, match=detail.replace("(", r"\(").replace("+", r"\+")):
        trends.run(base, ctx)
