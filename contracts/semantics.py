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
from dataclasses import dataclass, field
from typing import Any, Iterator

from hypothesis import HealthCheck, Phase, seed as hypothesis_seed, settings, strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from contracts.http import Client, Exchange
from contracts.pacing import Pacer
from contracts.report import CURL_MARK, SuiteResult, failure_from
from contracts.safety import RunRecord
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
    # When each insight was last viewed, counted in requests: ids of one request share a moment,
    # so their order among themselves is not defined (PostHog upserts them with one timestamp).
    viewed_at: dict[int, int] = field(default_factory=dict)
    moments: Iterator[int] = field(default_factory=itertools.count)

    def view(self, insight_ids: list[int]) -> None:
        moment = next(self.moments)
        for insight_id in insight_ids:
            self.viewed_at[insight_id] = moment

    def live(self) -> list[ModelInsight]:
        return [i for i in self.insights.values() if not i.deleted]

    def last_viewed_allows(self, answer: list[int], n: int) -> bool:
        """Whether `answer` can be the newest-first list of the last `n` live viewed insights."""
        live = sorted((self.viewed_at[i], i) for i in self.viewed_at if not self.insights[i].deleted)[::-1]
        wanted = min(n, len(live))
        head = answer[:wanted]
        if len(head) < wanted or any(i not in self.viewed_at or self.insights[i].deleted for i in head):
            return False
        moments = [self.viewed_at[i] for i in head]
        if moments != sorted(moments, reverse=True):
            return False
        cutoff = moments[-1] if moments else None
        return all(i in head for moment, i in live if cutoff is not None and moment > cutoff)


def hypothesis_phases(shrink: bool) -> list[Phase]:
    """Shrinking makes the reported failure minimal but replays it many times; it can be turned off."""
    return [p for p in Phase if shrink or p is not Phase.shrink]


class ContractBroken(AssertionError):
    """The target disagreed with the model; the message carries a curl line of the request."""


def run(target: Target, *, seed: int, examples: int, steps: int = 12, shrink: bool = True,
        pacer: Pacer | None = None, record: RunRecord | None = None) -> SuiteResult:
    result = SuiteResult("semantics")
    started = time.monotonic()
    client = Client(target, pacer=pacer)
    record = record or RunRecord()
    key = target.broadest_key()
    machine = hypothesis_seed(seed)(_machine(target, client, key, result, record))
    run_settings = settings(
        max_examples=examples, stateful_step_count=steps, deadline=None, database=None,
        suppress_health_check=list(HealthCheck), phases=hypothesis_phases(shrink),
    )
    try:
        run_state_machine_as_test(machine, settings=run_settings)
    except ContractBroken as broken:
        result.fail(failure_from("semantics", "model disagreement", str(broken), seed))
    finally:
        client.close()
    result.notes += filter(None, [client.throttling_note()])
    result.duration = time.monotonic() - started
    return result


