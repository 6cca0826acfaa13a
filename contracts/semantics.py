"""Semantics: a model of the run's own insights, and the target checked against it after each step.

Every insight the machine creates carries a tag of this run, so lists can be compared exactly
even in a project full of other insights, and every one is soft-deleted when the run ends.
What is checked: DELETE answers 405 with an empty body and changes nothing; `viewed` answers 201
whatever ids it drops; deleted insights vanish from retrieve, list and trending; my_last_viewed
and trending follow the views; tags have set semantics; pagination covers every item once.
"""

from __future__ import annotations

import itertools
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, seed as hypothesis_seed, settings, strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from contracts.http import Client, Exchange
from contracts.report import Failure, SuiteResult
from contracts.target import Key, Target

TAGS = ["alpha", "beta", "gamma", "delta"]
FOREIGN_IDS = [2**62, 999_999_999]
QUERY = {"kind": "InsightVizNode", "source": {"kind": "TrendsQuery", "series": [
    {"kind": "EventsNode", "event": "$pageview", "name": "$pageview", "math": "total"}]}}


@dataclass
class ModelInsight:
    id: int
    name: str
    tags: set[str]
    deleted: bool = False


@dataclass
class Model:
    insights: dict[int, ModelInsight] = field(default_factory=dict)
    viewed: list[int] = field(default_factory=list)  # oldest first, each id once

    def view(self, insight_id: int) -> None:
        if insight_id in self.viewed:
            self.viewed.remove(insight_id)
        self.viewed.append(insight_id)

    def live(self) -> list[ModelInsight]:
        return [i for i in self.insights.values() if not i.deleted]

    def last_viewed(self, n: int) -> list[int]:
        return [i for i in reversed(self.viewed) if not self.insights[i].deleted][:n]


class ContractBroken(AssertionError):
    """The target disagreed with the model; the message carries a curl line of the request."""


def run(target: Target, *, seed: int, examples: int, steps: int = 12) -> SuiteResult:
    result = SuiteResult("semantics")
    started = time.monotonic()
    client = Client(target)
    key = target.broadest_key()
    machine = hypothesis_seed(seed)(_machine(target, client, key, result))
    run_settings = settings(
        max_examples=examples, stateful_step_count=steps, deadline=None, database=None,
        suppress_health_check=list(HealthCheck),
    )
    try:
        run_state_machine_as_test(machine, settings=run_settings)
    except ContractBroken as broken:
        text, _, curl = str(broken).partition("\n@@curl ")
        result.fail(Failure("semantics", text.split(":", 1)[0], "model disagreement", text, curl=curl or None, seed=seed))
    finally:
        client.close()
    if client.throttled:
        result.notes.append(f"{client.throttled} throttled answers (429), waited {client.waited:.0f} s in all")
    result.duration = time.monotonic() - started
    return result


