"""RetentionQuery results: hand-computed matrices, PostHog's own cases, and a cross-check on the demo stream."""

from __future__ import annotations

from datetime import datetime

import pytest

from analytics_support import NOW, demo_context, event, person, tiny_context
from mockserver.analytics import retention
from mockserver.analytics.properties import QueryError


def counts(results: list[dict]) -> list[list[int]]:
    return [[value["count"] for value in cohort["values"]] for cohort in results]


def pageviews(who: str, *days: str) -> list:
    return [event(who, "$pageview", f"2026-11-{day} 10:00") for day in days]


# Cohorts 16..19 Nov (totalIntervals 4, to the 19th). bob first came on the 10th, before the range;
# cat came twice on the 18th.
SMALL_STREAM = [person("ann"), person("bob"), person("cat"),
                *pageviews("ann", "16", "17", "19"), *pageviews("bob", "10", "17", "18"),
                *pageviews("cat", "18", "18", "19")]
SMALL_RANGE = {"dateRange": {"date_to": "2026-11-19"}}


def test_recurring_retention_puts_a_person_in_every_cohort_they_were_active_in():
    results = retention.run({**SMALL_RANGE, "retentionFilter": {"totalIntervals": 4}}, tiny_context(SMALL_STREAM))
    assert counts(results) == [
        [1, 1, 0, 1],  # 16th: ann; back on the 17th and the 19th
        [2, 1, 1, 0],  # 17th: ann, bob; bob on the 18th, ann on the 19th; the 20th is past the range
        [2, 1, 0, 0],  # 18th: bob, cat; cat on the 19th
        [2, 0, 0, 0],  # 19th: ann, cat
    ]


def test_first_time_retention_keeps_only_the_cohort_of_each_persons_first_event_ever():
    query = {**SMALL_RANGE, "retentionFilter": {"totalIntervals": 4, "retentionType": "retention_first_time"}}
    assert counts(retention.run(query, tiny_context(SMALL_STREAM))) == [
        [1, 1, 0, 1],  # ann started on the 16th
        [0, 0, 0, 0],  # bob started on the 10th: in no cohort
        [1, 1, 0, 0],  # cat
        [0, 0, 0, 0],
    ]


def test_each_cohort_is_a_full_row_of_total_intervals_labelled_by_period_with_its_start_as_utc():
    results = retention.run({**SMALL_RANGE, "retentionFilter": {"totalIntervals": 4}}, tiny_context(SMALL_STREAM))
    assert results[1] == {
        "breakdown_value": None,
        "date": "2026-11-17T00:00:00Z",
        "label": "Day 1",
        "values": [{"count": 2, "label": "Day 0"}, {"count": 1, "label": "Day 1"},
                   {"count": 1, "label": "Day 2"}, {"count": 0, "label": "Day 3"}],
    }


def test_without_a_date_range_the_last_cohort_is_today_and_the_default_is_eight_intervals():
    ctx = tiny_context(SMALL_STREAM)  # now: 23 Nov 2026, 12:00
    results = retention.run({"retentionFilter": {}}, ctx)
    assert [cohort["date"][:10] for cohort in results] == [f"2026-11-{day}" for day in range(16, 24)]
    assert all(len(cohort["values"]) == 8 for cohort in results)


def test_a_returning_event_counts_from_the_interval_after_the_target_event():
    ctx = tiny_context([person("ann"), event("ann", "signed up", "2026-11-16 09:00"),
                        *pageviews("ann", "16", "18")])
    query = {**SMALL_RANGE, "retentionFilter": {
        "totalIntervals": 4, "targetEntity": {"id": "signed up", "type": "events"},
        "returningEntity": {"id": "$pageview", "type": "events"}}}
    assert counts(retention.run(query, ctx))[0] == [1, 0, 1, 0]  # the pageview of the 16th is not Day 1


def test_cumulative_retention_counts_a_person_up_to_their_last_return():
    query = {**SMALL_RANGE, "retentionFilter": {"totalIntervals": 4, "cumulative": True}}
    assert counts(retention.run(query, tiny_context(SMALL_STREAM)))[:2] == [[1, 1, 1, 1], [2, 2, 1, 0]]


def test_minimum_occurrences_counts_a_return_only_with_that_many_events_in_the_interval():
    query = {**SMALL_RANGE, "retentionFilter": {"totalIntervals": 4, "minimumOccurrences": 2}}
    assert counts(retention.run(query, tiny_context(SMALL_STREAM)))[1] == [2, 0, 0, 0]  # bob came once on the 18th


