"""The named checks on single answers: each raises its typed failure with what it saw, reads what a
key may do from the run's configuration (by fingerprint) or the environment, and takes PostHog's
words and statuses from the spec of the schema under test."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import schemathesis
import yaml
from schemathesis.config import ChecksConfig, SchemathesisConfig
from schemathesis.core.failures import Failure, FailureGroup

from contracts import checks, conformance, runner
from contracts.target import Key, Target
from posthog_spec import default_spec, default_spec_path

READER = Key("phx_" + "r" * 40, ("insight:read",))
STRANGER = Key("phx_" + "s" * 40, ("insight:read",))  # a key the run was not told about
INSIGHT = "/api/projects/{project_id}/insights/{id}/"
TEXTS = default_spec().texts


def schema_of(path: Path = default_spec_path(), keys: list[Key] = (READER,)):
    return schemathesis.openapi.from_path(path, config=SchemathesisConfig.from_dict({"checks": checks.configuration(list(keys))}))


def answer(method: str, status: int, body=None, *, key: Key = READER, content: bytes = b"") -> httpx.Response:
    """An answer to a request carrying `key`, as if the target had sent it."""
    request = httpx.Request(method, "http://testserver/api/projects/1/insights/1/", headers={"Authorization": f"Bearer {key.value}"})
    response = httpx.Response(status, request=request, **({"json": body} if body is not None else {"content": content}))
    response.elapsed = timedelta(0)
    return response


def failures_of(check, method: str, response: httpx.Response, schema=None) -> list[Failure]:
    case = (schema or schema_of())[INSIGHT][method].Case(path_parameters={"project_id": "1", "id": "1"})
    try:
        case.validate_response(response, checks=[check])
    except FailureGroup as group:
        return list(group.exceptions)
    return []


def refusal(name: str, **values) -> dict:
    text = TEXTS[name]
    return {"type": text.type, "code": text.code, "detail": text.fill(**values), "attr": None}


def test_the_run_tells_scopes_enforced_what_keys_may_do_by_fingerprint_only():
    section = checks.configuration([READER])
    assert section["scopes_enforced"]["keys"] == {READER.fingerprint: ["insight:read"]}
    assert READER.value not in json.dumps(section)
    assert all(section[name]["enabled"] for name in checks.NAMES)


def test_a_key_let_pass_without_its_scope_is_a_typed_failure():
    [failure] = failures_of(checks.scopes_enforced, "PATCH", answer("PATCH", 200, {"id": 1}))
    assert isinstance(failure, checks.ScopeNotEnforced)
    assert (failure.status_code, failure.scopes) == (200, ("insight:read",))
    assert failure.expected_detail == TEXTS["missing_scope"].fill(scope="insight:write")


def test_a_key_refused_in_posthogs_words_passes():
    refused = answer("PATCH", 403, refusal("missing_scope", scope="insight:write"))
    assert failures_of(checks.scopes_enforced, "PATCH", refused) == []


def test_a_key_refused_although_it_may_call_the_operation_is_a_failure():
    [failure] = failures_of(checks.scopes_enforced, "GET", answer("GET", 403, refusal("missing_scope", scope="insight:read")))
    assert isinstance(failure, checks.ScopeNotEnforced) and failure.expected_detail is None


def test_a_key_the_run_does_not_know_is_judged_by_the_environment(monkeypatch):
    let_pass = answer("PATCH", 200, {"id": 1}, key=STRANGER)
    monkeypatch.delenv(checks.KEY_SCOPES_ENV, raising=False)
    assert failures_of(checks.scopes_enforced, "PATCH", let_pass) == []  # nothing known: nothing to judge
    monkeypatch.setenv(checks.KEY_SCOPES_ENV, "insight:read")
    assert isinstance(failures_of(checks.scopes_enforced, "PATCH", let_pass)[0], checks.ScopeNotEnforced)


def test_scopes_enforced_expects_the_words_of_the_spec_under_test(tmp_path):
    document = yaml.safe_load(default_spec_path().read_text(encoding="utf-8"))
    document["x-posthog-texts"]["missing_scope"]["detail"] = "No '{scope}' on this key"
    copy = tmp_path / "openapi.yaml"
    copy.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    posthogs_words = answer("PATCH", 403, refusal("missing_scope", scope="insight:write"))
    [failure] = failures_of(checks.scopes_enforced, "PATCH", posthogs_words, schema=schema_of(copy))
    assert failure.expected_detail == "No 'insight:write' on this key"


@pytest.mark.parametrize("response,status,with_body", [
    (answer("DELETE", 204), 204, False),
    (answer("DELETE", 405, content=b"gone"), 405, True),
])
def test_a_hard_delete_not_refused_as_posthog_refuses_it_is_a_typed_failure(response, status, with_body):
    [failure] = failures_of(checks.delete_is_405, "DELETE", response)
    assert isinstance(failure, checks.WrongSuccessAnswer)
    assert (failure.status_code, failure.expected_status, bool(failure.body_length)) == (status, 405, with_body)


def test_a_hard_delete_refused_as_posthog_refuses_it_or_refused_for_the_caller_passes():
    assert failures_of(checks.delete_is_405, "DELETE", answer("DELETE", 404, refusal("not_found"))) == []
    assert failures_of(checks.delete_is_405, "DELETE", answer("DELETE", 405)) == []


def test_an_error_body_without_type_is_a_typed_failure_naming_the_problem():
    body = {key: value for key, value in refusal("not_found").items() if key != "type"}
    [failure] = failures_of(checks.error_body_shape, "GET", answer("GET", 404, body))
    assert isinstance(failure, checks.MalformedErrorBody)
    assert failure.status_code == 404 and any("type" in problem for problem in failure.problems)


def test_an_error_body_of_an_unknown_type_is_a_failure_and_posthogs_passes():
    assert failures_of(checks.error_body_shape, "GET", answer("GET", 404, {**refusal("not_found"), "type": "oops"}))
    assert failures_of(checks.error_body_shape, "GET", answer("GET", 404, refusal("not_found"))) == []


def plain_refusal(status: int, query: str) -> httpx.Response:
    """What an HTTP server or proxy answers itself, in its own words, to GET insight?`query`."""
    request = httpx.Request("GET", f"http://testserver/api/projects/1/insights/1/?{query}",
                            headers={"Authorization": f"Bearer {READER.value}"})
    response = httpx.Response(status, request=request, content=b"Invalid HTTP request received.",
                              headers={"Content-Type": "text/plain; charset=utf-8"})
    response.elapsed = timedelta(0)
    return response


def test_a_request_line_too_long_for_posthogs_proxy_may_be_refused_in_the_proxys_words():
    """An 80 KB query string never reaches PostHog: its proxy (the mock's HTTP server too) refuses
    it first, as the spec's `x-front-refusal` note says, so no PostHog error body is owed."""
    limit = default_spec().front_refusal
    too_long = "x=" + "a" * limit.longer_than
    for status in sorted(limit.statuses):
        assert failures_of(checks.error_body_shape, "GET", plain_refusal(status, too_long)) == []
    [failure] = failures_of(checks.error_body_shape, "GET", plain_refusal(404, too_long))
    assert isinstance(failure, checks.MalformedErrorBody)


def test_a_short_request_refused_in_other_words_than_posthogs_is_a_failure():
    [failure] = failures_of(checks.error_body_shape, "GET", plain_refusal(400, "x=short"))
    assert isinstance(failure, checks.MalformedErrorBody) and failure.status_code == 400


def test_the_served_mocks_own_refusal_of_an_80_kb_query_string_passes_error_body_shape():
    """The URL is longer than httpx sends: requests, as schemathesis sends it."""
    import requests

    from mockserver import Settings, create_app
    from tests.contracts_support import ThreadedServer

    with ThreadedServer(create_app(Settings(db=":memory:"))) as server:
        sent = requests.get(f"{server.base_url}/api/projects/1/elements/stats/", params={"properties": "[" + "1," * 40_000 + "1]"},
                            headers={"Authorization": f"Bearer {READER.value}"}, timeout=30)
    assert sent.status_code in default_spec().front_refusal.statuses and not sent.headers["content-type"].startswith("application/json")
    case = schema_of()["/api/projects/{project_id}/elements/stats/"]["GET"].Case(path_parameters={"project_id": "1"})
    case.validate_response(sent, checks=[checks.error_body_shape])




def test_the_run_counts_every_documented_refusal_as_rejecting_invalid_data():
    """A negative PUT body over 1 MiB gets 413: that refuses it as surely as a 400 does. The run
    expects every 4xx the spec documents (schemathesis's own list leaves 413 out)."""
    ctx = runner.run_context(Target(base_url="http://testserver", project_id="1", keys=[READER]), runner.Options(seed=1))
    configured = SchemathesisConfig.from_dict(conformance.config(ctx)).projects.default.checks.negative_data_rejection
    documented = {str(s) for op in default_spec().operations for s in op.documented_statuses() if 400 <= s < 500}
    assert {"413", "415"} <= documented <= set(configured.expected_statuses)
    assert "413" not in ChecksConfig.from_dict({}).negative_data_rejection.expected_statuses