def _machine(target: Target, client: Client, key: Key, result: SuiteResult) -> type:
    project = target.project_id
    base = f"/api/projects/{project}/insights"
    runs = itertools.count(1)
    run_id = uuid.uuid4().hex[:8]

    class InsightsMachine(RuleBasedStateMachine):
        insights = Bundle("insights")

        def __init__(self) -> None:
            super().__init__()
            self.model = Model()
            self.tag = f"contracts-{run_id}-{next(runs)}"
            self.names = itertools.count(1)

        # Requests ---------------------------------------------------------------------------------
        def call(self, step: str, method: str, path: str, *, session: bool = False, count: bool = True, **kwargs: Any) -> Exchange:
            exchange = client.request(method, path, key=None if session else key, session=session, **kwargs)
            if count:
                result.count(step)
            return exchange

        def expect(self, step: str, exchange: Exchange, condition: bool, message: str) -> None:
            if not condition:
                body = exchange.response.text[:300]
                raise ContractBroken(f"{step}: {message} (got {exchange.response.status_code} {body!r})\n@@curl {exchange.curl()}")

        # Rules ------------------------------------------------------------------------------------
        @rule(target=insights, tags=st.sets(st.sampled_from(TAGS), max_size=2))
        def create(self, tags: set[str]) -> int:
            name = f"posthog-contracts {self.tag} #{next(self.names)}"
            exchange = self.call("create", "POST", f"{base}/", body={"name": name, "query": QUERY, "tags": sorted(tags | {self.tag})})
            self.expect("create", exchange, exchange.response.status_code == 201, "creating an insight answers 201")
            insight_id = exchange.response.json()["id"]
            self.model.insights[insight_id] = ModelInsight(insight_id, name, tags | {self.tag})
            self.model.view(insight_id)  # creating records a view for the creator
            self.verify("create", insight_id)
            return insight_id

        @rule(insight=insights)
        def rename(self, insight: int) -> None:
            modelled = self.model.insights[insight]
            name = f"{modelled.name.split(' renamed')[0]} renamed {next(self.names)}"
            exchange = self.call("rename", "PATCH", f"{base}/{insight}/", body={"name": name})
            if modelled.deleted:
                self.expect("rename", exchange, exchange.response.status_code == 404, "a soft-deleted insight answers 404")
            else:
                self.expect("rename", exchange, exchange.response.status_code == 200, "PATCH answers 200")
                modelled.name = name
            self.verify("rename", insight)

        @rule(insight=insights)
        def soft_delete(self, insight: int) -> None:
            modelled = self.model.insights[insight]
            exchange = self.call("soft delete", "PATCH", f"{base}/{insight}/", body={"deleted": True})
            expected = 404 if modelled.deleted else 200
            self.expect("soft delete", exchange, exchange.response.status_code == expected, f"PATCH deleted=true answers {expected}")
            modelled.deleted = True
            self.verify("soft delete", insight)

        @rule(insight=insights)
        def restore(self, insight: int) -> None:
            exchange = self.call("restore", "PATCH", f"{base}/{insight}/", body={"deleted": False})
            self.expect("restore", exchange, exchange.response.status_code == 200, "PATCH deleted=false restores (200)")
            self.model.insights[insight].deleted = False
            self.verify("restore", insight)

        @rule(insight=insights)
        def hard_delete(self, insight: int) -> None:
            exchange = self.call("hard delete", "DELETE", f"{base}/{insight}/")
            self.expect("hard delete", exchange, exchange.response.status_code == 405, "DELETE answers 405")
            self.expect("hard delete", exchange, exchange.response.content == b"", "the 405 has an empty body")
            self.verify("hard delete", insight)  # ...and changed nothing

        @rule(insight=insights, tags=st.sets(st.sampled_from(TAGS), max_size=3))
        def retag(self, insight: int, tags: set[str]) -> None:
            modelled = self.model.insights[insight]
            wanted = {t.upper() if i % 2 else f"  {t} " for i, t in enumerate(sorted(tags))}  # normalised by the target
            exchange = self.call("retag", "PATCH", f"{base}/{insight}/", body={"tags": sorted(wanted | {self.tag})})
            if modelled.deleted:
                self.expect("retag", exchange, exchange.response.status_code == 404, "a soft-deleted insight answers 404")
            else:
                self.expect("retag", exchange, exchange.response.status_code == 200, "PATCH tags answers 200")
                modelled.tags = tags | {self.tag}
            self.verify("retag", insight)

        @precondition(lambda self: target.session_cookie is not None)
        @rule(chosen=st.lists(insights, min_size=1, max_size=3, unique=True), action=st.sampled_from(["add", "remove", "set"]),
              tags=st.sets(st.sampled_from(TAGS), min_size=1, max_size=2))
        def bulk_tags(self, chosen: list[int], action: str, tags: set[str]) -> None:
            sent = tags | ({self.tag} if action == "set" else set())
            exchange = self.call("bulk tags", "POST", f"{base}/bulk_update_tags/", session=True,
                                 body={"ids": chosen, "action": action, "tags": sorted(sent)})
            self.expect("bulk tags", exchange, exchange.response.status_code == 200, "bulk_update_tags answers 200")
            updated = {u["id"]: set(u["tags"]) for u in exchange.response.json()["updated"]}
            for insight in chosen:
                modelled = self.model.insights[insight]
                if modelled.deleted:
                    self.expect("bulk tags", exchange, insight not in updated, f"deleted insight {insight} is skipped")
                    continue
                modelled.tags = {"add": modelled.tags | sent, "remove": modelled.tags - sent, "set": set(sent)}[action]
                self.expect("bulk tags", exchange, updated.get(insight) == modelled.tags,
                            f"{action} {sorted(sent)} leaves insight {insight} with {sorted(modelled.tags)}")
                self.verify("bulk tags", insight)

        @rule(chosen=st.lists(insights, max_size=3), foreign=st.lists(st.sampled_from(FOREIGN_IDS), max_size=2))
        def view(self, chosen: list[int], foreign: list[int]) -> None:
            ids = chosen + foreign
            if not ids:
                return
            exchange = self.call("viewed", "POST", f"{base}/viewed/", body={"insight_ids": ids})
            self.expect("viewed", exchange, exchange.response.status_code == 201, "viewed answers 201 whatever it drops")
            self.expect("viewed", exchange, exchange.response.content == b"", "viewed answers an empty body")
            for insight in chosen:
                if not self.model.insights[insight].deleted:
                    self.model.view(insight)

        @precondition(lambda self: self.model.insights)
        @rule(limit=st.integers(min_value=1, max_value=4))
        def list_pages(self, limit: int) -> None:
            """Walking `next` covers every live insight of the run exactly once."""
            seen: list[int] = []
            exchange = self.call("list", "GET", f"{base}/", params={"tags": f'["{self.tag}"]', "limit": limit})
            while True:
                self.expect("list", exchange, exchange.response.status_code == 200, "listing answers 200")
                page = exchange.response.json()
                self.expect("list", exchange, page["count"] == len(self.model.live()), f"count is {len(self.model.live())}")
                for item in page["results"]:
                    modelled = self.model.insights.get(item["id"])
                    self.expect("list", exchange, modelled is not None and not modelled.deleted, f"insight {item['id']} should not be listed")
                    self.expect("list", exchange, set(item["tags"]) == modelled.tags and item["name"] == modelled.name,
                                f"insight {item['id']} is listed as {item['name']!r} {item['tags']}")
                seen += [item["id"] for item in page["results"]]
                if not page["next"] or len(seen) > 200:
                    break
                exchange = self.call("list", "GET", page["next"])
            self.expect("list", exchange, sorted(seen) == sorted(i.id for i in self.model.live()),
                        f"pages held {sorted(seen)}, the run's live insights are {sorted(i.id for i in self.model.live())}")

        @precondition(lambda self: self.model.insights)
        @rule()
        def trending(self) -> None:
            exchange = self.call("trending", "GET", f"{base}/trending/", params={"days": 1, "limit": 100})
            self.expect("trending", exchange, exchange.response.status_code == 200, "trending answers 200")
            page = exchange.response.json()
            results = page["results"]
            self.expect("trending", exchange, page["next"] is None and page["previous"] is None, "next/previous are null")
            ranks = [(-r["view_count"], _desc(r["last_modified_at"])) for r in results]
            self.expect("trending", exchange, ranks == sorted(ranks), "ordered by view_count, then last_modified_at, descending")
            listed = {r["id"] for r in results}
            for modelled in self.model.insights.values():
                if modelled.deleted:
                    self.expect("trending", exchange, modelled.id not in listed, f"deleted insight {modelled.id} is trending")
                elif modelled.id in self.model.viewed and len(results) < 100:
                    self.expect("trending", exchange, modelled.id in listed, f"viewed insight {modelled.id} is missing")

        @precondition(lambda self: target.session_cookie is not None and self.model.insights)
        @rule()
        def my_last_viewed(self) -> None:
            exchange = self.call("my_last_viewed", "GET", f"{base}/my_last_viewed/", session=True)
            self.expect("my_last_viewed", exchange, exchange.response.status_code == 200, "my_last_viewed answers 200")
            ids = [item["id"] for item in exchange.response.json()]
            expected = self.model.last_viewed(5)
            self.expect("my_last_viewed", exchange, len(ids) <= 5 and ids[:len(expected)] == expected,
                        f"the last viewed (newest first) should start with {expected}, got {ids}")

        # Checks after each step ---------------------------------------------------------------------
        def verify(self, step: str, insight: int) -> None:
            modelled = self.model.insights[insight]
            exchange = self.call(step, "GET", f"{base}/{insight}/", count=False)
            if modelled.deleted:
                self.expect(step, exchange, exchange.response.status_code == 404, f"soft-deleted insight {insight} must answer 404")
                return
            self.expect(step, exchange, exchange.response.status_code == 200, f"insight {insight} must be retrievable")
            body = exchange.response.json()
            self.expect(step, exchange, body["name"] == modelled.name and set(body["tags"]) == modelled.tags and body["deleted"] is False,
                        f"insight {insight} should be {modelled.name!r} with tags {sorted(modelled.tags)}")

        @invariant()
        def no_duplicate_views(self) -> None:
            assert len(self.model.viewed) == len(set(self.model.viewed))

        def teardown(self) -> None:
            """Leave nothing live: every insight of this run is soft-deleted."""
            for modelled in self.model.live():
                client.request("PATCH", f"{base}/{modelled.id}/", key=key, body={"deleted": True})

    return InsightsMachine


def _desc(timestamp: str) -> tuple:
    """Sort key that orders ISO timestamps newest first under ascending sort."""
    return tuple(-ord(c) for c in timestamp)
