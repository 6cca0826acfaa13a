"""PathsQuery results worked out by hand (the first on the events of PostHog's own paths test,
fixture posthog-query-results.md §6.5), and the properties that hold on the demo stream."""

from __future__ import annotations

import pytest

from analytics_support import NOW, demo_context, event, person, tiny_context
from mockserver.analytics import paths
from mockserver.analytics.context import Context
from mockserver.analytics.properties import QueryError


def pageview(who: str, url: str, at: str, **properties):
    return event(who, "$pageview", at, **{"$current_url": url, **properties})


def edges(ctx, **paths_filter) -> list[tuple[str, str, int]]:
    return [(e["source"], e["target"], e["value"]) for e in run(ctx, **paths_filter)]


def run(ctx, dateRange=None, **paths_filter):
    return paths.run({"kind": "PathsQuery", "pathsFilter": paths_filter, **({"dateRange": dateRange} if dateRange else {})}, ctx)


@pytest.fixture(scope="module")
def site():
    # test_paths_query_runner.py `test_current_url_paths_and_logic`, a week before the mock's now.
    return tiny_context([
        pageview("person_1", "/", "2026-11-20 03:21:34"), pageview("person_1", "/about", "2026-11-20 03:28:34"),
        pageview("person_2", "/", "2026-11-20 03:21:34"), pageview("person_2", "/pricing", "2026-11-20 03:28:34"),
        pageview("person_2", "/about", "2026-11-20 03:29:34"),
        pageview("person_3", "/pricing", "2026-11-20 03:21:34"), pageview("person_3", "/", "2026-11-20 03:28:34"),
        pageview("person_4", "/", "2026-11-20 03:21:34"), pageview("person_4", "/pricing", "2026-11-20 03:28:34"),
        pageview("person_1", "/too-old", "2026-11-01 03:21:34"),
    ])


def test_posthogs_case_gives_posthogs_edges_heaviest_first_with_milliseconds_between_steps(site):
    assert run(site) == [
        {"source": "1_/", "target": "2_/pricing", "value": 2, "average_conversion_time": 420_000.0},
        {"source": "1_/", "target": "2_/about", "value": 1, "average_conversion_time": 420_000.0},
        {"source": "1_/pricing", "target": "2_/", "value": 1, "average_conversion_time": 420_000.0},
        {"source": "2_/pricing", "target": "3_/about", "value": 1, "average_conversion_time": 60_000.0},
    ]


def test_a_start_point_keeps_each_session_from_its_first_visit_there(site):
    assert edges(site, startPoint="/pricing") == [("1_/pricing", "2_/", 1), ("1_/pricing", "2_/about", 1)]


def test_an_end_point_keeps_each_session_up_to_its_first_visit_there(site):
    assert edges(site, endPoint="/about") == [("1_/", "2_/about", 1), ("1_/", "2_/pricing", 1), ("2_/pricing", "3_/about", 1)]


def test_a_path_between_both_points_longer_than_the_step_limit_keeps_its_ends_around_an_ellipsis(site):
    assert edges(site, startPoint="/", endPoint="/about", stepLimit=2) == [
        ("1_/", "2_...", 1), ("1_/", "2_/about", 1), ("2_...", "3_/about", 1)]


def test_the_step_limit_cuts_each_session_after_that_many_items():
    ctx = tiny_context([pageview("ann", f"/{page}", f"2026-11-20 10:0{i}") for i, page in enumerate("abcdef")])
    assert edges(ctx, stepLimit=3) == [("1_/a", "2_/b", 1), ("2_/b", "3_/c", 1)]
    assert len(edges(ctx)) == 4  # five items by default


def test_thirty_minutes_without_events_start_a_new_session():
    ctx = tiny_context([pageview("ann", "/", "2026-11-20 10:00"), pageview("ann", "/pricing", "2026-11-20 10:29"),
                        pageview("ann", "/docs", "2026-11-20 10:59"), pageview("ann", "/signup", "2026-11-20 11:05")])
    assert edges(ctx) == [("1_/", "2_/pricing", 1), ("1_/docs", "2_/signup", 1)]