def test_weekly_cohorts_start_on_the_projects_week_start_day():
    ctx = tiny_context(SMALL_STREAM, week_start_day=1)
    query = {"dateRange": {"date_to": "2026-11-19"}, "retentionFilter": {"period": "Week", "totalIntervals": 2}}
    results = retention.run(query, ctx)
    assert [cohort["date"] for cohort in results] == ["2026-11-09T00:00:00Z", "2026-11-16T00:00:00Z"]  # Mondays
    assert counts(results) == [[1, 1], [3, 0]]  # bob on the 10th, back the next week


def test_a_breakdown_repeats_the_cohorts_per_value_biggest_first():
    ctx = tiny_context([person("ann", plan="pro"), person("bob", plan="free"), person("cat", plan="free"),
                        *SMALL_STREAM[3:]])
    query = {**SMALL_RANGE, "retentionFilter": {"totalIntervals": 4},
             "breakdownFilter": {"breakdown": "plan", "breakdown_type": "person"}}
    results = retention.run(query, ctx)
    assert [cohort["breakdown_value"] for cohort in results] == ["free"] * 4 + ["pro"] * 4
    assert counts(results) == [[0, 0, 0, 0], [1, 1, 0, 0], [2, 1, 0, 0], [1, 0, 0, 0],
                               [1, 1, 0, 1], [1, 0, 1, 0], [0, 0, 0, 0], [1, 0, 0, 0]]


def test_breakdown_values_past_the_limit_are_summed_into_other():
    ctx = tiny_context([person("ann", plan="pro"), person("bob", plan="free"), person("cat", plan="team"),
                        *SMALL_STREAM[3:]])
    query = {**SMALL_RANGE, "retentionFilter": {"totalIntervals": 4},
             "breakdownFilter": {"breakdown": "plan", "breakdown_type": "person", "breakdown_limit": 1}}
    values = [cohort["breakdown_value"] for cohort in retention.run(query, ctx)]
    assert values == ["pro"] * 4 + ["$$_posthog_breakdown_other_$$"] * 4  # ann is in 3 cohorts, bob and cat in 2


def test_filtering_test_accounts_leaves_their_persons_out():
    ctx = tiny_context([*SMALL_STREAM, person("eve", email="eve@hogflix.io"), *pageviews("eve", "16")])
    query = {**SMALL_RANGE, "retentionFilter": {"totalIntervals": 4}}
    assert counts(retention.run(query, ctx))[0][0] == 2
    assert counts(retention.run({**query, "filterTestAccounts": True}, ctx))[0][0] == 1


# PostHog's test_retention_query_runner.py (test_day_interval, test_month_interval, test_first_time_retention):
# events at 05:00 on 2020-06-10 + day; person1 also has an alias, one person here.
def _posthog_date(day: int, hour: int = 5, month: int = 0) -> str:
    return datetime(2020, 6 + month, 10 + day, hour).strftime("%Y-%m-%d %H:%M")


def _posthog_day_events() -> list:
    visits = [("person1", 0), ("person1", 1), ("person1", 2), ("person1", 5), ("person1", 6),
              ("person2", 1), ("person2", 2), ("person2", 3), ("person2", 6)]
    return [person("person1"), person("person2"), event("person1", "$pageview", _posthog_date(5, hour=9)),
            *[event(who, "$pageview", _posthog_date(day)) for who, day in visits]]


def test_posthogs_day_interval_case_gives_posthogs_matrix():
    query = {"dateRange": {"date_to": "2020-06-20T06:00:00"}, "retentionFilter": {"totalIntervals": 11}}
    results = retention.run(query, tiny_context(_posthog_day_events()))
    assert [cohort["label"] for cohort in results] == [f"Day {n}" for n in range(11)]
    assert results[0]["date"] == "2020-06-10T00:00:00Z"
    expected = [[1, 1, 1, 0, 0, 1, 1], [2, 2, 1, 0, 1, 2], [2, 1, 0, 1, 2], [1, 0, 0, 1], [0], [1, 1], [2],
                [0], [0], [0], [0]]
    assert counts(results) == [row + [0] * (11 - len(row)) for row in expected]


def test_posthogs_month_interval_case_gives_posthogs_matrix():
    months = [("person1", -5), ("person2", -5), ("person1", -4), ("person2", -4), ("person1", -3), ("person2", -3),
              ("person1", -1), ("person1", 0), ("person2", 0), ("person2", 1), ("person1", 3), ("person2", 5)]
    ctx = tiny_context([person("person1"), person("person2"),
                        *[event(who, "$pageview", _posthog_date(0, month=month)) for who, month in months]])
    query = {"dateRange": {"date_to": "2020-11-25T00:00:00"}, "retentionFilter": {"period": "Month", "totalIntervals": 11}}
    results = retention.run(query, ctx)
    assert [cohort["date"][:10] for cohort in results] == [f"2020-{month:02d}-01" for month in range(1, 12)]
    expected = [[2, 2, 2, 0, 1, 2, 1, 0, 1, 0, 1], [2, 2, 0, 1, 2, 1, 0, 1, 0, 1], [2, 0, 1, 2, 1, 0, 1, 0, 1],
                [0], [1, 1, 0, 0, 1], [2, 1, 0, 1, 0, 1], [1, 0, 0, 0, 1], [0], [1], [0], [1]]
    assert counts(results) == [row + [0] * (11 - len(row)) for row in expected]


