"""Semantics: a model of the run's own insights, and the target checked against it after each step.

Every insight the machine creates carries a tag of this run, so lists can be compared exactly
even in a project full of other insights, and every one is soft-deleted when the run ends.
What is checked: DELETE answers 405 with an empty body and changes nothing; `viewed` answers 201
whatever ids it drops; deleted insights vanish from retrieve, list and trending; my_last_viewed
and trending follow the views; tags have set semantics; pagination covers every item once;
`last_modified_at` moves for a new name or description only; and what the list keeps for each
of its filters (favorited, saved, tags, search, created_by, user, insight, short_id, the date
filters, dashboards) and their combinations, and the order it answers in (contracts/model.py
states PostHog's rules, fact sheet §3.1). After every step one filter is checked in turn, with
values taken from the model; a rule checks drawn combinations.

Date filters are checked with instants the target showed for the run's own insights, never the
clock: the bounds are strict, so an insight's own instant leaves it out.

Where the run's key may run queries, the machine also posts insight queries of each kind and
checks their numbers hold together (contracts/results.py): what any events must give.

Insights are made by more than one user where the run can have that: other keys that may write
insights, and against the toolkit's mock a key it mints for another creator of the project. On
the mock (and with --any-objects) insights go on the dashboards the project's insights show; on
a real deployment they stay off everyone's dashboards.

The elements machine checks what the model can know of elements: on the mock, created elements
are listed and pages cover the list once; everywhere, `values` keeps exactly the values that
contain `value`.
"""

from __future__ import annotations

import itertools
import json
from typing import Any, ClassVar, Iterator

from hypothesis import seed as hypothesis_seed, strategies as st
from hypothesis.stateful import (Bundle, MultipleResults, RuleBasedStateMachine, initialize, invariant, multiple, precondition,
                                 rule, run_state_machine_as_test)

from contracts import results
from contracts.context import RunContext
from contracts.http import Client, Exchange
from contracts.model import DATE_FILTERS, ORDERINGS, PRESENCE_FILTERS, Model, ModelInsight, expected, misordered, moment
from contracts.report import CURL_MARK, SuiteResult, failure_from
from contracts.target import Key
from posthog_spec import key_refusal

TAG_WORDS = ["alpha", "beta", "gamma", "delta"]
# Lower-case letters: a name's order is then the same in every collation, and none of them is in
# a run's id (hex) by chance.
WORDS = ["signup", "pageview", "revenue", "retention", "funnel", "weekly", "mobile", "billing", "checkout", "churn"]
FOREIGN_IDS = [2**62, 999_999_999]
NO_SUCH_SHORT_ID = "zZ9zZ9zZ"
NO_SUCH_USER = 2**31 - 1
STEPS = 12  # steps of one example
INITIAL_INSIGHTS = 3  # made before the steps of each example
ORDERS = st.one_of(st.none(), st.integers(-3, 3))  # values of an insight's `order`: ties and NULLs included
MAX_WALKED = 200  # insights seen walking a list's pages, beyond which `next` must be going round in circles
PAGE = 100

# One query of each kind the list's `insight` filter tells apart (fact sheet §3.1), as PostHog
# stores it; `bare` sends the source alone, which PostHog wraps.
SERIES = [{"kind": "EventsNode", "event": "$pageview", "name": "$pageview", "math": "total"}]
SOURCES: dict[str, dict[str, Any]] = {
    "TRENDS": {"kind": "TrendsQuery", "series": SERIES},
    "FUNNELS": {"kind": "FunnelsQuery", "series": SERIES * 2},
    "RETENTION": {"kind": "RetentionQuery", "retentionFilter": {"period": "Week", "totalIntervals": 8}},
    "PATHS": {"kind": "PathsQuery", "pathsFilter": {"includeEventTypes": ["$pageview"]}},
    "JOURNEYS": {"kind": "PathsV2Query"},
    "STICKINESS": {"kind": "StickinessQuery", "series": SERIES},
    "LIFECYCLE": {"kind": "LifecycleQuery", "series": SERIES},
    "SQL": {"kind": "HogQLQuery", "query": "SELECT event, count() FROM events GROUP BY event"},
}
WRAPPERS = {"SQL": "DataVisualizationNode"}
JSON_QUERY = {"kind": "DataTableNode", "source": {"kind": "EventsQuery", "select": ["*", "event", "timestamp"]}}
KINDS = [*SOURCES, "JSON"]
# Queries whose numbers must hold together whatever the events (contracts/results.py): each
# display or computation that changes what `count` is, over events every PostHog project has.
LAST_WEEK = {"date_from": "-7d"}
RESULT_QUERIES: dict[str, dict[str, Any]] = {
    "trend by browser": {"kind": "TrendsQuery", "series": SERIES, "dateRange": LAST_WEEK,
                         "breakdownFilter": {"breakdown": "$browser", "breakdown_type": "event"}},
    "cumulative users": {"kind": "TrendsQuery", "dateRange": LAST_WEEK, "trendsFilter": {"display": "ActionsLineGraphCumulative"},
                         "series": [{**SERIES[0], "math": "dau"}]},
    "funnel": {"kind": "FunnelsQuery", "series": [SERIES[0], {"kind": "EventsNode", "event": "$autocapture"}, SERIES[0]]},
    "stickiness": {"kind": "StickinessQuery", "series": SERIES, "stickinessFilter": {"computedAs": "cumulative"}},
    "lifecycle": {"kind": "LifecycleQuery", "series": SERIES, "dateRange": LAST_WEEK},
    "retention": {"kind": "RetentionQuery", "retentionFilter": {"period": "Day", "totalIntervals": 7}},
}


