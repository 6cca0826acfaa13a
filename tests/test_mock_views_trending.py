"""Views on the in-process mock: `viewed/`, `my_last_viewed/` and `trending/` (fact sheet §4.1-4.3).

Seeded views (hours before the frozen now of 2026-11-23T12:00Z) make Ada's last five in
environment 1 insights 1, 2, 17, 3 and 14, and the default trending list
1 (3 viewers), 17, 7, 2 (2 each), then 14, 9, 19, 3, 10, 4 (1 each).
"""

from __future__ import annotations

import pytest

from mock_support import KEYS, P, as_session, assert_error, bearer, client, create_insight, session_headers  # noqa: F401

NO_KEYS = "This action does not support personal API key access"
TRENDING = [1, 17, 7, 2, 14, 9, 19, 3, 10, 4]


def my_last_viewed(client, prefix: str = P, user_id: int = 1) -> list[dict]:
    response = client.get(f"{prefix}/insights/my_last_viewed/", headers=session_headers(client, user_id))
    assert response.status_code == 200, response.text
    return response.json()


def trending(client, prefix: str = P, **params) -> dict:
    response = client.get(f"{prefix}/insights/trending/", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def view_counts(client, **params) -> dict[int, int]:
    return {item["id"]: item["view_count"] for item in trending(client, limit=100, **params)["results"]}


# viewed -----------------------------------------------------------------------------------------
def test_viewed_answers_201_with_an_empty_body(client):
    response = client.post(f"{P}/insights/viewed/", json={"insight_ids": [5]})
    assert response.status_code == 201 and response.content == b""
    assert "content-type" not in response.headers


def test_viewed_with_foreign_deleted_and_unknown_ids_still_answers_201_and_drops_them(client):
    # 18 is soft-deleted, 20 lives in project 2, 22 in another organization, 99999 nowhere.
    client.clock.advance(minutes=1)
    response = client.post(f"{P}/insights/viewed/", json={"insight_ids": [18, 20, 22, 99999]})
    assert response.status_code == 201 and response.content == b""
    assert [item["id"] for item in my_last_viewed(client)] == [1, 2, 17, 3, 14]
    assert [item["id"] for item in my_last_viewed(client, "/api/projects/2")] == [21]
    client.patch(f"{P}/insights/18/", json={"deleted": False})
    assert client.get(f"{P}/insights/18/").json()["last_viewed_at"] == "2026-11-23T10:00:00.000000Z"  # the seed's


def test_viewed_records_the_view_and_moves_the_insight_to_the_front(client):
    client.clock.advance(minutes=5)
    client.post(f"{P}/insights/viewed/", json={"insight_ids": [9, 5]})
    assert [item["id"] for item in my_last_viewed(client)] == [9, 5, 1, 2, 17]
    assert client.get(f"{P}/insights/9/").json()["last_viewed_at"] == "2026-11-23T12:05:00.000000Z"


def test_viewed_upserts_one_view_per_user_and_insight(client):
    for minutes in (1, 2, 3):
        client.clock.advance(minutes=minutes)
        client.post(f"{P}/insights/viewed/", json={"insight_ids": [5, 5]})
    assert view_counts(client)[5] == 1
    assert client.get(f"{P}/insights/5/").json()["last_viewed_at"] == "2026-11-23T12:06:00.000000Z"
    grace = client.post("/_mock/keys", json={"scopes": ["insight:read"], "user_id": 2}).json()["value"]
    client.post(f"{P}/insights/viewed/", json={"insight_ids": [5]}, headers=bearer(grace))
    assert view_counts(client)[5] == 2


def test_viewed_needs_only_the_read_scope(client):
    response = client.post(f"{P}/insights/viewed/", json={"insight_ids": [5]}, headers=bearer(KEYS["insights-read"]))
    assert response.status_code == 201


@pytest.mark.parametrize("body", [{}, {"insight_ids": []}, {"insight_ids": "abc"}, {"insight_ids": ["abc", 1]},
                                  {"insight_ids": [True]}, {"insight_ids": list(range(1, 2502))}])
def test_viewed_refuses_invalid_payloads(client, body):
    error = assert_error(client.post(f"{P}/insights/viewed/", json=body), 400, type="validation_error")
    assert error["attr"] in ("insight_ids", "insight_ids__0")  # nested keys joined with __


def test_viewed_accepts_2500_ids(client):
    assert client.post(f"{P}/insights/viewed/", json={"insight_ids": list(range(1, 2501))}).status_code == 201


# my_last_viewed ---------------------------------------------------------------------------------
def test_my_last_viewed_is_a_bare_array_of_the_last_five_newest_first(client):
    items = my_last_viewed(client)
    assert isinstance(items, list)
    assert [item["id"] for item in items] == [1, 2, 17, 3, 14]  # 18, viewed 2h ago, is deleted


def test_my_last_viewed_shows_the_callers_own_view_time(client):
    client.clock.advance(hours=1)
    client.post(f"{P}/insights/viewed/", json={"insight_ids": [3]}, headers=session_headers(client, user_id=2))
    mine = {item["id"]: item["last_viewed_at"] for item in my_last_viewed(client)}
    assert mine[3] == "2026-11-22T10:00:00.000000Z"  # Ada's view, 26h before the seed's now
    assert client.get(f"{P}/insights/3/").json()["last_viewed_at"] == "2026-11-23T13:00:00.000000Z"  # Grace's


def test_my_last_viewed_leaves_out_deleted_insights(client):
    client.patch(f"{P}/insights/2/", json={"deleted": True})
    assert [item["id"] for item in my_last_viewed(client)] == [1, 17, 3, 14, 9]


def test_my_last_viewed_uses_the_views_of_the_exact_environment(client):
    assert my_last_viewed(client, "/api/environments/3") == []
    client.post("/api/environments/3/insights/viewed/", json={"insight_ids": [5]})
    assert [item["id"] for item in my_last_viewed(client, "/api/environments/3")] == [5]
    assert 5 not in [item["id"] for item in my_last_viewed(client)]


def test_my_last_viewed_items_are_basic_with_dashboards_and_no_access_level(client):
    item = my_last_viewed(client)[0]
    assert item["dashboards"] == [1] and item["user_access_level"] is None
    assert "result" not in item and "search_match_type" not in item


@pytest.mark.parametrize("key", ["all-access", "insights-read", "insights-write"])
def test_my_last_viewed_refuses_every_personal_api_key(client, key):
    response = client.get(f"{P}/insights/my_last_viewed/", headers=bearer(KEYS[key]))
    assert_error(response, 403, NO_KEYS, code="permission_denied", type="authentication_error")


def test_creating_an_insight_puts_it_first_in_my_last_viewed(client):
    client.clock.advance(seconds=1)
    created = as_session(client, "POST", f"{P}/insights/", json={"query": {"kind": "PathsV2Query"}})
    assert [item["id"] for item in my_last_viewed(client)][0] == created.json()["id"]


# trending ---------------------------------------------------------------------------------------
def test_trending_orders_by_viewers_in_the_window_then_last_modified(client):
    page = trending(client)
    assert [item["id"] for item in page["results"]] == TRENDING
    assert [item["view_count"] for item in page["results"]] == [3, 2, 2, 2, 1, 1, 1, 1, 1, 1]


def test_trending_envelope_has_count_of_results_and_null_links(client):
    page = trending(client, limit=3, offset=5)
    assert page == {**page, "count": 3, "next": None, "previous": None}
    assert [item["id"] for item in page["results"]] == TRENDING[:3]  # offset is ignored


@pytest.mark.parametrize("days,expected", [(1, [1, 17, 2]), (3, [1, 17, 2, 14, 9, 7, 3, 4])])
def test_trending_counts_only_views_in_the_last_days(client, days, expected):
    assert [item["id"] for item in trending(client, days=days)["results"]] == expected


def test_trending_window_follows_the_clock(client):
    client.clock.advance(days=8)
    assert trending(client)["results"] == []
    client.post(f"{P}/insights/viewed/", json={"insight_ids": [12]})
    assert [item["id"] for item in trending(client)["results"]] == [12]


def test_trending_excludes_deleted_insights(client):
    client.patch(f"{P}/insights/1/", json={"deleted": True})
    assert 1 not in [item["id"] for item in trending(client)["results"]]


def test_trending_limit_defaults_to_10_and_is_capped_at_100(client):
    assert len(trending(client)["results"]) == 10
    assert [item["id"] for item in trending(client, limit=2)["results"]] == [1, 17]
    for n in range(100):
        create_insight(client, name=f"Viewed on creation {n}")
    assert len(trending(client)["results"]) == 10
    page = trending(client, limit=500)
    assert page["count"] == len(page["results"]) == 100


def test_trending_limit_zero_is_empty_and_negative_days_are_empty(client):
    assert trending(client, limit=0)["results"] == []
    assert trending(client, days=-3)["results"] == []


@pytest.mark.parametrize("params", [{"days": "week"}, {"limit": "ten"}, {"days": "1.5"}, {"limit": -1}])
def test_trending_refuses_values_that_are_not_valid_integers(client, params):
    response = client.get(f"{P}/insights/trending/", params=params)
    assert_error(response, 400, "days and limit must be valid integers", code="invalid_input", attr=None)


def test_trending_viewers_are_up_to_three_most_recent_of_this_environment(client):
    items = {item["id"]: item for item in trending(client)["results"]}
    assert [viewer["first_name"] for viewer in items[1]["viewers"]] == ["Ada", "Grace", "Alan"]
    assert items[19]["view_count"] == 1 and items[19]["viewers"] == []  # viewed in environment 3
    staging = {item["id"]: item for item in trending(client, "/api/environments/3")["results"]}
    assert [viewer["first_name"] for viewer in staging[19]["viewers"]] == ["Alan"]


def test_trending_items_are_basic_plus_views_and_last_modifier(client):
    item = trending(client)["results"][0]
    assert item["last_viewed_at"] == "2026-11-23T11:00:00.000000Z"
    assert item["last_modified_by"]["id"] == 1
    assert {"view_count", "viewers", "last_modified_by", "short_id", "query", "refreshing"} <= set(item)
    assert "result" not in item


def test_trending_is_project_wide(client):
    assert [item["id"] for item in trending(client, "/api/environments/3")["results"]] == TRENDING
    assert [item["id"] for item in trending(client, "/api/projects/2")["results"]] == [21, 20]
