"""One API call as it goes down the pipeline: built once after routing, filled in by each step.

Routing gives the operation and the raw path values; authentication the principal; authorization
the project; validation the path, query and body values a handler reads. Handlers get the call
and answer a Reply; the status of a reply that does its job is the operation's, from the spec.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

from starlette.requests import Request

from mockserver import errors
from mockserver.analytics.context import Context
from mockserver.analytics.engine import Engine
from mockserver.clock import Clock, iso
from mockserver.fragments import Fragments
from mockserver.incoming import Incoming
from mockserver.store import Store
from mockserver.store.accounts import Team
from posthog_spec import Catalogue, Operation, Spec

if TYPE_CHECKING:
    from mockserver.auth import Principal


@dataclass
class Call:
    request: Request
    incoming: Incoming
    operation: Operation
    raw_path: dict[str, str]  # path values as routed, before validation
    store: Store
    clock: Clock
    spec: Spec
    analytics: Engine  # the events insights and element statistics are computed from
    fragments: Fragments | None = None  # rows rendered before, under their stamps (None: --memo off)
    principal: Principal | None = None  # authenticate
    team: Team | None = None  # authorize: the environment the path names, if any
    path: dict[str, Any] = field(default_factory=dict)  # validate
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    moment: datetime = field(init=False)

    def __post_init__(self) -> None:
        self.moment = self.clock.now()  # one "now" per request

    @property
    def texts(self) -> Catalogue:
        return self.spec.texts

    @property
    def head(self) -> bool:
        return self.request.method == "HEAD"

    @property
    def headers(self) -> dict[str, str]:
        return self.incoming.headers

    @property
    def url(self) -> str:
        """The request's absolute URL (page links are built from it)."""
        return str(self.request.url)

    @cached_property
    def now(self) -> str:
        """The moment as PostHog writes times, formatted once (a PATCH writes it four times)."""
        return iso(self.moment)

    @property
    def user_id(self) -> int:
        return self.principal.user.id

    def events(self, team: Team | None = None) -> Context:
        """The events of an environment (the call's, unless another is named: an insight computes
        over its own), as the analytics engine holds them now, with the project settings queries
        read (week start, test-account filters)."""
        team = team or self.team
        project = self.store.accounts.project(team.project_id)
        cursor, timeline = self.analytics.open(self.store, self.moment)
        return Context(cursor, team.id, self.moment, project["week_start_day"], json.loads(project["test_account_filters"]),
                       timeline)

    def error(self, name: str, *, attr: Any = errors.UNSET, **values: Any) -> errors.APIError:
        """PostHog's text `name` from the spec's catalogue as an error, to raise."""
        return errors.error(self.texts, name, attr=attr, **values)

    def say(self, name: str, **values: Any) -> str:
        """PostHog's text `name`, filled in (for texts that are not errors, like skip reasons)."""
        return self.texts[name].fill(**values)


@dataclass
class Reply:
    """What a handler answers. Its status is the operation's success status (the spec's)."""

    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    empty: bool = False
    pending: bool = False  # work goes on after the answer: 202, the operation's documented "accepted"
    # Writes to run after handling, on the event loop's connection: a handler on a worker thread
    # reads only, and hands back what it needs written (a computed result for the cache).
    writes: list[Callable[[Store], None]] = field(default_factory=list)
