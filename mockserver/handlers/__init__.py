"""Handle: one function per operation, over the store. PostHog's rules live here and only here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Mapping

from mockserver.auth import Principal
from mockserver.clock import Clock, iso
from mockserver.spec import Operation
from mockserver.store import Store
from mockserver.store.accounts import Team


@dataclass
class Call:
    """A validated request, as a handler sees it."""

    operation: Operation
    principal: Principal
    team: Team | None
    path: dict[str, Any]
    query: dict[str, Any]
    body: Any
    request_url: Callable[[], str]  # built only when a handler needs it (page links)
    headers: Mapping[str, str]
    store: Store
    clock: Clock
    moment: datetime = field(init=False)

    def __post_init__(self) -> None:
        self.moment = self.clock.now()  # one "now" per request

    @property
    def url(self) -> str:
        return self.request_url()

    @property
    def now(self) -> str:
        return iso(self.moment)

    @property
    def user_id(self) -> int:
        return self.principal.user.id


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    empty: bool = False


Handler = Callable[[Call], Reply]
HANDLERS: dict[str, Handler] = {}
# Reads whose answer depends only on the stored data and the request, never on the clock: the
# predicate says whether this call's answer may be remembered (memo.py).
CLOCK_FREE: dict[str, Callable[[Call], bool]] = {}


def always(call: Call) -> bool:
    return True


def handles(*operation_ids: str, clock_free: Callable[[Call], bool] | None = None) -> Callable[[Handler], Handler]:
    """Register a handler for canonical operation ids (the environments copies share it)."""

    def register(handler: Handler) -> Handler:
        for operation_id in operation_ids:
            HANDLERS[operation_id] = handler
            if clock_free is not None:
                CLOCK_FREE[operation_id] = clock_free
        return handler

    return register


def load_handlers() -> dict[str, Handler]:
    from mockserver.handlers import account, elements, insight_actions, insights  # noqa: F401  (registers)

    return HANDLERS
