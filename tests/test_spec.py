"""The spec is complete, valid and faithful: the issue's operation list, scopes and status codes.

The table below is the issue's list, written out on purpose: it is what the spec is checked
against, not a second source of truth for the server.
"""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from posthog_spec import Spec, default_spec

PREFIXES = {"/api/projects/{project_id}/": "", "/api/environments/{environment_id}/": "environments_"}

# (method, path after the prefix, operation id, the personal API key scope, or None for session-only)
PROJECT_OPERATIONS = [
    ("GET", "insights/", "insights_list", "insight:read"),
    ("POST", "insights/", "insights_create", "insight:write"),
    ("GET", "insights/{id}/", "insights_retrieve", "insight:read"),
    ("PUT", "insights/{id}/", "insights_update", "insight:write"),
    ("PATCH", "insights/{id}/", "insights_partial_update", "insight:write"),
    ("DELETE", "insights/{id}/", "insights_destroy", "insight:write"),
    ("GET", "insights/{id}/activity/", "insights_activity_retrieve", "activity_log:read"),
    ("GET", "insights/activity/", "insights_all_activity_retrieve", "activity_log:read"),
    ("GET", "insights/my_last_viewed/", "insights_my_last_viewed_retrieve", None),
    ("GET", "insights/trending/", "insights_trending_retrieve", "insight:read"),
    ("POST", "insights/viewed/", "insights_viewed_create", "insight:read"),
    ("POST", "insights/cancel/", "insights_cancel_create", None),
    ("POST", "insights/generate_metadata/", "insights_generate_metadata_create", "insight:write"),
    ("POST", "insights/bulk_update_tags/", "insights_bulk_update_tags_create", None),
    ("POST", "insights/bulk_delete/", "insights_bulk_delete_create", "insight:write"),
    ("POST", "insights/bulk_restore/", "insights_bulk_restore_create", "insight:write"),
    ("POST", "insights/bulk_set_test_account_filter/", "insights_bulk_set_test_account_filter_create", "insight:write"),
    ("GET", "elements/", "elements_list", "element:read"),
    ("POST", "elements/", "elements_create", "element:write"),
    ("GET", "elements/{id}/", "elements_retrieve", "element:read"),
    ("PUT", "elements/{id}/", "elements_update", "element:write"),
    ("PATCH", "elements/{id}/", "elements_partial_update", "element:write"),
    ("DELETE", "elements/{id}/", "elements_destroy", "element:write"),
    ("GET", "elements/stats/", "elements_stats_retrieve", "element:read"),
    ("GET", "elements/values/", "elements_values_list", "element:read"),
    ("POST", "query/", "query_create", "query:read"),
    ("GET", "query/{id}/", "query_retrieve", "query:read"),
]
ACCOUNT_OPERATIONS = [
    ("GET", "/api/projects/", "projects_list"),
    ("GET", "/api/projects/{project_id}/", "projects_retrieve"),
    ("GET", "/api/users/@me/", "users_me_retrieve"),
    ("GET", "/api/personal_api_keys/@current/", "personal_api_keys_current_retrieve"),
    ("GET", "/api/organizations/{id}/", "organizations_retrieve"),
]
ERROR_STATUSES = {400, 401, 403, 404, 405, 429}


@pytest.fixture(scope="module")
def spec() -> Spec:
    return default_spec()


def expected_project_operations():
    for prefix, id_prefix in PREFIXES.items():
        for method, suffix, operation_id, scope in PROJECT_OPERATIONS:
            yield method, prefix + suffix, id_prefix + operation_id, scope, bool(id_prefix)


def test_spec_is_valid_openapi_3_1(spec):
    assert spec.document["openapi"] == "3.1.0"
    validate(spec.document)


def test_openapi_core_loads_the_spec(spec):
    from openapi_core import OpenAPI

    OpenAPI.from_dict(spec.document)


@pytest.mark.parametrize("method,path,operation_id,scope,deprecated", list(expected_project_operations()))
def test_every_insights_and_elements_operation_exists_under_both_prefixes(spec, method, path, operation_id, scope, deprecated):
    op = spec.operation(operation_id)
    assert (op.method, op.path) == (method, path)
    assert op.deprecated is deprecated
    assert op.documented_statuses() & ERROR_STATUSES, f"{operation_id} documents no error response"
    assert op.accepts_session
    if scope is None:
        assert op.key_scopes is None, f"{operation_id} must list only SessionAuth"
    else:
        assert op.key_scopes == (scope,)


@pytest.mark.parametrize("method,path,operation_id", ACCOUNT_OPERATIONS)
def test_account_endpoints_every_client_calls_first_exist(spec, method, path, operation_id):
    op = spec.operation(operation_id)
    assert (op.method, op.path) == (method, path)
    assert op.accepts_keys and op.documented_statuses() & ERROR_STATUSES