def _machine(target: Target, client: Client, key: Key, result: SuiteResult, record: RunRecord) -> type:
    project = target.project_id
    base = f"/api/projects/{project}/insights"
    runs = itertools.count(1)

    class InsightsMachine(RuleBasedStateMachine):
        insights = Bundle("insights")

        def __init__(self) -> None:
            super().__init__()
            self.model = Model()
            self.tag = f"{record.tag}-{next(runs)}"  # this example's insights; all carry record.tag too
            self.keep = {self.tag, record.tag}
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
                raise ContractBroken(f"{step}: {message} (got {exchange.response.status_code} {body!r}){CURL_MARK}{exchange.curl()}")

        # Rules ------------------------------------------------------------------------------------
        @rule(target=insights, tags=st.sets(st.sampled_from(TAGS), max_size=2))
        def create(self, tags: set[str]) -> int:
            name = record.name(f"{self.tag} #{next(self.names)}")
            exchange = self.call("create", "POST", f"{base}/", body={"name": name, "query": QUERY, "tags": sorted(tags | self.keep)})
            self.expect("create", exchange, exchange.response.status_code == 201, "creating an insight answers 201")
            insight_id = exchange.response.json()["id"]
            record.insights.add(insight_id)
            self.model.insights[insight_id] = ModelInsight(insight_id, name, tags | self.keep)
            self.model.view([insight_id])  # creating records a view for the creator
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
            exchange = self.call("retag", "PATCH", f"{base}/{insight}/", body={"tags": sorted(wanted | self.keep)})
            if modelled.deleted:
                self.expect("retag", exchange, exchange.response.status_code == 404, "a soft-deleted insight answers 404")
            else:
                self.expect("retag", exchange, exchange.response.status_code == 200, "PATCH tags answers 200")
                modelled.tags = tags | self.keep
            self.verify("retag", insight)

        bulk_args = dict(chosen=st.lists(insights, min_size=1, max_size=3, unique=True),
                         tags=st.sets(st.sampled_from(TAGS), min_size=1, max_size=2))

        @precondition(lambda self: target.session_cookie is not None)
        @rule(**bulk_args)
        def bulk_add_tags(self, chosen: list[int], tags: set[str]) -> None:
            self.bulk_tags(chosen, "add", tags)

        @precondition(lambda self: target.session_cookie is not None)
        @rule(**bulk_args)
        def bulk_remove_tags(self, chosen: list[int], tags: set[str]) -> None:
            self.bulk_tags(chosen, "remove", tags)

        @precondition(lambda self: target.session_cookie is not None)
        @rule(**bulk_args)
        def bulk_set_tags(self, chosen: list[int], tags: set[str]) -> None:
            self.bulk_tags(chosen, "set", tags)

        def bulk_tags(self, chosen: list[int], action: str, tags: set[str]) -> None:
            """bulk_update_tags has set semantics; soft-deleted insights are skipped."""
            sent = tags | (self.keep if action == "set" else set())
            exchange = self.call(f"bulk {action} tags", "POST", f"{base}/bulk_update_tags/", session=True,
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
            self.model.view([i for i in chosen if not self.model.insights[i].deleted])

        @precondition(lambda self: self.model.insights)
        @rule(limit=st.integers(min_value=1, max_value=4))
        def list_pages_of(self, limit: int) -> None:
            self.list_pages(limit)

        @invariant()
        def listed_as_modelled(self) -> None:
            """After every step, two by two: the pages hold exactly the run's live insights."""
            if self.model.insights:
                self.list_pages(2, count=False)

        def list_pages(self, limit: int, count: bool = True) -> None:
            """Walking `next` covers every live insight of the run exactly once."""
            seen: list[int] = []
            exchange = self.call("list", "GET", f"{base}/", params={"tags": f'["{self.tag}"]', "limit": limit}, count=count)
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
                exchange = self.call("list", "GET", page["next"], count=count)
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
                elif modelled.id in self.model.viewed_at and len(results) < 100:
                    self.expect("trending", exchange, modelled.id in listed, f"viewed insight {modelled.id} is missing")

        @precondition(lambda self: target.session_cookie is not None and self.model.insights)
        @rule()
        def my_last_viewed(self) -> None:
            exchange = self.call("my_last_viewed", "GET", f"{base}/my_last_viewed/", session=True)
            self.expect("my_last_viewed", exchange, exchange.response.status_code == 200, "my_last_viewed answers 200")
            ids = [item["id"] for item in exchange.response.json()]
            self.expect("my_last_viewed", exchange, len(ids) <= 5 and self.model.last_viewed_allows(ids, 5),
                        f"{ids} is not the newest-first list of the run's last viewed live insights {self.model.viewed_at}")

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

        def teardown(self) -> None:
            """Leave nothing live: every insight of this run is soft-deleted."""
            for modelled in self.model.live():
                client.request("PATCH", f"{base}/{modelled.id}/", key=key, body={"deleted": True})

    return InsightsMachine


def _desc(timestamp: str) -> tuple:
    """Sort key that orders ISO timestamps newest first under ascending sort."""
    return tuple(-ord(c) for c in timestamp)