def test_posthogs_first_time_case_gives_posthogs_matrix():
    signups = [("shouldnt_include", -5), ("shouldnt_include", -1), ("person1", -1), ("person1", 1), ("person1", 2),
               ("person1", 3), ("person1", 4), ("person2", -1), ("person3", 0), ("person4", 2)]
    views = [("person3", 1), ("person3", 3), ("person3", 4), ("person3", 5), ("person4", 3), ("person4", 5)]
    ctx = tiny_context([*_posthog_day_events(), person("person3"), person("person4"), person("shouldnt_include"),
                        *[event(who, "$user_signed_up", _posthog_date(day)) for who, day in signups],
                        *[event(who, "$pageview", _posthog_date(day)) for who, day in views]])
    query = {"dateRange": {"date_to": "2020-06-15T06:00:00"}, "retentionFilter": {
        "period": "Day", "totalIntervals": 7, "retentionType": "retention_first_time",
        "targetEntity": {"id": "$user_signed_up", "type": "events"},
        "returningEntity": {"id": "$pageview", "type": "events"}}}
    expected = [[2, 1, 2, 2, 1, 0, 1], [1, 1, 0, 1, 1, 1], [0], [1, 1, 0, 1], [0], [0], [0]]
    assert counts(retention.run(query, ctx)) == [row + [0] * (7 - len(row)) for row in expected]


def test_first_ever_occurrence_needs_the_first_target_event_to_match_the_targets_filters():
    ctx = tiny_context([person("ann"), person("bob"),
                        event("ann", "signed up", "2026-11-16 09:00", source="ads"),
                        event("bob", "signed up", "2026-11-16 09:00"),
                        event("bob", "signed up", "2026-11-17 09:00", source="ads")])
    target = {"id": "signed up", "type": "events",
              "properties": [{"key": "source", "value": "ads", "operator": "exact", "type": "event"}]}
    def cohort_sizes(retention_type: str) -> list[int]:
        query = {**SMALL_RANGE, "retentionFilter": {"totalIntervals": 4, "targetEntity": target, "returningEntity": target,
                                                    "retentionType": retention_type}}
        return [row[0] for row in counts(retention.run(query, ctx))]

    assert cohort_sizes("retention_first_time") == [1, 1, 0, 0]  # bob's first matching sign-up is the 17th
    assert cohort_sizes("retention_first_ever_occurrence") == [1, 0, 0, 0]  # bob's first sign-up ever did not match


@pytest.mark.parametrize("retention_filter, message", [
    ({"targetEntity": {"id": 3, "type": "actions"}}, "Actions are not supported"),
    ({"period": "Fortnight"}, "Unknown retention period"),
    ({"totalIntervals": -1}, "totalIntervals must be"),
    ({"retentionType": "retention_sometimes"}, "Unknown retentionType"),
    ({"timeWindowMode": "24_hour_windows"}, "24-hour windows"),
])
def test_options_the_mock_cannot_run_are_refused_with_a_sentence(retention_filter, message):
    with pytest.raises(QueryError, match=message):
        retention.run({"retentionFilter": retention_filter}, tiny_context(SMALL_STREAM))


def test_cohort_breakdowns_are_refused_with_a_sentence():
    query = {"retentionFilter": {}, "breakdownFilter": {"breakdown": [3], "breakdown_type": "cohort"}}
    with pytest.raises(QueryError, match="one event or person property"):
        retention.run(query, tiny_context(SMALL_STREAM))


def test_on_the_demo_stream_day_zero_of_each_cohort_is_that_days_unique_persons():
    ctx, database = demo_context(NOW)
    results = retention.run({"retentionFilter": {"totalIntervals": 14}, "filterTestAccounts": True}, ctx)
    daily = dict(database.execute(
        "SELECT strftime(date_trunc('day', e.timestamp), '%Y-%m-%dT%H:%M:%SZ'), count(DISTINCT e.person_id)"
        " FROM events e JOIN persons p USING (person_id) WHERE e.event = '$pageview' AND p.email NOT LIKE '%@hogflix.io'"
        " AND e.timestamp <= ? GROUP BY 1", [ctx.now.replace(tzinfo=None)]).fetchall())
    assert [cohort["values"][0]["count"] for cohort in results] == [daily.get(cohort["date"], 0) for cohort in results]
    assert all(value["count"] <= cohort["values"][0]["count"] for cohort in results for value in cohort["values"])
