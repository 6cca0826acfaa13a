"""Authentication and authorization on the in-process mock (fact sheet §5): the scope matrix over
every operation of the spec, session-only operations, project-scoped keys, missing and invalid
credentials, where keys are read from, sessions and `--auth open`.

The matrix takes its operations and their scopes from `default_spec()`, the same source the mock
reads, and states the rules the mock must apply to them with keys minted through `/_mock/keys`.
"""

from __future__ import annotations

import re

import pytest

from mock_support import KEYS, P, assert_error, bearer, client, make_client, mint_key, session_headers  # noqa: F401
from posthog_spec import Operation, default_spec

OPERATIONS = default_spec().operations
KEY_OPERATIONS = [op for op in OPERATIONS if op.accepts_keys]
SESSION_ONLY = [op for op in OPERATIONS if not op.accepts_keys]
PROJECT_OPERATIONS = [op for op in KEY_OPERATIONS if op.project_param]
NO_KEYS = "This action does not support personal API key access"
UNRELATED_SCOPES = ["feature_flag:read", "dashboard:write"]
PERMISSION_TEXTS = re.compile(r"API key|personal API key|project|Authentication credentials")


def request(client, op: Operation, headers: dict[str, str], *, project: str = "1", **kwargs):
    """The operation on the demo project, on ids that exist, with an empty body for writes."""
    path = op.path.replace("{project_id}", project).replace("{environment_id}", project)
    path = path.replace("{id}", "99999" if op.method == "DELETE" else "1")  # nothing the matrix needs is deleted
    if op.body_schema is not None:
        kwargs.setdefault("json", {})
    return client.request(op.method, path, headers=headers, **kwargs)


def read_counterpart(scope: str) -> str | None:
    obj, _, action = scope.partition(":")
    return f"{obj}:read" if action == "write" else None


@pytest.fixture(scope="module")
def keys():
    """A mock whose keys were minted once for the whole matrix (the matrix never deletes what it reads)."""
    with make_client() as c:
        minted = {
            "unrelated": mint_key(c, UNRELATED_SCOPES),
            "star": mint_key(c, ["*"]),
            "other_project": mint_key(c, ["*"], scoped_teams=[2]),
        }
        for scope in {s for op in KEY_OPERATIONS for s in op.key_scopes}:
            minted[scope] = mint_key(c, [scope])
            obj = scope.partition(":")[0]
            minted[f"{obj}:write"] = minted.get(f"{obj}:write") or mint_key(c, [f"{obj}:write"])
            minted[f"{obj}:read"] = minted.get(f"{obj}:read") or mint_key(c, [f"{obj}:read"])
        yield c, minted


# The matrix -------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", KEY_OPERATIONS, ids=lambda op: op.operation_id)
def test_a_key_without_the_operations_scope_is_refused_with_posthogs_text(keys, op):
    client, minted = keys
    response = request(client, op, bearer(minted["unrelated"]))
    assert_error(response, 403, f"API key missing required scope '{op.required_scope}'",
                 code="permission_denied", type="authentication_error", attr=None)


@pytest.mark.parametrize("op", [op for op in KEY_OPERATIONS if read_counterpart(op.required_scope)], ids=lambda op: op.operation_id)
def test_a_read_key_is_refused_on_an_operation_that_needs_write(keys, op):
    client, minted = keys
    response = request(client, op, bearer(minted[read_counterpart(op.required_scope)]))
    assert_error(response, 403, f"API key missing required scope '{op.required_scope}'")


@pytest.mark.parametrize("grant", ["exact", "write", "star"])
@pytest.mark.parametrize("op", KEY_OPERATIONS, ids=lambda op: op.operation_id)
def test_a_key_with_the_scope_is_never_refused_for_scope_reasons(keys, op, grant):
    client, minted = keys
    obj = op.required_scope.partition(":")[0]
    key = {"exact": minted[op.required_scope], "write": minted[f"{obj}:write"], "star": minted["star"]}[grant]
    response = request(client, op, bearer(key))
    assert response.status_code != 403, response.text
    assert response.status_code in op.documented_statuses(), response.status_code


