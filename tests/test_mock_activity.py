"""The activity log on the in-process mock: per insight and for every insight of the project
(fact sheet §4.4): newest first, `page`/`limit`, `total_count`, absolute links.

The seed logs "created" for the 18 named insights of project 1 (14 has no name), "updated" for
insight 1 three days ago and "deleted" for insight 18: 20 entries.
"""

from __future__ import annotations

import uuid

import pytest

from mock_support import KEYS, P, assert_error, bearer, client, create_insight  # noqa: F401

SEEDED_ENTRIES = 20


def activity(client, path: str = f"{P}/insights/activity/", **params) -> dict:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_all_activity_is_newest_first_with_a_total_count(client):
    page = activity(client)
    assert page["total_count"] == SEEDED_ENTRIES and len(page["results"]) == 10
    stamps = [entry["created_at"] for entry in page["results"]]
    assert stamps == sorted(stamps, reverse=True)
    first = page["results"][0]
    assert (first["activity"], first["item_id"]) == ("updated", "1")
    assert [(e["activity"], e["item_id"]) for e in page["results"][1:3]] == [("created", "19"), ("deleted", "18")]


def test_activity_pages_by_page_and_limit_with_absolute_links(client):
    first = activity(client)
    assert first["next"] == "http://testserver/api/projects/1/insights/activity/?page=2&limit=10"
    assert first["previous"] is None
    second = activity(client, page=2)
    assert second["next"] is None
    assert second["previous"] == "http://testserver/api/projects/1/insights/activity/?page=1&limit=10"
    assert len(second["results"]) == 10
    assert {e["id"] for e in first["results"]}.isdisjoint(e["id"] for e in second["results"])


def test_activity_links_rewrite_page_and_limit_where_they_stand(client):
    page = client.get(f"{P}/insights/activity/?limit=3&page=2&format=json").json()
    assert page["next"] == "http://testserver/api/projects/1/insights/activity/?limit=3&page=3&format=json"
    assert page["previous"] == "http://testserver/api/projects/1/insights/activity/?limit=3&page=1&format=json"
    assert len(page["results"]) == 3 and page["total_count"] == SEEDED_ENTRIES


def test_activity_beyond_the_last_page_is_empty(client):
    page = activity(client, page=9)
    assert page["results"] == [] and page["next"] is None and page["total_count"] == SEEDED_ENTRIES


@pytest.mark.parametrize("params", [{"page": 0}, {"page": "two"}, {"limit": 0}, {"limit": "x"}])
def test_activity_refuses_pages_and_limits_that_are_not_positive_integers(client, params):
    assert_error(client.get(f"{P}/insights/activity/", params=params), 400, attr=next(iter(params)))


def test_entries_have_posthogs_shape(client):
    entry = activity(client, f"{P}/insights/1/activity/")["results"][0]
    assert uuid.UUID(entry["id"])
    assert entry["user"] == {"first_name": "Ada", "email": "ada@hogflix.io"}
    assert entry["scope"] == "Insight" and entry["item_id"] == "1"
    assert entry["detail"] == {
        "changes": [{"type": "Insight", "action": "changed", "field": "name", "before": "Signups", "after": "Weekly signups"}],
        "trigger": None, "name": "Weekly signups", "short_id": "QZb2cxTK", "type": None,
    }
    assert entry["is_system"] is False and entry["was_impersonated"] is False and entry["client"] is None


def test_activity_of_one_insight_holds_only_its_entries(client):
    page = activity(client, f"{P}/insights/1/activity/")
    assert [e["activity"] for e in page["results"]] == ["updated", "created"]
    assert page["total_count"] == 2 and page["next"] is None and page["previous"] is None


def test_activity_of_an_insight_by_short_id(client):
    assert activity(client, f"{P}/insights/QZb2cxTK/activity/")["total_count"] == 2


