"""Insights CRUD on the in-process mock: create, retrieve, update, the forbidden DELETE, soft delete
and restore, and the routes' conveniences (short ids, both prefixes, `@current`, trailing slash).
Fact sheet §2.1, §4.7, §4.8, §8."""

from __future__ import annotations

import re

import pytest

from mock_support import KEYS, P, as_session, assert_error, bearer, client, create_insight, ids  # noqa: F401

QUERY_NEEDED = "Creating an insight needs a query. See https://posthog.com/docs/api/insights"
QUERY_NEEDED_ON_UPDATE = (
    "An insight needs a query. To keep the stored one, leave query out of the request. See https://posthog.com/docs/api/insights"
)
LEGACY_FILTERS = (
    "Creating or updating insights with legacy filters is not available for this user. Send a query object "
    "instead. See https://posthog.com/docs/api/insights"
)
TRENDS = {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}]}


def activity_verbs(client, insight_id: int) -> list[str]:
    response = client.get(f"{P}/insights/{insight_id}/activity/")
    assert response.status_code == 200, response.text
    return [entry["activity"] for entry in response.json()["results"]]


# Create -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("body", [{"name": "No query"}, {"name": "Null", "query": None}, {"name": "Empty", "query": {}}])
def test_create_without_a_query_is_refused(client, body):
    assert_error(client.post(f"{P}/insights/", json=body), 400, QUERY_NEEDED, code="invalid_input", attr="query")


@pytest.mark.parametrize("query", [0, False, [], ""])
def test_create_with_a_falsy_query_that_is_not_an_object_is_refused(client, query):
    assert_error(client.post(f"{P}/insights/", json={"query": query}), 400, "Query must be a valid JSON object", attr="query")


def test_create_with_a_truthy_query_that_is_not_an_object_fails_in_the_parser(client):
    # QuerySchemaParser validates any truthy query before the serializer sees it.
    response = client.post(f"{P}/insights/", json={"query": "count()"})
    assert_error(response, 400, code="parse_error", type="invalid_request", attr=None)


def test_create_with_a_query_that_does_not_parse_is_a_parse_error(client):
    response = client.post(f"{P}/insights/", json={"query": {"kind": "TrendsQuery"}})
    body = assert_error(response, 400, code="parse_error", type="invalid_request", attr=None)
    assert "series" in body["detail"]


def test_create_with_legacy_filters_and_no_query_is_forbidden(client):
    response = client.post(f"{P}/insights/", json={"name": "Legacy", "filters": {"insight": "TRENDS"}})
    assert_error(response, 403, LEGACY_FILTERS, code="permission_denied", type="authentication_error", attr=None)


def test_create_with_legacy_filters_and_a_query_ignores_the_filters(client):
    insight = create_insight(client, filters={"insight": "FUNNELS"})
    assert insight["filters"] == {}


def test_create_answers_201_with_the_new_insight(client):
    response = client.post(f"{P}/insights/", json={"name": "Signups", "query": TRENDS, "tags": [" Growth ", "growth", "KPI"]})
    assert response.status_code == 201
    insight = response.json()
    assert re.fullmatch(r"[A-Za-z0-9]{8}", insight["short_id"])
    assert insight["name"] == "Signups" and insight["saved"] is True and insight["deleted"] is False
    assert insight["created_by"]["id"] == 1 and insight["last_modified_by"]["id"] == 1
    assert insight["tags"] == ["growth", "kpi"]
    assert insight["created_at"] == insight["last_modified_at"] == insight["updated_at"]
    assert client.get(f"{P}/insights/{insight['id']}/").json()["name"] == "Signups"


@pytest.mark.parametrize("kind", ["TrendsQuery", "FunnelsQuery", "StickinessQuery", "LifecycleQuery"])
def test_create_wraps_a_bare_insight_source_in_an_insight_viz_node(client, kind):
    source = {"kind": kind, "series": [{"kind": "EventsNode", "event": "$pageview", "name": None}], "interval": None}
    insight = create_insight(client, query=source)
    # PostHog dumps the wrapped model without its nulls.
    assert insight["query"] == {"kind": "InsightVizNode", "source": {"kind": kind, "series": [{"kind": "EventsNode", "event": "$pageview"}]}}