def test_repeats_of_one_item_collapse_into_its_last_visit():
    ctx = tiny_context([pageview("ann", "/", "2026-11-20 10:00"), pageview("ann", "/", "2026-11-20 10:05"),
                        pageview("ann", "/pricing", "2026-11-20 10:06")])
    assert run(ctx) == [{"source": "1_/", "target": "2_/pricing", "value": 1, "average_conversion_time": 60_000.0}]


def test_a_pageviews_item_is_its_url_without_one_trailing_slash():
    ctx = tiny_context([pageview("ann", "https://hogflix.io/", "2026-11-20 10:00"),
                        pageview("ann", "https://hogflix.io/about/", "2026-11-20 10:01")])
    assert edges(ctx, includeEventTypes=["$pageview"]) == [("1_https://hogflix.io", "2_https://hogflix.io/about", 1)]


def test_custom_events_are_paths_of_event_names_and_no_event_types_means_every_event():
    ctx = tiny_context([pageview("ann", "/", "2026-11-20 10:00"), event("ann", "signed up", "2026-11-20 10:01"),
                        event("ann", "$autocapture", "2026-11-20 10:02"), event("ann", "paid", "2026-11-20 10:03")])
    assert edges(ctx, includeEventTypes=["custom_event"]) == [("1_signed up", "2_paid", 1)]
    assert edges(ctx) == [("1_/", "2_signed up", 1), ("2_signed up", "3_$autocapture", 1), ("3_$autocapture", "4_paid", 1)]


def test_posthogs_custom_event_case_orders_events_of_one_moment_as_they_were_stored():
    # test_paths_query_runner.py `test_custom_event_paths`: every event at the same moment; the pageview is ignored.
    stored = {"person_1": ["custom_event_1", "custom_event_3", "$pageview"],
              "person_2": ["custom_event_1", "custom_event_2", "custom_event_3"],
              "person_3": ["custom_event_2", "custom_event_1"], "person_4": ["custom_event_1", "custom_event_2"]}
    ctx = tiny_context([event(who, name, "2026-11-20 10:00") for who, names in stored.items() for name in names])
    assert edges(ctx, includeEventTypes=["custom_event"]) == [
        ("1_custom_event_1", "2_custom_event_2", 2), ("1_custom_event_1", "2_custom_event_3", 1),
        ("1_custom_event_2", "2_custom_event_1", 1), ("2_custom_event_2", "3_custom_event_3", 1)]


def test_screen_paths_are_made_of_screen_names():
    ctx = tiny_context([event("ann", "$screen", "2026-11-20 10:00", **{"$screen_name": "Home"}),
                        event("ann", "$screen", "2026-11-20 10:01", **{"$screen_name": "Player"})])
    assert edges(ctx, includeEventTypes=["$screen"]) == [("1_Home", "2_Player", 1)]


def test_excluded_items_are_left_out_of_the_paths():
    ctx = tiny_context([pageview("ann", "/", "2026-11-20 10:00"), pageview("ann", "/docs", "2026-11-20 10:01"),
                        pageview("ann", "/pricing", "2026-11-20 10:02")])
    assert edges(ctx, includeEventTypes=["$pageview"], excludeEvents=["/docs"]) == [("1_/", "2_/pricing", 1)]


def test_groupings_and_cleaning_rules_rename_items_before_the_paths_are_counted():
    ctx = tiny_context([pageview("ann", "/watch/42", "2026-11-20 10:00"), pageview("ann", "/watch/7", "2026-11-20 10:01"),
                        pageview("ann", "/pricing", "2026-11-20 10:02")])
    assert edges(ctx, pathGroupings=["/watch/*"]) == [("1_/watch/*", "2_/pricing", 1)]
    assert edges(ctx, localPathCleaningFilters=[{"regex": "/watch/\\d+", "alias": "/watch/<id>"}]) == [
        ("1_/watch/<id>", "2_/pricing", 1)]


