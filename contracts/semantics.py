"""Semantics: a model of the run's own insights, and the target checked against it after each step.

Every insight the machine creates carries a tag of this run, so lists can be compared exactly
even in a project full of other insights, and every one is soft-deleted when the run ends.
What is checked: DELETE answers 405 with an empty body and changes nothing; `viewed` answers 201
whatever ids it drops; deleted insights vanish from retrieve, list and trending; my_last_viewed
and trending follow the views; tags have set semantics; pagination covers every item once.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterator

from hypothesis import seed as hypothesis_seed, strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from contracts.context import RunContext
from contracts.http import Client, Exchange
from contracts.report import CURL_MARK, SuiteResult, failure_from

TAGS = ["alpha", "beta", "gamma", "delta"]
FOREIGN_IDS = [2**62, 999_999_999]
STEPS = 12  # steps of one example
MAX_WALKED = 200  # insights seen walking a list's pages, beyond which `next` must be going round in circles
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


class ContractBroken(AssertionError):
    """The target disagreed with the model; the message carries a curl line of the request."""


def run(ctx: RunContext) -> SuiteResult:
    if ctx.options.read_only:
        return SuiteResult("semantics", skipped="read-only: the semantic model needs to create and change insights")
    with ctx.suite("semantics") as (result, client):
        machine = hypothesis_seed(ctx.options.seed)(InsightsMachine.bound_to(ctx, client, result))
        try:
            run_state_machine_as_test(machine, settings=ctx.hypothesis_settings(ctx.options.semantic_examples,
                                                                                stateful_step_count=STEPS))
        except ContractBroken as broken:
            result.fail(failure_from("semantics", "model disagreement", str(broken), ctx.options.seed))
        ctx.progress.update("semantics", ctx.options.semantic_examples, ctx.options.semantic_examples, "runs",
                            len(result.failures), final=True)
    return result


def _has_session(machine: "InsightsMachine") -> bool:
    return machine.ctx.target.session_cookie is not None


class InsightsMachine(RuleBasedStateMachine):
    """The run's own insights as a model; each rule changes the target and the model together,
    and the target is read back after it. Run it bound to a run (`bound_to`)."""

    ctx: ClassVar[RunContext]
    client: ClassVar[Client]
    result: ClassVar[SuiteResult]
    examples: ClassVar[Iterator[int]]
    insights = Bundle("insights")

    @classmethod
    def bound_to(cls, ctx: RunContext, client: Client, result: SuiteResult) -> type["InsightsMachine"]:
        """The machine for one run: hypothesis builds a fresh machine from the class for every
        example, so what the run gives it travels on a subclass."""
        return type(cls.__name__, (cls,), {"ctx": ctx, "client": client, "result": result, "examples": itertools.count(1)})

    def __init__(self) -> None:
        super().__init__()
        record = self.ctx.record
        self.model = Model()
        example = next(self.examples)
        self.tag = f"{record.tag}-{example}"  # this example's insights; all carry record.tag too
        self.ctx.progress.update("semantics", min(example, self.ctx.options.semantic_examples),
                                 self.ctx.options.semantic_examples, "runs", len(self.result.failures))
        self.keep = {self.tag, record.tag}
        self.names = itertools.count(1)

    # Requests ---------------------------------------------------------------------------------
    def call(self, step: str, operation_id: str, *, insight: int | None = None, url: str | None = None,
             session: bool = False, count: bool = True, **kwargs: Any) -> Exchange:
        """A request to an operation of the spec (or to `url`, a link the target gave)."""
        operation = self.ctx.spec.operation(operation_id)
        path = url or operation.path_for(project_id=self.ctx.target.project_id, id=insight)
        exchange = self.client.request(operation.method, path, key=None if session else self.ctx.key, session=session, **kwargs)
        if count:
            self.result.count(step)
        return exchange

    def success(self, operation_id: str) -> int:
        return self.ctx.spec.operation(operation_id).success_status()

    @property
    def not_found(self) -> int:
        return self.ctx.spec.texts["not_found"].status

    def expect(self, step: str, exchange: Exchange, condition: bool, message: str) -> None:
        if not condition:
            body = exchange.response.text[:300]
            raise ContractBroken(f"{step}: {message} (got {exchange.response.status_code} {body!r}){CURL_MARK}{exchange.curl()}")

    def expect_status(self, step: str, exchange: Exchange, status: int, message: str) -> None:
        """`message` names the expected status as `{status}`."""
        self.expect(step, exchange, exchange.response.status_code == status, message.format(status=status))

    # Rules ------------------------------------------------------------------------------------
    @rule(target=insights, tags=st.sets(st.sampled_from(TAGS), max_size=2))
    def create(self, tags: set[str]) -> int:
        name = self.ctx.record.name(f"{self.tag} #{next(self.names)}")
        exchange = self.call("create", "insights_create", body={"name": name, "query": QUERY, "tags": sorted(tags | self.keep)})
        self.expect_status("create", exchange, self.success("insights_create"), "creating an insight answers {status}")
        insight_id = exchange.response.json()["id"]
        self.ctx.record.insights.add(insight_id)
        self.model.insights[insight_id] = ModelInsight(insight_id, name, tags | self.keep)
        self.model.view([insight_id])  # creating records a view for the creator
        self.verify("create", insight_id)
        return insight_id

    @rule(insight=insights)
    def rename(self, insight: int) -> None:
        modelled = self.model.insights[insight]
        name = f"{modelled.name.split(' renamed')[0]} renamed {next(self.names)}"
        exchange = self.call("rename", "insights_partial_update", insight=insight, body={"name": name})
        if modelled.deleted:
            self.expect_status("rename", exchange, self.not_found, "a soft-deleted insight answers {status}")
        else:
            self.expect_status("rename", exchange, self.success("insights_partial_update"), "PATCH answers {status}")
            modelled.name = name
        self.verify("rename", insight)

    @rule(insight=insights)
    def soft_delete(self, insight: int) -> None:
        modelled = self.model.insights[insight]
        exchange = self.call("soft delete", "insights_partial_update", insight=insight, body={"deleted": True})
        expected = self.not_found if modelled.deleted else self.success("insights_partial_update")
        self.expect_status("soft delete", exchange, expected, "PATCH deleted=true answers {status}")
        modelled.deleted = True
        self.verify("soft delete", insight)

    @rule(insight=insights)
    def restore(self, insight: int) -> None:
        exchange = self.call("restore", "insights_partial_update", insight=insight, body={"deleted": False})
        self.expect_status("restore", exchange, self.success("insights_partial_update"), "PATCH deleted=false restores ({status})")
        self.model.insights[insight].deleted = False
        self.verify("restore", insight)

    @rule(insight=insights)
    def hard_delete(self, insight: int) -> None:
        exchange = self.call("hard delete", "insights_destroy", insight=insight)
        self.expect_status("hard delete", exchange, self.success("insights_destroy"), "DELETE answers {status}")
        self.expect("hard delete", exchange, exchange.response.content == b"", "the answer to DELETE has an empty body")
        self.verify("hard delete", insight)  # ...and changed nothing

    @rule(insight=insights, tags=st.sets(st.sampled_from(TAGS), max_size=3))
    def retag(self, insight: int, tags: set[str]) -> None:
        modelled = self.model.insights[insight]
        wanted = {t.upper() if i % 2 else f"  {t} " for i, t in enumerate(sorted(tags))}  # normalised by the target
        exchange = self.call("retag", "insights_partial_update", insight=insight, body={"tags": sorted(wanted | self.keep)})
        if modelled.deleted:
            self.expect_status("retag", exchange, self.not_found, "a soft-deleted insight answers {status}")
        else:
            self.expect_status("retag", exchange, self.success("insights_partial_update"), "PATCH tags answers {status}")
            modelled.tags = tags | self.keep
        self.verify("retag", insight)

    bulk_args = dict(chosen=st.lists(insights, min_size=1, max_size=3, unique=True),
                     tags=st.sets(st.sampled_from(TAGS), min_size=1, max_size=2))

    @precondition(_has_session)
    @rule(**bulk_args)
    def bulk_add_tags(self, chosen: list[int], tags: set[str]) -> None:
        self.bulk_tags(chosen, "add", tags)

    @precondition(_has_session)
    @rule(**bulk_args)
    def bulk_remove_tags(self, chosen: list[int], tags: set[str]) -> None:
        self.bulk_tags(chosen, "remove", tags)

    @precondition(_has_session)
    @rule(**bulk_args)
    def bulk_set_tags(self, chosen: list[int], tags: set[str]) -> None:
        self.bulk_tags(chosen, "set", tags)

    def bulk_tags(self, chosen: list[int], action: str, tags: set[str]) -> None:
        """bulk_update_tags has set semantics; soft-deleted insights are skipped."""
        sent = tags | (self.keep if action == "set" else set())
        exchange = self.call(f"bulk {action} tags", "insights_bulk_update_tags_create", session=True,
                             body={"ids": chosen, "action": action, "tags": sorted(sent)})
        self.expect_status("bulk tags", exchange, self.success("insights_bulk_update_tags_create"), "bulk_update_tags answers {status}")
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
        exchange = self.call("viewed", "insights_viewed_create", body={"insight_ids": ids})
        self.expect_status("viewed", exchange, self.success("insights_viewed_create"), "viewed answers {status} whatever it drops")
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
        listed = self.success("insights_list")
        exchange = self.call("list", "insights_list", params={"tags": f'["{self.tag}"]', "limit": limit}, count=count)
        while True:
            self.expect_status("list", exchange, listed, "listing answers {status}")
            page = exchange.response.json()
            self.expect("list", exchange, page["count"] == len(self.model.live()), f"count is {len(self.model.live())}")
            for item in page["results"]:
                modelled = self.model.insights.get(item["id"])
                self.expect("list", exchange, modelled is not None and not modelled.deleted, f"insight {item['id']} should not be listed")
                self.expect("list", exchange, set(item["tags"]) == modelled.tags and item["name"] == modelled.name,
                            f"insight {item['id']} is listed as {item['name']!r} {item['tags']}")
            seen += [item["id"] for item in page["results"]]
            if not page["next"] or len(seen) > MAX_WALKED:
                break
            exchange = self.call("list", "insights_list", url=page["next"], count=count)
        self.expect("list", exchange, sorted(seen) == sorted(i.id for i in self.model.live()),
                    f"pages held {sorted(seen)}, the run's live insights are {sorted(i.id for i in self.model.live())}")

    @precondition(lambda self: self.model.insights)
    @rule()
    def trending(self) -> None:
        exchange = self.call("trending", "insights_trending_retrieve", params={"days": 1, "limit": 100})
        self.expect_status("trending", exchange, self.success("insights_trending_retrieve"), "trending answers {status}")
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

    @precondition(lambda self: _has_session(self) and self.model.insights)
    @rule()
    def my_last_viewed(self) -> None:
        exchange = self.call("my_last_viewed", "insights_my_last_viewed_retrieve", session=True)
        self.expect_status("my_last_viewed", exchange, self.success("insights_my_last_viewed_retrieve"), "my_last_viewed answers {status}")
        ids = [item["id"] for item in exchange.response.json()]
        self.expect("my_last_viewed", exchange, len(ids) <= 5 and self.model.last_viewed_allows(ids, 5),
                    f"{ids} is not the newest-first list of the run's last viewed live insights {self.model.viewed_at}")

    # Checks after each step ---------------------------------------------------------------------
    def verify(self, step: str, insight: int) -> None:
        modelled = self.model.insights[insight]
        exchange = self.call(step, "insights_retrieve", insight=insight, count=False)
        if modelled.deleted:
            self.expect_status(step, exchange, self.not_found, f"soft-deleted insight {insight} must answer {{status}}")
            return
        self.expect_status(step, exchange, self.success("insights_retrieve"), f"insight {insight} must be retrievable ({{status}})")
        body = exchange.response.json()
        self.expect(step, exchange, body["name"] == modelled.name and set(body["tags"]) == modelled.tags and body["deleted"] is False,
                    f"insight {insight} should be {modelled.name!r} with tags {sorted(modelled.tags)}")

    def teardown(self) -> None:
        """Leave nothing live: every insight of this run is soft-deleted."""
        for modelled in self.model.live():
            self.call("teardown", "insights_partial_update", insight=modelled.id, body={"deleted": True}, count=False)


def _desc(timestamp: str) -> tuple:
    """Sort key that orders ISO timestamps newest first under ascending sort."""
    return tuple(-ord(c) for c in timestamp)