def test_create_wraps_a_bare_hogql_query_in_a_data_visualization_node(client):
    insight = create_insight(client, query={"kind": "HogQLQuery", "query": "select 1"})
    assert insight["query"] == {"kind": "DataVisualizationNode", "source": {"kind": "HogQLQuery", "query": "select 1"}}


def test_create_keeps_a_wrapper_node_as_sent(client):
    query = {"kind": "DataTableNode", "source": {"kind": "EventsQuery", "select": ["*"]}, "full": None}
    assert create_insight(client, query=query)["query"] == query


def test_create_records_a_view_for_the_creator(client):
    insight = create_insight(client, name="Just made")
    assert insight["last_viewed_at"] == insight["created_at"]
    last_viewed = as_session(client, "GET", f"{P}/insights/my_last_viewed/").json()
    assert last_viewed[0]["id"] == insight["id"]
    trending = client.get(f"{P}/insights/trending/", params={"limit": 100}).json()["results"]
    assert {"id": insight["id"], "view_count": 1} in [{"id": t["id"], "view_count": t["view_count"]} for t in trending]


def test_create_logs_created_activity_when_named(client):
    named = create_insight(client, name="Named")
    derived = create_insight(client, derived_name="Derived")
    assert activity_verbs(client, named["id"]) == ["created"]
    assert activity_verbs(client, derived["id"]) == ["created"]


def test_create_without_a_name_logs_no_activity(client):
    assert activity_verbs(client, create_insight(client)["id"]) == []


def test_create_on_an_unknown_dashboard_is_refused(client):
    response = client.post(f"{P}/insights/", json={"query": TRENDS, "dashboards": [1, 999, 5]})
    # Dashboard 5 belongs to another organization's project.
    assert_error(response, 400, "Dashboard not found: 999, 5", attr="dashboards")


def test_create_on_dashboards_adds_tiles(client):
    insight = create_insight(client, dashboards=[1, 2])
    assert [t["dashboard_id"] for t in insight["dashboard_tiles"]] == [1, 2]
    assert insight["dashboards"] == [1, 2]  # keys get the deprecated field by default


# Retrieve ---------------------------------------------------------------------------------------
def test_retrieve_by_id_and_by_short_id_answers_the_same_insight(client):
    by_id = client.get(f"{P}/insights/1/").json()
    assert by_id["short_id"] == "QZb2cxTK"
    assert client.get(f"{P}/insights/QZb2cxTK/").json() == by_id


def test_retrieve_with_digits_tries_the_id_before_the_short_id(client):
    store = client.app.state.server.store
    with store.transaction(write=True):
        store.insights.update(3, {"short_id": "00000002"})  # digits naming insight 2
        store.insights.update(4, {"short_id": "12345678"})  # digits naming no insight
    assert client.get(f"{P}/insights/00000002/").json()["id"] == 2
    assert client.get(f"{P}/insights/12345678/").json()["id"] == 4


@pytest.mark.parametrize("ident", ["9999", "ZZZZZZZZ", "22"])  # 22 lives in another organization's project
def test_retrieve_of_an_unknown_insight_is_not_found(client, ident):
    assert_error(client.get(f"{P}/insights/{ident}/"), 404, "Not found.", code="not_found", type="invalid_request")


def test_retrieve_from_a_dashboard_adds_the_tile_color_and_layouts(client):
    item = client.get(f"{P}/insights/1/", params={"from_dashboard": 1}).json()
    assert item["color"] == "blue" and item["layouts"] == {"sm": {"x": 0, "y": 5, "w": 6, "h": 5}}
    assert "color" not in client.get(f"{P}/insights/1/").json()


def test_retrieve_basic_answers_the_basic_fields(client):
    item = client.get(f"{P}/insights/1/", params={"basic": "true"}).json()
    assert "result" not in item and item["refreshing"] is False


# Update -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["PATCH", "PUT"])
@pytest.mark.parametrize("change", [{"name": "Renamed"}, {"description": "New words"}])
def test_changing_a_material_field_bumps_last_modified_at(client, method, change):
    moment = client.clock.advance(hours=1)
    item = client.request(method, f"{P}/insights/3/", json=change).json()
    assert item["last_modified_at"] == item["updated_at"] == moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