def test_edge_weights_and_the_edge_limit_keep_only_edges_reachable_from_a_first_step(site):
    assert edges(site, minEdgeWeight=2) == [("1_/", "2_/pricing", 2)]
    # 2_/pricing → 3_/about weighs 1, but the edge into 2_/pricing weighs 2: it cannot be reached.
    assert edges(site, maxEdgeWeight=1) == [("1_/", "2_/about", 1), ("1_/pricing", "2_/", 1)]
    assert edges(site, edgeLimit=1) == [("1_/", "2_/pricing", 2)]
    ctx = tiny_context([*(pageview(f"p{i}", page, f"2026-11-20 10:0{j}") for i in range(3) for j, page in enumerate(["/", "/a", "/b"])),
                        pageview("q", "/x", "2026-11-20 10:00"), pageview("q", "/a", "2026-11-20 10:01")])
    assert edges(ctx, minEdgeWeight=3) == [("1_/", "2_/a", 3), ("2_/a", "3_/b", 3)]
    assert edges(ctx, edgeLimit=1, minEdgeWeight=3) == [("1_/", "2_/a", 3)]


def test_filtering_test_accounts_leaves_their_persons_out():
    ctx = tiny_context([person("ann", email="ann@example.com"), person("staff", email="staff@hogflix.io"),
                        pageview("ann", "/", "2026-11-20 10:00"), pageview("ann", "/a", "2026-11-20 10:01"),
                        pageview("staff", "/", "2026-11-20 10:00"), pageview("staff", "/b", "2026-11-20 10:01")])
    filtered = paths.run({"kind": "PathsQuery", "pathsFilter": {}, "filterTestAccounts": True}, ctx)
    assert [(e["source"], e["target"]) for e in filtered] == [("1_/", "2_/a")]


@pytest.mark.parametrize("query,message", [
    ({"pathsFilter": {"includeEventTypes": ["hogql"], "pathsHogQLExpression": "event"}}, "HogQL path items"),
    ({"pathsFilter": {"includeEventTypes": ["$clicks"]}}, "includeEventTypes takes"),
    ({"funnelPathsFilter": {"funnelStep": 1}}, "Funnel paths"),
    ({"pathsFilter": {"stepLimit": -1}}, "stepLimit must be"),
    ({"pathsFilter": {"startPoint": 3}}, "startPoint must be"),
    ({"pathsFilter": {"edgeLimit": "50"}}, "edgeLimit must be"),
])
def test_options_the_mock_cannot_run_are_refused_with_a_sentence(site, query, message):
    with pytest.raises(QueryError, match=message):
        paths.run({"kind": "PathsQuery", **query}, site)


@pytest.fixture(scope="module")
def demo() -> Context:
    return demo_context(NOW)[0]


def test_on_the_demo_stream_pageview_paths_are_posthog_shaped_and_within_a_session(demo):
    result = paths.run({"kind": "PathsQuery", "pathsFilter": {"includeEventTypes": ["$pageview"]}}, demo)
    assert 0 < len(result) <= 50
    assert [e["value"] for e in result] == sorted((e["value"] for e in result), reverse=True)
    for edge in result:
        step, url = edge["source"].split("_", 1)
        assert url.startswith("https://hogflix.io") and edge["target"].startswith(f"{int(step) + 1}_https://hogflix.io")
        assert 0 <= edge["average_conversion_time"] < 30 * 60 * 1000  # a session has no 30-minute gap
    first_steps = {e["source"] for e in result if e["source"].startswith("1_")}
    assert first_steps and all(e["source"] in first_steps or any(f["target"] == e["source"] for f in result) for e in result)
