"""Elements on the in-process mock: CRUD (fact sheet §1.3, §2.2), `stats/` and `values/`
(§3.2, §6, §7.1), computed from the click events of environment 1's demo stream.

Expected counts are worked out here from the analytics engine's rows themselves (every event,
read plainly), independently of the handler's filtering and grouping.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from mock_support import KEYS, P, assert_error, bearer, client, make_client  # noqa: F401

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
ELEMENT_FIELDS = {"text", "tag_name", "attr_class", "href", "attr_id", "nth_child", "nth_of_type", "attributes", "order"}
SIGN_UP = {"text": "Sign up", "tag_name": "button", "attr_class": ["btn", "btn-primary"], "href": None, "attr_id": "signup-cta",
           "nth_child": 1, "nth_of_type": 1, "attributes": {"attr__data-attr": "signup", "attr__class": "btn btn-primary"}, "order": 0}


@pytest.fixture(scope="module")
def reader():
    with make_client() as c:
        yield c


def events(client, *, since: datetime, types=("$autocapture", "$rageclick", "$dead_click")) -> list[dict]:
    """Environment 1's events of these types from `since` up to now, as plain dicts."""
    server = client.app.state.server
    cursor, _ = server.analytics.open(server.store, NOW)
    rows = cursor.execute(
        "SELECT e.event, e.timestamp, e.elements_chain, coalesce(e.current_url, json_extract_string(e.properties, '$.\"$current_url\"')),"
        " coalesce(e.browser, json_extract_string(e.properties, '$.\"$browser\"')), p.email"
        " FROM events e LEFT JOIN persons p ON p.person_id = e.person_id WHERE e.team_id = 1").fetchall()
    now, start = NOW.replace(tzinfo=None), since.replace(tzinfo=None)
    return [{"event": event, "timestamp": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "elements_chain": chain,
             "properties": json.dumps({"$current_url": url, "$browser": browser}), "person_email": email or ""}
            for event, at, chain, url, browser, email in rows if event in types and start <= at <= now]