@pytest.mark.parametrize("key", ["star", "unrelated", "other_project"])
@pytest.mark.parametrize("op", SESSION_ONLY, ids=lambda op: op.operation_id)
def test_session_only_operations_refuse_every_key(keys, op, key):
    client, minted = keys
    assert_error(request(client, op, bearer(minted[key])), 403, NO_KEYS, code="permission_denied")


@pytest.mark.parametrize("op", SESSION_ONLY, ids=lambda op: op.operation_id)
def test_session_only_operations_accept_a_session(keys, op):
    client, _ = keys
    response = request(client, op, session_headers(client))
    assert response.status_code != 403 and response.status_code in op.documented_statuses(), response.text


@pytest.mark.parametrize("op", PROJECT_OPERATIONS, ids=lambda op: op.operation_id)
def test_a_key_scoped_to_another_project_is_refused_on_project_routes(keys, op):
    client, minted = keys
    response = request(client, op, bearer(minted["other_project"]))
    assert_error(response, 403, "API key does not have access to the requested project: ID 1.", code="permission_denied")


@pytest.mark.parametrize("op", [op for op in KEY_OPERATIONS if not op.project_param], ids=lambda op: op.operation_id)
def test_a_key_scoped_to_projects_is_refused_outside_projects(keys, op):
    client, minted = keys
    response = request(client, op, bearer(minted["other_project"]))
    assert_error(response, 403, "API keys with scoped projects are only supported on project-based endpoints.")


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
def test_missing_credentials_answer_403_on_insights_and_401_elsewhere(keys, op):
    client, _ = keys
    response = request(client, op, {"Authorization": ""})
    status = 403 if op.tag == "insights" else 401
    assert_error(response, status, "Authentication credentials were not provided.", code="not_authenticated",
                 type="authentication_error", attr=None)
    www = response.headers.get("www-authenticate")
    if status == 401:
        assert www == 'Bearer resource_metadata="https://us.posthog.com/.well-known/oauth-protected-resource"'
    else:
        assert www is None


@pytest.mark.parametrize("op", KEY_OPERATIONS, ids=lambda op: op.operation_id)
def test_an_invalid_key_answers_403_on_insights_and_401_elsewhere(keys, op):
    client, _ = keys
    response = request(client, op, bearer("phx_not_a_key_of_this_mock"))
    status = 403 if op.tag == "insights" else 401
    assert_error(response, status, "Personal API key found in request Authorization header is invalid.",
                 code="authentication_failed", type="authentication_error")
    assert ("www-authenticate" in response.headers) is (status == 401)


def test_the_matrix_covers_every_operation_of_the_spec():
    assert {op.operation_id for op in KEY_OPERATIONS + SESSION_ONLY} == {op.operation_id for op in OPERATIONS}
    assert {op.base_id for op in SESSION_ONLY} == {"insights_my_last_viewed_retrieve", "insights_cancel_create",
                                                   "insights_bulk_update_tags_create"}


# Project-scoped keys, membership ----------------------------------------------------------------
def test_the_demo_key_scoped_to_project_2_works_there_and_only_there(client):
    key = bearer(KEYS["project-2"])
    assert client.get("/api/projects/2/insights/", headers=key).status_code == 200
    assert_error(client.get(f"{P}/insights/", headers=key), 403, "API key does not have access to the requested project: ID 1.")
    assert_error(client.get("/api/environments/3/insights/", headers=key), 403,
                 "API key does not have access to the requested project: ID 3.")


def test_a_key_of_another_organization_is_refused_on_this_project(client):
    response = client.get(f"{P}/insights/", headers=bearer(KEYS["acme"]))
    assert_error(response, 403, "You don't have access to the project.", code="permission_denied")
    assert client.get("/api/projects/4/insights/", headers=bearer(KEYS["acme"])).status_code == 200


def test_at_current_resolves_to_the_key_owners_current_project(client):
    assert client.get("/api/projects/@current/insights/", headers=bearer(KEYS["acme"])).json()["results"][0]["id"] == 22


# Where keys come from ---------------------------------------------------------------------------
def test_a_key_may_come_from_the_query_string(client):
    response = client.get(f"{P}/insights/", params={"personal_api_key": KEYS["insights-read"]}, headers={"Authorization": ""})
    assert response.status_code == 200


def test_a_key_may_come_from_the_body(client):
    body = {"insight_ids": [5], "personal_api_key": KEYS["insights-read"]}
    assert client.post(f"{P}/insights/viewed/", json=body, headers={"Authorization": ""}).status_code == 201


