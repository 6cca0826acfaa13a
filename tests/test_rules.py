"""The pure rules, tested directly rather than through a request: which keys PostHog refuses and
with which words, how texts are filled and recognised, how lists are ordered, how page links
are built, and how the mock's throttle counts."""

from __future__ import annotations

import pytest

from mock_support import one_project_store
from mockserver.clock import FrozenClock
from mockserver.errors import APIError
from mockserver.pagination import limit_offset_links, page_links, replaced_in_place
from mockserver.ratelimit import Throttle
from mockserver.store import Store
from mockserver.store.insights import ListQuery
from posthog_spec import default_spec, key_grants, key_refusal, key_refusal_text, project_refusal

SPEC = default_spec()
TEXTS = SPEC.texts


# Which keys PostHog refuses (fact sheet §5.2) -------------------------------------------------------
@pytest.mark.parametrize("scopes, required, granted", [
    (("*",), "insight:read", True),
    (("insight:read",), "insight:read", True),
    (("insight:write",), "insight:read", True),  # write implies read
    (("insight:read",), "insight:write", False),  # read does not imply write
    (("element:write",), "insight:read", False),
    (("activity_log:read",), "activity_log:read", True),
    ((), "insight:read", False),
])
def test_key_grants_star_the_scope_itself_or_its_write(scopes, required, granted):
    assert key_grants(scopes, required) is granted


def test_an_operation_without_a_key_scope_refuses_every_key_star_included():
    my_last_viewed = SPEC.operation("insights_my_last_viewed_retrieve")
    said = key_refusal(my_last_viewed, TEXTS, ("*",))
    assert said.detail == "This action does not support personal API key access" and said.status == 403


def test_a_missing_scope_is_named_in_the_refusal():
    said = key_refusal(SPEC.operation("insights_partial_update"), TEXTS, ("insight:read",))
    assert said.detail == "API key missing required scope 'insight:write'"
    assert key_refusal(SPEC.operation("insights_retrieve"), TEXTS, ("insight:write",)) is None


def test_viewed_needs_only_read_although_it_writes():
    assert key_refusal(SPEC.operation("insights_viewed_create"), TEXTS, ("insight:read",)) is None


def test_a_key_scoped_to_projects_is_refused_off_project_routes_and_on_other_projects():
    users_me = SPEC.operation("users_me_retrieve")
    assert key_refusal(users_me, TEXTS, ("*",), (2,)).detail == \
        "API keys with scoped projects are only supported on project-based endpoints."
    retrieve = SPEC.operation("insights_retrieve")
    assert key_refusal(retrieve, TEXTS, ("*",), (2,)) is None  # the project is not known yet
    assert key_refusal(retrieve, TEXTS, ("*",), (2,), team_id=1).detail == \
        "API key does not have access to the requested project: ID 1."
    assert key_refusal(retrieve, TEXTS, ("*",), (2,), team_id=2) is None
    assert project_refusal(TEXTS, None, 1) is None and project_refusal(TEXTS, (), 1) is None


def test_the_scope_is_checked_before_the_project():
    refusal = key_refusal(SPEC.operation("insights_partial_update"), TEXTS, ("insight:read",), (2,), team_id=1)
    assert refusal.text.name == "missing_scope"


def test_key_refusals_are_recognised_from_their_detail_alone():
    assert key_refusal_text(TEXTS, "API key missing required scope 'element:read'").name == "missing_scope"
    assert key_refusal_text(TEXTS, "API key does not have access to the requested project: ID 9.").name == "other_project"
    assert key_refusal_text(TEXTS, "Authentication credentials were not provided.") is None
    assert key_refusal_text(TEXTS, None) is None


# Texts of the catalogue -------------------------------------------------------------------------------
def test_a_text_is_filled_and_matched_by_its_template():
    throttled = TEXTS["throttled"]
    assert throttled.fill(wait=12) == "Request was throttled. Expected available in 12 seconds."
    assert throttled.match("Request was throttled. Expected available in 12 seconds.") == {"wait": "12"}
    assert throttled.match("Request was throttled.") is None
    assert throttled.fixed_parts() == ["Request was throttled. Expected available in ", " seconds."]
    with pytest.raises(KeyError):
        throttled.fill()


def test_a_text_that_fixes_attr_keeps_it_and_one_that_does_not_names_the_field():
    assert APIError.of(TEXTS["not_found"](), attr="id").attr is None
    required = APIError.of(TEXTS["required"](), attr="query")
    assert (required.status, required.type, required.code, required.attr) == (400, "validation_error", "required", "query")


def test_texts_that_are_no_errors_cannot_be_raised():
    with pytest.raises(ValueError):
        APIError.of(TEXTS["skipped_not_found"]())


def test_drf_code_invalid_is_sent_as_invalid_input():
    assert APIError.of(TEXTS["not_an_integer"](), attr="limit").code == "invalid_input"


# Ordering of the insights list (fact sheet §3.1) ---------------------------------------------------------
@pytest.fixture
def store():
    store = one_project_store()
    with store.transaction(write=True):
        # id, name, order, last viewed
        for insight_id, name, order, viewed in [(1, "beta", 2, "2026-01-02"), (2, None, None, None),
                                                (3, "alpha", 1, "2026-01-03"), (4, "gamma", None, "2026-01-01")]:
            store.insights.insert({
                "team_id": 1, "project_id": 1, "short_id": f"short{insight_id:03d}", "name": name, "order": order,
                "updated_at": "x", "last_modified_at": f"2026-0{insight_id}-01", "last_viewed_at": viewed,
            })
    return store


