"""Broken variants of the mock, each differing from it in exactly one fault.

The contracts must catch every one (tests/test_contracts_catch_faults.py). A fault is applied
to one freshly built app: handlers are replaced on that server's own handler table, module
functions are patched through a MonkeyPatch that is undone afterwards.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Callable

import pytest

from mockserver import create_app, rendering
from mockserver.analytics import queries
from mockserver.call import Call, Reply
from mockserver.clock import Clock, iso
from mockserver.errors import APIError
from mockserver.handlers import insights as insight_handlers
from mockserver.pipeline import MockServer
from mockserver.representations import insights as insight_representations
from mockserver.settings import Settings
from mockserver.store.insights import ListQuery


@dataclass(frozen=True)
class Fault:
    name: str
    description: str
    apply: Callable[[MockServer, pytest.MonkeyPatch], None]
    suites: tuple[str, ...]
    operations: tuple[str, ...]
    caught_by: tuple[str, ...]  # a failure must mention one of these


def broken_app(fault: Fault, monkeypatch: pytest.MonkeyPatch):
    """A mock (strict mode off: its answers are meant to be wrong) with this one fault. Its memo is
    off, so every list goes through the store's page(), where the list faults are put."""
    app = create_app(Settings(db=":memory:", memo="off"), clock=Clock())
    server = app.state.server
    server.handlers = dict(server.handlers)
    fault.apply(server, monkeypatch)
    return app


def _delete_really_deletes(server: MockServer, mp: pytest.MonkeyPatch) -> None:
    def destroy(call: Call) -> Reply:
        row = insight_handlers.live_insight(call)
        for table in ("insight_tags", "dashboard_tiles", "insight_views"):
            call.store.db.execute(f"DELETE FROM {table} WHERE insight_id = ?", (row["id"],))
        call.store.db.execute("DELETE FROM insights WHERE id = ?", (row["id"],))
        return Reply(empty=True)
    server.handlers["insights_destroy"] = destroy
    _answer_with_status(mp, "insights_destroy", 204)


def _viewed_answers_200(server: MockServer, mp: pytest.MonkeyPatch) -> None:
    _answer_with_status(mp, "insights_viewed_create", 200)


def _answer_with_status(mp: pytest.MonkeyPatch, operation_id: str, status: int) -> None:
    """The operation's successful answers rendered with another status."""
    original = rendering.render

    def render(call: Call, reply: Reply):
        response = original(call, reply)
        if call.operation.base_id == operation_id:
            response.status_code = status
        return response
    mp.setattr(rendering, "render", render)


def _skip_scope_check_for(operation_id: str) -> Callable[[MockServer, pytest.MonkeyPatch], None]:
    def apply(server: MockServer, mp: pytest.MonkeyPatch) -> None:
        original = server.permissions.authorize_operation

        def lax(operation, principal):
            if operation.base_id == operation_id and principal.via_key:
                return None
            return original(operation, principal)
        mp.setattr(server.permissions, "authorize_operation", lax)
    return apply


def _accept_keys_of_other_projects(server: MockServer, mp: pytest.MonkeyPatch) -> None:
    original = server.permissions.authorize_project

    def lax(principal, team, store):
        if principal.via_key and principal.key.scoped_teams:
            return None
        return original(principal, team, store)
    mp.setattr(server.permissions, "authorize_project", lax)


def _next_page_skips_one(server: MockServer, mp: pytest.MonkeyPatch) -> None:
    original = insight_handlers.limit_offset_links
    mp.setattr(insight_handlers, "limit_offset_links",
               lambda url, *, limit, offset, count: original(url, limit=limit, offset=offset + 1, count=count))


def _favorited_as_text(server: MockServer, mp: pytest.MonkeyPatch) -> None:
    original = insight_representations.full

    def full(ctx, rows):
        return [{**item, "favorited": "yes" if item["favorited"] else "no"} for item in original(ctx, rows)]
    mp.setattr(insight_representations, "full", full)


def _error_body_without_type(server: MockServer, mp: pytest.MonkeyPatch) -> None:
    original = APIError.body
    mp.setattr(APIError, "body", lambda self: {k: v for k, v in original(self).items() if k != "type"})


def _list_shows_deleted(server: MockServer, mp: pytest.MonkeyPatch) -> None:
    insights = server.store.insights
    original = insights._where

    def where(q):
        sql, params = original(q)
        return sql.replace("i.deleted = 0", "1 = 1"), params
    mp.setattr(insights, "_where", where)


def _trending_ascending(server: MockServer, mp: pytest.MonkeyPatch) -> None:
    insights = server.store.insights
    original = insights.trending
    mp.setattr(insights, "trending", lambda project_id, since, limit: list(reversed(original(project_id, since, limit))))


