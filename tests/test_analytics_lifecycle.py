"""LifecycleQuery results: a stream where every status occurs, PostHog's own case, and a cross-check on the demo stream."""

from __future__ import annotations

import pytest

from analytics_support import NOW, demo_context, event, person, tiny_context
from mockserver.analytics import lifecycle
from mockserver.analytics.properties import QueryError

PAGEVIEW = {"kind": "EventsNode", "event": "$pageview"}
RANGE = {"dateRange": {"date_from": "2026-11-17", "date_to": "2026-11-20"}, "series": [PAGEVIEW]}


def pageviews(who: str, *days: int, **properties) -> list:
    return [event(who, "$pageview", f"2026-11-{day:02d} 10:00", **properties) for day in days]


STREAM = [
    person("ann", created_at="2026-11-17 08:00"), *pageviews("ann", 17, 18),  # new, returning, then dormant
    person("bob"), *pageviews("bob", 16, 18),  # active the day before the range, away, back, away
    person("cat", created_at="2026-11-19 09:00"), *pageviews("cat", 19, 20),  # new on the 19th
    person("dan", created_at="2026-11-01 00:00"), *pageviews("dan", 17),  # first seen long after creation
]


def by_status(results: list[dict]) -> dict[str, list[float]]:
    return {result["status"]: result["data"] for result in results}


def test_each_day_sorts_its_persons_into_new_returning_resurrecting_and_dormant():
    assert by_status(lifecycle.run(RANGE, tiny_context(STREAM))) == {
        "new": [1.0, 0.0, 1.0, 0.0],  # ann; cat
        "returning": [0.0, 1.0, 0.0, 1.0],  # ann; cat
        "resurrecting": [1.0, 1.0, 0.0, 0.0],  # dan, created on the 1st; bob, away on the 17th
        "dormant": [-1.0, -1.0, -2.0, 0.0],  # bob; dan; ann and bob
    }


def test_new_returning_and_resurrecting_add_up_to_each_days_unique_persons():
    results = lifecycle.run(RANGE, tiny_context(STREAM))
    active = [sum(values) for values in zip(*(r["data"] for r in results if r["status"] != "dormant"))]
    assert active == [2.0, 2.0, 1.0, 1.0]  # ann and dan; ann and bob; cat; cat


def test_the_four_series_are_shaped_as_posthogs_with_float_counts_and_a_negative_dormant():
    results = lifecycle.run({**RANGE, "series": [{**PAGEVIEW, "custom_name": "Views"}]}, tiny_context(STREAM))
    assert [r["label"] for r in results] == ["$pageview - new", "$pageview - returning", "$pageview - resurrecting",
                                             "$pageview - dormant"]
    assert results[3] == {
        "action": {"id": "$pageview", "name": "$pageview", "type": "events", "order": 0, "math": "total",
                   "custom_name": "Views"},
        "data": [-1.0, -1.0, -2.0, 0.0],
        "count": -4.0,
        "labels": ["17-Nov-2026", "18-Nov-2026", "19-Nov-2026", "20-Nov-2026"],
        "days": ["2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20"],
        "label": "$pageview - dormant",
        "status": "dormant",
    }


def test_toggled_lifecycles_do_not_change_the_answer():
    ctx = tiny_context(STREAM)
    toggled = lifecycle.run({**RANGE, "lifecycleFilter": {"toggledLifecycles": ["new"]}}, ctx)
    assert toggled == lifecycle.run(RANGE, ctx)


def test_events_without_a_person_profile_are_left_out():
    ctx = tiny_context([*STREAM, *pageviews("dan", 19, **{"$process_person_profile": False})])
    assert by_status(lifecycle.run(RANGE, ctx))["resurrecting"] == [1.0, 1.0, 0.0, 0.0]


def test_filtering_test_accounts_leaves_their_persons_out():
    ctx = tiny_context([*STREAM, person("eve", created_at="2026-11-20 01:00", email="eve@hogflix.io"),
                        *pageviews("eve", 20)])
    assert by_status(lifecycle.run(RANGE, ctx))["new"] == [1.0, 0.0, 1.0, 1.0]
    assert by_status(lifecycle.run({**RANGE, "filterTestAccounts": True}, ctx))["new"] == [1.0, 0.0, 1.0, 0.0]


def test_weekly_lifecycle_reads_weeks_from_the_projects_week_start_day():
    ctx = tiny_context([*STREAM, person("fay", created_at="2026-11-02 00:00"), *pageviews("fay", 3, 10)], week_start_day=1)
    query = {"dateRange": {"date_from": "2026-11-09", "date_to": "2026-11-22"}, "interval": "week", "series": [PAGEVIEW]}
    results = lifecycle.run(query, ctx)
    assert results[0]["days"] == ["2026-11-09", "2026-11-16"]  # Mondays
    assert by_status(results) == {
        "new": [0.0, 2.0],  # ann, cat
        "returning": [1.0, 0.0],  # fay, active the week before
        "resurrecting": [0.0, 2.0],  # bob, dan
        "dormant": [0.0, -1.0],  # fay
    }


def test_posthogs_case_gives_posthogs_series():
    days = {"p1": [11, 12, 13, 15, 17, 19], "p2": [9, 12], "p3": [12], "p4": [15]}
    rows = []
    for who, active in days.items():  # each person created at their first event
        rows += [person(who, created_at=f"2020-01-{active[0]:02d} 12:00"),
                 *[event(who, "$pageview", f"2020-01-{day:02d} 12:00") for day in active]]
    query = {"series": [PAGEVIEW], "dateRange": {"date_from": "2020-01-12", "date_to": "2020-01-19"}}
    assert by_status(lifecycle.run(query, tiny_context(rows))) == {
        "new": [1, 0, 0, 1, 0, 0, 0, 0],
        "returning": [1, 1, 0, 0, 0, 0, 0, 0],
        "resurrecting": [1, 0, 0, 1, 0, 1, 0, 1],
        "dormant": [0, -2, -1, 0, -2, 0, -1, 0],
    }


@pytest.mark.parametrize("query, message", [
    ({"series": [PAGEVIEW, PAGEVIEW]}, "one series"),
    ({"series": [{"kind": "ActionsNode", "id": 3}]}, "Actions are not supported"),
    ({"series": [PAGEVIEW], "aggregation_group_type_index": 0}, "groups"),
    ({"series": []}, "needs one series"),
])
def test_options_the_mock_cannot_run_are_refused_with_a_sentence(query, message):
    with pytest.raises(QueryError, match=message):
        lifecycle.run(query, tiny_context(STREAM))


def test_on_the_demo_stream_the_active_statuses_add_up_to_each_days_unique_persons():
    ctx, database = demo_context(NOW)
    results = lifecycle.run({"series": [PAGEVIEW], "dateRange": {"date_from": "-30d"}, "filterTestAccounts": True}, ctx)
    daily = dict(database.execute(
        "SELECT strftime(date_trunc('day', e.timestamp), '%Y-%m-%d'), count(DISTINCT e.person_id)"
        " FROM events e JOIN persons p USING (person_id) WHERE e.event = '$pageview' AND p.email NOT LIKE '%@hogflix.io'"
        " AND e.timestamp <= ? GROUP BY 1", [ctx.now.replace(tzinfo=None)]).fetchall())
    active = [sum(values) for values in zip(*(r["data"] for r in results if r["status"] != "dormant"))]
    assert active == [daily.get(day, 0) for day in results[0]["days"]]
    assert sum(by_status(results)["new"]) > 0 and sum(by_status(results)["resurrecting"]) > 0
