"""Bad input never yields a 500 (issue 3): malformed, mistyped, oversized, out-of-range or
undecodable requests all get a 4xx in PostHog's {type, code, detail, attr} shape (fact sheet §6).

Explicit cases first, then a hypothesis property test that throws arbitrary JSON bodies and query
strings at a few operations. The mock runs in strict mode, so an undocumented answer fails too.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_support import ERROR_KEYS, P, assert_error, client, make_client, session_headers  # noqa: F401
from posthog_spec import default_spec

BIG = "9" * 5000  # more digits than Python's int() converts by default
TRENDS = {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}]}


def send(client, method: str, path: str, body: bytes, content_type: str = "application/json"):
    return client.request(method, path, content=body, headers={"content-type": content_type})


# Bodies -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("body", [b"{", b'{"name": }', b"[1, 2", b"nul", b'{"a": NaN}', b'{"a": Infinity}', b"{'a': 1}"])
def test_malformed_json_is_a_parse_error(client, body):
    error = assert_error(send(client, "POST", f"{P}/insights/", body), 400, code="parse_error", type="invalid_request", attr=None)
    assert error["detail"].startswith("JSON parse error - ")


@pytest.mark.parametrize("body", [
    b'{"name": "\xff\xfe"}',  # not UTF-8
    b"\xff\xfe{\x00",
    b'{"name": "\\ud800"}',  # a lone surrogate: JSON, but not text
    b'{"tags": ["\\udfff"]}',
    b'{"\\ud800": 1}',
    b'{"order": 1e400}',  # overflows a float
    ('{"order": ' + BIG + "}").encode(),  # more digits than Python converts
    b"[" * 100_000,  # deeper than the parser goes
])
def test_bodies_that_cannot_be_read_as_text_or_numbers_are_parse_errors(client, body):
    assert_error(send(client, "PATCH", f"{P}/insights/1/", body), 400, code="parse_error", type="invalid_request")


def test_a_json_null_body_is_no_data(client):
    assert_error(send(client, "PATCH", f"{P}/insights/1/", b"null"), 400, "No data provided", code="null", attr=None)
    assert_error(send(client, "POST", f"{P}/elements/", b"null"), 400, "No data provided", code="null")


@pytest.mark.parametrize("body", [b"[]", b'"name"', b"1", b"true"])
def test_a_body_that_is_not_an_object_is_refused(client, body):
    error = assert_error(send(client, "PATCH", f"{P}/insights/1/", body), 400, type="validation_error", attr=None)
    assert error["detail"].startswith("Invalid data. Expected a dictionary, but got ")


def test_an_empty_body_is_an_empty_object(client):
    assert send(client, "PATCH", f"{P}/insights/1/", b"").status_code == 200


@pytest.mark.parametrize("body", [b" ", b"  \n", b"\t"])
def test_a_body_of_whitespace_is_a_parse_error_and_not_an_empty_patch(client, body):
    """DRF parses any body with a length; schemathesis sends whitespace as 'invalid syntax'."""
    before = client.get(f"{P}/insights/1/").json()["last_modified_at"]
    error = assert_error(send(client, "PATCH", f"{P}/insights/1/", body), 400, code="parse_error", type="invalid_request", attr=None)
    assert error["detail"].startswith("JSON parse error - Expecting value: ")
    assert client.get(f"{P}/insights/1/").json()["last_modified_at"] == before


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                                          "text/plain; charset=utf-8", "application/xml"])
def test_a_body_that_is_not_json_is_an_unsupported_media_type(client, content_type):
    response = send(client, "POST", f"{P}/insights/", b'{"query": {}}', content_type)
    assert_error(response, 415, f'Unsupported media type "{content_type}" in request.', code="unsupported_media_type",
                 type="invalid_request", attr=None)


def test_a_body_without_a_content_type_is_an_unsupported_media_type(client):
    response = client.post(f"{P}/insights/", content=b'{"query": {}}')
    assert_error(response, 415, 'Unsupported media type "" in request.')


def test_a_json_media_type_with_a_charset_is_json(client):
    response = send(client, "POST", f"{P}/insights/", json.dumps({"query": TRENDS}).encode(), "application/json; charset=utf-8")
    assert response.status_code == 201


def test_a_body_over_1_mib_is_too_large(client):
    response = send(client, "POST", f"{P}/insights/", b" " * (1024 * 1024 + 1))
    assert_error(response, 413, "Request body exceeds 1048576 bytes.", code="payload_too_large", type="invalid_request")


def test_a_streamed_body_over_1_mib_is_too_large(client):
    def chunks():
        for _ in range(20):
            yield b"x" * 65536

    response = client.post(f"{P}/insights/", content=chunks(), headers={"content-type": "application/json"})
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert_error(response, 413, "Request body exceeds 1048576 bytes.")


def test_a_body_of_exactly_1_mib_is_read(client):
    body = json.dumps({"query": TRENDS, "description": "x"})
    body += " " * (1024 * 1024 - len(body))
    assert send(client, "POST", f"{P}/insights/", body.encode()).status_code == 201


@pytest.mark.parametrize("body,attr,code", [
    ({"query": TRENDS, "colour": "red"}, "colour", "invalid_input"),  # unknown field
    ({"query": TRENDS, "name": 5}, "name", "invalid_input"),
    ({"query": TRENDS, "favorited": "yes"}, "favorited", "invalid_input"),
    ({"query": TRENDS, "tags": "growth"}, "tags", "not_a_list"),
    ({"query": TRENDS, "tags": [1]}, "tags__0", "invalid_input"),
    ({"query": TRENDS, "name": "x" * 401}, "name", "max_length"),
    ({"query": TRENDS, "order": 2**31}, "order", "max_value"),
    ({"query": TRENDS, "order": -(2**31) - 1}, "order", "min_value"),
    ({"query": TRENDS, "order": 2**70}, "order", "max_value"),
    ({"query": TRENDS, "order": 1.5}, "order", "invalid_input"),
    ({"query": TRENDS, "dashboards": [2**70]}, "dashboards", "invalid_input"),
])
def test_fields_of_the_wrong_type_or_out_of_range_are_validation_errors(client, body, attr, code):
    assert_error(client.post(f"{P}/insights/", json=body), 400, type="validation_error", code=code, attr=attr)


def test_read_only_fields_sent_back_are_ignored(client):
    item = client.get(f"{P}/insights/1/").json()
    changed = client.patch(f"{P}/insights/1/", json={"id": 999, "short_id": "XXXXXXXX", "created_at": "2000-01-01T00:00:00Z",
                                                     "name": "Same insight"}).json()
    assert (changed["id"], changed["short_id"], changed["created_at"]) == (item["id"], item["short_id"], item["created_at"])


def test_integers_beyond_64_bits_in_bodies_are_never_found(client):
    assert client.post(f"{P}/insights/viewed/", json={"insight_ids": [2**64, 2**70]}).status_code == 201
    body = client.post(f"{P}/insights/bulk_delete/", json={"ids": [2**63, 2**100]}).json()
    assert body == {"deleted": [], "skipped": [{"id": 2**63, "reason": "Insight not found"}, {"id": 2**100, "reason": "Insight not found"}]}
    assert client.post(f"{P}/elements/", json={"nth_child": -(2**70)}).status_code == 400


# Query strings ----------------------------------------------------------------------------------
@pytest.mark.parametrize("path,attr", [
    (f"{P}/insights/?limit={BIG}", "limit"),
    (f"{P}/insights/?offset=-1", "offset"),
    (f"{P}/insights/1/?from_dashboard={BIG}", "from_dashboard"),
    (f"{P}/insights/?created_by=[{BIG}]", "created_by"),
    (f'{P}/insights/?events=["\\ud800"]', "events"),
    (f"{P}/insights/?tags=[[[", "tags"),
    (f"{P}/insights/activity/?page={BIG}", "page"),
    (f"{P}/insights/?date_from=%00", "date_from"),
    (f"{P}/insights/?date_from=2026-13-45", "date_from"),
    (f"{P}/insights/?saved=%ff", "saved"),
])
def test_malformed_query_values_are_validation_errors(client, path, attr):
    assert_error(client.get(path), 400, type="validation_error", attr=attr)


@pytest.mark.parametrize("path,attr", [(f"{P}/insights/trending/?days={BIG}", None), (f"{P}/elements/stats/?limit={BIG}", None)])
def test_huge_integers_get_posthogs_own_texts(client, path, attr):
    assert_error(client.get(path), 400, type="validation_error", code="invalid_input", attr=attr)


@pytest.mark.parametrize("path", [
    f"{P}/insights/?limit=99999999999999999999999",
    f"{P}/insights/?offset=99999999999999999999999",
    f"{P}/insights/activity/?page=99999999999999999999&limit=99999999999999999999",
    f"{P}/insights/trending/?days=99999999999999999999&limit=99999999999999999999",
    f"{P}/insights/?dashboards=[99999999999999999999]",
    f"{P}/insights/?created_by=[-99999999999999999999]",
    f"{P}/insights/?date_from=-9999y",
    f"{P}/insights/?date_from=0001-01-01T00:00:00%2B05:00",
    f"{P}/insights/?date_to=9999-12-31T23:59:59-05:00",
    f"{P}/elements/stats/?date_from=9999-12-31T23:59:59-05:00",
    f"{P}/elements/stats/?offset=99999999999999999999999",
    f"{P}/insights/?search=%ff%fe%00",
    f"{P}/insights/?unknown_parameter={BIG}",
])
def test_out_of_range_but_well_formed_query_values_are_answered(client, path):
    assert client.get(path).status_code == 200


def test_links_keep_the_offset_that_was_asked_for(client):
    page = client.get(f"{P}/insights/?offset=99999999999999999999&limit=10").json()
    assert page["results"] == [] and page["previous"] == "http://testserver/api/projects/1/insights/?limit=10&offset=99999999999999999989"


def test_years_before_1000_are_compared_as_dates(client):
    assert client.get(f"{P}/insights/?date_from=0999-06-01").json()["count"] == 18
    assert client.get(f"{P}/insights/?created_date_to=0999-06-01").json()["count"] == 0


# Paths ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path,detail", [
    (f"{P}/insights/%00/", "Not found."),
    (f"{P}/insights/%ff/", "Not found."),
    (f"{P}/insights/..%2F..%2F/", "Endpoint not found."),  # decoded, the slashes match no route
    (f"{P}/insights/1234567890123456789/", "Not found."),
    (f"{P}/insights/{'a' * 10000}/", "Not found."),
    (f"{P}/elements/{2**70}/", "Not found."),
    (f"{P}/elements/{BIG}/", "Not found."),
    (f"{P}/elements/-1/", "Not found."),
    ("/api/projects/²/insights/", "Project not found."),
    ("/api/projects/١/insights/x/", "Project not found."),
    (f"/api/projects/{BIG}/insights/", "Project not found."),
    (f"/api/projects/{2**70}/insights/", "Project not found."),
    ("/api/projects/1%00/insights/", "Project not found."),
    ("/api/projects/@me/insights/", "Project not found."),
    ("/api//projects/1/insights/", "Endpoint not found."),
    ("/api/projects/1/insights/1/2/3/", "Endpoint not found."),
    ("/api/ünïcode/", "Endpoint not found."),
])
def test_weird_paths_are_not_found(client, path, detail):
    assert_error(client.get(path), 404, detail, code="not_found", type="invalid_request", attr=None)


@pytest.mark.parametrize("method", ["TRACE", "PUT", "DELETE"])
def test_a_method_the_route_lacks_is_405_with_allow(client, method):
    response = client.request(method, f"{P}/insights/")
    assert_error(response, 405, f'Method "{method}" not allowed.', code="method_not_allowed")
    assert response.headers["allow"] == "GET, HEAD, OPTIONS, POST"


def test_head_answers_the_headers_of_get_without_a_body(client):
    response = client.head(f"{P}/insights/")
    assert response.status_code == 200 and response.content == b""
    assert int(response.headers["content-length"]) == len(client.get(f"{P}/insights/").content)


def test_every_x_posthog_errors_entry_of_the_spec_is_a_whole_error():
    """A flow mapping cut at a comma (an unquoted `detail: a, b`) once truncated an error text."""
    allowed = {"status", "type", "code", "detail", "attr"}

    def entries(node: Any):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "x-posthog-errors":
                    yield from value.values()
                else:
                    yield from entries(value)
        elif isinstance(node, list):
            for value in node:
                yield from entries(value)

    found = list(entries(default_spec().document))
    assert found and all(set(entry) <= allowed for entry in found), [e for e in found if set(e) - allowed]


# Property: arbitrary input, never a 500 -----------------------------------------------------------
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
BODY_OPERATIONS = [
    ("POST", f"{P}/insights/", ["name", "query", "filters", "tags", "dashboards", "order", "saved", "deleted"]),
    ("PATCH", f"{P}/insights/1/", ["name", "query", "filters", "deleted", "favorited", "tags", "description"]),
    ("POST", f"{P}/insights/viewed/", ["insight_ids"]),
    ("POST", f"{P}/insights/bulk_update_tags/", ["ids", "action", "tags"]),
    ("POST", f"{P}/insights/bulk_delete/", ["ids"]),
    ("POST", f"{P}/insights/generate_metadata/", ["query"]),
    ("PUT", f"{P}/elements/1/", ["text", "attr_class", "nth_child", "attributes", "order"]),
]
QUERY_OPERATIONS = [
    (f"{P}/insights/", ["limit", "offset", "search", "order", "tags", "dashboards", "created_by", "date_from", "insight", "saved", "user"]),
    (f"{P}/insights/trending/", ["days", "limit", "offset"]),
    (f"{P}/insights/activity/", ["page", "limit", "format"]),
    (f"{P}/elements/stats/", ["include", "limit", "offset", "properties", "date_from", "sampling_factor", "max_element_chain_depth"]),
    (f"{P}/elements/values/", ["key", "value"]),
]
QUERY_VALUES = (
    st.text(max_size=16)
    | st.integers().map(str)
    | JSON_VALUES.map(json.dumps)
    | st.sampled_from(["-7d", "2026-11-20", "all", "$autocapture", "[", "1e999", "0001-01-01T00:00:00+01:00", BIG])
)


def assert_answered_in_posthogs_shape(response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == ERROR_KEYS and isinstance(body["detail"], str) and isinstance(body["code"], str), body
        assert body["attr"] is None or isinstance(body["attr"], str), body


@pytest.fixture(scope="module")
def fuzzed():
    with make_client() as c:
        c.headers.update(session_headers(c))  # a session reaches bulk_update_tags; the key is cleared
        yield c


@pytest.mark.parametrize("method,path,fields", BODY_OPERATIONS, ids=[f"{m} {p}" for m, p, _ in BODY_OPERATIONS])
def test_arbitrary_json_bodies_get_a_4xx_in_posthogs_shape_or_succeed(fuzzed, method, path, fields):
    bodies = JSON_VALUES | st.dictionaries(st.sampled_from(fields) | st.text(max_size=6), JSON_VALUES, max_size=5)

    @given(body=bodies, raw=st.none() | st.binary(max_size=24))
    @settings(max_examples=50, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def check(body, raw):
        content = raw if raw is not None else json.dumps(body).encode()
        assert_answered_in_posthogs_shape(send(fuzzed, method, path, content))

    check()


@pytest.mark.parametrize("path,names", QUERY_OPERATIONS, ids=[p for p, _ in QUERY_OPERATIONS])
def test_arbitrary_query_strings_get_a_4xx_in_posthogs_shape_or_succeed(fuzzed, path, names):
    @given(params=st.dictionaries(st.sampled_from(names) | st.text(max_size=6), QUERY_VALUES, max_size=4))
    @settings(max_examples=50, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def check(params):
        assert_answered_in_posthogs_shape(fuzzed.get(path, params=params))

    check()
