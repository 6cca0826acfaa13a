"""StickinessQuery results: hand-counted streams, PostHog's own case, and a cross-check on the demo stream."""

from __future__ import annotations

from datetime import datetime

import pytest

from analytics_support import NOW, demo_context, event, person, tiny_context
from mockserver.analytics import stickiness
from mockserver.analytics.properties import QueryError

PAGEVIEW = {"kind": "EventsNode", "event": "$pageview"}
WEEK = {"dateRange": {"date_from": "2026-11-16", "date_to": "2026-11-22"}}  # Monday to Sunday


def pageviews(who: str, *days: int) -> list:
    return [event(who, "$pageview", f"2026-11-{day:02d} 10:00") for day in days]


STREAM = [person("ann"), person("bob"), person("cat"), person("dan"), person("eve", email="eve@hogflix.io"),
          *pageviews("ann", 16, 17, 17, 19),  # 3 days, twice on the 17th
          *pageviews("bob", 18),  # 1 day
          *pageviews("cat", 16, 17, 18, 19, 20, 21, 22),  # every day
          *pageviews("dan", 15, 20),  # the 15th is before the range: 1 day
          *pageviews("eve", 16, 17),  # 2 days, a test account
          event("ann", "$autocapture", "2026-11-16 10:00")]


def test_data_counts_the_persons_active_on_exactly_one_two_and_up_to_every_day_of_the_range():
    [result] = stickiness.run({**WEEK, "series": [PAGEVIEW]}, tiny_context(STREAM))
    assert result == {
        "count": 5,
        "data": [2, 1, 1, 0, 0, 0, 1],  # bob and dan; eve; ann; cat
        "days": [1, 2, 3, 4, 5, 6, 7],
        "label": "$pageview",
        "labels": ["1 day", "2 days", "3 days", "4 days", "5 days", "6 days", "7 days"],
        "action": {"order": 0, "type": "events", "name": "$pageview", "id": "$pageview", "custom_name": None},
    }


def test_the_sum_of_data_is_the_unique_persons_who_did_the_event_in_the_range():
    ctx = tiny_context(STREAM)
    [result] = stickiness.run({**WEEK, "series": [PAGEVIEW], "filterTestAccounts": True}, ctx)
    assert sum(result["data"]) == result["count"] == 4  # eve left out


def test_cumulative_stickiness_counts_persons_active_on_that_many_days_or_more():
    query = {**WEEK, "series": [PAGEVIEW], "stickinessFilter": {"computedAs": "cumulative"}}
    [result] = stickiness.run(query, tiny_context(STREAM))
    assert result["data"] == [5, 3, 2, 1, 1, 1, 1]
    assert result["count"] == 5
    assert result["labels"][:2] == ["1 day or more", "2 days or more"]


def test_stickiness_criteria_counts_only_intervals_with_that_many_events():
    query = {**WEEK, "series": [PAGEVIEW], "stickinessFilter": {"stickinessCriteria": {"operator": "gte", "value": 2}}}
    [result] = stickiness.run(query, tiny_context(STREAM))
    assert result["data"] == [1, 0, 0, 0, 0, 0, 0]  # ann, on the 17th


def test_weekly_stickiness_counts_events_from_date_froms_day_not_its_weeks_start():
    ctx = tiny_context([*STREAM, person("fay"), *pageviews("fay", 10, 18)])
    query = {"dateRange": {"date_from": "2026-11-11", "date_to": "2026-11-22"}, "interval": "week", "series": [PAGEVIEW]}
    [result] = stickiness.run(query, ctx)  # weeks of Monday 9 and 16 November
    assert result["labels"] == ["1 week", "2 weeks"]
    assert result["data"] == [5, 1]  # dan's 15th and 20th are two weeks; fay's 10th is before date_from


def test_interval_count_groups_intervals_counted_back_from_date_to():
    [result] = stickiness.run({**WEEK, "series": [PAGEVIEW], "intervalCount": 2}, tiny_context(STREAM))
    assert result["data"] == [2, 1, 1, 1]  # pairs 21-22, 19-20, 17-18 and the 16th alone


def test_compare_follows_each_series_with_its_previous_period():
    ctx = tiny_context(STREAM)
    query = {**WEEK, "series": [PAGEVIEW, {"kind": "EventsNode", "event": "$autocapture", "custom_name": "Clicks"}],
             "compareFilter": {"compare": True}}
    results = stickiness.run(query, ctx)
    assert [(r["label"], r["compare_label"], r["compare"]) for r in results] == [
        ("$pageview", "current", True), ("$pageview", "previous", True),
        ("$autocapture", "current", True), ("$autocapture", "previous", True)]
    assert results[1]["data"][0] == 1  # dan on the 15th
    assert results[2]["action"] == {"order": 1, "type": "events", "name": "$autocapture", "id": "$autocapture",
                                    "custom_name": "Clicks"}


def test_a_series_of_all_events_is_labelled_all_events():
    [result] = stickiness.run({**WEEK, "series": [{"kind": "EventsNode", "event": None}]}, tiny_context(STREAM))
    assert result["label"] == result["action"]["name"] == "All events"
    assert result["action"]["id"] is None


def test_posthogs_case_gives_posthogs_data_by_day_and_by_week():
    rows = [person("p1"), person("p2"),
            *[event("p1", "$pageview", f"2020-01-{day} 12:00") for day in range(11, 20)],
            *[event("p2", "$pageview", f"2020-01-{day} 12:00") for day in (11, 13, 15, 17, 19)]]
    ctx = tiny_context(rows, week_start_day=0)
    query = {"series": [PAGEVIEW], "dateRange": {"date_from": "2020-01-11", "date_to": "2020-01-20"}}
    [by_day] = stickiness.run(query, ctx)
    assert (by_day["data"], by_day["count"], by_day["days"]) == ([0, 0, 0, 0, 1, 0, 0, 0, 1, 0], 2, list(range(1, 11)))
    [by_week] = stickiness.run({**query, "interval": "week"}, ctx)
    assert (by_week["data"], by_week["labels"]) == ([0, 0, 2], ["1 week", "2 weeks", "3 weeks"])


@pytest.mark.parametrize("query, message", [
    ({"series": [{"kind": "ActionsNode", "id": 3}]}, "Actions are not supported"),
    ({"series": [{**PAGEVIEW, "math": "unique_group", "math_group_type_index": 0}]}, "counts persons"),
    ({"series": [PAGEVIEW], "stickinessFilter": {"stickinessCriteria": {"operator": "about", "value": 2}}},
     "Unknown stickinessCriteria"),
    ({"series": []}, "at least one series"),
])
def test_options_the_mock_cannot_run_are_refused_with_a_sentence(query, message):
    with pytest.raises(QueryError, match=message):
        stickiness.run(query, tiny_context(STREAM))


def test_on_the_demo_stream_data_sums_to_the_unique_persons_of_the_month():
    ctx, database = demo_context(NOW)
    [result] = stickiness.run({"series": [PAGEVIEW], "dateRange": {"date_from": "-30d"}, "filterTestAccounts": True}, ctx)
    [(persons,)] = database.execute(
        "SELECT count(DISTINCT e.person_id) FROM events e JOIN persons p USING (person_id) WHERE e.event = '$pageview'"
        " AND p.email NOT LIKE '%@hogflix.io' AND e.timestamp >= ? AND e.timestamp <= ?",
        [datetime(2026, 10, 24), datetime(2026, 11, 23, 12)]).fetchall()
    assert len(result["data"]) == 31
    assert sum(result["data"]) == result["count"] == persons > 0
