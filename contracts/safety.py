"""Safety on real deployments: write only to what this run created, and leave none of it live.

- Every insight the run creates is named with the run's prefix and tagged with its tag, and
  remembered; at the end (also after a failure or Ctrl-C) every one still live is soft-deleted.
- Writes go to the target's project only: a key may reach other projects (`@current` may be one),
  and what the run wrote there would be neither expected nor cleaned up.
- `read_only`: no request with a write method is sent at all.
- `own_objects_only` (the default against anything but the mock): ids in write requests are
  rewritten to insights this run created (or to an id that cannot exist), and the writes that
  cannot be aimed are left out: element bodies carry no id, so the run could neither aim them
  nor clean them up, and bulk_set_test_account_filter changes every insight of the project.
  (Against the toolkit's mock the run restores a snapshot of the state when it ends instead.)
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from schemathesis.generation import GenerationMode

from contracts.http import Client
from contracts.target import Key
from posthog_spec import Operation, Spec, canonical_id, default_spec

WRITE_METHODS = ["POST", "PUT", "PATCH", "DELETE"]
# Writes no run can keep to its own objects.
UNAIMABLE_WRITES = ["elements_create", "elements_update", "elements_partial_update", "elements_destroy",
                    "insights_bulk_set_test_account_filter_create"]
NO_SUCH_INSIGHT = 999_999_999_999  # an id no insight has: aimed at, nothing can change
ID_LISTS = ("ids", "insight_ids")


@dataclass
class RunRecord:
    """What this run made, and how to recognise it."""

    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    insights: set[int] = field(default_factory=set)

    @property
    def tag(self) -> str:
        return f"posthog-contracts-{self.run_id}"

    @property
    def prefix(self) -> str:
        return f"[posthog-contracts {self.run_id}]"

    def name(self, name: Any) -> str:
        return f"{self.prefix} {name if isinstance(name, str) else ''}"[:400]


@dataclass
class Safety:
    read_only: bool = False
    own_objects_only: bool = False
    record: RunRecord = field(default_factory=RunRecord)
    project_id: str | None = None  # the target's project, where every write is sent
    spec: Spec = field(default_factory=default_spec, repr=False)

    def allows(self, operation: Operation) -> bool:
        """Whether conformance may call this operation at all."""
        if self.read_only:
            return not operation.is_write
        return not (self.own_objects_only and operation.base_id in UNAIMABLE_WRITES)

    def conformance_operations(self) -> list[dict[str, Any]]:
        """schemathesis `[[operations]]` entries that keep conformance inside the rules."""
        entries: list[dict[str, Any]] = []
        if self.read_only:
            entries.append({"include-method": WRITE_METHODS, "enabled": False})
        elif self.own_objects_only:
            entries.append({"include-operation-id": self.spec.under_both_prefixes(UNAIMABLE_WRITES), "enabled": False})
        return entries

    def conformance_phases(self) -> dict[str, Any]:
        """In read-only mode no undeclared method is tried either (they include write methods)."""
        return {"coverage": {"unexpected-methods": []}} if self.read_only else {}

    def aim_case(self, context: Any, case: Any) -> Any:
        """A `map_case` hook: name what the run creates, and aim writes at what it created."""
        operation_id = canonical_id(case.operation.definition.raw.get("operationId", ""))
        positive = getattr(getattr(case.meta, "generation", None), "mode", None) == GenerationMode.POSITIVE
        if operation_id == "insights_create" and positive and isinstance(case.body, dict):
            tags = [t for t in case.body.get("tags", []) if isinstance(t, str)][:99]
            case.body = {**case.body, "name": self.record.name(case.body.get("name")), "tags": [*tags, self.record.tag]}
        if case.method.upper() not in WRITE_METHODS:
            return case
        self._into_target_project(case)
        if not self.own_objects_only:
            return case
        if positive and isinstance(case.path_parameters, dict) and "id" in case.path_parameters:
            case.path_parameters = {**case.path_parameters, "id": str(self._own_insight())}
        if positive and isinstance(case.body, dict):
            for name in ID_LISTS:
                if isinstance(case.body.get(name), list) and case.body[name]:
                    case.body = {**case.body, name: [self._own_insight() for _ in case.body[name]]}
        return case

    def remember_created(self, context: Any, case: Any, response: Any) -> None:
        """An `after_call` hook: keep the id of every insight the run created."""
        operation = self.spec.operation(case.operation.definition.raw["operationId"])
        if operation.base_id == "insights_create" and response.status_code == operation.success_status():
            try:
                self.record.insights.add(int(response.json()["id"]))
            except (ValueError, KeyError, TypeError):
                pass

    def _into_target_project(self, case: Any) -> None:
        """Point a write at the target's project, unless the project parameter is what a negative
        case made invalid (then the case must stay as generated to be refused).

        The other path values are written as the text they travel as. A stateful step fills `id`
        from a response body's number, and schemathesis re-checks a path a hook has touched: the
        number against the spec's string schema made a valid request "negative", and the server
        that rightly accepted it was reported for accepting invalid data.

        schemathesis keeps path values percent-encoded, as they travel (`@current` is `%40current`):
        the project is judged decoded. Judged as sent, `@current` failed the pattern, so the write
        went to the key's current project instead of the target's; and once `id` was aimed at an
        insight of the run, schemathesis re-checked the encoded `%40current`, called the valid
        request negative, and reported the server that accepted it.
        """
        operation = self.spec.operation(case.operation.definition.raw["operationId"])
        name = operation.project_param
        if self.project_id is None or name is None or not isinstance(case.path_parameters, dict):
            return
        value = case.path_parameters.get(name)
        pattern = operation.parameter(name, "path").schema.get("pattern")
        if isinstance(value, str) and (pattern is None or re.search(pattern, unquote(value))):
            case.path_parameters = {**{key: _as_sent(v) for key, v in case.path_parameters.items()}, name: self.project_id}

    def clean_up(self, client: Client, key: Key) -> int:
        """Soft-delete every live insight of this run (remembered, or found by its tag); how many."""
        listing_op, update_op = self.spec.operation("insights_list"), self.spec.operation("insights_partial_update")
        found = set(self.record.insights)
        listing = client.request(listing_op.method, listing_op.path_for(project_id=self.project_id), key=key,
                                 params={"tags": f'["{self.record.tag}"]', "limit": 1000})
        if listing.response.status_code == listing_op.success_status():
            found |= {item["id"] for item in listing.response.json().get("results", [])}
        deleted = 0
        for insight_id in sorted(found):
            exchange = client.request(update_op.method, update_op.path_for(project_id=self.project_id, id=insight_id),
                                      key=key, body={"deleted": True})
            deleted += exchange.response.status_code == update_op.success_status()
        return deleted

    def _own_insight(self) -> int:
        return min(self.record.insights) if self.record.insights else NO_SUCH_INSIGHT


def _as_sent(value: Any) -> Any:
    """A path value as it goes over the wire: a number as its digits, anything else untouched."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value
