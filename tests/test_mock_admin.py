"""The mock's own surface outside /api/ (issue 3): /_mock/reset, /_mock/keys, /_mock/session,
/_mock/requests, loopback only unless started with `--admin any`."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mock_support import KEYS, P, assert_error, bearer, client, create_insight  # noqa: F401
from mockserver import seed
from mockserver.app import create_app
from mockserver.clock import FrozenClock
from mockserver.settings import Settings
from posthog_spec import default_spec

README = Path(__file__).resolve().parent.parent / "README.md"

LOOPBACK_ONLY = "The mock's admin surface answers on loopback only (start with --admin any)."
ADMIN_CALLS = [("POST", "/_mock/reset"), ("POST", "/_mock/keys"), ("POST", "/_mock/session"), ("GET", "/_mock/requests"),
               ("GET", "/_mock/demo"), ("GET", "/_mock/"), ("GET", "/_mock/overview"), ("GET", "/_mock/faults"),
               ("GET", "/_mock/state")]


# reset ------------------------------------------------------------------------------------------
def test_reset_goes_back_to_the_seed(client):
    created = create_insight(client, name="Scratch")
    client.patch(f"{P}/insights/1/", json={"deleted": True})
    minted = client.post("/_mock/keys", json={"scopes": ["insight:read"]}).json()["value"]
    response = client.post("/_mock/reset", json={})
    assert response.status_code == 200
    assert response.json() == {"reset": True, "keys": seed.demo_keys_summary()}
    assert_error(client.get(f"{P}/insights/{created['id']}/"), 404)
    assert client.get(f"{P}/insights/1/").json()["deleted"] is False
    assert client.get(f"{P}/insights/").json()["count"] == 18
    assert_error(client.get(f"{P}/insights/", headers=bearer(minted)), 403, "Personal API key found in request Authorization header is invalid.")
    assert client.get(f"{P}/insights/", headers=bearer(KEYS["insights-read"])).status_code == 200  # demo keys come back


def test_reset_empties_the_journal(client):
    client.get(f"{P}/insights/")
    client.post("/_mock/reset", json={})
    assert client.get("/_mock/requests").json()["results"] == []


# keys -------------------------------------------------------------------------------------------
def test_keys_mints_a_key_with_the_given_scopes(client):
    response = client.post("/_mock/keys", json={"scopes": ["insight:read"], "label": "Frontend"})
    assert response.status_code == 201
    key = response.json()
    assert key["value"].startswith("phx_") and key["scopes"] == ["insight:read"] and key["label"] == "Frontend"
    assert key["scoped_teams"] is None and key["user_id"] == 1
    assert client.get(f"{P}/insights/", headers=bearer(key["value"])).status_code == 200
    assert_error(client.post(f"{P}/insights/", json={}, headers=bearer(key["value"])), 403,
                 "API key missing required scope 'insight:write'")


def test_keys_mints_a_key_limited_to_projects(client):
    key = client.post("/_mock/keys", json={"scopes": ["*"], "scoped_teams": [2]}).json()
    assert key["scoped_teams"] == [2]
    assert client.get("/api/projects/2/insights/", headers=bearer(key["value"])).status_code == 200
    assert_error(client.get(f"{P}/insights/", headers=bearer(key["value"])), 403,
                 "API key does not have access to the requested project: ID 1.")


def test_keys_mints_a_key_for_another_user(client):
    key = client.post("/_mock/keys", json={"scopes": ["*"], "user_id": 4}).json()["value"]
    assert client.get("/api/users/@me/", headers=bearer(key)).json()["first_name"] == "Wile"


def test_minted_keys_are_stored_hashed(client):
    value = client.post("/_mock/keys", json={"scopes": ["*"]}).json()["value"]
    stored = [row[0] for row in client.app.state.server.store.db.query("SELECT secure_value FROM personal_api_keys")]
    assert value not in stored and all(v.startswith("sha256$") for v in stored)


@pytest.mark.parametrize("body,attr", [
    ({}, "scopes"), ({"scopes": []}, "scopes"), ({"scopes": "insight:read"}, "scopes"), ({"scopes": [1]}, "scopes"),
    ({"scopes": ["*"], "scoped_teams": "2"}, "scoped_teams"), ({"scopes": ["*"], "scoped_teams": [0]}, "scoped_teams"),
    ({"scopes": ["*"], "scoped_teams": [2**70]}, "scoped_teams"),
    ({"scopes": ["*"], "user_id": 99}, "user_id"), ({"scopes": ["*"], "user_id": "1"}, "user_id"),
])
def test_keys_refuses_invalid_requests(client, body, attr):
    assert_error(client.post("/_mock/keys", json=body), 400, type="validation_error", attr=attr)


@pytest.mark.parametrize("body", [b"{", b"[]", b'{"scopes": ["\\ud800"]}'])
def test_keys_refuses_bodies_that_are_not_a_json_object(client, body):
    response = client.post("/_mock/keys", content=body, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500 and set(response.json()) == {"type", "code", "detail", "attr"}


# session ----------------------------------------------------------------------------------------
def test_session_answers_a_cookie_of_the_demo_user(client):
    response = client.post("/_mock/session", json={})
    assert response.status_code == 201
    body = response.json()
    assert body["user_id"] == 1
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"sessionid={body['sessionid']};") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    me = client.get("/api/users/@me/", headers={"Authorization": "", "Cookie": f"sessionid={body['sessionid']}"})
    assert me.json()["email"] == "ada@hogflix.io"


def test_session_for_another_user(client):
    cookie = client.post("/_mock/session", json={"user_id": 3}).json()["sessionid"]
    client.cookies.clear()
    assert client.get("/api/users/@me/", headers={"Authorization": "", "Cookie": f"sessionid={cookie}"}).json()["first_name"] == "Alan"


def test_session_for_an_unknown_user_is_refused(client):
    assert_error(client.post("/_mock/session", json={"user_id": 42}), 400, "No such user.", attr="user_id")


# requests ---------------------------------------------------------------------------------------
def test_requests_lists_recent_requests_newest_first_with_their_outcome(client):
    client.get(f"{P}/insights/1/")
    client.post(f"{P}/insights/", json={"name": "No query"})
    client.get(f"{P}/insights/", headers=bearer(KEYS["elements"]))
    client.get("/api/nowhere/")
    entries = client.get("/_mock/requests").json()["results"]
    assert [(e["method"], e["path"], e["operation_id"], e["status"]) for e in entries] == [
        ("GET", "/api/nowhere/", None, 404),
        ("GET", f"{P}/insights/", "insights_list", 403),
        ("POST", f"{P}/insights/", "insights_create", 400),
        ("GET", f"{P}/insights/1/", "insights_retrieve", 200),
    ]
    assert entries[1]["problems"] == ["API key missing required scope 'insight:read'"]
    assert entries[2]["problems"] == ["Creating an insight needs a query. See https://posthog.com/docs/api/insights"]
    assert entries[3]["problems"] == [] and entries[3]["at"] == "2026-11-23T12:00:00.000000Z"
    assert entries[3]["key_id"] and entries[0]["key_id"] is None  # no route: nobody was authenticated


def test_requests_limit_keeps_the_newest(client):
    for n in range(5):
        client.get(f"{P}/insights/{n + 1}/")
    entries = client.get("/_mock/requests", params={"limit": 2}).json()["results"]
    assert [e["path"] for e in entries] == [f"{P}/insights/5/", f"{P}/insights/4/"]
    assert len(client.get("/_mock/requests", params={"limit": "²"}).json()["results"]) == 5


# loopback only ----------------------------------------------------------------------------------
@pytest.fixture
def remote():
    """A client calling from a routable address (203.0.113.0/24 is TEST-NET-3)."""
    app = create_app(Settings(db=":memory:", strict=True), clock=FrozenClock())
    with TestClient(app, client=("203.0.113.7", 51000), headers=bearer()) as c:
        yield c


@pytest.mark.parametrize("method,path", ADMIN_CALLS)
def test_admin_refuses_a_client_that_is_not_on_loopback(remote, method, path):
    assert_error(remote.request(method, path, json={"scopes": ["*"]}), 403, LOOPBACK_ONLY, code="permission_denied")


def test_the_api_and_the_spec_answer_any_client(remote):
    assert remote.get(f"{P}/insights/").status_code == 200
    assert remote.get("/_mock/openapi.json").json() == default_spec().document


@pytest.mark.parametrize("method,path", ADMIN_CALLS)
def test_admin_any_opens_the_admin_surface_to_every_client(method, path):
    app = create_app(Settings(db=":memory:", strict=True, admin="any"), clock=FrozenClock())
    with TestClient(app, client=("203.0.113.7", 51000)) as c:
        assert c.request(method, path, json={"scopes": ["*"]}).status_code in (200, 201)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_admin_answers_loopback_clients(host):
    app = create_app(Settings(db=":memory:", strict=True), clock=FrozenClock())
    with TestClient(app, client=(host, 51000)) as c:
        assert c.post("/_mock/reset", json={}).status_code == 200


def test_demo_lists_the_demo_keys_and_projects(client):
    demo = client.get("/_mock/demo").json()
    assert [k["name"] for k in demo["keys"]] == [k.name for k in seed.DEMO_KEYS]
    assert {k["value"] for k in demo["keys"]} == set(KEYS.values())
    assert [p["id"] for p in demo["projects"]] == [1, 2, 4]


def test_the_readme_lists_every_demo_key_with_its_scopes():
    readme = README.read_text(encoding="utf-8")
    for key in seed.DEMO_KEYS:
        row = next((line for line in readme.splitlines() if f"`{key.value}`" in line), None)
        assert row is not None, f"README does not list the {key.name} key"
        assert key.label in row and all(f"`{scope}`" in row for scope in key.scopes), row
