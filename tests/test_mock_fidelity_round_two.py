"""Fidelity, round two (issue 11): `format` on every insights action, `include_dashboards` on the
writes and trending, `query_scan`, the bulk test-account filter, the organization endpoint, and
how unknown actions under insights/ are routed."""

from __future__ import annotations

import csv
import io

import pytest

from mock_support import KEYS, P, as_session, assert_error, bearer, client, create_insight, mint_key, session_headers  # noqa: F401
from posthog_spec import Router, default_spec

SPEC = default_spec()
TEXTS = SPEC.texts
QUERY = {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}]}
INSIGHT_OPERATIONS = [op for op in SPEC.operations if op.tag == "insights"]
GRACE, ALAN = 2, 3  # a member and an admin of Hogflix (Ada, user 1, owns it)


def live_insight_count(client) -> int:
    return client.get(f"{P}/insights/", params={"limit": 1}).json()["count"]


# 1. format ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("operation", INSIGHT_OPERATIONS, ids=lambda op: op.operation_id)
def test_every_insights_operation_takes_format(operation):
    assert operation.formats == ("csv", "json")


def test_elements_and_account_operations_render_json_only():
    assert {op.formats for op in SPEC.operations if op.tag != "insights"} == {("json",)}


def test_a_create_asked_as_csv_answers_the_new_insight_as_one_row(client):
    response = client.post(f"{P}/insights/", params={"format": "csv"}, json={"name": "As CSV", "query": QUERY})
    assert response.status_code == 201 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 1 and rows[0]["name"] == "As CSV" and rows[0]["query.kind"] == "InsightVizNode"


def test_a_bulk_answer_asked_as_csv_is_one_row(client):
    response = as_session(client, "POST", f"{P}/insights/bulk_update_tags/", params={"format": "csv"},
                          json={"ids": [1], "action": "add", "tags": ["csv"]})
    assert response.status_code == 200 and response.text.splitlines()[0] == "updated.0.id,updated.0.tags.0,updated.0.tags.1"


def test_an_empty_answer_asked_as_csv_stays_empty(client):
    response = client.post(f"{P}/insights/viewed/", params={"format": "csv"}, json={"insight_ids": [1]})
    assert (response.status_code, response.content) == (201, b"")


@pytest.mark.parametrize("method, path, body", [
    ("POST", f"{P}/insights/", {"name": "never", "query": QUERY}),
    ("PATCH", f"{P}/insights/1/", {"name": "never"}),
    ("POST", f"{P}/insights/bulk_delete/", {"ids": [1]}),
    ("DELETE", f"{P}/insights/1/", None),
])
def test_an_unknown_format_is_not_found_before_anything_is_written(client, method, path, body):
    before = client.get(f"{P}/insights/1/").json()
    count = live_insight_count(client)
    assert_error(client.request(method, path, params={"format": "xml"}, json=body), 404, TEXTS["not_found"].fill(),
                 code="not_found", type="invalid_request", attr=None)
    assert client.get(f"{P}/insights/1/").json() == before and live_insight_count(client) == count


def test_an_unknown_format_is_not_found_even_without_credentials(client):
    assert_error(client.get(f"{P}/insights/", params={"format": "xml"}, headers={"Authorization": ""}), 404)


def test_csv_is_not_a_format_of_the_elements_views(client):
    assert_error(client.get(f"{P}/elements/", params={"format": "csv"}), 404)
    assert client.get(f"{P}/elements/", params={"format": "json"}).status_code == 200
    assert client.get(f"{P}/elements/", params={"format": ""}).status_code == 200


# 2. include_dashboards ---------------------------------------------------------------------------------
@pytest.mark.parametrize("method, path, body", [
    ("POST", f"{P}/insights/", {"query": QUERY, "dashboards": [1]}),
    ("PATCH", f"{P}/insights/1/", {"name": "Weekly signups"}),
    ("PUT", f"{P}/insights/1/", {"name": "Weekly signups"}),
])
def test_a_session_gets_dashboards_from_a_write_only_when_it_asks(client, method, path, body):
    plain = as_session(client, method, path, json=body)
    assert plain.status_code in (200, 201) and "dashboards" not in plain.json()
    asked = as_session(client, method, path, json=body, params={"include_dashboards": "true"})
    assert asked.json()["dashboards"] == [1]


def test_a_session_gets_dashboards_on_trending_only_when_it_asks(client):
    plain = as_session(client, "GET", f"{P}/insights/trending/").json()["results"]
    asked = as_session(client, "GET", f"{P}/insights/trending/", params={"include_dashboards": "1"}).json()["results"]
    assert all("dashboards" not in item for item in plain) and all("dashboards" in item for item in asked)


# 3. query_scan ----------------------------------------------------------------------------------------------
def test_query_scan_is_on_the_full_insight_and_null(client):
    assert client.get(f"{P}/insights/1/").json()["query_scan"] is None
    assert create_insight(client)["query_scan"] is None
    assert "query_scan" not in client.get(f"{P}/insights/1/", params={"basic": "true"}).json()


# 4. bulk_set_test_account_filter -----------------------------------------------------------------------------
BULK_SET = f"{P}/insights/bulk_set_test_account_filter/"