def stats(client, **params) -> dict:
    response = client.get(f"{P}/elements/stats/", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def midnight(days_ago: int) -> datetime:
    return (NOW - timedelta(days=days_ago)).replace(hour=0, minute=0, second=0, microsecond=0)


# CRUD -------------------------------------------------------------------------------------------
def test_list_pages_the_elements_of_the_environment_without_ids(reader):
    page = reader.get(f"{P}/elements/").json()
    assert page["count"] == 3 and page["next"] is None and page["previous"] is None
    assert page["results"][0] == SIGN_UP
    assert all(set(element) == ELEMENT_FIELDS for element in page["results"])
    two = reader.get(f"{P}/elements/", params={"limit": 2}).json()
    assert len(two["results"]) == 2 and two["next"] == "http://testserver/api/projects/1/elements/?limit=2&offset=2"


def test_elements_belong_to_one_environment(reader):
    assert reader.get("/api/environments/3/elements/").json()["count"] == 0
    assert reader.get("/api/environments/1/elements/").json()["count"] == 3
    assert_error(reader.get("/api/environments/3/elements/1/"), 404, "Not found.")


def test_create_answers_201_with_the_element_and_stores_it(client):
    body = {"text": "Buy", "tag_name": "button", "attr_class": ["cta"], "nth_child": 2, "attributes": {"attr__data-attr": "buy"}}
    response = client.post(f"{P}/elements/", json=body)
    assert response.status_code == 201
    assert response.json() == {**dict.fromkeys(ELEMENT_FIELDS), **body}
    page = client.get(f"{P}/elements/").json()
    assert page["count"] == 4 and page["results"][-1]["text"] == "Buy"
    assert client.get(f"{P}/elements/4/").json()["text"] == "Buy"


def test_create_with_no_body_stores_an_empty_element(client):
    response = client.post(f"{P}/elements/")
    assert response.status_code == 201 and response.json()["attributes"] == {}


def test_retrieve_answers_the_element(reader):
    assert reader.get(f"{P}/elements/1/").json() == SIGN_UP


@pytest.mark.parametrize("element_id", ["99", "abc", "0", str(2**70)])
def test_retrieve_of_an_unknown_element_is_not_found(reader, element_id):
    assert_error(reader.get(f"{P}/elements/{element_id}/"), 404, "Not found.")


def test_put_and_patch_change_the_element(client):
    patched = client.patch(f"{P}/elements/1/", json={"text": "Join"}).json()
    assert patched == {**SIGN_UP, "text": "Join"}
    put = client.put(f"{P}/elements/1/", json={"text": "Go", "attr_class": None, "order": 3}).json()
    assert put["text"] == "Go" and put["attr_class"] is None and put["order"] == 3
    assert client.get(f"{P}/elements/1/").json() == put


def test_delete_answers_204_and_really_deletes(client):
    response = client.delete(f"{P}/elements/2/")
    assert response.status_code == 204 and response.content == b""
    assert_error(client.get(f"{P}/elements/2/"), 404, "Not found.")
    assert client.get(f"{P}/elements/").json()["count"] == 2
    assert_error(client.delete(f"{P}/elements/2/"), 404, "Not found.")


@pytest.mark.parametrize("body,attr", [
    ({"text": "x" * 10001}, "text"),
    ({"tag_name": "x" * 1001}, "tag_name"),
    ({"attr_class": "btn"}, "attr_class"),
    ({"attr_class": ["x" * 201]}, "attr_class__0"),
    ({"nth_child": 2**31}, "nth_child"),
    ({"order": "first"}, "order"),
    ({"attributes": []}, "attributes"),
    ({"colour": "red"}, "colour"),
])
def test_element_writes_refuse_invalid_fields(client, body, attr):
    assert_error(client.post(f"{P}/elements/", json=body), 400, attr=attr)
    assert_error(client.patch(f"{P}/elements/1/", json=body), 400, attr=attr)


def test_element_writes_need_the_element_write_scope(client):
    response = client.post(f"{P}/elements/", json={}, headers=bearer(KEYS["insights-write"]))
    assert_error(response, 403, "API key missing required scope 'element:write'")
    assert client.get(f"{P}/elements/", headers=bearer(KEYS["elements"])).status_code == 200  # write grants read


# stats ------------------------------------------------------------------------------------------
def test_stats_count_click_events_per_chain_and_type_most_first(reader):
    page = stats(reader)
    counts = [row["count"] for row in page["results"]]
    assert counts == sorted(counts, reverse=True)
    assert sum(counts) == len(events(reader, since=midnight(7)))  # default window: the last 7 days
    assert len({(row["hash"], row["type"]) for row in page["results"]}) == len(page["results"])
    for row in page["results"]:
        assert row["type"] in ("$autocapture", "$rageclick", "$dead_click")
        assert [element["order"] for element in row["elements"]] == list(range(len(row["elements"])))
        assert set(row["elements"][0]) == ELEMENT_FIELDS
    assert page["next"] is None and page["previous"] is None


def test_stats_rows_group_identical_chains_of_one_type(reader):
    seeded = events(reader, since=midnight(7))
    per_key: dict[tuple[str, str], int] = {}
    for event in seeded:
        key = (event["elements_chain"], event["event"])
        per_key[key] = per_key.get(key, 0) + 1
    top_chain, top_type = max(per_key, key=per_key.get)
    top = stats(reader)["results"][0]
    assert (top["count"], top["type"]) == (per_key[(top_chain, top_type)], top_type)
    assert [e["tag_name"] for e in top["elements"]] == [e["tag_name"] for e in json.loads(top_chain)]


def test_stats_answers_with_posthogs_cache_headers(reader):
    response = reader.get(f"{P}/elements/stats/")
    assert response.headers["cache-control"] == "public, max-age=30"
    assert response.headers["vary"].startswith("Accept, Accept-Encoding, Query-String")


@pytest.mark.parametrize("include,types", [
    ("$rageclick", ("$rageclick",)),
    ("$rageclick,$dead_click", ("$rageclick", "$dead_click")),
    ('["$dead_click"]', ("$dead_click",)),
    ('[ "$autocapture" , "$rageclick" ]', ("$autocapture", "$rageclick")),
])
def test_stats_include_picks_the_event_types(reader, include, types):
    page = stats(reader, include=include)
    assert {row["type"] for row in page["results"]} == set(types)
    assert sum(row["count"] for row in page["results"]) == len(events(reader, since=midnight(7), types=types))


@pytest.mark.parametrize("date_from,since", [
    ("-14d", midnight(14)),
    ("-1d", midnight(1)),
    ("2026-11-20", datetime(2026, 11, 20, tzinfo=timezone.utc)),
    ("2026-11-20T15:30:00Z", datetime(2026, 11, 20, tzinfo=timezone.utc)),  # truncated to the start of the day
])
def test_stats_date_from_sets_the_window(reader, date_from, since):
    assert sum(row["count"] for row in stats(reader, date_from=date_from)["results"]) == len(events(reader, since=since))


def test_stats_date_to_closes_the_window(reader):
    until = "2026-11-20T00:00:00.000000Z"
    expected = [e for e in events(reader, since=midnight(14)) if e["timestamp"] <= until]
    page = stats(reader, date_from="-14d", date_to="2026-11-20T00:00:00Z")
    assert sum(row["count"] for row in page["results"]) == len(expected)


def test_stats_properties_filter_the_events(reader):
    properties = [{"key": "$current_url", "value": "/pricing", "operator": "icontains", "type": "event"}]
    expected = [e for e in events(reader, since=midnight(7)) if "/pricing" in json.loads(e["properties"])["$current_url"]]
    page = stats(reader, properties=json.dumps(properties))
    assert 0 < sum(row["count"] for row in page["results"]) == len(expected)
    exact = [{"key": "$browser", "value": ["Safari"], "operator": "exact", "type": "event"}]
    expected = [e for e in events(reader, since=midnight(7)) if json.loads(e["properties"])["$browser"] == "Safari"]
    assert sum(row["count"] for row in stats(reader, properties=json.dumps(exact))["results"]) == len(expected)


def test_stats_filter_test_accounts_leaves_out_the_projects_test_accounts(reader):
    # The demo project's test-account filter drops people whose email contains @hogflix.io.
    expected = [e for e in events(reader, since=midnight(7)) if "@hogflix.io" not in e["person_email"]]
    assert len(expected) < len(events(reader, since=midnight(7)))
    page = stats(reader, filter_test_accounts="true")
    assert sum(row["count"] for row in page["results"]) == len(expected)
    assert stats(reader, filter_test_accounts="false") == stats(reader)


def test_stats_max_element_chain_depth_keeps_the_first_elements(reader):
    for row in stats(reader, max_element_chain_depth=1)["results"]:
        assert len(row["elements"]) == 1 and row["elements"][0]["order"] == 0
    assert max(len(row["elements"]) for row in stats(reader, max_element_chain_depth=2)["results"]) == 2


@pytest.mark.parametrize("data_attributes", ["data-attr", "data-*", " data-attr , other"])
def test_stats_data_attributes_keep_only_matching_attributes(reader, data_attributes):
    rows = stats(reader, data_attributes=data_attributes)["results"]
    kept = {key for row in rows for element in row["elements"] for key in element["attributes"]}
    assert kept == {"attr__data-attr"}


def test_stats_page_links_move_the_offset_in_the_request_url(reader):
    everything = stats(reader)["results"]
    first = stats(reader, limit=2)
    assert first["results"] == everything[:2]
    assert first["next"] == "http://testserver/api/projects/1/elements/stats/?limit=2&offset=2"
    assert first["previous"] is None
    second = reader.get(f"{P}/elements/stats/?offset=2&limit=2").json()
    assert second["results"] == everything[2:4]
    assert second["next"] == "http://testserver/api/projects/1/elements/stats/?offset=4&limit=2"
    assert second["previous"] == "http://testserver/api/projects/1/elements/stats/?offset=0&limit=2"
    last = stats(reader, limit=2, offset=len(everything) - 1)
    assert len(last["results"]) == 1 and last["next"] is None


@pytest.mark.parametrize("params,detail", [
    ({"limit": "many"}, "limit must be an integer"),
    ({"limit": "1.5"}, "limit must be an integer"),
    ({"limit": 0}, "limit must be between 1 and 999999"),
    ({"limit": 1000000}, "limit must be between 1 and 999999"),
    ({"offset": "x"}, "offset must be an integer"),
    ({"offset": -1}, "offset must be zero or greater"),
    ({"sampling_factor": "half"}, "sampling_factor must be a float"),
    ({"sampling_factor": 0}, "sampling_factor must be greater than 0 and at most 1"),
    ({"sampling_factor": 1.5}, "sampling_factor must be greater than 0 and at most 1"),
    ({"max_element_chain_depth": "deep"}, "max_element_chain_depth must be an integer"),
    ({"max_element_chain_depth": 0}, "max_element_chain_depth must be greater than zero"),
    ({"include": "["}, "include must be a valid JSON array when passed as one"),
    ({"include": '["$rageclick"'}, "include must be a valid JSON array when passed as one"),
    ({"include": "[1, 2]"}, "include must be a JSON array of event names"),
    ({"include": '[{"event": "$rageclick"}]'}, "include must be a JSON array of event names"),
    ({"include": "$pageview"}, "Only $autocapture, $rageclick, and $dead_click are supported."),
    ({"include": '["$pageview"]'}, "Only $autocapture, $rageclick, and $dead_click are supported."),
    ({"include": "$autocapture,$click"}, "Only $autocapture, $rageclick, and $dead_click are supported."),
])
def test_stats_refuse_invalid_parameters_with_posthogs_texts(reader, params, detail):
    response = reader.get(f"{P}/elements/stats/", params=params)
    assert_error(response, 400, detail, type="validation_error", code="invalid_input", attr=None)


def test_stats_accept_a_sampling_factor_in_range(reader):
    assert reader.get(f"{P}/elements/stats/", params={"sampling_factor": 0.5}).status_code == 200


# values -----------------------------------------------------------------------------------------
def autocapture_values(client, key: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for event in events(client, since=datetime(1, 1, 2, tzinfo=timezone.utc), types=("$autocapture",)):
        for element in json.loads(event["elements_chain"]):
            if element.get(key) is not None:
                counts[element[key]] = counts.get(element[key], 0) + 1
    return counts


@pytest.mark.parametrize("key", ["tag_name", "text", "href", "attr_id"])
def test_values_are_distinct_values_of_autocapture_elements_most_frequent_first(reader, key):
    response = reader.get(f"{P}/elements/values/", params={"key": key})
    assert response.status_code == 200
    names = [item["name"] for item in response.json()]
    expected = autocapture_values(reader, key)
    assert sorted(names) == sorted(expected)
    assert [expected[name] for name in names] == sorted(expected.values(), reverse=True)


def test_values_filter_by_a_case_sensitive_substring(reader):
    assert reader.get(f"{P}/elements/values/", params={"key": "text", "value": "Sign"}).json() == [{"name": "Sign up"}]
    assert reader.get(f"{P}/elements/values/", params={"key": "text", "value": "sign"}).json() == []
    assert reader.get(f"{P}/elements/values/", params={"key": "href", "value": ".io/"}).json() == [{"name": "https://hogflix.io/docs"}]


def test_values_for_selector_are_empty(reader):
    assert reader.get(f"{P}/elements/values/", params={"key": "selector"}).json() == []


@pytest.mark.parametrize("params", [{}, {"key": "class"}, {"key": ""}, {"key": "TAG_NAME"}])
def test_values_need_a_known_key(reader, params):
    response = reader.get(f"{P}/elements/values/", params=params)
    assert_error(response, 400, "key must be one of attr_id, href, tag_name, text", code="invalid_input", attr=None)


def test_values_are_at_most_100_and_only_from_autocapture(client):
    store = client.app.state.server.store
    rows = [{"project_id": 1, "team_id": 1, "event": "$autocapture", "timestamp": "2026-11-23T10:00:00.000000Z",
             "distinct_id": f"p{n}", "elements_chain": [{"tag_name": "li", "text": f"Item {n:03d}", "attributes": {}}]}
            for n in range(150)]
    rows.append({"project_id": 1, "team_id": 1, "event": "$rageclick", "timestamp": "2026-11-23T10:00:00.000000Z",
                 "distinct_id": "p", "elements_chain": [{"tag_name": "li", "text": "Only raged", "attributes": {}}]})
    with store.transaction(write=True):
        store.events.add(rows)
    names = [item["name"] for item in client.get(f"{P}/elements/values/", params={"key": "text"}).json()]
    assert len(names) == 100 and "Only raged" not in names
    expected = autocapture_values(client, "text")
    assert [expected[name] for name in names] == sorted(expected.values(), reverse=True)[:100]
