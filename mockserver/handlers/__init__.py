"""Handle: one function per operation, over the store. PostHog's rules live here and only here.

A handler reads the validated call and answers a Reply (its status is the operation's, from the
spec) or raises one of PostHog's texts with `call.error(name)`.
"""

from __future__ import annotations

from typing import Callable

from mockserver.call import Call, Reply

Handler = Callable[[Call], Reply]
HANDLERS: dict[str, Handler] = {}


def handles(*operation_ids: str) -> Callable[[Handler], Handler]:
    """Register a handler for canonical operation ids (the environments copies share it)."""

    def register(handler: Handler) -> Handler:
        for operation_id in operation_ids:
            HANDLERS[operation_id] = handler
        return handler

    return register


def load_handlers() -> dict[str, Handler]:
    from mockserver.handlers import account, elements, insight_actions, insights, query  # noqa: F401  (registers)

    return HANDLERS
