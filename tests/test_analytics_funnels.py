"""FunnelsQuery results worked out by hand (several on the events of PostHog's own funnel tests,
fixture posthog-query-results.md §2), step counts checked against a direct walk of PostHog's funnel
UDF on random streams, and the properties that hold on the demo stream."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics_support import NOW, demo_context, event, person, tiny_context
from mockserver.analytics import funnels
from mockserver.analytics.context import Context
from mockserver.analytics.properties import QueryError, Sql
from mockserver.analytics.ranges import DateRange

NOVEMBER = {"date_from": "2026-11-01", "date_to": "2026-11-23"}


def steps(*names: str, **extra) -> list[dict]:
    return [{"kind": "EventsNode", "event": name, **extra} for name in names]


def funnel(ctx, *names: str, **query):
    return funnels.run({"kind": "FunnelsQuery", "series": query.pop("series", None) or steps(*names),
                        "dateRange": query.pop("dateRange", NOVEMBER), **query}, ctx)


def counts(result) -> list[int]:
    return [step["count"] for step in result]


def test_a_person_counts_at_every_step_they_did_in_order_as_in_posthogs_own_case():
    # test_funnel.py `test_funnel_events`: a signup, a payment, a movie; `wrong_order` pays before signing up.
    ctx = tiny_context([
        event("stopped_after_signup", "user signed up", "2026-11-20 10:00"),
        event("stopped_after_pay", "user signed up", "2026-11-20 10:00"), event("stopped_after_pay", "paid", "2026-11-20 11:00"),
        event("did_all", "user signed up", "2026-11-20 10:00"), event("did_all", "paid", "2026-11-20 11:00"),
        event("did_all", "watched movie", "2026-11-20 12:00"),
        event("just_did_movie", "watched movie", "2026-11-20 12:00"),
        event("wrong_order", "paid", "2026-11-20 09:00"), event("wrong_order", "user signed up", "2026-11-20 10:00"),
        event("wrong_order", "watched movie", "2026-11-20 12:00"),
    ])
    result = funnel(ctx, "user signed up", "paid", "watched movie")
    assert counts(result) == [4, 2, 1]
    assert [step["name"] for step in result] == ["user signed up", "paid", "watched movie"]


def test_two_step_funnel_counts_persons_who_convert_within_the_window():
    ctx = tiny_context([
        event("ann", "signup", "2026-11-10 10:00"), event("ann", "pay", "2026-11-10 11:00"),
        event("bob", "signup", "2026-11-10 10:00"), event("bob", "pay", "2026-11-13 10:00"),  # three days later
        event("cat", "pay", "2026-11-10 11:00"),
    ])
    assert counts(funnel(ctx, "signup", "pay")) == [2, 2]  # the default window is 14 days
    two_days = funnel(ctx, "signup", "pay", funnelsFilter={"funnelWindowInterval": 2, "funnelWindowIntervalUnit": "day"})
    assert counts(two_days) == [2, 1]
    assert two_days[1]["average_conversion_time"] == 3600.0


def test_a_step_with_math_total_counts_as_a_plain_step_and_other_math_is_refused():
    ctx = tiny_context([event("ann", "signup", "2026-11-10 10:00"), event("ann", "pay", "2026-11-10 11:00"),
                        event("bob", "signup", "2026-11-10 10:00")])
    assert counts(funnel(ctx, series=steps("signup", "pay", math="total"))) == counts(funnel(ctx, "signup", "pay")) == [2, 1]
    with pytest.raises(QueryError):
        funnel(ctx, series=steps("signup", "pay", math="dau"))


def test_the_end_of_the_window_is_inclusive():
    # test_funnel.py: with a 5-minute window, 14:00 → 14:05 converts and 12:00 → 12:15 does not.
    ctx = tiny_context([event("ann", "signup", "2026-11-20 14:00"), event("ann", "pageview", "2026-11-20 14:05"),
                        event("bob", "signup", "2026-11-20 12:00"), event("bob", "pageview", "2026-11-20 12:15")])
    result = funnel(ctx, "signup", "pageview", funnelsFilter={"funnelWindowInterval": 5, "funnelWindowIntervalUnit": "minute"})
    assert counts(result) == [2, 1]


def test_every_step_must_come_within_the_window_from_the_first():
    ctx = tiny_context([event("ann", "a", "2026-11-02 10:00"), event("ann", "b", "2026-11-03 10:00"),
                        event("ann", "c", "2026-11-12 10:00")])
    assert counts(funnel(ctx, "a", "b", "c", funnelsFilter={"funnelWindowInterval": 6})) == [1, 1, 0]


def test_one_event_never_counts_for_two_steps():
    ctx = tiny_context([event("ann", "$pageview", "2026-11-20 10:00"),
                        event("bob", "$pageview", "2026-11-20 10:00"), event("bob", "$pageview", "2026-11-20 10:01")])
    assert counts(funnel(ctx, "$pageview", "$pageview", "signup")) == [2, 1, 0]


def test_events_outside_the_date_range_count_for_no_step():
    ctx = tiny_context([event("ann", "signup", "2026-11-10 10:00"), event("ann", "pay", "2026-11-17 10:00"),
                        event("bob", "signup", "2026-11-17 10:00"), event("bob", "pay", "2026-11-17 11:00")])
    assert counts(funnel(ctx, "signup", "pay", dateRange={"date_from": "-7d"})) == [1, 1]


def test_conversion_times_are_the_average_and_median_seconds_from_the_previous_step():
    # conversion_time_cases.py: step 1 averages 6000 s (median 7200), step 2 5400 s (median 5400).
    ctx = tiny_context([
        event("p1", "sign up", "2026-11-20 12:00"), event("p1", "play movie", "2026-11-20 13:00"), event("p1", "buy", "2026-11-20 15:00"),
        event("p2", "sign up", "2026-11-20 14:00"), event("p2", "play movie", "2026-11-20 16:00"),
        event("p3", "sign up", "2026-11-20 14:00"), event("p3", "play movie", "2026-11-20 16:00"), event("p3", "buy", "2026-11-20 17:00"),
    ])
    result = funnel(ctx, "sign up", "play movie", "buy")
    assert [(s["average_conversion_time"], s["median_conversion_time"]) for s in result] == [
        (None, None), (6000.0, 7200.0), (5400.0, 5400.0)]


def test_a_person_who_starts_again_converts_from_their_latest_start():
    ctx = tiny_context([event("ann", "signup", "2026-11-20 10:00"), event("ann", "signup", "2026-11-20 11:00"),
                        event("ann", "pay", "2026-11-20 11:30")])
    assert funnel(ctx, "signup", "pay")[1]["average_conversion_time"] == 1800.0


def test_each_step_has_posthogs_fields_in_posthogs_order():
    ctx = tiny_context([event("ann", "signup", "2026-11-20 10:00"), event("ann", "pay", "2026-11-20 11:00")])
    result = funnel(ctx, series=[{"kind": "EventsNode", "event": "signup", "name": "signup", "custom_name": "Joined"},
                                 {"kind": "EventsNode", "event": "pay"}])
    assert list(result[0]) == ["action_id", "name", "custom_name", "order", "people", "count", "type",
                               "average_conversion_time", "median_conversion_time"]
    assert result[0] == {"action_id": "signup", "name": "signup", "custom_name": "Joined", "order": 0, "people": [], "count": 1,
                         "type": "events", "average_conversion_time": None, "median_conversion_time": None}
    assert result[1]["order"] == 1 and result[1]["custom_name"] is None and result[1]["median_conversion_time"] == 3600.0


def test_a_steps_own_properties_decide_which_events_are_that_step():
    ctx = tiny_context([
        event("ann", "$pageview", "2026-11-20 10:00", **{"$current_url": "https://hogflix.io/pricing"}),
        event("ann", "signup", "2026-11-20 10:05"),
        event("bob", "$pageview", "2026-11-20 10:00", **{"$current_url": "https://hogflix.io/docs"}),
        event("bob", "signup", "2026-11-20 10:05"),
    ])
    pricing = [{"key": "$current_url", "value": "pricing", "operator": "icontains", "type": "event"}]
    result = funnel(ctx, series=[*steps("$pageview", properties=pricing), *steps("signup")])
    assert counts(result) == [1, 1]


def test_strict_order_needs_the_steps_as_consecutive_events_where_ordered_allows_others_between():
    ctx = tiny_context([
        event("ann", "signup", "2026-11-20 10:00"), event("ann", "pay", "2026-11-20 10:10"),
        event("bob", "signup", "2026-11-20 10:00"), event("bob", "$pageview", "2026-11-20 10:05"), event("bob", "pay", "2026-11-20 10:10"),
    ])
    assert counts(funnel(ctx, "signup", "pay")) == [2, 2]
    assert counts(funnel(ctx, "signup", "pay", funnelsFilter={"funnelOrderType": "strict"})) == [2, 1]


def test_a_strict_funnel_lets_an_event_repeat_the_step_before_it():
    # The UDF forgets only the steps an event does not do: b, b keeps step 2; a, a enters again from the second a.
    ctx = tiny_context([
        event("ann", "a", "2026-11-20 10:00"), event("ann", "b", "2026-11-20 10:01"), event("ann", "b", "2026-11-20 10:02"),
        event("ann", "c", "2026-11-20 10:03"),
        event("bob", "a", "2026-11-20 10:00"), event("bob", "a", "2026-11-20 10:30"), event("bob", "b", "2026-11-20 10:31"),
    ])
    result = funnel(ctx, "a", "b", "c", funnelsFilter={"funnelOrderType": "strict"})
    assert counts(result) == [2, 2, 1]
    assert result[1]["average_conversion_time"] == 60.0


def test_unordered_funnels_count_the_steps_done_in_any_order_and_name_steps_by_how_many():
    ctx = tiny_context([event("ann", "pay", "2026-11-20 10:00"), event("ann", "signup", "2026-11-20 11:00"),
                        event("bob", "signup", "2026-11-20 10:00")])
    result = funnel(ctx, "signup", "pay", funnelsFilter={"funnelOrderType": "unordered"})
    assert counts(result) == [2, 1]
    assert [(s["name"], s["action_id"], s["custom_name"]) for s in result] == [
        ("Completed 1 step", None, None), ("Completed 2 steps", None, None)]
    assert result[1]["average_conversion_time"] == 3600.0


def test_a_breakdown_gives_a_funnel_per_value_the_one_furthest_along_first():
    # breakdown_cases.py: Chrome (1, 1, 1) comes before Safari (2, 1, 0).
    ctx = tiny_context([
        *(event("c1", name, f"2026-11-20 1{i}:00", **{"$browser": "Chrome"}) for i, name in enumerate(["sign up", "play", "buy"])),
        event("s1", "sign up", "2026-11-20 10:00", **{"$browser": "Safari"}),
        event("s1", "play", "2026-11-20 11:00", **{"$browser": "Safari"}),
        event("s2", "sign up", "2026-11-20 10:00", **{"$browser": "Safari"}),
    ])
    result = funnel(ctx, "sign up", "play", "buy", breakdownFilter={"breakdown": "$browser", "breakdown_type": "event"})
    assert [(s[0]["breakdown_value"], counts(s)) for s in result] == [(["Chrome"], [1, 1, 1]), (["Safari"], [2, 1, 0])]
    assert all(step["breakdown"] == step["breakdown_value"] for value in result for step in value)
    assert list(result[0][0])[-2:] == ["breakdown", "breakdown_value"]


def test_breakdown_values_add_up_to_the_unbroken_funnels_first_step():
    ctx = tiny_context([
        event("ann", "signup", "2026-11-20 10:00", **{"$browser": "Chrome"}), event("ann", "pay", "2026-11-20 11:00"),
        event("bob", "signup", "2026-11-20 10:00", **{"$browser": "Safari"}),
        event("cat", "signup", "2026-11-20 10:00"),  # no browser: the value ''
    ])
    broken = funnel(ctx, "signup", "pay", breakdownFilter={"breakdown": "$browser"})
    assert sorted(value[0]["breakdown_value"][0] for value in broken) == ["", "Chrome", "Safari"]
    assert sum(value[0]["count"] for value in broken) == funnel(ctx, "signup", "pay")[0]["count"] == 3


def test_first_touch_attribution_puts_a_person_under_the_value_of_their_first_event_that_has_one():
    ctx = tiny_context([
        event("ann", "signup", "2026-11-20 10:00"), event("ann", "pay", "2026-11-20 11:00", **{"$browser": "Firefox"}),
        event("ann", "pay", "2026-11-20 12:00", **{"$browser": "Chrome"}),
    ])
    first = funnel(ctx, "signup", "pay", breakdownFilter={"breakdown": "$browser"})
    last = funnel(ctx, "signup", "pay", breakdownFilter={"breakdown": "$browser"},
                  funnelsFilter={"breakdownAttributionType": "last_touch"})
    assert [(v[0]["breakdown_value"], counts(v)) for v in first] == [(["Firefox"], [1, 1])]
    assert [(v[0]["breakdown_value"], counts(v)) for v in last] == [(["Chrome"], [1, 1])]


def test_all_events_attribution_runs_a_person_through_the_funnel_once_per_value():
    ctx = tiny_context([
        event("ann", "signup", "2026-11-20 10:00", **{"$browser": "Chrome"}),
        event("ann", "pay", "2026-11-20 11:00", **{"$browser": "Chrome"}),
        event("ann", "signup", "2026-11-21 10:00", **{"$browser": "Safari"}),
    ])
    result = funnel(ctx, "signup", "pay", breakdownFilter={"breakdown": "$browser"},
                    funnelsFilter={"breakdownAttributionType": "all_events"})
    assert [(v[0]["breakdown_value"], counts(v)) for v in result] == [(["Chrome"], [1, 1]), (["Safari"], [1, 0])]


def test_a_person_property_breakdown_reads_the_persons_properties():
    ctx = tiny_context([
        person("ann", plan="pro"), person("bob", plan="free"), person("cat", plan="free"),
        event("ann", "signup", "2026-11-20 10:00"), event("ann", "pay", "2026-11-20 11:00"),
        event("bob", "signup", "2026-11-20 10:00"), event("cat", "signup", "2026-11-20 10:00"),
    ])
    result = funnel(ctx, "signup", "pay", breakdownFilter={"breakdown": "plan", "breakdown_type": "person"})
    assert [(v[0]["breakdown_value"], counts(v)) for v in result] == [(["pro"], [1, 1]), (["free"], [2, 0])]


def test_breakdown_values_past_the_limit_are_folded_into_other():
    ctx = tiny_context([event(who, "signup", "2026-11-20 10:00", **{"$browser": browser})
                        for who, browser in [("a", "Chrome"), ("b", "Chrome"), ("c", "Safari"), ("d", "Edge")]])
    result = funnel(ctx, "signup", breakdownFilter={"breakdown": "$browser", "breakdown_limit": 1})
    assert [(v[0]["breakdown_value"], counts(v)) for v in result] == [(["Chrome"], [2]), (["Other"], [2])]


def test_an_exclusion_between_the_steps_drops_the_person_from_the_whole_funnel():
    ctx = tiny_context([
        event("ann", "signup", "2026-11-20 10:00"), event("ann", "pay", "2026-11-20 11:00"),
        event("bob", "signup", "2026-11-20 10:00"), event("bob", "cancel", "2026-11-20 10:30"), event("bob", "pay", "2026-11-20 11:00"),
        event("cat", "signup", "2026-11-20 10:00"), event("cat", "cancel", "2026-11-20 10:30"),
        event("cat", "signup", "2026-11-21 10:00"), event("cat", "pay", "2026-11-21 11:00"),  # a clean second try
        event("dan", "signup", "2026-11-20 10:00"), event("dan", "pay", "2026-11-20 11:00"), event("dan", "cancel", "2026-11-20 12:00"),
    ])
    exclusion = {"kind": "FunnelExclusionEventsNode", "event": "cancel", "funnelFromStep": 0, "funnelToStep": 1}
    assert counts(funnel(ctx, "signup", "pay", funnelsFilter={"exclusions": [exclusion]})) == [3, 3]


def test_filtering_test_accounts_leaves_their_persons_out():
    ctx = tiny_context([person("ann", email="ann@example.com"), person("staff", email="staff@hogflix.io"),
                        event("ann", "signup", "2026-11-20 10:00"), event("staff", "signup", "2026-11-20 10:00")])
    assert counts(funnel(ctx, "signup", filterTestAccounts=True)) == [1]
    assert counts(funnel(ctx, "signup")) == [2]


def test_a_funnel_nobody_entered_is_an_empty_list_as_posthog_answers_it():
    ctx = tiny_context([event("ann", "pay", "2026-11-20 10:00")])
    assert funnel(ctx, "signup", "pay") == []
    assert funnel(ctx, "signup", "pay", breakdownFilter={"breakdown": "$browser"}) == []


def test_funnel_trends_give_each_entrance_day_the_percentage_of_its_entrants_who_converted():
    ctx = tiny_context([
        event("ann", "signup", "2026-11-20 10:00"), event("ann", "pay", "2026-11-21 10:00"),
        event("bob", "signup", "2026-11-20 10:00"),
        event("cat", "signup", "2026-11-22 10:00"), event("cat", "pay", "2026-11-22 11:00"),
    ])
    result = funnel(ctx, "signup", "pay", dateRange={"date_from": "2026-11-19", "date_to": "2026-11-22"},
                    funnelsFilter={"funnelVizType": "trends"})
    assert result == [{"count": 4, "data": [0.0, 50.0, 0.0, 100.0], "days": ["2026-11-19", "2026-11-20", "2026-11-21", "2026-11-22"],
                       "labels": ["19-Nov-2026", "20-Nov-2026", "21-Nov-2026", "22-Nov-2026"]}]


MULTIPLE_RUNS = {  # test_funnel_trends.py `test_one_person_in_multiple_periods_and_windows`
    "user_one": [("step one", "01 01"), ("step two", "01 02"), ("step three", "01 03"), ("step one", "03 01"),
                 ("step two", "03 02"), ("step one", "04 11"), ("step two", "04 12"), ("step three", "04 13")],
    "user_two": [("step one", "04 18")]}
SHUFFLED_RUNS = {  # ... `_in_unordered_funnel`
    "user_one": [("step one", "01 01"), ("step three", "01 02"), ("step two", "01 03"), ("step two", "03 01"),
                 ("step one", "03 02"), ("step three", "04 11"), ("step one", "04 12"), ("step two", "04 13")],
    "user_two": [("step one", "04 18")]}
PARTIAL_RUNS = {  # ... `test_from_second_step` and `test_to_second_step`
    "user_one": [("step one", "01 01"), ("step two", "02 02"), ("step three", "02 03")], "user_two": [("step one", "01 01")],
    "user_three": [("step two", "02 02"), ("step three", "02 03")], "user_four": [("step one", "02 01"), ("step two", "02 02")]}


@pytest.mark.parametrize("journeys,last_day,funnels_filter,data", [
    (MULTIPLE_RUNS, "04", {"funnelWindowInterval": 1}, [100.0, 0.0, 0.0, 50.0]),
    (SHUFFLED_RUNS, "04", {"funnelWindowInterval": 1, "funnelOrderType": "unordered"}, [100.0, 0.0, 0.0, 50.0]),
    (PARTIAL_RUNS, "02", {"funnelWindowInterval": 3, "funnelFromStep": 1}, [100.0, 0.0]),
    (PARTIAL_RUNS, "02", {"funnelWindowInterval": 3, "funnelToStep": 1}, [50.0, 100.0]),
    ({"user_one": [("step three", "01 01"), ("step two", "01 02"), ("step one", "01 03")]}, "01", {"funnelWindowInterval": 1}, [0.0]),
])
def test_posthogs_funnel_trends_cases_give_posthogs_conversion_rates(journeys, last_day, funnels_filter, data):
    ctx = tiny_context([event(who, name, f"2021-05-{at[:2]} {at[3:]}:00") for who, runs in journeys.items() for name, at in runs],
                       now=datetime(2021, 5, 10, tzinfo=timezone.utc))
    result = funnel(ctx, "step one", "step two", "step three", funnelsFilter={"funnelVizType": "trends", **funnels_filter},
                    dateRange={"date_from": "2021-05-01 00:00:00", "date_to": f"2021-05-{last_day} 23:59:59"})
    assert result[0]["data"] == data and result[0]["count"] == len(data)


def test_funnel_trends_with_a_breakdown_give_a_series_per_value_listed_by_value():
    ctx = tiny_context([
        event("ann", "signup", "2026-11-20 10:00", **{"$browser": "Safari"}), event("ann", "pay", "2026-11-20 11:00"),
        event("bob", "signup", "2026-11-20 10:00", **{"$browser": "Chrome"}),
    ])
    result = funnel(ctx, "signup", "pay", dateRange={"date_from": "2026-11-20", "date_to": "2026-11-20"},
                    breakdownFilter={"breakdown": "$browser"}, funnelsFilter={"funnelVizType": "trends"})
    assert [(r["breakdown_value"], r["data"]) for r in result] == [(["Chrome"], [0.0]), (["Safari"], [100.0])]


def test_time_to_convert_bins_the_seconds_persons_took_from_the_first_to_the_last_step():
    ctx = tiny_context([
        event("ann", "signup", "2026-11-20 10:00"), event("ann", "pay", "2026-11-20 11:00"),
        event("bob", "signup", "2026-11-20 10:00"), event("bob", "pay", "2026-11-21 10:00"),
        event("cat", "signup", "2026-11-20 10:00"),
    ])
    # Two timings: ceil(cbrt(2)) = 2 bins of ceil((86400 - 3600) / 2) seconds, plus the bin the maximum opens.
    assert funnel(ctx, "signup", "pay", funnelsFilter={"funnelVizType": "time_to_convert"}) == {
        "average_conversion_time": 45000.0, "bins": [[3600, 1], [45000, 0], [86400, 1]]}


@pytest.mark.parametrize("query,message", [
    ({"series": [{"kind": "ActionsNode", "id": 1}]}, "Actions are not supported"),
    ({"breakdownFilter": {"breakdown": [3], "breakdown_type": "cohort"}}, "cohort breakdowns are not supported"),
    ({"breakdownFilter": {"breakdown": "$browser"}, "funnelsFilter": {"breakdownAttributionType": "step"}}, "attribution 'step'"),
    ({"funnelsFilter": {"funnelWindowIntervalUnit": "fortnight"}}, "fortnight not supported"),
    ({"funnelsFilter": {"funnelOrderType": "sideways"}}, "funnelOrderType must be one of"),
    ({"funnelsFilter": {"funnelToStep": 5}}, "funnelToStep is out of bounds. It must be between 1 and 1."),
    ({"funnelsFilter": {"exclusions": [{"event": "signup", "funnelFromStep": 0, "funnelToStep": 1}]}},
     "Exclusion steps cannot contain an event that's part of funnel steps."),
    ({"funnelsFilter": {"exclusions": [{"event": "x", "funnelFromStep": 1, "funnelToStep": 1}]}}, "End of range should be greater"),
    ({"funnelsFilter": {"funnelOrderType": "strict", "exclusions": [{"event": "x", "funnelFromStep": 0, "funnelToStep": 1}]}},
     "Exclusions in strict funnels are not supported"),
    ({"aggregation_group_type_index": 0}, "aggregated by groups"),
    ({"breakdownFilter": {"breakdown": "$browser", "breakdown_limit": "5; DROP TABLE events"}}, "breakdown_limit must be"),
    ({"series": []}, "at least one step"),
])
def test_options_the_mock_cannot_run_are_refused_with_a_sentence(query, message):
    ctx = tiny_context([event("ann", "signup", "2026-11-20 10:00")])
    with pytest.raises(QueryError, match=message):
        funnels.run({"kind": "FunnelsQuery", "series": steps("signup", "pay"), **query}, ctx)


def udf_walk(events: list[tuple[int, set[int]]], n: int, window: int, order: str) -> tuple[int, list[int]]:
    """PostHog's aggregate_funnel (steps.rs, unordered_steps.rs) for one person with no two events at
    the same time: how many steps they got through, and the seconds between those steps. `events`
    are (seconds, the steps the event does, 1-based)."""
    furthest: tuple[int, list[int]] = (0, [])
    if order == "unordered":
        recent: list[list[int]] = [[] for _ in range(n)]
        for at, done in events:
            if not done:
                continue
            step = min(done, key=lambda s: recent[s - 1][-1] if recent[s - 1] else 0)
            recent[step - 1].append(at)
            for kept in recent:
                while kept and at - kept[0] > window:
                    kept.pop(0)
            if sum(1 for kept in recent if kept) > furthest[0]:
                furthest = (sum(1 for kept in recent if kept), sorted(kept[0] for kept in recent if kept))
        return furthest[0], [b - a for a, b in zip(furthest[1], furthest[1][1:])]
    entered: list[tuple[int, list[int]] | None] = [None] * (n + 1)  # per step: (entry time, times of its steps)
    for at, done in events:
        entered[0] = (at, [])
        for step in sorted(done, reverse=True):
            previous = entered[step - 1]
            if previous and at - previous[0] <= window and (entered[step] or (None,))[0] != previous[0]:
                entered[step] = (previous[0], [*previous[1], at])
                if step > furthest[0]:
                    furthest = (step, entered[step][1])
        if order == "strict":
            entered[1:] = [entered[i] if i in done else None for i in range(1, n + 1)]
    return furthest[0], [b - a for a, b in zip(furthest[1], furthest[1][1:])]


# Three ways the mock computes the same ordered funnel: the timeline picks the events by name and
# walks them in numpy; a property filter every event passes has DuckDB select them first; a
# breakdown by a property no event has (one value, '') runs the whole walk in SQL.
ROUTES = {"timeline": {}, "selected_by_duckdb": {"properties": [{"key": "absent", "operator": "is_not_set", "type": "event"}]},
          "sql": {"breakdownFilter": {"breakdown": "absent"}}}


def by_route(route: str, result: list) -> list:
    """The funnel's steps whatever the route (the SQL route's one breakdown value unwrapped)."""
    if route != "sql" or not result:
        return result
    assert len(result) == 1 and result[0][0]["breakdown_value"] == [""]
    return [{key: value for key, value in step.items() if key not in ("breakdown", "breakdown_value")} for step in result[0]]


NAMES = ["a", "b", "c", "other"]
START = datetime(2026, 11, 1, tzinfo=timezone.utc)


@settings(max_examples=30, deadline=None)
@given(persons=st.lists(st.lists(st.tuples(st.integers(0, 4 * 24 * 60), st.sampled_from(NAMES)), max_size=10,
                                 unique_by=lambda e: e[0]), min_size=1, max_size=5),
       series=st.sampled_from([["a", "b", "c"], ["a", "b"], ["a", "a", "b"], ["a", "b", "a"], ["b", "a", "c"],
                                ["a", "b", "c", "b"], ["a", "b", "b", "c"]]),
       window_hours=st.integers(1, 48), order=st.sampled_from(["ordered", "strict", "unordered"]),
       route=st.sampled_from(sorted(ROUTES)))
def test_step_counts_match_a_direct_walk_of_posthogs_funnel_udf(persons, series, window_hours, order, route):
    if order != "ordered" and len(set(series)) < len(series):
        order = "ordered"  # an event doing two steps of a strict or unordered funnel is not modelled exactly
    rows = [event(f"p{i}", name, (START + timedelta(minutes=minute)).strftime("%Y-%m-%d %H:%M"))
            for i, happened in enumerate(persons) for minute, name in happened]
    result = by_route(route, funnel(tiny_context(rows), series=steps(*series), **ROUTES[route], funnelsFilter={
        "funnelOrderType": order, "funnelWindowInterval": window_hours, "funnelWindowIntervalUnit": "hour"}))
    walks = [udf_walk([(minute * 60, {i + 1 for i, name in enumerate(series) if name == happened_name})
                       for minute, happened_name in sorted(happened)], len(series), window_hours * 3600, order)
             for happened in persons]
    assert (counts(result) if result else [0] * len(series)) == [sum(1 for f, _ in walks if f > k) for k in range(len(series))]
    for k in range(1, len(series) if result else 0):
        gaps = [gaps[k - 1] for f, gaps in walks if f > k and gaps[k - 1] > 0]  # PostHog averages the non-zero ones
        assert result[k]["average_conversion_time"] == (pytest.approx(sum(gaps) / len(gaps)) if gaps else None)


@settings(max_examples=40, deadline=None)
@given(persons=st.lists(st.lists(st.tuples(st.integers(0, 6), st.sampled_from(NAMES)), max_size=8), min_size=1, max_size=4),
       series=st.sampled_from([["a", "b", "c"], ["a", "a", "b"], ["b", "a"], ["a", "b", "a", "c"]]),
       window_hours=st.integers(0, 2))
def test_simultaneous_events_give_the_same_funnel_by_every_route(persons, series, window_hours):
    # Minutes 0..6 make many events of one person at one time: each route must put the earlier step first.
    rows = [event(f"p{i}", name, (START + timedelta(minutes=minute)).strftime("%Y-%m-%d %H:%M"))
            for i, happened in enumerate(persons) for minute, name in happened]
    ctx = tiny_context(rows)
    results = {route: by_route(route, funnel(ctx, series=steps(*series), **ROUTES[route], funnelsFilter={
        "funnelWindowInterval": window_hours, "funnelWindowIntervalUnit": "hour"})) for route in ROUTES}
    assert results["timeline"] == results["selected_by_duckdb"]
    if all(len(set(happened)) == len(happened) for happened in persons):
        # The SQL route orders events by (time, first step): two identical events of one person at
        # one time share a key there and count once, where the UDF and the timeline count both.
        assert results["timeline"] == results["sql"]


def test_two_identical_simultaneous_events_do_two_steps_as_in_the_udf():
    ctx = tiny_context([event("ann", "view", "2026-11-20 10:00"), event("ann", "view", "2026-11-20 10:00")])
    assert counts(funnel(ctx, series=steps("view", "view"))) == [1, 1]


def test_a_step_done_at_the_same_time_as_the_step_before_it_counts_as_after_it():
    ctx = tiny_context([event("ann", "pay", "2026-11-20 10:00"), event("ann", "signup", "2026-11-20 10:00")])
    for route in ROUTES:
        assert counts(by_route(route, funnel(ctx, series=steps("signup", "pay"), **ROUTES[route]))) == [1, 1], route


@pytest.mark.parametrize("query", [
    {"series": steps("$pageview", "$autocapture", "user signed up", "onboarding completed")},
    {"series": steps("$pageview", "$pageview", "$autocapture"), "funnelsFilter": {"funnelWindowInterval": 1, "funnelWindowIntervalUnit": "hour"}},
    {"series": [{"kind": "EventsNode", "event": None}, *steps("checkout started", "payment submitted")], "dateRange": {"date_from": "-7d"}},
    {"series": steps("$autocapture", "$rageclick", "$pageview"), "funnelsFilter": {"funnelWindowInterval": 90, "funnelWindowIntervalUnit": "second"}},
    {"series": steps("$pageview", "user signed up"), "filterTestAccounts": True, "funnelsFilter": {"funnelVizType": "time_to_convert"}},
])
def test_on_the_demo_stream_every_route_gives_the_same_funnel(demo, query):
    results = {}
    for route, extra in ROUTES.items():
        answer = funnels.run({"kind": "FunnelsQuery", "dateRange": {"date_from": "-30d"}, **query, **extra}, demo)
        results[route] = answer if isinstance(answer, dict) else by_route(route, answer)
    assert results["timeline"] == results["selected_by_duckdb"] == results["sql"]
    assert results["timeline"]


@pytest.fixture(scope="module")
def demo() -> Context:
    return demo_context(NOW)[0]


def unique_persons(ctx: Context, event_name: str, query: dict) -> int:
    date_range = DateRange.of(query, ctx.now, ctx.week_start_day)
    sql = Sql()
    source = ctx.events_sql(sql, start=date_range.date_from, end=date_range.date_to, event=event_name,
                            filters=(query.get("properties"),), filter_test_accounts=bool(query.get("filterTestAccounts")))
    return ctx.rows(f"SELECT count(DISTINCT e.person_id) {source}", sql)[0][0]


@pytest.mark.parametrize("query", [
    {},
    {"dateRange": {"date_from": "-30d"}, "filterTestAccounts": True},
    {"dateRange": {"date_from": "-14d"}, "properties": [{"key": "$browser", "value": "Chrome", "type": "event"}]},
])
def test_on_the_demo_stream_step_one_is_the_unique_persons_who_did_its_event(demo, query):
    series = steps("$pageview", "user signed up", "checkout started", "payment submitted")
    ordered = funnels.run({"kind": "FunnelsQuery", "series": series, **query}, demo)
    assert ordered[0]["count"] == unique_persons(demo, "$pageview", query) > 0
    assert counts(ordered) == sorted(counts(ordered), reverse=True) and counts(ordered)[-1] > 0
    strict, unordered = (funnels.run({"kind": "FunnelsQuery", "series": series, "funnelsFilter": {"funnelOrderType": order}, **query}, demo)
                         for order in ("strict", "unordered"))
    assert all(s <= o <= u for s, o, u in zip(counts(strict), counts(ordered), counts(unordered)))
    broken = funnels.run({"kind": "FunnelsQuery", "series": series, "breakdownFilter": {"breakdown": "$browser"}, **query}, demo)
    assert sum(value[0]["count"] for value in broken) == ordered[0]["count"]
    assert [sum(value[k]["count"] for value in broken) for k in range(4)] == counts(ordered)