def _remove_acts_like_set(server: MockServer, mp: pytest.MonkeyPatch) -> None:
    bulk = server.handlers["insights_bulk_update_tags_create"]

    def handler(call: Call) -> Reply:
        if call.body["action"] == "remove":
            call.body = {**call.body, "action": "set"}
        return bulk(call)
    server.handlers["insights_bulk_update_tags_create"] = handler


# The list's filters (issue 17): each fault changes what one filter keeps. They act on the list
# query the handler built (store.insights.page), or on the rows it found.
def _listing_changed(change: Callable[[ListQuery], ListQuery]) -> Callable[[MockServer, pytest.MonkeyPatch], None]:
    def apply(server: MockServer, mp: pytest.MonkeyPatch) -> None:
        insights = server.store.insights
        original = insights.page
        mp.setattr(insights, "page", lambda q: original(change(q)))
    return apply


def _rows_kept(keep: Callable[[ListQuery, sqlite3.Row], bool], widen: Callable[[ListQuery], ListQuery]
               ) -> Callable[[MockServer, pytest.MonkeyPatch], None]:
    """The list found with `widen`ed filters, then narrowed row by row (one page: the model's lists fit in one)."""
    def apply(server: MockServer, mp: pytest.MonkeyPatch) -> None:
        insights = server.store.insights
        original = insights.page

        def page(q: ListQuery):
            count, rows, types = original(widen(q))
            kept = [row for row in rows if keep(q, row)]
            return count - (len(rows) - len(kept)), kept, types
        mp.setattr(insights, "page", page)
    return apply


def _shifted(value: str | None, days: int) -> str | None:
    return iso(datetime.fromisoformat(value.replace("Z", "+00:00")) + timedelta(days=days)) if value else value


def _on_any_dashboard(q: ListQuery, row: sqlite3.Row) -> bool:
    return not q.on_every_dashboard or bool(set(json.loads(row["dashboards_json"])) & set(q.on_every_dashboard))


def _values_ignore_value(server: MockServer, mp: pytest.MonkeyPatch) -> None:
    values = server.handlers["elements_values_list"]

    def handler(call: Call) -> Reply:
        call.query = {name: value for name, value in call.query.items() if name != "value"}
        return values(call)
    server.handlers["elements_values_list"] = handler


def _element_pages_ignore_offset(server: MockServer, mp: pytest.MonkeyPatch) -> None:
    elements = server.store.elements
    original = elements.page
    mp.setattr(elements, "page", lambda team_id, limit, offset: original(team_id, limit, 0))


def _trend_counts_one_more(server: MockServer, mp: pytest.MonkeyPatch) -> None:
    original = queries.RUNNERS["TrendsQuery"]

    def run(source, context):
        answer = original(source, context)
        for series in answer.results:
            if "aggregated_value" not in series:
                series["count"] += 1
        return answer
    mp.setitem(queries.RUNNERS, "TrendsQuery", run)


def _funnel_steps_reversed(server: MockServer, mp: pytest.MonkeyPatch) -> None:
    original = queries.RUNNERS["FunnelsQuery"]

    def run(source, context):
        results = original(source, context)
        for steps in results if results and isinstance(results[0], list) else [results]:
            for step, count in zip(steps, reversed([step["count"] for step in steps])):
                step["count"] = count
        return results
    mp.setitem(queries.RUNNERS, "FunnelsQuery", run)


def _filter_fault(name: str, description: str, apply: Callable[[MockServer, pytest.MonkeyPatch], None], *words: str) -> Fault:
    return Fault(name, description, apply, ("semantics",), (), words)


