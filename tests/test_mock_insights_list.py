"""The insights list on the in-process mock: every filter and ordering of fact sheet §3.1,
limit/offset pagination, `basic=true` and `format=csv` (§7.2).

The seed's project 1 holds 18 live insights (ids 1-17 and 19; 18 is soft-deleted), at a frozen
"now" of 2026-11-23T12:00Z. Read-only tests share one mock; tests that write get their own.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from mock_support import P, as_session, assert_error, client, create_insight, ids, make_client  # noqa: F401

LIVE = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19]
BASIC_FIELDS = {
    "id", "short_id", "name", "derived_name", "favorited", "filters", "query", "dashboard_tiles", "description",
    "last_refresh", "refreshing", "saved", "updated_at", "created_by", "created_at", "last_modified_at", "tags",
    "user_access_level", "last_viewed_at",
}


@pytest.fixture(scope="module")
def reader():
    with make_client() as c:
        yield c


def listed(reader, **params) -> list[int]:
    params.setdefault("limit", 100)
    return ids(reader.get(f"{P}/insights/", params={k: json.dumps(v) if isinstance(v, list) else v for k, v in params.items()}))


def test_list_holds_every_live_insight_of_the_project_and_no_deleted_one(reader):
    response = reader.get(f"{P}/insights/")
    assert response.json()["count"] == len(LIVE)
    assert sorted(ids(response)) == LIVE


def test_list_without_order_follows_the_order_field_then_newest_first(reader):
    assert listed(reader) == [2, 9, 17, 19, 16, 15, 14, 13, 12, 11, 10, 8, 7, 6, 5, 4, 3, 1]


# Filters ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["true", "false"])
def test_user_filter_is_presence_based(reader, value):
    assert sorted(listed(reader, user=value)) == [1, 3, 5, 8, 12, 14, 15, 16]


@pytest.mark.parametrize("value", ["true", "false"])
def test_favorited_filter_is_presence_based(reader, value):
    assert sorted(listed(reader, favorited=value)) == [1, 2, 9, 17]


def test_saved_true_lists_saved_insights(reader):
    assert sorted(listed(reader, saved="true")) == [i for i in LIVE if i != 14]


def test_saved_false_lists_only_unsaved_insights(reader):
    assert listed(reader, saved="false") == [14]


def test_saved_true_also_lists_unsaved_insights_on_a_visible_dashboard(client):
    client.patch(f"{P}/insights/14/", json={"saved": False, "dashboards": [1]})
    unlisted = create_insight(client, saved=False, dashboards=[3])  # dashboard 3 is "unlisted"
    saved = listed(client, saved="true")
    assert 14 in saved and unlisted["id"] not in saved
    assert sorted(listed(client, saved="false")) == [14, unlisted["id"]]


@pytest.mark.parametrize("created_by,expected", [
    ([2, 3], [2, 4, 6, 7, 9, 10, 11, 13, 17, 19]),
    ([3], [4, 7, 9, 11, 19]),
    ([], LIVE),
    ([404], []),
])
def test_created_by_filter_takes_a_json_array_of_user_ids(reader, created_by, expected):
    assert sorted(listed(reader, created_by=created_by)) == expected


@pytest.mark.parametrize("kind,expected", [
    ("TRENDS", [1, 2, 12, 13, 14, 15, 16, 19]),  # 12 by its legacy filters
    ("FUNNELS", [3, 17]),
    ("RETENTION", [4]),
    ("PATHS", [5]),
    ("JOURNEYS", [6]),  # PathsV2Query
    ("STICKINESS", [7]),
    ("LIFECYCLE", [8]),
    ("SQL", [9]),  # DataVisualizationNode over a HogQLQuery
    ("JSON", [10, 11]),  # a DataTableNode and a HogQuery: query insights of no other kind
])
def test_insight_filter_matches_the_kind_of_query(reader, kind, expected):
    assert sorted(listed(reader, insight=kind)) == expected


def test_insight_filter_sees_kinds_of_created_insights(client):
    sql = create_insight(client, query={"kind": "HogQLQuery", "query": "select 1"})
    journey = create_insight(client, query={"kind": "PathsV2Query"})
    assert sql["id"] in listed(client, insight="SQL")
    assert journey["id"] in listed(client, insight="JOURNEYS")


def test_insight_filter_with_an_unknown_kind_is_refused(reader):
    assert_error(reader.get(f"{P}/insights/", params={"insight": "PIE"}), 400, attr="insight")


@pytest.mark.parametrize("params,expected", [
    ({"date_from": "-7d"}, [1, 7, 9, 14, 17, 19]),  # last_modified_at after midnight seven days ago
    ({"date_to": "-7d"}, [2, 3, 4, 5, 6, 8, 10, 11, 12, 13, 15, 16]),
    ({"date_from": "2026-11-20"}, [1, 9, 14, 17]),
    ({"date_from": "2026-11-20", "date_to": "2026-11-22T00:00:00Z"}, [1, 9, 14]),
    ({"date_from": "all"}, LIVE),
    ({"created_date_from": "-14d"}, [13, 14, 15, 16, 17, 19]),
    ({"created_date_to": "-1y"}, [12]),
    ({"created_date_from": "2026-11-19", "created_date_to": "2026-11-22"}, [14, 19]),
    ({"last_viewed_date_from": "-1d"}, [1, 2, 3, 17]),  # views after midnight yesterday
    ({"last_viewed_date_to": "-30d"}, [5, 12]),
    ({"last_viewed_date_from": "2026-11-22T10:00:00Z"}, [1, 2, 17]),
])
def test_date_filters_take_absolute_and_relative_dates(reader, params, expected):
    assert sorted(listed(reader, **params)) == expected


def test_last_viewed_date_filter_follows_new_views(client):
    client.clock.advance(days=3)
    client.post(f"{P}/insights/viewed/", json={"insight_ids": [12]})
    assert listed(client, last_viewed_date_from="-1d") == [12]


@pytest.mark.parametrize("dashboards,expected", [([1], [1, 2, 3]), ([2], [2, 4, 7, 9]), ([1, 2], [2]), ([1, 3], []), ([], LIVE)])
def test_dashboards_filter_needs_every_dashboard(reader, dashboards, expected):
    assert sorted(listed(reader, dashboards=dashboards)) == expected


def test_dashboards_filter_ignores_tiles_of_deleted_insights_and_removed_tiles(client):
    client.patch(f"{P}/insights/3/", json={"dashboards": [2]})
    assert sorted(listed(client, dashboards=[1])) == [1, 2]


@pytest.mark.parametrize("tags,expected", [(["revenue", "errors"], [9, 10, 17]), (["KPI "], [2, 7, 8]), (["nope"], []), ([], LIVE)])
def test_tags_filter_needs_any_tag(reader, tags, expected):
    assert sorted(listed(reader, tags=tags)) == expected


def test_exact_search_matches_name_description_and_tags_and_sorts_by_relevance(reader):
    response = reader.get(f"{P}/insights/", params={"search": "SIGNUP"})
    assert ids(response) == [3, 1]  # exact matches, tie-broken by name
    assert {item["search_match_type"] for item in response.json()["results"]} == {"exact"}
    assert sorted(listed(reader, search="kpi")) == [2, 7, 8]  # tag names
    assert listed(reader, search="per week") == [7, 1]  # descriptions


def test_similar_search_is_used_only_when_nothing_matches_exactly(reader):
    response = reader.get(f"{P}/insights/", params={"search": "retension"})
    assert ids(response) == [4]
    assert response.json()["results"][0]["search_match_type"] == "similar"


def test_search_match_type_is_absent_without_a_search(reader):
    for params in ({}, {"search": "   "}, {"basic": "true"}):
        results = reader.get(f"{P}/insights/", params=params).json()["results"]
        assert all("search_match_type" not in item for item in results)
    basic = reader.get(f"{P}/insights/", params={"search": "signup", "basic": "true"}).json()["results"]
    assert {item["search_match_type"] for item in basic} == {"exact"}


def test_blank_search_is_no_filter(reader):
    assert listed(reader, search="   ") == listed(reader)


def test_search_over_200_characters_is_refused(reader):
    response = reader.get(f"{P}/insights/", params={"search": "x" * 201})
    assert_error(response, 400, "Search query must be 200 characters or fewer.", code="invalid_input", attr="search")
    assert reader.get(f"{P}/insights/", params={"search": "x" * 200}).status_code == 200


def test_search_with_an_explicit_order_uses_that_order(reader):
    assert listed(reader, search="signup", order="-id") == [3, 1]
    assert listed(reader, search="signup", order="id") == [1, 3]


def test_feature_flag_filter_finds_insights_mentioning_the_flag(reader):
    assert sorted(listed(reader, feature_flag="new-onboarding")) == [15, 16]
    assert listed(reader, feature_flag="other-flag") == []


@pytest.mark.parametrize("events,expected", [
    (["$pageview"], [2, 3, 4, 8, 13, 19]),
    (["$pageview", "user signed up"], [3, 4]),
    (["video played"], [7]),
    (["never sent"], []),
])
def test_events_filter_needs_every_event(reader, events, expected):
    assert sorted(listed(reader, events=events)) == expected


def test_hide_feature_flag_insights_leaves_out_the_two_flag_insights(reader):
    assert sorted(listed(reader, hide_feature_flag_insights="true")) == [i for i in LIVE if i not in (15, 16)]
    assert len(listed(reader, hide_feature_flag_insights="false")) == len(LIVE)


def test_short_id_filter_is_exact(reader):
    assert listed(reader, short_id="QZb2cxTK") == [1]
    assert listed(reader, short_id="QZb2cxT") == []


def test_filters_combine_with_and(reader):
    assert sorted(listed(reader, favorited="true", user="false")) == [1]
    assert listed(reader, tags=["kpi"], insight="STICKINESS", date_from="-7d") == [7]


@pytest.mark.parametrize("param,value", [
    ("created_by", "[1,"), ("dashboards", '["a"]'), ("tags", "growth"), ("events", "{}"),
    ("date_from", "yesterday"), ("order", "-nonsense"), ("saved", "maybe"), ("limit", "0"), ("offset", "-1"),
])
def test_malformed_filter_values_are_refused_in_posthogs_shape(reader, param, value):
    assert_error(reader.get(f"{P}/insights/", params={param: value}), 400, attr=param)


# Ordering ---------------------------------------------------------------------------------------
LAST_VIEWED_NEWEST_FIRST = [1, 2, 17, 3, 14, 9, 7, 4, 19, 10, 16, 15, 13, 11, 8, 6, 5, 12]


def test_order_by_last_viewed_at_uses_the_latest_view_by_anyone(reader):
    assert listed(reader, order="-last_viewed_at") == LAST_VIEWED_NEWEST_FIRST
    assert reader.get(f"{P}/insights/1/").json()["last_viewed_at"] == "2026-11-23T11:00:00.000000Z"  # Ada, 1h ago


def test_order_by_last_viewed_at_puts_never_viewed_last_descending_and_first_ascending(client):
    store = client.app.state.server.store
    with store.transaction(write=True):
        for insight_id in (5, 8):
            store.insights.update(insight_id, {"last_viewed_at": None})
    newest_first = listed(client, order="-last_viewed_at")
    assert newest_first[-2:] == [8, 5] and newest_first[0] == 1
    oldest_first = listed(client, order="last_viewed_at")
    assert oldest_first[:2] == [5, 8] and oldest_first[2] == 12 and oldest_first[-1] == 1


@pytest.mark.parametrize("order,key,reverse", [
    ("-last_modified_at", "last_modified_at", True),
    ("last_modified_at", "last_modified_at", False),
    ("-created_at", "created_at", True),
    ("created_at", "created_at", False),
    ("-updated_at", "updated_at", True),
    ("id", "id", False),
    ("-id", "id", True),
])
def test_order_sorts_by_the_named_field(reader, order, key, reverse):
    results = reader.get(f"{P}/insights/", params={"order": order, "limit": 100}).json()["results"]
    values = [item[key] for item in results]
    assert values == sorted(values, reverse=reverse)


def test_order_by_name_puts_unnamed_insights_last_ascending_and_first_descending(reader):
    ascending = reader.get(f"{P}/insights/", params={"order": "name", "limit": 100}).json()["results"]
    assert [i["name"] for i in ascending][-2:] == [None, None]
    named = [i["name"] for i in ascending if i["name"]]
    assert named == sorted(named)
    assert set(listed(reader, order="-name")[:2]) == {13, 14}


def test_order_by_the_order_field(reader):
    assert listed(reader, order="order")[:3] == [2, 9, 17]
    assert listed(reader, order="-order")[-3:] == [17, 9, 2]


# Pagination -------------------------------------------------------------------------------------
def test_limit_and_offset_page_through_with_absolute_links(reader):
    first = reader.get(f"{P}/insights/", params={"saved": "true", "limit": 5}).json()
    assert first["count"] == 17 and len(first["results"]) == 5
    # DRF re-encodes the query sorted by name.
    assert first["next"] == "http://testserver/api/projects/1/insights/?limit=5&offset=5&saved=true"
    assert first["previous"] is None
    second = reader.get(first["next"]).json()
    assert second["previous"] == "http://testserver/api/projects/1/insights/?limit=5&saved=true"
    assert second["next"] == "http://testserver/api/projects/1/insights/?limit=5&offset=10&saved=true"
    last = reader.get(f"{P}/insights/", params={"limit": 5, "offset": 15, "saved": "true"}).json()
    assert last["next"] is None and len(last["results"]) == 2
    assert last["previous"] == "http://testserver/api/projects/1/insights/?limit=5&offset=10&saved=true"
    pages = [item["id"] for page in (first, second) for item in page["results"]]
    assert pages == listed(reader, saved="true")[:10]


def test_default_page_size_is_100(client):
    for n in range(90):
        create_insight(client, name=f"Padding {n}")
    page = client.get(f"{P}/insights/").json()
    assert page["count"] == 108 and len(page["results"]) == 100
    assert page["next"] == "http://testserver/api/projects/1/insights/?limit=100&offset=100"


def test_offset_beyond_the_end_is_an_empty_page(reader):
    page = reader.get(f"{P}/insights/", params={"offset": 1000}).json()
    assert page["results"] == [] and page["count"] == len(LIVE) and page["next"] is None


# basic=true -------------------------------------------------------------------------------------
def test_basic_list_has_the_basic_fields_and_dashboards_for_keys(reader):
    for item in reader.get(f"{P}/insights/", params={"basic": "true"}).json()["results"]:
        assert set(item) == BASIC_FIELDS | {"dashboards"}


def test_basic_list_for_a_session_leaves_out_dashboards_unless_asked(client):
    items = as_session(client, "GET", f"{P}/insights/", params={"basic": "true"}).json()["results"]
    assert all(set(item) == BASIC_FIELDS for item in items)
    items = as_session(client, "GET", f"{P}/insights/", params={"basic": "true", "include_dashboards": "true"}).json()["results"]
    assert all(set(item) == BASIC_FIELDS | {"dashboards"} for item in items)


def test_full_list_for_a_session_leaves_out_dashboards_unless_asked(client):
    assert "dashboards" not in as_session(client, "GET", f"{P}/insights/1/").json()
    assert as_session(client, "GET", f"{P}/insights/1/", params={"include_dashboards": "true"}).json()["dashboards"] == [1]


# format=csv -------------------------------------------------------------------------------------
def csv_rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def test_csv_of_a_page_is_one_row_with_sorted_dotted_headers(reader):
    response = reader.get(f"{P}/insights/", params={"format": "csv", "limit": 2})
    header = next(csv.reader(io.StringIO(response.text)))
    assert header == sorted(header)
    assert header[:3] == ["count", "next", "previous"]
    rows = csv_rows(response)
    assert len(rows) == 1
    assert rows[0]["count"] == str(len(LIVE)) and rows[0]["results.0.id"] == "2" and rows[0]["results.1.id"] == "9"
    assert rows[0]["results.0.created_by.email"] == "grace@hogflix.io"
    assert rows[0]["previous"] == "" and rows[0]["results.0.favorited"] == "True"


def test_csv_of_one_insight_is_one_row(reader):
    rows = csv_rows(reader.get(f"{P}/insights/1/", params={"format": "csv"}))
    assert len(rows) == 1 and rows[0]["id"] == "1" and rows[0]["query.source.kind"] == "TrendsQuery"
    assert rows[0]["tags.0"] == "growth"
    assert "filters" not in rows[0]  # an empty object leaves no column


def test_csv_of_a_list_body_is_one_row_per_item(client):
    rows = csv_rows(as_session(client, "GET", f"{P}/insights/my_last_viewed/", params={"format": "csv"}))
    assert [row["id"] for row in rows] == ["1", "2", "17", "3", "14"]
    assert all("results.0.id" not in row for row in rows)


def test_format_json_is_the_default_rendering(reader):
    assert reader.get(f"{P}/insights/", params={"format": "json"}).json()["count"] == len(LIVE)


def test_an_unknown_format_is_not_found(reader):
    assert_error(reader.get(f"{P}/insights/", params={"format": "xml"}), 404, "Not found.")
