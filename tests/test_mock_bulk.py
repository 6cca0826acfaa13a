"""Bulk actions on the in-process mock: bulk_update_tags (fact sheet §4.9), bulk_delete and
bulk_restore (§4.10). bulk_update_tags is session-only, so it is called with the demo session."""

from __future__ import annotations

import pytest

from mock_support import KEYS, P, as_session, assert_error, bearer, client, ids  # noqa: F401

NOT_EDITABLE = "Not found or no edit access"
NOT_FOUND = "Insight not found"
TOO_MANY = "Too many changes in one request: ids × distinct tags must not exceed 10000."


def update_tags(client, ids: list[int], action: str, tags: list[str], prefix: str = P):
    return as_session(client, "POST", f"{prefix}/insights/bulk_update_tags/", json={"ids": ids, "action": action, "tags": tags})


def tags_of(client, insight_id: int) -> list[str]:
    return client.get(f"{P}/insights/{insight_id}/").json()["tags"]


def verbs(client, insight_id: int) -> list[str]:
    return [e["activity"] for e in client.get(f"{P}/insights/{insight_id}/activity/").json()["results"]]


# bulk_update_tags -------------------------------------------------------------------------------
def test_add_merges_normalized_tags_into_each_insight(client):
    response = update_tags(client, [1, 2], "add", [" KPI", "new ", "New", "   "])
    assert response.status_code == 200
    assert response.json() == {"updated": [{"id": 1, "tags": ["growth", "kpi", "new"]}, {"id": 2, "tags": ["growth", "kpi", "new"]}],
                               "skipped": []}
    assert tags_of(client, 1) == ["growth", "kpi", "new"]


def test_remove_deletes_only_the_given_tags(client):
    body = update_tags(client, [2, 3], "remove", ["GROWTH"]).json()
    assert body["updated"] == [{"id": 2, "tags": ["kpi"]}, {"id": 3, "tags": ["funnel"]}]


def test_set_replaces_every_tag_and_an_empty_set_clears_them(client):
    assert update_tags(client, [1], "set", ["b", "A"]).json()["updated"] == [{"id": 1, "tags": ["a", "b"]}]
    assert update_tags(client, [1], "set", []).json()["updated"] == [{"id": 1, "tags": []}]
    assert tags_of(client, 1) == []


@pytest.mark.parametrize("action", ["add", "remove"])
def test_add_and_remove_need_at_least_one_tag(client, action):
    response = update_tags(client, [1], action, [])
    assert_error(response, 400, f"tags must not be empty for action '{action}'.", code="invalid_input", attr="tags")


def test_ids_times_distinct_tags_may_not_exceed_10000(client):
    tags = [f"t{n}" for n in range(100)]
    assert_error(update_tags(client, list(range(1, 102)), "add", tags), 400, TOO_MANY, attr="tags")
    assert update_tags(client, list(range(1, 101)), "add", tags).status_code == 200


def test_the_10000_limit_counts_distinct_normalized_tags(client):
    tags = [f"t{n}" for n in range(99)] + ["T0"]  # 99 distinct after lowercasing
    assert update_tags(client, list(range(1, 102)), "add", tags).status_code == 200


def test_unknown_deleted_and_foreign_insights_are_skipped_with_one_reason(client):
    body = update_tags(client, [99999, 18, 1, 20], "add", ["x"]).json()
    assert body["updated"] == [{"id": 1, "tags": ["growth", "x"]}]
    assert body["skipped"] == [{"id": i, "reason": NOT_EDITABLE} for i in (99999, 18, 20)]


def test_changed_insights_get_an_updated_activity_entry(client):
    update_tags(client, [1, 5], "add", ["growth"])  # 1 already has it; 5 is changed
    assert verbs(client, 1) == ["updated", "created"]
    assert verbs(client, 5) == ["updated", "created"]
    change = client.get(f"{P}/insights/5/activity/").json()["results"][0]["detail"]["changes"]
    assert change == [{"type": "Insight", "action": "changed", "field": "tags", "before": [], "after": ["growth"]}]


def test_bulk_update_tags_works_project_wide_from_an_environment(client):
    body = update_tags(client, [1, 19], "add", ["shared"], prefix="/api/environments/3").json()
    assert [item["id"] for item in body["updated"]] == [1, 19]


def test_bulk_update_tags_refuses_personal_api_keys(client):
    response = client.post(f"{P}/insights/bulk_update_tags/", json={"ids": [1], "action": "add", "tags": ["x"]})
    assert_error(response, 403, "This action does not support personal API key access")