FILTER_FAULTS = [
    _filter_fault("favorited_ignored", "the list ignores favorited", _listing_changed(lambda q: replace(q, favorited_only=False)),
                  "favorited="),
    _filter_fault("saved_inverted", "saved=true lists the unsaved insights and saved=false the saved ones",
                  _listing_changed(lambda q: replace(q, saved=None if q.saved is None else not q.saved)), "saved="),
    _filter_fault("tags_first_only", "tags keeps insights with the first listed tag only, not any of them",
                  _listing_changed(lambda q: replace(q, with_any_tag=q.with_any_tag[:1])), "tags="),
    _filter_fault("search_ignored", "the list ignores search", _listing_changed(lambda q: replace(q, search=None)), "search="),
    _filter_fault("created_by_ignored", "the list ignores created_by", _listing_changed(lambda q: replace(q, created_by_ids=[])),
                  "created_by="),
    _filter_fault("user_ignored", "the list ignores user", _listing_changed(lambda q: replace(q, created_by_user_id=None)), "user="),
    _filter_fault("insight_kind_ignored", "the list ignores insight (the kind)", _listing_changed(lambda q: replace(q, kind=None)),
                  "insight="),
    _filter_fault("short_id_ignored", "the list ignores short_id", _listing_changed(lambda q: replace(q, short_id=None)), "short_id="),
    _filter_fault("date_from_a_day_early", "date_from bounds last_modified_at a day early",
                  _listing_changed(lambda q: replace(q, modified_after=_shifted(q.modified_after, -1))), "&date_from="),
    _filter_fault("date_to_a_day_late", "date_to bounds last_modified_at a day late",
                  _listing_changed(lambda q: replace(q, modified_before=_shifted(q.modified_before, 1))), "&date_to="),
    _filter_fault("created_date_from_a_day_late", "created_date_from bounds created_at a day late",
                  _listing_changed(lambda q: replace(q, created_after=_shifted(q.created_after, 1))), "created_date_from="),
    _filter_fault("created_date_to_a_day_early", "created_date_to bounds created_at a day early",
                  _listing_changed(lambda q: replace(q, created_before=_shifted(q.created_before, -1))), "created_date_to="),
    _filter_fault("last_viewed_date_from_a_day_early", "last_viewed_date_from bounds last_viewed_at a day early",
                  _listing_changed(lambda q: replace(q, viewed_after=_shifted(q.viewed_after, -1))), "last_viewed_date_from="),
    _filter_fault("last_viewed_date_to_a_day_late", "last_viewed_date_to bounds last_viewed_at a day late",
                  _listing_changed(lambda q: replace(q, viewed_before=_shifted(q.viewed_before, 1))), "last_viewed_date_to="),
    _filter_fault("dashboards_any", "dashboards keeps insights on any listed dashboard, not on every one",
                  _rows_kept(_on_any_dashboard, lambda q: replace(q, on_every_dashboard=[])), "dashboards="),
    _filter_fault("order_ignored", "the list ignores order", _listing_changed(lambda q: replace(q, order=None)), "order="),
    _filter_fault("element_pages_ignore_offset", "the elements list ignores offset", _element_pages_ignore_offset,
                  "elements the run made", "the pages held"),
    _filter_fault("values_ignore_value", "elements/values ignores value", _values_ignore_value, "value="),
]

FAULTS = [
    Fault("delete_204", "DELETE on an insight answers 204 and really deletes it", _delete_really_deletes,
          ("conformance", "semantics"), ("insights_destroy",), ("delete_is_405", "DELETE answers 405")),
    Fault("viewed_200", "viewed answers 200", _viewed_answers_200,
          ("conformance", "semantics"), ("insights_viewed_create",), ("viewed_is_201", "viewed answers 201")),
    Fault("scope_check_skipped", "PATCH insight skips the scope check", _skip_scope_check_for("insights_partial_update"),
          ("conformance", "scopes"), ("insights_partial_update",), ("API key missing required scope 'insight:write'",)),
    Fault("session_only_open_to_keys", "my_last_viewed accepts personal API keys",
          _skip_scope_check_for("insights_my_last_viewed_retrieve"),
          ("conformance", "scopes"), ("insights_my_last_viewed_retrieve",), ("This action does not support personal API key access",)),
    Fault("other_project_key_accepted", "a key scoped to another project is accepted", _accept_keys_of_other_projects,
          ("scopes",), ("insights_list", "insights_retrieve", "elements_list"), ("does not have access to the requested project",)),
    Fault("pagination_off_by_one", "the list's next link skips one insight", _next_page_skips_one,
          ("semantics",), (), ("pages held", "count is")),
    Fault("field_of_wrong_type", "Insight.favorited is a string", _favorited_as_text,
          ("conformance",), ("insights_retrieve", "insights_list"), ("response_schema_conformance",)),
    Fault("error_body_without_type", "error bodies lack `type`", _error_body_without_type,
          ("conformance",), ("insights_retrieve", "elements_values_list"), ("error_body_shape",)),
    Fault("soft_delete_ignored_by_list", "the list shows soft-deleted insights", _list_shows_deleted,
          ("semantics",), (), ("should not be listed", "count is")),
    Fault("trending_ascending", "trending is ordered ascending", _trending_ascending,
          ("semantics",), (), ("ordered by view_count",)),
    Fault("bulk_remove_is_set", "bulk tag `remove` behaves like `set`", _remove_acts_like_set,
          ("semantics",), (), ("remove [",)),
    Fault("trend_count_not_its_sum", "a trend's count is one more than the sum of its data", _trend_counts_one_more,
          ("semantics",), (), ("is not the sum of its data", "is not its last point")),
    Fault("funnel_steps_grow", "a funnel's step counts come last step first", _funnel_steps_reversed,
          ("semantics",), (), ("step counts",)),
    *FILTER_FAULTS,
]