def test_the_test_account_filter_is_set_on_every_saved_live_insight_that_has_one(client):
    """Project 1 holds 17 saved, live insights: 14 with a filter to set, two SQL/Hog ones, one legacy
    (the unsaved and the deleted one are not counted at all)."""
    first = client.post(BULK_SET, json={"enabled": True})
    assert first.json() == {"updated": 14, "unchanged": 0, "unsupported": 2, "skipped": 0, "legacy": 1}
    assert client.post(BULK_SET, json={"enabled": True}).json() == {
        "updated": 0, "unchanged": 14, "unsupported": 2, "skipped": 0, "legacy": 1}
    assert client.get(f"{P}/insights/1/").json()["query"]["source"]["filterTestAccounts"] is True
    assert client.get(f"{P}/insights/10/").json()["query"]["source"]["filterTestAccounts"] is True  # a DataTableNode's source
    assert client.get(f"{P}/insights/14/").json()["query"]["source"].get("filterTestAccounts") is None  # unsaved
    assert client.post(BULK_SET, json={"enabled": False}).json()["updated"] == 14


def test_setting_the_filter_moves_last_modified_logs_the_query_and_leaves_updated_at(client):
    before = client.get(f"{P}/insights/1/").json()
    client.clock.advance(minutes=5)
    client.post(BULK_SET, json={"enabled": True})
    after = client.get(f"{P}/insights/1/").json()
    assert after["last_modified_at"] > before["last_modified_at"] and after["updated_at"] == before["updated_at"]
    entry = client.get(f"{P}/insights/1/activity/").json()["results"][0]
    assert entry["activity"] == "updated" and entry["detail"]["changes"][0]["field"] == "query"
    assert entry["detail"]["changes"][0]["after"]["source"]["filterTestAccounts"] is True


def test_only_a_project_admin_may_set_the_filter_and_a_member_is_refused_before_the_body(client):
    member = session_headers(client, GRACE)
    assert_error(client.post(BULK_SET, json={"enabled": "not a boolean"}, headers=member), 403,
                 TEXTS["not_project_admin"].fill(), code="permission_denied")
    admin = session_headers(client, ALAN)
    assert client.post(BULK_SET, json={"enabled": True}, headers=admin).status_code == 200


def test_a_key_needs_insight_write_and_its_user_administration(client):
    assert_error(client.post(BULK_SET, json={"enabled": True}, headers=bearer(KEYS["insights-read"])), 403,
                 TEXTS["missing_scope"].fill(scope="insight:write"))
    member_key = mint_key(client, ["insight:write"], user_id=GRACE)
    assert_error(client.post(BULK_SET, json={"enabled": True}, headers=bearer(member_key)), 403, TEXTS["not_project_admin"].fill())


def test_the_filter_is_set_under_the_environments_prefix_too(client):
    assert client.post("/api/environments/3/insights/bulk_set_test_account_filter/", json={"enabled": True}).json()["updated"] == 14


# 5. organizations ---------------------------------------------------------------------------------------------
HOGFLIX = "0190a2c1-0000-7000-8000-0000000000c1"
ACME = "0190a2c1-0000-7000-8000-0000000000c2"


def test_the_current_organization_is_the_current_projects(client):
    organization = client.get("/api/organizations/@current/").json()
    assert (organization["id"], organization["name"], organization["membership_level"]) == (HOGFLIX, "Hogflix", 15)
    assert [t["id"] for t in organization["teams"]] == [1, 3, 2] and organization["member_count"] == 3
    assert client.get(f"/api/organizations/{HOGFLIX}/").json() == organization
    assert client.get(f"/api/organizations/{HOGFLIX.upper()}/").json()["id"] == HOGFLIX


@pytest.mark.parametrize("organization", [ACME, "0190a2c1-0000-7000-8000-0000000000ff", "not-a-uuid"])
def test_an_organization_the_caller_is_not_in_is_not_found(client, organization):
    assert_error(client.get(f"/api/organizations/{organization}/"), 404, TEXTS["not_found"].fill())


def test_organizations_need_organization_read_and_refuse_project_scoped_keys(client):
    assert_error(client.get("/api/organizations/@current/", headers=bearer(KEYS["insights-read"])), 403,
                 TEXTS["missing_scope"].fill(scope="organization:read"))
    assert_error(client.get("/api/organizations/@current/", headers=bearer(KEYS["project-2"])), 403,
                 TEXTS["scoped_key_off_project"].fill())
    assert client.get("/api/organizations/@current/", headers=bearer(mint_key(client, ["organization:read"]))).status_code == 200
    assert as_session(client, "GET", "/api/organizations/@current/").status_code == 200


# 6. unknown actions -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("operation", [op for op in SPEC.operations if op.path.count("{") == 1 and "/insights/" in op.path
                                       and not op.path.endswith("/insights/")], ids=lambda op: op.operation_id)
def test_every_action_is_routed_before_the_detail_pattern(operation):
    prefix_value = "1"
    match = Router(SPEC.operations).match(operation.method, operation.path_for(project_id=prefix_value, environment_id=prefix_value))
    assert match.operation == operation


def test_an_unknown_action_is_a_detail_route_without_that_method(client):
    response = client.post(f"{P}/insights/unknown_action/", json={})
    assert_error(response, 405, TEXTS["method_not_allowed"].fill(method="POST"))
    assert response.headers["allow"] == "DELETE, GET, HEAD, OPTIONS, PATCH, PUT"
    assert_error(client.get(f"{P}/insights/unknown_action/"), 404, TEXTS["not_found"].fill())
