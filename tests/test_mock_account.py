"""The account endpoints every client calls first (issue 3): projects list and detail, users/@me,
personal_api_keys/@current. The seed: Ada owns the Hogflix organization (projects 1 and 2; 1 has
a staging environment 3), Grace is a member; Wile owns Acme (project 4)."""

from __future__ import annotations

import pytest

from mock_support import KEYS, assert_error, bearer, make_client, session_headers

PROJECT_BASIC = {"id", "uuid", "organization", "api_token", "name", "completed_snippet_onboarding", "has_completed_onboarding_for",
                 "ingested_event", "is_demo", "timezone", "access_control"}


@pytest.fixture(scope="module")
def reader():
    with make_client() as c:
        yield c


def test_projects_lists_the_projects_of_the_callers_organization(reader):
    page = reader.get("/api/projects/").json()
    assert page["count"] == 2 and page["next"] is None and page["previous"] is None
    assert [(p["id"], p["name"]) for p in page["results"]] == [(1, "Hogflix Web"), (2, "Hogflix Mobile")]
    assert all(set(p) == PROJECT_BASIC for p in page["results"])
    assert [p["id"] for p in reader.get("/api/projects/", headers=bearer(KEYS["acme"])).json()["results"]] == [4]


def test_projects_pages_with_limit_and_offset(reader):
    first = reader.get("/api/projects/", params={"limit": 1}).json()
    assert [p["id"] for p in first["results"]] == [1]
    assert first["next"] == "http://testserver/api/projects/?limit=1&offset=1"
    second = reader.get(first["next"]).json()
    assert [p["id"] for p in second["results"]] == [2] and second["next"] is None
    assert second["previous"] == "http://testserver/api/projects/?limit=1"


def test_a_project_answers_its_details_and_the_callers_membership(reader):
    project = reader.get("/api/projects/1/").json()
    assert project["name"] == "Hogflix Web" and project["timezone"] == "UTC" and project["app_urls"] == ["https://hogflix.io"]
    assert project["effective_membership_level"] == 15
    assert project["test_account_filters"][0]["value"] == "@hogflix.io"
    grace = reader.get("/api/projects/1/", headers=session_headers(reader, user_id=2)).json()
    assert grace["effective_membership_level"] == 1


def test_current_project_and_trailing_slash(reader):
    assert reader.get("/api/projects/@current").json()["id"] == 1
    assert reader.get("/api/projects/@current/", headers=bearer(KEYS["acme"])).json()["id"] == 4


def test_an_environment_id_is_no_project(reader):
    assert_error(reader.get("/api/projects/3/"), 404, "Project not found.")


@pytest.mark.parametrize("project,status,detail", [
    ("4", 403, "You don't have access to the project."),
    ("99", 404, "Project not found."),
])
def test_projects_outside_the_callers_reach(reader, project, status, detail):
    assert_error(reader.get(f"/api/projects/{project}/"), status, detail)


def test_users_me_describes_the_caller_with_the_current_project_and_organizations(reader):
    me = reader.get("/api/users/@me/").json()
    assert (me["id"], me["first_name"], me["email"], me["distinct_id"]) == (1, "Ada", "ada@hogflix.io", "ada-lovelace")
    assert me["team"]["id"] == 1 and set(me["team"]) == PROJECT_BASIC
    assert me["organization"] == {"id": "0190a2c1-0000-7000-8000-0000000000c1", "name": "Hogflix", "slug": "hogflix",
                                  "membership_level": 15}
    assert me["organizations"] == [me["organization"]] and me["is_staff"] is False


def test_users_me_for_a_session_of_another_user(reader):
    me = reader.get("/api/users/@me/", headers=session_headers(reader, user_id=2)).json()
    assert me["first_name"] == "Grace" and me["organization"]["membership_level"] == 1


def test_users_me_needs_the_user_read_scope(reader):
    assert_error(reader.get("/api/users/@me/", headers=bearer(KEYS["insights-read"])), 403, "API key missing required scope 'user:read'")


def test_the_current_key_of_a_demo_key(reader):
    key = reader.get("/api/personal_api_keys/@current/").json()
    assert key["label"] == "All access (Ada)" and key["scopes"] == ["*"] and key["value"] is None
    assert key["last_used_at"] == "2026-11-23T12:00:00.000000Z"  # marked when first used


def test_a_keys_last_use_is_refreshed_at_most_hourly_and_again_after_a_reset():
    with make_client() as c:
        def last_used() -> str:
            return c.get("/api/personal_api_keys/@current/").json()["last_used_at"]

        first = last_used()
        c.clock.advance(minutes=59)
        assert last_used() == first
        moment = c.clock.advance(minutes=2)
        assert last_used() == moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        c.post("/_mock/reset", json={})
        assert last_used() == moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # the seed has it unused: marked at once


def test_account_endpoints_without_credentials_answer_401_with_www_authenticate(reader):
    for path in ("/api/projects/", "/api/projects/1/", "/api/users/@me/", "/api/personal_api_keys/@current/"):
        response = reader.get(path, headers={"Authorization": ""})
        assert_error(response, 401, "Authentication credentials were not provided.")
        assert response.headers["www-authenticate"].startswith("Bearer resource_metadata=")
