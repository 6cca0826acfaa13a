"""The semantic model's rules on their own: what PostHog's insights list keeps for each filter
(fact sheet §3.1), and what the model cannot know and leaves open."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from contracts.model import Expected, ModelInsight, expected, misordered

T0 = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)
ME, OTHER = 1, 2


def insight(id: int, **fields) -> ModelInsight:
    at = T0 + timedelta(seconds=id)
    return ModelInsight(**{"id": id, "short_id": f"short{id:03d}", "name": f"insight {id}", "kind": "TRENDS", "tags": {"run"},
                           "creator": ME, "created_at": at, "last_modified_at": at, "last_viewed_at": at, **fields})


def kept(query: dict[str, str], *insights: ModelInsight, caller: int | None = ME) -> Expected:
    return expected(query, insights, caller)


def exactly(*ids: int) -> Expected:
    return Expected(frozenset(ids))


def test_favorited_and_user_filter_by_presence_whatever_their_value():
    a, b = insight(1, favorited=True), insight(2, creator=OTHER)
    for value in ("true", "false"):
        assert kept({"favorited": value}, a, b) == exactly(1)
        assert kept({"user": value}, a, b) == exactly(1)
        assert kept({"user": value}, a, b, caller=OTHER) == exactly(2)


def test_soft_deleted_insights_are_never_listed():
    assert kept({}, insight(1, deleted=True), insight(2)) == exactly(2)


def test_tags_keep_insights_with_any_of_them_and_dashboards_those_on_every_one():
    a, b, c = insight(1, tags={"x"}, dashboards=frozenset({1})), insight(2, tags={"y"}, dashboards=frozenset({1, 2})), insight(3)
    assert kept({"tags": json.dumps(["x", "y"])}, a, b, c) == exactly(1, 2)
    assert kept({"dashboards": json.dumps([1, 2])}, a, b, c) == exactly(2)
    assert kept({"tags": "[]", "dashboards": "[]"}, a, b, c) == exactly(1, 2, 3)  # empty lists filter nothing


def test_filters_combine_with_and():
    a, b = insight(1, favorited=True, kind="SQL"), insight(2, favorited=True)
    assert kept({"favorited": "true", "insight": "SQL"}, a, b) == exactly(1)


def test_date_filters_are_strict_so_an_insights_own_instant_leaves_it_out():
    a, b, c = insight(1), insight(2), insight(3)
    bound = b.last_modified_at.isoformat().replace("+00:00", "Z")
    assert kept({"date_from": bound}, a, b, c) == exactly(3)
    assert kept({"date_to": bound}, a, b, c) == exactly(1)
    assert kept({"created_date_from": bound, "created_date_to": bound}, a, b, c) == exactly()
    assert kept({"last_viewed_date_to": bound}, a, insight(4, last_viewed_at=None)) == exactly(1)  # never viewed: no date


def test_search_finds_exact_matches_in_names_descriptions_and_tags_in_any_case():
    a, b, c = insight(1, name="Weekly signups"), insight(2, description="signup funnel"), insight(3, tags={"signup-kpi"})
    d = insight(4, name="revenue")
    assert kept({"search": "SIGNUP"}, a, b, c, d) == exactly(1, 2, 3)
    assert kept({"search": "  "}, a, d) == exactly(1, 4)  # blank is no filter


def test_with_no_exact_match_the_similar_ones_are_left_open():
    a, b = insight(1, name="revenue"), insight(2, name="retention", favorited=True)
    assert kept({"search": "revnue"}, a, b) == Expected(frozenset(), frozenset({1, 2}))
    assert kept({"search": "revnue", "favorited": "true"}, a, b) == Expected(frozenset(), frozenset({2}))


def test_saved_true_may_keep_an_unsaved_insight_on_a_dashboard_which_may_be_listed():
    saved, unsaved, on_dashboard = insight(1), insight(2, saved=False), insight(3, saved=False, dashboards=frozenset({3}))
    assert kept({"saved": "true"}, saved, unsaved, on_dashboard) == Expected(frozenset({1}), frozenset({3}))
    assert kept({"saved": "false"}, saved, unsaved, on_dashboard) == exactly(2, 3)


def test_an_unknown_caller_leaves_the_user_filter_open():
    assert kept({"user": "true"}, insight(1), caller=None) == Expected(frozenset(), frozenset({1}))


def test_created_by_short_id_and_kind_keep_exact_matches():
    a, b = insight(1, kind="FUNNELS"), insight(2, creator=OTHER)
    assert kept({"created_by": json.dumps([OTHER, 99])}, a, b) == exactly(2)
    assert kept({"short_id": "short001"}, a, b) == exactly(1)
    assert kept({"insight": "FUNNELS"}, a, b) == exactly(1)


def test_orders_allow_ties_and_put_nulls_last_ascending_first_descending():
    insights = {1: insight(1, order=2), 2: insight(2, order=None), 3: insight(3, order=2), 4: insight(4, order=-1)}
    listed = lambda *ids: [{"id": i} for i in ids]  # noqa: E731
    assert misordered("order", listed(4, 3, 1, 2), insights) is None
    assert misordered("-order", listed(2, 1, 3, 4), insights) is None
    assert misordered("order", listed(2, 4, 1, 3), insights) == (2, 4)
    assert misordered("-id", listed(4, 3, 2, 1), insights) is None
    assert misordered("-id", listed(1, 2), insights) == (1, 2)


def test_when_every_exact_match_may_be_left_out_the_similar_ones_may_come_instead():
    on_dashboard = insight(1, name="revenue", saved=False, dashboards=frozenset({3}))
    other = insight(2, name="retention")
    assert kept({"search": "revenue", "saved": "true"}, on_dashboard, other) == Expected(frozenset(), frozenset({1, 2}))