@pytest.mark.parametrize("change", [{"favorited": True}, {"tags": ["new"]}, {"query": TRENDS}, {"order": 4}, {"derived_name": "d"}])
def test_changing_other_fields_bumps_only_updated_at(client, method, change):
    before = client.get(f"{P}/insights/3/").json()
    client.clock.advance(hours=1)
    item = client.request(method, f"{P}/insights/3/", json=change).json()
    assert item["last_modified_at"] == before["last_modified_at"]
    assert item["updated_at"] > before["updated_at"]


def test_material_change_by_another_user_makes_them_last_modifier(client):
    grace = client.post("/_mock/keys", json={"scopes": ["insight:write"], "user_id": 2}).json()["value"]
    item = client.patch(f"{P}/insights/1/", json={"name": "Grace's"}, headers=bearer(grace)).json()
    assert item["last_modified_by"]["id"] == 2 and item["created_by"]["id"] == 1


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_any_update_saves_the_insight_unless_saved_is_sent(client, method):
    assert client.get(f"{P}/insights/14/").json()["saved"] is False
    assert client.request(method, f"{P}/insights/14/", json={"favorited": True}).json()["saved"] is True
    assert client.request(method, f"{P}/insights/14/", json={"saved": False}).json()["saved"] is False


def test_any_update_clears_is_sample(client):
    store = client.app.state.server.store
    with store.transaction(write=True):
        store.insights.update(5, {"is_sample": True})
    assert client.get(f"{P}/insights/5/").json()["is_sample"] is True
    assert client.patch(f"{P}/insights/5/", json={}).json()["is_sample"] is False


@pytest.mark.parametrize("query", [None, {}])
def test_update_that_drops_the_query_is_refused(client, query):
    assert_error(client.patch(f"{P}/insights/1/", json={"query": query}), 400, QUERY_NEEDED_ON_UPDATE, attr="query")


def test_update_with_legacy_filters_and_no_query_is_forbidden(client):
    assert_error(client.patch(f"{P}/insights/1/", json={"filters": {"insight": "TRENDS"}}), 403, LEGACY_FILTERS)


def test_update_by_short_id_changes_that_insight(client):
    assert client.patch(f"{P}/insights/QZb2cxTK/", json={"name": "By short id"}).json()["id"] == 1
    assert client.get(f"{P}/insights/1/").json()["name"] == "By short id"


def test_update_logs_the_changed_fields(client):
    client.patch(f"{P}/insights/2/", json={"name": "DAU", "tags": ["kpi"]})
    entry = client.get(f"{P}/insights/2/activity/").json()["results"][0]
    assert entry["activity"] == "updated"
    assert {(c["field"], c["action"]) for c in entry["detail"]["changes"]} == {("name", "changed"), ("tags", "changed")}


def test_moving_an_insight_between_dashboards_logs_a_dashboards_change(client):
    item = client.patch(f"{P}/insights/3/", json={"dashboards": [2]}).json()
    assert [t["dashboard_id"] for t in item["dashboard_tiles"]] == [2]
    change = client.get(f"{P}/insights/3/activity/").json()["results"][0]["detail"]["changes"][0]
    assert change == {"type": "Insight", "action": "changed", "field": "dashboards",
                      "before": [{"id": 1, "name": "Growth"}], "after": [{"id": 2, "name": "Product health"}]}


# DELETE -----------------------------------------------------------------------------------------
def test_delete_insight_returns_405_with_an_empty_body_and_keeps_it(client):
    before = client.get(f"{P}/insights/1/").json()
    response = client.delete(f"{P}/insights/1/")
    assert response.status_code == 405 and response.content == b""
    assert client.get(f"{P}/insights/1/").json() == before
    assert activity_verbs(client, 1) == ["updated", "created"]


def test_delete_of_an_unknown_insight_is_405_too(client):
    response = client.delete(f"{P}/insights/987654/")
    assert response.status_code == 405 and response.content == b""


def test_delete_with_a_read_only_key_is_refused_before_the_405(client):
    response = client.delete(f"{P}/insights/1/", headers=bearer(KEYS["insights-read"]))
    assert_error(response, 403, "API key missing required scope 'insight:write'")


# Soft delete and restore ------------------------------------------------------------------------
def test_soft_delete_by_patch_hides_the_insight_everywhere(client):
    response = client.patch(f"{P}/insights/3/", json={"deleted": True})
    assert response.status_code == 200 and response.json()["deleted"] is True
    assert_error(client.get(f"{P}/insights/3/"), 404, "Not found.")
    assert_error(client.patch(f"{P}/insights/3/", json={"name": "x"}), 404, "Not found.")
    assert_error(client.get(f"{P}/insights/3/activity/"), 404, "Not found.")
    assert 3 not in ids(client.get(f"{P}/insights/"))