@pytest.mark.parametrize("body,attr", [
    ({"ids": [], "action": "add", "tags": ["x"]}, "ids"),
    ({"ids": list(range(1, 502)), "action": "add", "tags": ["x"]}, "ids"),
    ({"ids": [1], "action": "toggle", "tags": ["x"]}, "action"),
    ({"ids": [1], "action": "add", "tags": [f"t{n}" for n in range(101)]}, "tags"),
    ({"ids": [1], "action": "add", "tags": ["x" * 256]}, "tags__0"),
    ({"ids": [1], "action": "add"}, "tags"),
    ({"action": "add", "tags": ["x"]}, "ids"),
])
def test_bulk_update_tags_refuses_invalid_bodies(client, body, attr):
    assert_error(as_session(client, "POST", f"{P}/insights/bulk_update_tags/", json=body), 400, attr=attr)


# bulk_delete and bulk_restore -------------------------------------------------------------------
def test_bulk_delete_soft_deletes_and_skips_what_it_cannot_find(client):
    response = client.post(f"{P}/insights/bulk_delete/", json={"ids": [99999, 3, 13, 18, 14, 20]})
    assert response.status_code == 200
    assert response.json() == {
        "deleted": [{"id": 3, "name": "Signup funnel"}, {"id": 13, "name": "Pageview count"}, {"id": 14, "name": None}],
        "skipped": [{"id": i, "reason": NOT_FOUND} for i in (99999, 18, 20)],  # 18 is already deleted
    }
    for insight_id in (3, 13, 14):
        assert_error(client.get(f"{P}/insights/{insight_id}/"), 404)
    assert verbs(client, 1) == ["updated", "created"]


def test_bulk_delete_logs_deleted_and_stamps_the_modification(client):
    moment = client.clock.advance(hours=1)
    client.post(f"{P}/insights/bulk_delete/", json={"ids": [3]})
    client.post(f"{P}/insights/bulk_restore/", json={"ids": [3]})
    assert verbs(client, 3) == ["restored", "deleted", "created"]
    assert client.get(f"{P}/insights/3/").json()["last_modified_at"] == moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_bulk_restore_brings_back_deleted_insights_and_skips_live_ones(client):
    client.post(f"{P}/insights/bulk_delete/", json={"ids": [3]})
    response = client.post(f"{P}/insights/bulk_restore/", json={"ids": [1, 3, 18, 99999]})
    assert response.status_code == 200
    assert response.json() == {
        "restored": [{"id": 3, "name": "Signup funnel"}, {"id": 18, "name": "Abandoned experiment"}],
        "skipped": [{"id": 1, "reason": NOT_FOUND}, {"id": 99999, "reason": NOT_FOUND}],
    }
    assert {3, 18} <= set(ids(client.get(f"{P}/insights/", params={"limit": 100})))


def test_bulk_delete_hides_dashboard_tiles_and_restore_shows_them(client):
    client.post(f"{P}/insights/bulk_delete/", json={"ids": [3]})
    assert ids(client.get(f"{P}/insights/", params={"dashboards": "[1]"})) == [2, 1]
    client.post(f"{P}/insights/bulk_restore/", json={"ids": [3]})
    assert sorted(ids(client.get(f"{P}/insights/", params={"dashboards": "[1]"}))) == [1, 2, 3]
    assert [t["dashboard_id"] for t in client.get(f"{P}/insights/3/").json()["dashboard_tiles"]] == [1]


def test_bulk_delete_and_restore_work_project_wide_from_an_environment(client):
    body = client.post("/api/environments/3/insights/bulk_delete/", json={"ids": [1, 19]}).json()
    assert [item["id"] for item in body["deleted"]] == [1, 19]
    body = client.post("/api/environments/1/insights/bulk_restore/", json={"ids": [1, 19]}).json()
    assert [item["id"] for item in body["restored"]] == [1, 19]


@pytest.mark.parametrize("action", ["bulk_delete", "bulk_restore"])
def test_bulk_delete_and_restore_need_the_write_scope(client, action):
    response = client.post(f"{P}/insights/{action}/", json={"ids": [3]}, headers=bearer(KEYS["insights-read"]))
    assert_error(response, 403, "API key missing required scope 'insight:write'")
    assert client.post(f"{P}/insights/{action}/", json={"ids": [3]}, headers=bearer(KEYS["insights-write"])).status_code == 200


@pytest.mark.parametrize("action", ["bulk_delete", "bulk_restore"])
@pytest.mark.parametrize("body,attr,code", [
    ({"ids": []}, "ids", "empty"),
    ({}, "ids", "required"),
    ({"ids": [0]}, "ids__0", "min_value"),
    ({"ids": list(range(1, 1002))}, "ids", "max_length"),
    ({"ids": ["1"]}, "ids__0", "invalid_input"),
])
def test_bulk_delete_and_restore_refuse_invalid_ids(client, action, body, attr, code):
    assert_error(client.post(f"{P}/insights/{action}/", json=body), 400, code=code, attr=attr)