@pytest.mark.parametrize("insight", ["18", "9999", "22"])  # deleted, unknown, another organization's
def test_activity_of_an_insight_that_is_not_there_is_not_found(client, insight):
    assert_error(client.get(f"{P}/insights/{insight}/activity/"), 404, "Not found.")


def test_changes_are_logged_newest_first_and_counted(client):
    client.clock.advance(minutes=1)
    client.patch(f"{P}/insights/2/", json={"name": "DAU"})
    client.clock.advance(minutes=1)
    client.patch(f"{P}/insights/2/", json={"favorited": False})
    page = activity(client, f"{P}/insights/2/activity/")
    assert [e["activity"] for e in page["results"]] == ["updated", "updated", "created"]
    assert [c["field"] for c in page["results"][0]["detail"]["changes"]] == ["favorited"]
    assert page["results"][1]["detail"]["changes"][0] == {
        "type": "Insight", "action": "changed", "field": "name", "before": "Daily active users", "after": "DAU"}
    assert activity(client)["total_count"] == SEEDED_ENTRIES + 2


def test_an_update_that_changes_nothing_logs_nothing(client):
    client.patch(f"{P}/insights/2/", json={"name": "Daily active users"})
    assert activity(client, f"{P}/insights/2/activity/")["total_count"] == 1


def test_a_new_query_is_logged_with_both_queries_and_the_same_query_is_not(client):
    before = client.get(f"{P}/insights/2/").json()["query"]
    changed = {**before, "source": {**before["source"], "interval": "month"}}
    client.patch(f"{P}/insights/2/", json={"query": changed})
    client.patch(f"{P}/insights/2/", json={"query": changed, "name": "Monthly"})
    entries = activity(client, f"{P}/insights/2/activity/")["results"]
    assert [[c["field"] for c in e["detail"]["changes"]] for e in entries[:2]] == [["name"], ["query"]]
    assert entries[1]["detail"]["changes"][0]["before"] == before and entries[1]["detail"]["changes"][0]["after"] == changed


def test_changes_to_an_unnamed_insight_are_not_logged_until_it_has_a_name(client):
    client.patch(f"{P}/insights/14/", json={"favorited": True})
    assert activity(client, f"{P}/insights/14/activity/")["total_count"] == 0
    client.patch(f"{P}/insights/14/", json={"name": "Screens"})
    entries = activity(client, f"{P}/insights/14/activity/")["results"]
    assert [e["activity"] for e in entries] == ["updated"]
    assert entries[0]["detail"]["changes"] == [{"type": "Insight", "action": "created", "field": "name", "before": None, "after": "Screens"}]


def test_entries_record_the_user_and_the_client_header(client):
    grace = client.post("/_mock/keys", json={"scopes": ["insight:write"], "user_id": 2}).json()["value"]
    client.patch(f"{P}/insights/3/", json={"description": "Funnel"}, headers={**bearer(grace), "X-PostHog-Client": "mcp"})
    entry = activity(client, f"{P}/insights/3/activity/")["results"][0]
    assert entry["user"] == {"first_name": "Grace", "email": "grace@hogflix.io"} and entry["client"] == "mcp"


def test_activity_is_project_wide_under_every_environment(client):
    create_insight(client, name="From project")
    client.post("/api/environments/3/insights/", json={"name": "From staging", "query": {"kind": "PathsV2Query"}})
    assert activity(client)["total_count"] == SEEDED_ENTRIES + 2
    assert activity(client, "/api/environments/3/insights/activity/")["total_count"] == SEEDED_ENTRIES + 2
    assert activity(client, "/api/projects/2/insights/activity/")["total_count"] == 2


def test_activity_needs_the_activity_log_scope(client):
    response = client.get(f"{P}/insights/activity/", headers=bearer(KEYS["insights-read"]))
    assert_error(response, 403, "API key missing required scope 'activity_log:read'")
    assert client.get(f"{P}/insights/1/activity/", headers=bearer(KEYS["insights-write"])).status_code == 200