def test_an_invalid_key_names_where_it_was_found(client):
    response = client.get(f"{P}/elements/", params={"personal_api_key": "phx_nope"}, headers={"Authorization": ""})
    assert_error(response, 401, "Personal API key found in request query string is invalid.")
    response = client.post(f"{P}/elements/", json={"personal_api_key": "phx_nope"}, headers={"Authorization": ""})
    assert_error(response, 401, "Personal API key found in request body is invalid.")


def test_only_the_first_key_found_is_tried(client):
    response = client.get(f"{P}/insights/", params={"personal_api_key": KEYS["all-access"]}, headers=bearer("phx_wrong"))
    assert_error(response, 403, "Personal API key found in request Authorization header is invalid.")


def test_whitespace_around_the_bearer_token_is_tolerated(client):
    assert client.get(f"{P}/insights/", headers={"Authorization": f"Bearer   {KEYS['all-access']}  "}).status_code == 200


def test_oauth_tokens_are_not_taken_for_personal_api_keys(client):
    response = client.get(f"{P}/elements/", headers=bearer("pha_an_oauth_token"))
    assert_error(response, 401, "Authentication credentials were not provided.")


def test_keys_are_stored_hashed(client):
    values = [row[0] for row in client.app.state.server.store.db.query("SELECT secure_value FROM personal_api_keys")]
    assert values and all(v.startswith("sha256$") for v in values)
    assert KEYS["all-access"] not in values


def test_the_current_key_describes_itself_without_its_value(client):
    value = mint_key(client, ["personal_api_key:read", "insight:read"], label="CI")
    key = client.get("/api/personal_api_keys/@current/", headers=bearer(value)).json()
    assert key["value"] is None and key["label"] == "CI" and key["user_id"] == 1
    assert key["scopes"] == ["personal_api_key:read", "insight:read"] and key["scoped_teams"] is None
    assert key["mask_value"] == f"{value[:4]}...{value[-4:]}"


def test_the_current_key_endpoint_has_no_key_for_a_session(client):
    assert_error(client.get("/api/personal_api_keys/@current/", headers=session_headers(client)), 401,
                 "Authentication credentials were not provided.")


# Sessions and --auth open -----------------------------------------------------------------------
def test_a_session_skips_scope_checks_and_reaches_session_only_operations(client):
    headers = session_headers(client)
    assert client.get(f"{P}/insights/my_last_viewed/", headers=headers).status_code == 200
    assert client.get(f"{P}/insights/activity/", headers=headers).status_code == 200


def test_an_unknown_session_cookie_is_no_credential(client):
    response = client.get(f"{P}/elements/", headers={"Authorization": "", "Cookie": "sessionid=forged"})
    assert_error(response, 401, "Authentication credentials were not provided.")


def test_a_session_of_another_user_acts_as_that_user(client):
    created = client.post(f"{P}/insights/", json={"query": {"kind": "PathsV2Query"}}, headers=session_headers(client, user_id=2)).json()
    assert created["created_by"]["first_name"] == "Grace"


def test_open_auth_makes_a_request_without_credentials_the_demo_users_session():
    with make_client(auth="open") as client:
        anonymous = {"Authorization": ""}
        assert client.get(f"{P}/insights/", headers=anonymous).status_code == 200
        assert client.get(f"{P}/insights/my_last_viewed/", headers=anonymous).json()[0]["id"] == 1
        assert client.get("/api/users/@me/", headers=anonymous).json()["first_name"] == "Ada"
        created = client.post(f"{P}/insights/", json={"query": {"kind": "PathsV2Query"}}, headers=anonymous).json()
        assert created["created_by"]["id"] == 1 and "dashboards" not in created  # a session, so no deprecated field
        assert_error(client.get(f"{P}/insights/", headers=bearer("phx_bad")), 403)  # keys are still checked
        assert client.get(f"{P}/insights/my_last_viewed/", headers=bearer(KEYS["all-access"])).status_code == 403


def test_without_open_auth_a_request_without_credentials_is_refused(client):
    assert_error(client.get(f"{P}/insights/", headers={"Authorization": ""}), 403, "Authentication credentials were not provided.")