def ordered(store: Store, order: str | None) -> list[int]:
    with store.transaction():
        _, rows, _ = store.insights.page(ListQuery(project_id=1, order=order))
    return [row["id"] for row in rows]


@pytest.mark.parametrize("order, expected", [
    (None, [3, 1, 4, 2]),  # the `order` field ascending, rows without one last (newest id first)
    ("name", [3, 1, 4, 2]),  # ascending: NULL names last, as Postgres sorts
    ("-name", [2, 4, 1, 3]),  # descending: NULL names first
    ("-last_viewed_at", [3, 1, 4, 2]),  # never viewed last
    ("last_viewed_at", [2, 4, 1, 3]),  # never viewed first
    ("-last_modified_at", [4, 3, 2, 1]),
    ("id", [1, 2, 3, 4]),
])
def test_the_list_is_ordered_with_postgres_null_placement(store, order, expected):
    assert ordered(store, order) == expected


# Page links (DRF's LimitOffsetPagination, PostHog's format_query_params_absolute_url) ----------------------
def test_limit_offset_links_reencode_the_query_sorted_and_drop_a_zero_offset():
    url = "http://h/api/projects/1/insights/?search=x&limit=2&offset=2"
    following, previous = limit_offset_links(url, limit=2, offset=2, count=10)
    assert following == "http://h/api/projects/1/insights/?limit=2&offset=4&search=x"
    assert previous == "http://h/api/projects/1/insights/?limit=2&search=x"


def test_limit_offset_links_end_with_the_last_page_and_start_with_the_first():
    assert limit_offset_links("http://h/x/?limit=5", limit=5, offset=0, count=5) == (None, None)
    _, previous = limit_offset_links("http://h/x/?offset=7&limit=5", limit=5, offset=7, count=9)
    assert previous == "http://h/x/?limit=5&offset=2"


def test_stats_links_are_rewritten_in_place_or_appended():
    url = "http://h/api/element/stats/?paginate_response=true&limit=1&offset=0"
    assert replaced_in_place(url, offset=1) == "http://h/api/element/stats/?paginate_response=true&limit=1&offset=1"
    assert replaced_in_place("http://h/x/", offset=3) == "http://h/x/?offset=3"
    assert replaced_in_place("http://h/x/?a=1", offset=3) == "http://h/x/?a=1&offset=3"


def test_activity_links_count_pages_from_one():
    assert page_links("http://h/a/?page=1&limit=2", page=1, limit=2, has_next=True) == ("http://h/a/?page=2&limit=2", None)
    assert page_links("http://h/a/", page=2, limit=10, has_next=False) == (None, "http://h/a/?page=1&limit=10")


# The mock's throttle (DRF's SimpleRateThrottle, fact sheet §7.3) --------------------------------------------
class _Principal:
    via_key = True

    class key:  # noqa: N801  (shaped like a PersonalAPIKey)
        id = "k"


def test_the_throttle_waits_for_the_oldest_request_to_leave_the_window():
    clock = FrozenClock()
    throttle = Throttle(clock, TEXTS)
    retrieve = SPEC.operation("insights_retrieve")
    burst = next(limit.rate for limit in retrieve.rate_limits if limit.per == "minute")
    for _ in range(burst):
        throttle.check(retrieve, _Principal)
    clock.advance(seconds=20)
    with pytest.raises(APIError) as refused:
        throttle.check(retrieve, _Principal)
    assert refused.value.status == TEXTS["throttled"].status
    assert refused.value.detail == TEXTS["throttled"].fill(wait=40)
    assert refused.value.headers == {"Retry-After": "40"}
    clock.advance(seconds=40)
    throttle.check(retrieve, _Principal)  # the window has moved on


def test_the_throttle_counts_per_class_so_elements_are_not_held_back_by_insights():
    clock = FrozenClock()
    throttle = Throttle(clock, TEXTS)
    retrieve, elements = SPEC.operation("insights_retrieve"), SPEC.operation("elements_list")
    for _ in range(next(limit.rate for limit in retrieve.rate_limits if limit.per == "minute")):
        throttle.check(retrieve, _Principal)
    throttle.check(elements, _Principal)


def test_insights_by_ids_are_each_read_once_and_only_from_the_project(store):
    with store.transaction():
        assert sorted(row["id"] for row in store.insights.by_ids_in_project(1, [3, 1, 3, 99])) == [1, 3]
        assert store.insights.by_ids_in_project(2, [1, 3]) == []


def test_an_update_sets_only_the_columns_whose_value_changes(store):
    statements: list[str] = []
    store.db.connection.set_trace_callback(statements.append)
    with store.transaction(write=True):
        current = store.insights.by_ids_in_project(1, [1])[0]
        store.insights.update(1, {"name": current["name"], "saved": bool(current["saved"]), "favorited": True}, current=current)
    store.db.connection.set_trace_callback(None)
    updates = {s for s in statements if s.startswith("UPDATE insights")}  # (traced again for each trigger it fires)
    assert updates == {'UPDATE insights SET "favorited" = 1 WHERE id = 1'}  # the same name: its search index is left alone