def query_of(kind: str, bare: bool) -> dict[str, Any]:
    if kind not in SOURCES:
        return JSON_QUERY
    return SOURCES[kind] if bare else {"kind": WRAPPERS.get(kind, "InsightVizNode"), "source": SOURCES[kind]}


class ContractBroken(AssertionError):
    """The target disagreed with the model; the message carries a curl line of the request."""


def run(ctx: RunContext) -> SuiteResult:
    if ctx.options.read_only:
        return SuiteResult("semantics", skipped="read-only: the semantic model needs to create and change insights")
    with ctx.suite("semantics") as (result, client):
        authors, dashboards = setting(ctx, client)
        if not dashboards:
            result.notes.append("dashboards filter checked without dashboards: the run puts insights on none here")
        if len(authors) < 2:
            result.notes.append("user and created_by checked with one author: give a second key of another user")
        machines = [  # the elements machine, the smaller, first
            (ElementsMachine.bound_to(ctx, client, result), max(1, ctx.options.semantic_examples // 5)),
            (InsightsMachine.bound_to(ctx, client, result, authors=authors, dashboards=dashboards, users={},
                                      turns=itertools.count()), ctx.options.semantic_examples),
        ]
        for machine, examples in machines:
            try:
                run_state_machine_as_test(hypothesis_seed(ctx.options.seed)(machine),
                                          settings=ctx.hypothesis_settings(examples, stateful_step_count=STEPS))
            except (ContractBroken, BaseExceptionGroup) as broken:
                for disagreement in _disagreements(broken):
                    result.fail(failure_from("semantics", "model disagreement", str(disagreement), ctx.options.seed))
        ctx.progress.update("semantics", ctx.options.semantic_examples, ctx.options.semantic_examples, "runs",
                            len(result.failures), final=True)
    return result


def setting(ctx: RunContext, client: Client) -> tuple[list[Key], tuple[int, ...]]:
    """Who can make the run's insights, and the dashboards it may put them on, read off the
    project: the dashboards its insights are shown on (only where the run may write to what it
    did not create), and, against the toolkit's mock, a key for another user who made insights."""
    spec, target = ctx.spec, ctx.target
    create = spec.operation("insights_create")
    team = int(target.project_id) if target.project_id.isdigit() else None
    authors = [ctx.key] + [k for k in target.keys
                           if k != ctx.key and key_refusal(create, spec.texts, k.scopes, k.scoped_teams, team) is None]
    listing = spec.operation("insights_list")
    page = client.request(listing.method, listing.path_for(project_id=target.project_id), key=ctx.key, params={"limit": PAGE})
    items = page.response.json().get("results", []) if page.response.status_code == listing.success_status() else []
    dashboards: tuple[int, ...] = ()
    if not ctx.safety.own_objects_only:
        dashboards = tuple(sorted({t["dashboard_id"] for item in items for t in item.get("dashboard_tiles") or []}))[:3]
    if target.is_mock and len(authors) < 2:
        me = _my_user_id(ctx, client)
        others = sorted({item["created_by"]["id"] for item in items if item.get("created_by")} - {me})
        if me is not None and others:
            authors.append(target.mint_key(["insight:write"], user_id=others[0]))
    return authors, dashboards


def _my_user_id(ctx: RunContext, client: Client) -> int | None:
    me = ctx.spec.operation("users_me_retrieve")
    if key_refusal(me, ctx.spec.texts, ctx.key.scopes, ctx.key.scoped_teams) is not None:
        return None
    answer = client.request(me.method, me.path, key=ctx.key)
    return answer.response.json().get("id") if answer.response.status_code == me.success_status() else None


def _may_query(machine: "InsightsMachine") -> bool:
    ctx = machine.ctx
    return key_refusal(ctx.spec.operation("query_create"), ctx.spec.texts, ctx.key.scopes, ctx.key.scoped_teams) is None


def _has_session(machine: "InsightsMachine") -> bool:
    return machine.ctx.target.session_cookie is not None


class Machine(RuleBasedStateMachine):
    """What both machines share: the run they are bound to, requests and expectations."""

    ctx: ClassVar[RunContext]
    client: ClassVar[Client]
    result: ClassVar[SuiteResult]
    examples: ClassVar[Iterator[int]]

    @classmethod
    def bound_to(cls, ctx: RunContext, client: Client, result: SuiteResult, **more: Any) -> type["Machine"]:
        """The machine for one run: hypothesis builds a fresh machine from the class for every
        example, so what the run gives it travels on a subclass."""
        return type(cls.__name__, (cls,), {"ctx": ctx, "client": client, "result": result, "examples": itertools.count(1), **more})

    def call(self, step: str, operation_id: str, *, insight: int | None = None, url: str | None = None,
             session: bool = False, count: bool = True, key: Key | None = None, **kwargs: Any) -> Exchange:
        """A request to an operation of the spec (or to `url`, a link the target gave)."""
        operation = self.ctx.spec.operation(operation_id)
        path = url or operation.path_for(project_id=self.ctx.target.project_id, id=insight)
        exchange = self.client.request(operation.method, path, key=None if session else key or self.ctx.key, session=session, **kwargs)
        if count:
            self.result.count(step)
        return exchange

    def success(self, operation_id: str) -> int:
        return self.ctx.spec.operation(operation_id).success_status()

    def expect(self, step: str, exchange: Exchange, condition: bool, message: str) -> None:
        if not condition:
            body = exchange.response.text[:300]
            raise ContractBroken(f"{step}: {message} (got {exchange.response.status_code} {body!r}){CURL_MARK}{exchange.curl()}")

    def expect_status(self, step: str, exchange: Exchange, status: int, message: str) -> None:
        """`message` names the expected status as `{status}`."""
        self.expect(step, exchange, exchange.response.status_code == status, message.format(status=status))

    def walk(self, step: str, operation_id: str, params: dict[str, Any], count: bool = True,
             key: Key | None = None) -> tuple[Exchange, list[dict], set[int]]:
        """Every page of a list, following `next`: the last exchange, the items, and the counts the pages gave."""
        items: list[dict] = []
        counts: set[int] = set()
        exchange = self.call(step, operation_id, params=params, count=count, key=key)
        while True:
            self.expect_status(step, exchange, self.success(operation_id), "listing answers {status}")
            page = exchange.response.json()
            counts.add(page["count"])
            items += page["results"]
            if not page["next"] or len(items) > MAX_WALKED:
                return exchange, items, counts
            exchange = self.call(step, operation_id, url=page["next"], count=count, key=key)


class InsightsMachine(Machine):
    """The run's own insights as a model; each rule changes the target and the model together,
    and the target is read back after it. Run it bound to a run (`bound_to`)."""

    authors: ClassVar[list[Key]]  # keys that create insights, the run's own first
    users: ClassVar[dict[str, int]]  # the user behind each author's key (by fingerprint), learned from what it created
    turns: ClassVar[Iterator[int]]  # whose turn it is among the filters, counted over the whole run
    dashboards: ClassVar[tuple[int, ...]]  # dashboards the run may put its insights on
    insights = Bundle("insights")

    def __init__(self) -> None:
        super().__init__()
        record = self.ctx.record
        self.model = Model()
        example = next(self.examples)
        self.tag = f"{record.tag}-{example}"  # this example's insights; all carry record.tag too
        self.ctx.progress.update("semantics", min(example, self.ctx.options.semantic_examples),
                                 self.ctx.options.semantic_examples, "runs", len(self.result.failures))
        self.keep = {self.tag, record.tag}
        self.tags = [f"{self.tag}-{word}" for word in TAG_WORDS]  # only this example's insights carry them
        self.names = itertools.count(1)

    # Requests ---------------------------------------------------------------------------------
    def user_of(self, key: Key) -> int | None:
        return self.users.get(key.fingerprint)

    def patch(self, step: str, insight: int, body: dict[str, Any]) -> Exchange | None:
        """PATCH an insight of the model and follow it: a soft-deleted one is not found (unless
        restored); any update saves the insight unless `saved` is sent; `last_modified_at` moves
        for a new name or description only (MATERIAL_INSIGHT_FIELDS, fact sheet §8.13)."""
        modelled = self.model.insights[insight]
        exchange = self.call(step, "insights_partial_update", insight=insight, body=body)
        if modelled.deleted and body.get("deleted") is not False:
            self.expect_status(step, exchange, self.ctx.spec.texts["not_found"].status, "a soft-deleted insight answers {status}")
            return None
        self.expect_status(step, exchange, self.success("insights_partial_update"), "PATCH answers {status}")
        answer = exchange.response.json()
        modelled.saved = body.get("saved", True)
        modified, updated = moment(answer["last_modified_at"]), moment(answer["updated_at"])
        if body.keys() & {"name", "description"}:
            # Moved past its last value, if the target's clock has moved since (updated_at has): a
            # clock that stands still (a frozen one, in tests) cannot move it.
            clock_moved = modelled.updated_at is None or updated > modelled.updated_at
            self.expect(step, exchange, modified > modelled.last_modified_at if clock_moved else modified >= modelled.last_modified_at,
                        f"a new {' and '.join(sorted(body.keys() & {'name', 'description'}))} moves last_modified_at"
                        f" past {modelled.last_modified_at.isoformat()}")
        else:
            self.expect(step, exchange, modified == modelled.last_modified_at,
                        f"last_modified_at stays {modelled.last_modified_at.isoformat()} when only {sorted(body)} change")
        modelled.last_modified_at, modelled.updated_at = modified, updated
        if "dashboards" in answer and body.get("deleted") is False:  # what a restored insight is shown on again
            modelled.dashboards = frozenset(answer["dashboards"])
        return exchange

    # Rules ------------------------------------------------------------------------------------
    @initialize(target=insights, data=st.data())
    def first_insights(self, data: st.DataObject) -> MultipleResults[int]:
        """Each example starts with a few insights unlike each other, so every filter has something to tell apart."""
        return multiple(*(self.create_drawn(data) for _ in range(INITIAL_INSIGHTS)))

    @rule(target=insights, data=st.data())
    def create(self, data: st.DataObject) -> int:
        return self.create_drawn(data)

    def create_drawn(self, data: st.DataObject) -> int:
        """An insight with drawn properties, by a drawn author (drawn by index: a drawn key would be printed)."""
        author = self.authors[data.draw(st.integers(0, len(self.authors) - 1))]
        word = data.draw(st.sampled_from(WORDS))
        body: dict[str, Any] = {
            "name": self.ctx.record.name(f"{self.tag} {word}{next(self.names)}"),
            "query": query_of(kind := data.draw(st.sampled_from(KINDS)), bare=data.draw(st.booleans())),
            "tags": sorted(data.draw(st.sets(st.sampled_from(self.tags), max_size=2)) | self.keep),
            "favorited": data.draw(st.booleans()), "order": data.draw(ORDERS),
            "description": data.draw(st.one_of(st.none(), st.sampled_from(WORDS))),
            **data.draw(st.fixed_dictionaries({}, optional={"saved": st.booleans()})),
        }
        if self.dashboards and (dashboards := data.draw(st.sets(st.sampled_from(self.dashboards), max_size=2))):
            body["dashboards"] = sorted(dashboards)
        exchange = self.call("create", "insights_create", body=body, key=author)
        self.expect_status("create", exchange, self.success("insights_create"), "creating an insight answers {status}")
        answer = exchange.response.json()
        self.ctx.record.insights.add(answer["id"])
        self.users.setdefault(author.fingerprint, answer["created_by"]["id"])
        self.model.insights[answer["id"]] = ModelInsight(
            id=answer["id"], short_id=answer["short_id"], name=body["name"], kind=kind, tags=set(body["tags"]),
            creator=answer["created_by"]["id"], description=body["description"], favorited=body["favorited"],
            saved=body.get("saved", True), order=body["order"], dashboards=frozenset(body.get("dashboards", ())),
            created_at=moment(answer["created_at"]), last_modified_at=moment(answer["last_modified_at"]),
            last_viewed_at=moment(answer["last_viewed_at"]), updated_at=moment(answer["updated_at"]))
        if author == self.ctx.key:
            self.model.view([answer["id"]])  # creating records a view for the creator
        self.verify("create", answer["id"])
        return answer["id"]

    @rule(insight=insights, word=st.sampled_from(WORDS), field=st.sampled_from(["name", "description", "derived_name"]))
    def rewrite(self, insight: int, word: str, field: str) -> None:
        """A new name, description or derived name; the first two are material."""
        modelled = self.model.insights[insight]
        text = self.ctx.record.name(f"{self.tag} {word}{next(self.names)}") if field == "name" else f"{word} {next(self.names)}"
        if self.patch(f"new {field}", insight, {field: text}):
            setattr(modelled, field, text)
        self.verify(f"new {field}", insight)

    @rule(insight=insights, data=st.data())
    def set_flags(self, insight: int, data: st.DataObject) -> None:
        """favorited, saved and order: none of them moves last_modified_at."""
        body = data.draw(st.fixed_dictionaries({}, optional={
            "favorited": st.booleans(), "saved": st.booleans(), "order": ORDERS}))
        modelled = self.model.insights[insight]
        if self.patch("flags", insight, body):
            modelled.favorited = body.get("favorited", modelled.favorited)
            modelled.order = body["order"] if "order" in body else modelled.order
        self.verify("flags", insight)

    @rule(insight=insights, kind=st.sampled_from(KINDS), bare=st.booleans())
    def requery(self, insight: int, kind: str, bare: bool) -> None:
        """Another query, of another kind maybe: not material either."""
        if self.patch("new query", insight, {"query": query_of(kind, bare)}):
            self.model.insights[insight].kind = kind
        self.verify("new query", insight)

    @precondition(lambda self: self.dashboards)
    @rule(insight=insights, data=st.data())
    def place_on_dashboards(self, insight: int, data: st.DataObject) -> None:
        chosen = data.draw(st.sets(st.sampled_from(self.dashboards)))
        if self.patch("dashboards", insight, {"dashboards": sorted(chosen)}):
            self.model.insights[insight].dashboards = frozenset(chosen)
        self.verify("dashboards", insight)

    @rule(insight=insights)
    def soft_delete(self, insight: int) -> None:
        modelled = self.model.insights[insight]
        if self.patch("soft delete", insight, {"deleted": True}):
            modelled.deleted, modelled.dashboards = True, frozenset()  # its tiles are hidden
        self.verify("soft delete", insight)

    @rule(insight=insights)
    def restore(self, insight: int) -> None:
        self.patch("restore", insight, {"deleted": False})
        self.model.insights[insight].deleted = False
        self.verify("restore", insight)

    @rule(insight=insights)
    def hard_delete(self, insight: int) -> None:
        exchange = self.call("hard delete", "insights_destroy", insight=insight)
        self.expect_status("hard delete", exchange, self.success("insights_destroy"), "DELETE answers {status}")
        self.expect("hard delete", exchange, exchange.response.content == b"", "the answer to DELETE has an empty body")
        self.verify("hard delete", insight)  # ...and changed nothing

    @rule(insight=insights, data=st.data())
    def retag(self, insight: int, data: st.DataObject) -> None:
        tags = data.draw(st.sets(st.sampled_from(self.tags), max_size=3))
        wanted = {t.upper() if i % 2 else f"  {t} " for i, t in enumerate(sorted(tags))}  # normalised by the target
        if self.patch("retag", insight, {"tags": sorted(wanted | self.keep)}):
            self.model.insights[insight].tags = tags | self.keep
        self.verify("retag", insight)

    bulk_args = dict(chosen=st.lists(insights, min_size=1, max_size=3, unique=True), data=st.data())

    @precondition(_has_session)
    @rule(**bulk_args)
    def bulk_add_tags(self, chosen: list[int], data: st.DataObject) -> None:
        self.bulk_tags(chosen, "add", data)

    @precondition(_has_session)
    @rule(**bulk_args)
    def bulk_remove_tags(self, chosen: list[int], data: st.DataObject) -> None:
        self.bulk_tags(chosen, "remove", data)

    @precondition(_has_session)
    @rule(**bulk_args)
    def bulk_set_tags(self, chosen: list[int], data: st.DataObject) -> None:
        self.bulk_tags(chosen, "set", data)

    def bulk_tags(self, chosen: list[int], action: str, data: st.DataObject) -> None:
        """bulk_update_tags has set semantics; soft-deleted insights are skipped."""
        tags = data.draw(st.sets(st.sampled_from(self.tags), min_size=1, max_size=2))
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

    @rule(chosen=st.lists(insights, min_size=1, max_size=3), foreign=st.lists(st.sampled_from(FOREIGN_IDS), max_size=2))
    def view(self, chosen: list[int], foreign: list[int]) -> None:
        ids = chosen + foreign
        exchange = self.call("viewed", "insights_viewed_create", body={"insight_ids": ids})
        self.expect_status("viewed", exchange, self.success("insights_viewed_create"), "viewed answers {status} whatever it drops")
        self.expect("viewed", exchange, exchange.response.content == b"", "viewed answers an empty body")
        self.model.view([i for i in chosen if not self.model.insights[i].deleted])

    @precondition(lambda self: self.model.insights)
    @rule(limit=st.integers(min_value=1, max_value=4))
    def list_pages_of(self, limit: int) -> None:
        self.list_pages(limit)

    @precondition(lambda self: self.model.insights)
    @rule(data=st.data())
    def list_filtered(self, data: st.DataObject) -> None:
        """A drawn combination of filters, and maybe an order."""
        choices = self.filter_values(0)
        families = data.draw(st.lists(st.sampled_from(sorted(choices)), min_size=1, max_size=3, unique=True))
        query: dict[str, str] = {}
        for family in families:
            query.update(data.draw(st.sampled_from(choices[family])))
        if data.draw(st.booleans()):
            query["order"] = data.draw(st.sampled_from([f"{sign}{name}" for name in ORDERINGS for sign in ("", "-")]))
        self.check_filtered("filtered list", query, key=self.authors[data.draw(st.integers(0, len(self.authors) - 1))])

    @invariant()
    def listed_as_modelled(self) -> None:
        """After every step: the pages, two by two, hold exactly the run's live insights as
        modelled; then one filter, each in turn, with a value read off the model (and the instants
        the pages just showed)."""
        if not self.model.insights:
            return
        self.list_pages(2, count=False)
        turn = next(self.turns)
        choices = self.filter_values(turn)
        family = sorted(choices)[turn % len(choices)]
        options = choices[family]
        query = options[(turn // len(choices)) % len(options)]
        key = self.authors[(turn // len(choices)) % len(self.authors)] if family in ("user", "created_by") else self.ctx.key
        self.check_filtered(f"?{family}", query, key=key, count=False)

    def filter_values(self, turn: int) -> dict[str, list[dict[str, str]]]:
        """Each filter family and the values worth trying now, read off the model: values that
        tell the run's insights apart, and one that keeps none of them. Scoped to this example's
        insights by its tag (every `tags` value here is this example's own)."""
        insights = list(self.model.insights.values())
        live = [i for i in insights if not i.deleted] or insights
        scope = {"tags": json.dumps([self.tag])}
        users = sorted(set(self.users.values()))
        used_tags = sorted({t for i in live for t in i.tags if t in self.tags}) or self.tags[:1]
        texts = sorted({w.rstrip("0123456789") for i in live for text in i.texts() for w in text.split()} & set(WORDS)
                       | {WORDS[turn % len(WORDS)]})
        values: dict[str, list[dict[str, str]]] = {
            "favorited": [{**scope, "favorited": "true"}, {**scope, "favorited": "false"}],
            "saved": [{**scope, "saved": "true"}, {**scope, "saved": "false"}],
            "tags": [{"tags": json.dumps(used_tags[:1])}, {"tags": json.dumps(used_tags[-2:])},
                     {"tags": json.dumps([f"{self.tag}-none"])}],
            "search": [*({**scope, "search": word} for word in texts), {**scope, "search": texts[0].upper()},
                       {**scope, "search": texts[-1][1:4]}, {**scope, "search": "  "}],
            "created_by": [{**scope, "created_by": json.dumps(users)}, {**scope, "created_by": json.dumps(users[:1])},
                           {**scope, "created_by": json.dumps(users[1:] or [NO_SUCH_USER])},
                           {**scope, "created_by": json.dumps([NO_SUCH_USER])}],
            "user": [{**scope, "user": "true"}, {**scope, "user": "false"}],
            "insight": [{**scope, "insight": kind} for kind in sorted({i.kind for i in live})]
                       + [{**scope, "insight": KINDS[turn % len(KINDS)]}],
            "short_id": [{**scope, "short_id": i.short_id} for i in insights] + [{**scope, "short_id": NO_SUCH_SHORT_ID}],
            "dashboards": [{**scope, "dashboards": json.dumps(sorted(chosen))} for chosen in _subsets(self.dashboards)]
                          or [{**scope, "dashboards": json.dumps([])}],
            "order": [{**scope, "order": f"{sign}{name}"} for name in ORDERINGS for sign in ("", "-")],
        }
        for name, (field, _) in DATE_FILTERS.items():
            instants = sorted({i.instant(field) for i in live if i.instant(field)})
            if instants:
                middle = instants[len(instants) // 2]
                values[name] = [{**scope, name: _iso(at)} for at in (middle, instants[0], instants[-1])]
        return values

    def check_filtered(self, step: str, query: dict[str, str], *, key: Key, count: bool = True) -> None:
        """The list answers `query` with exactly what the model keeps, in the order asked."""
        exchange, items, counts = self.walk(step, "insights_list", {**query, "limit": PAGE}, count=count, key=key)
        caller = self.user_of(key)
        wanted = expected(query, self.model.insights.values(), caller)
        listed = [item["id"] for item in items]
        shown = {name: value for name, value in query.items() if name != "order"}
        self.expect(step, exchange, len(listed) == len(set(listed)) and wanted.allows(listed),
                    f"{_query_text(shown)} listed {sorted(listed)}; the model keeps {sorted(wanted.must)}"
                    + (f" and may keep {sorted(wanted.may)}" if wanted.may else "")
                    + (f" (caller user {caller})" if set(query) & set(PRESENCE_FILTERS) else ""))
        self.expect(step, exchange, counts == {len(listed)}, f"{_query_text(shown)}: count is {len(listed)}")
        if (query.get("search") or "").strip():
            match_types = {item.get("search_match_type") for item in items}
            self.expect(step, exchange, len(match_types) <= 1 and match_types <= ({"exact"} if wanted.must else {"exact", "similar"}),
                        f"search={query['search']!r} marks matches {sorted(map(str, match_types))}")
        order = query.get("order") or (None if (query.get("search") or "").strip() else "order")
        if order and order.lstrip("-") in ORDERINGS:
            self.harvest(items)
            wrong = misordered(order, items, self.model.insights)
            self.expect(step, exchange, wrong is None, f"order={order}: insight {wrong and wrong[0]} is listed before {wrong and wrong[1]}")

    def list_pages(self, limit: int, count: bool = True) -> None:
        """Walking `next` covers every live insight of the run exactly once, each as modelled."""
        exchange, items, counts = self.walk("list", "insights_list", {"tags": f'["{self.tag}"]', "limit": limit}, count=count)
        live = sorted(i.id for i in self.model.live())
        self.expect("list", exchange, counts == {len(live)}, f"count is {len(live)}")
        for item in items:
            modelled = self.model.insights.get(item["id"])
            self.expect("list", exchange, modelled is not None and not modelled.deleted, f"insight {item['id']} should not be listed")
            self.expect_as_modelled("list", exchange, item, modelled)
        seen = sorted(item["id"] for item in items)
        self.expect("list", exchange, seen == live, f"pages held {seen}, the run's live insights are {live}")
        self.harvest(items)

    def harvest(self, items: list[dict[str, Any]]) -> None:
        """What only the target can say (when each insight was last viewed, and updated), taken
        for the filters and orders; what the model can say is checked first: views do not go back."""
        for item in items:
            modelled = self.model.insights[item["id"]]
            viewed = moment(item["last_viewed_at"])
            if modelled.last_viewed_at and viewed and viewed < modelled.last_viewed_at:
                raise ContractBroken(f"list: insight {item['id']} was last viewed at {item['last_viewed_at']},"
                                     f" before its view at {modelled.last_viewed_at.isoformat()}")
            modelled.last_viewed_at, modelled.updated_at = viewed, moment(item["updated_at"])

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
        for modelled in self.model.insights.values():  # every one was viewed when it was created
            if modelled.deleted:
                self.expect("trending", exchange, modelled.id not in listed, f"deleted insight {modelled.id} is trending")
            elif len(results) < 100:
                self.expect("trending", exchange, modelled.id in listed, f"viewed insight {modelled.id} is missing")

    @precondition(_may_query)
    @rule(name=st.sampled_from(sorted(RESULT_QUERIES)))
    def query_results_add_up(self, name: str) -> None:
        query = RESULT_QUERIES[name]
        exchange = self.call("query results", "query_create", body={"query": query})
        self.expect_status("query results", exchange, self.success("query_create"), f"a {name} query answers {{status}}")
        found = results.problems(query, exchange.response.json().get("results"))
        self.expect("query results", exchange, not found, f"the {name} query's results do not add up: {'; '.join(found)}")

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
            self.expect_status(step, exchange, self.ctx.spec.texts["not_found"].status, f"soft-deleted insight {insight} must answer {{status}}")
            return
        self.expect_status(step, exchange, self.success("insights_retrieve"), f"insight {insight} must be retrievable ({{status}})")
        body = exchange.response.json()
        self.expect(step, exchange, body["deleted"] is False, f"insight {insight} is not deleted")
        self.expect_as_modelled(step, exchange, body, modelled)

    def expect_as_modelled(self, step: str, exchange: Exchange, item: dict[str, Any], modelled: ModelInsight) -> None:
        shown = {"name": item["name"], "tags": set(item["tags"]), "favorited": item["favorited"], "saved": item["saved"],
                 "order": item["order"], "description": item["description"], "derived_name": item["derived_name"],
                 "short_id": item["short_id"], "creator": (item["created_by"] or {}).get("id"),
                 "created_at": moment(item["created_at"]), "last_modified_at": moment(item["last_modified_at"])}
        if "dashboards" in item:
            shown["dashboards"] = frozenset(item["dashboards"])
        wrong = {name: value for name, value in shown.items() if value != getattr(modelled, name)}
        self.expect(step, exchange, not wrong, f"insight {modelled.id} is shown with {wrong}; the model has"
                    f" {({name: getattr(modelled, name) for name in wrong})}")

    def teardown(self) -> None:
        """Leave nothing live: every insight of this run is soft-deleted."""
        for modelled in self.model.live():
            self.call("teardown", "insights_partial_update", insight=modelled.id, body={"deleted": True}, count=False)


class ElementsMachine(Machine):
    """Elements, where the model can know the answer. Against the toolkit's mock, created elements
    are kept and listed (its documented difference: PostHog lists none it is sent), so the list's
    pages must cover them, once each. Everywhere, `values` keeps exactly the values of a key
    that contain `value` (case-sensitive), among the same ones."""

    def __init__(self) -> None:
        super().__init__()
        self.created: list[dict[str, Any]] = []  # as the target answered them (elements have no id)
        self.mark = f"{self.ctx.record.tag}-element-{next(self.examples)}"

    @precondition(lambda self: self.ctx.target.is_mock and not self.ctx.options.read_only)
    @rule(word=st.sampled_from(WORDS), nth=st.integers(1, 5))
    def create(self, word: str, nth: int) -> None:
        exchange = self.call("create element", "elements_create",
                             body={"text": f"{self.mark} {word}", "tag_name": "button", "nth_child": nth, "attributes": {}})
        self.expect_status("create element", exchange, self.success("elements_create"), "creating an element answers {status}")
        self.created.append(exchange.response.json())

    @rule(limit=st.integers(min_value=1, max_value=4))
    def list_pages(self, limit: int) -> None:
        """Walking `next` gives `count` elements, the run's own among them as often as it made them."""
        exchange, items, counts = self.walk("elements list", "elements_list", {"limit": limit})
        self.expect("elements list", exchange, counts == {len(items)}, f"the pages held {len(items)} elements; count is {counts}")
        mine = [json.dumps(item, sort_keys=True) for item in items if str(item.get("text") or "").startswith(self.mark)]
        made = [json.dumps(item, sort_keys=True) for item in self.created]
        self.expect("elements list", exchange, sorted(mine) == sorted(made),
                    f"the pages held {len(mine)} of the {len(made)} elements the run made")

    @rule(data=st.data())
    def values(self, data: st.DataObject) -> None:
        operation = self.ctx.spec.operation("elements_values_list")
        key = data.draw(st.sampled_from(operation.parameter("key").schema["enum"]))
        every = self.call("values", "elements_values_list", params={"key": key})
        self.expect_status("values", every, self.success("elements_values_list"), "values answers {status}")
        names = [v["name"] for v in every.response.json()]
        candidates = sorted({piece for name in names for piece in (name[:3], name[1:], name)} | {"zz-none"})
        needle = data.draw(st.sampled_from(candidates))
        kept = self.call("values", "elements_values_list", params={"key": key, "value": needle})
        self.expect_status("values", kept, self.success("elements_values_list"), "values answers {status}")
        found = [v["name"] for v in kept.response.json()]
        self.expect("values", kept, all(needle in name for name in found),
                    f"value={needle!r} kept {[n for n in found if needle not in n]}, which do not contain it")
        if len(names) < _most_values(self.ctx.spec, operation):  # at the cap, ties at the cutoff may fall either way
            missing = [name for name in names if needle in name and name not in found]
            self.expect("values", kept, not missing, f"value={needle!r} left out {missing}, which contain it")


def _most_values(spec: Any, operation: Any) -> int:
    return spec.resolve(operation.responses[str(operation.success_status())])["content"]["application/json"]["schema"]["maxItems"]


def _disagreements(error: BaseException) -> list[ContractBroken]:
    """The model disagreements in what hypothesis raised (several distinct ones come as a group);
    anything else is raised again."""
    if isinstance(error, ContractBroken):
        return [error]
    if isinstance(error, BaseExceptionGroup):
        found = [d for inner in error.exceptions for d in _disagreements(inner)]
        if len(found) == len(error.exceptions):
            return found
    raise error


def _subsets(dashboards: tuple[int, ...]) -> list[tuple[int, ...]]:
    return [(d,) for d in dashboards] + ([dashboards[:2]] if len(dashboards) > 1 else [])


def _iso(at: Any) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _query_text(query: dict[str, str]) -> str:
    return "?" + "&".join(f"{name}={value}" for name, value in query.items())


def _desc(timestamp: str) -> tuple:
    """Sort key that orders ISO timestamps newest first under ascending sort."""
    return tuple(-ord(c) for c in timestamp)