def test_no_operation_beyond_the_issue_list(spec):
    expected = {row[2] for row in expected_project_operations()} | {row[2] for row in ACCOUNT_OPERATIONS}
    assert {op.operation_id for op in spec.operations} == expected


def test_every_operation_has_an_id_a_security_requirement_and_error_responses(spec):
    for path, item in spec.document["paths"].items():
        for method, raw in item.items():
            if method == "parameters":
                continue
            assert raw.get("operationId"), f"{method} {path} has no operationId"
            assert raw.get("security"), f"{method} {path} has no security requirement"
            for requirement in raw["security"]:
                assert set(requirement) <= {"PersonalAPIKeyAuth", "SessionAuth"}
            errors = {int(code) for code in raw["responses"] if code.isdigit()} & ERROR_STATUSES
            assert errors, f"{method} {path} documents no error response"


def test_every_error_response_uses_posthogs_error_body(spec):
    for op in spec.operations:
        for code, response in op.responses.items():
            if int(code) < 400 or (op.base_id == "insights_destroy" and code == "405"):
                continue
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}, (op.operation_id, code)
    error = spec.resolve({"$ref": "#/components/schemas/Error"})
    assert error["required"] == ["type", "code", "detail", "attr"]


@pytest.mark.parametrize("operation_id", ["insights_destroy", "environments_insights_destroy"])
def test_delete_on_an_insight_is_documented_as_405_with_an_empty_body(spec, operation_id):
    op = spec.operation(operation_id)
    assert 405 in op.documented_statuses()
    assert not [code for code in op.responses if code.startswith("2")]
    assert "content" not in op.responses["405"]


@pytest.mark.parametrize("operation_id", ["insights_viewed_create", "environments_insights_viewed_create"])
def test_viewed_is_documented_as_201_with_an_empty_body(spec, operation_id):
    op = spec.operation(operation_id)
    assert op.success_status() == 201
    assert "content" not in op.responses["201"]


def test_cancel_answers_201_and_records_that_the_docs_say_200(spec):
    op = spec.operation("insights_cancel_create")
    assert op.success_status() == 201
    assert any("200" in note.get("docs", "") for note in op.fidelity)


def test_element_delete_is_a_real_delete_answering_204(spec):
    assert spec.operation("elements_destroy").success_status() == 204


def test_session_only_operations_list_only_session_auth(spec):
    session_only = {op.base_id for op in spec.operations if not op.accepts_keys and op.accepts_session}
    assert session_only == {"insights_my_last_viewed_retrieve", "insights_cancel_create", "insights_bulk_update_tags_create"}


def test_list_parameters_from_the_issue_are_documented(spec):
    names = {p.name for p in spec.operation("insights_list").parameters if p.location == "query"}
    assert {
        "basic", "created_by", "created_date_from", "created_date_to", "dashboards", "date_from", "date_to",
        "favorited", "format", "insight", "last_viewed_date_from", "last_viewed_date_to", "limit", "offset",
        "refresh", "saved", "search", "short_id", "tags", "user", "order",
    } <= names
    refresh = spec.operation("insights_list").parameter("refresh")
    assert refresh.default == "force_cache" and len(refresh.schema["enum"]) == 7
    assert spec.operation("insights_list").parameter("format").schema["enum"] == ["csv", "json"]
    retrieve = {p.name for p in spec.operation("insights_retrieve").parameters}
    assert {"filters_override", "from_dashboard", "refresh", "variables_override"} <= retrieve
    trending = {p.name for p in spec.operation("insights_trending_retrieve").parameters}
    assert {"days", "limit", "offset"} <= trending
    activity = {p.name for p in spec.operation("insights_activity_retrieve").parameters}
    assert {"limit", "page"} <= activity
    values_key = spec.operation("elements_values_list").parameter("key")
    assert values_key.required


def test_environment_operations_are_the_canonical_ones_deprecated(spec):
    for op in spec.operations:
        if op.operation_id.startswith("environments_"):
            canonical = spec.operation(op.base_id)
            assert op.deprecated and not canonical.deprecated
            assert op.responses.keys() == canonical.responses.keys()
            assert op.key_scopes == canonical.key_scopes
            assert op.body_schema == canonical.body_schema


def test_insight_responses_carry_the_fields_posthog_sends(spec):
    insight = spec.resolve({"$ref": "#/components/schemas/Insight"})
    for name in ("id", "short_id", "name", "query", "filters", "saved", "tags", "last_modified_at", "last_viewed_at", "dashboard_tiles"):
        assert name in insight["required"], name
    for conditional in ("dashboards", "search_match_type", "color", "layouts"):
        assert conditional in insight["properties"] and conditional not in insight["required"], conditional
    element = spec.resolve({"$ref": "#/components/schemas/Element"})
    assert "id" not in element["properties"]


def test_every_operation_lies_under_the_path_prefix_the_mock_dispatches_on(spec):
    assert spec.path_prefix == "/api/"
    assert all(op.path.startswith(spec.path_prefix) for op in spec.operations)