def test_restore_by_patch_deleted_false_brings_it_back_and_logs_restored(client):
    client.patch(f"{P}/insights/3/", json={"deleted": True})
    response = client.patch(f"{P}/insights/3/", json={"deleted": False, "name": "Back"})
    assert response.status_code == 200 and response.json()["deleted"] is False
    assert client.get(f"{P}/insights/3/").json()["name"] == "Back"
    assert activity_verbs(client, 3)[:2] == ["restored", "deleted"]


def test_soft_delete_then_restore_activity_reads_restored_deleted_created(client):
    insight = create_insight(client, name="Round trip")
    client.patch(f"{P}/insights/{insight['id']}/", json={"deleted": True})
    client.patch(f"{P}/insights/{insight['id']}/", json={"deleted": False})
    assert activity_verbs(client, insight["id"]) == ["restored", "deleted", "created"]


@pytest.mark.parametrize("method,body", [
    ("PUT", {"deleted": False}),
    ("PATCH", {"name": "Not a restore"}),
    ("PATCH", {}),
])
def test_only_patch_with_json_false_reaches_a_deleted_insight(client, method, body):
    client.patch(f"{P}/insights/18/", json={"deleted": True})  # 18 is already deleted in the seed
    assert_error(client.request(method, f"{P}/insights/18/", json=body), 404, "Not found.")


@pytest.mark.parametrize("value", ["false", 0, None])
def test_deleted_must_be_a_json_boolean(client, value):
    response = client.patch(f"{P}/insights/18/", json={"deleted": value})
    assert response.status_code == 400
    assert_error(response, 400, attr="deleted")
    assert_error(client.get(f"{P}/insights/18/"), 404)


def test_restore_of_another_projects_insight_is_not_found(client):
    # Insight 20 lives in project 2.
    client.patch("/api/projects/2/insights/20/", json={"deleted": True})
    assert_error(client.patch(f"{P}/insights/20/", json={"deleted": False}), 404, "Not found.")


# Routes -----------------------------------------------------------------------------------------
def test_environments_prefix_sees_insights_of_the_whole_project(client):
    from_staging = ids(client.get("/api/environments/3/insights/", params={"limit": 100}))
    from_project = ids(client.get(f"{P}/insights/", params={"limit": 100}))
    assert from_staging == from_project and {1, 19} <= set(from_staging)
    assert client.get("/api/environments/3/insights/1/").status_code == 200


def test_an_insight_created_in_an_environment_is_seen_by_the_project(client):
    created = client.post("/api/environments/3/insights/", json={"query": TRENDS, "name": "Staging"}).json()
    assert client.get(f"{P}/insights/{created['id']}/").json()["name"] == "Staging"
    assert client.get("/api/environments/1/insights/", params={"short_id": created["short_id"]}).json()["count"] == 1


def test_current_stands_for_the_callers_project(client):
    assert ids(client.get("/api/projects/@current/insights/")) == ids(client.get(f"{P}/insights/"))
    assert client.get("/api/environments/@current/insights/1/").json()["id"] == 1


@pytest.mark.parametrize("path", [f"{P}/insights", f"{P}/insights/", f"{P}/insights/1", f"{P}/insights/1/", f"{P}/insights/trending"])
def test_trailing_slash_is_optional(client, path):
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("project", ["999", "abc", "-1", "99999999999999999999999"])
def test_an_unknown_project_is_not_found(client, project):
    assert_error(client.get(f"/api/projects/{project}/insights/"), 404, "Project not found.")


def test_a_project_of_another_organization_is_refused(client):
    assert_error(client.get("/api/projects/4/insights/"), 403, "You don't have access to the project.")


def test_an_unknown_api_path_is_endpoint_not_found(client):
    assert_error(client.get("/api/projects/1/nothing-here/"), 404, "Endpoint not found.")


def test_a_method_a_route_lacks_answers_405_with_allow(client):
    response = client.post(f"{P}/insights/trending/")
    assert_error(response, 405, 'Method "POST" not allowed.', code="method_not_allowed")
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"
