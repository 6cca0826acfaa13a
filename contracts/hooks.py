"""Keeping generated positive bodies inside PostHog's rules that JSON Schema cannot state.

A schema-valid body may still break two of them, and PostHog (the mock too) refuses it with a
400 by design: that is no failure of positive-data acceptance, so bodies are kept inside:
- an insight's `dashboards` must name dashboards that exist (text `dashboard_not_found`): sent
  as `[]`;
- bulk_update_tags refuses more changes (ids × distinct normalised tags) than its body schema's
  `x-max-changes` (text `too_many_tag_changes`): tags are dropped until the request is within it.
Negative bodies too: schemathesis judges a case again as it is sent, and a mutation it meant to
be invalid may be valid after all (`581.0` is an integer in JSON Schema), making the case
positive; its dashboards must then exist like any other's. Keeping a body inside these rules
never makes valid data invalid, so a case that stays negative stays so for its own mutation.
"""

from __future__ import annotations

from typing import Any

from contracts import specs

WRITES_WITH_DASHBOARDS = {"insights_create", "insights_update", "insights_partial_update"}
BULK_TAGS = "insights_bulk_update_tags_create"


def within_posthog_rules(context: Any, case: Any) -> Any:
    """A `map_case` hook."""
    if not isinstance(case.body, dict):
        return case
    spec = specs.of_case(case)
    operation = spec.operation(case.operation.definition.raw["operationId"])
    if operation.base_id in WRITES_WITH_DASHBOARDS and isinstance(case.body.get("dashboards"), list) and case.body["dashboards"]:
        case.body = {**case.body, "dashboards": []}
    if operation.base_id == BULK_TAGS:
        case.body = within_tag_change_limit(case.body, spec.resolve(operation.body_schema)["x-max-changes"])
    return case


def within_tag_change_limit(body: dict[str, Any], limit: int) -> dict[str, Any]:
    ids, tags = body.get("ids"), body.get("tags")
    if not isinstance(ids, list) or not isinstance(tags, list):
        return body
    tags = list(tags)
    while tags and len(ids) * len({t.strip().lower() for t in tags if isinstance(t, str) and t.strip()}) > limit:
        tags.pop()
    return {**body, "tags": tags}
