"""The API pipeline: every request under `/api/` flows one way, each step a call into its own module.

    route -> (faults) -> authenticate -> authorize -> (memo) -> validate -> handle -> render -> (strict) check

A step either fills in the call (mockserver/call.py) or raises one of PostHog's errors, which is
rendered in PostHog's shape; every request is noted in the journal. Faults (faults.py) are looked
at only when a rule exists or the call carries a `Prefer` header; one that replaces the answer
does so before anything else runs, so nothing is written.
"""

from __future__ import annotations

import logging
import time
from http import HTTPStatus

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response

from mockserver import errors, rendering, seed, seedfile, sidecar
from mockserver.analytics.engine import Engine, events_scale
from mockserver.auth import Authenticator
from mockserver.call import Call, Reply
from mockserver.clock import Clock
from mockserver.faults import PREFER, Faults, Injection
from mockserver.handlers import load_handlers
from mockserver.incoming import Incoming
from mockserver.journal import Entry, Journal
from mockserver.fragments import Fragments
from mockserver.memo import ReadMemo
from mockserver.negotiation import refuse_unknown_format
from mockserver.permissions import Permissions
from mockserver.ratelimit import Throttle
from mockserver.settings import Settings
from mockserver.snapshots import Snapshots
from mockserver.store import Store
from mockserver.strict import ResponseChecker, StrictModeViolation
from mockserver.validation import compile_validators
from posthog_spec import Router, Spec

logger = logging.getLogger("mockserver")

# Reads whose cost follows the data they go through (every click event of a window, the matches
# of a search) rather than a handful of rows: with a file database they run on a worker thread,
# on a read-only connection of its own, so the event loop goes on serving other requests.
SCANNING_READS = frozenset({"elements_stats_retrieve", "elements_values_list"})
# Posts that only read (a query's results are computed, and their cache write comes back in the
# reply), so they too run on a worker thread; an insight retrieve that may compute does as well.
COMPUTING = frozenset({"query_create"})


class MockServer:
    """The pipeline and everything it needs, built once at start-up."""

    def __init__(self, settings: Settings, spec: Spec, store: Store, clock: Clock):
        self.settings = settings
        self.spec = spec
        self.store = store
        self.clock = clock
        self.router = Router(spec.operations)
        self.validators = compile_validators(spec, spec.operations)
        self.handlers = load_handlers()
        missing = {op.base_id for op in spec.operations} - self.handlers.keys()
        if missing:
            raise RuntimeError(f"operations in the spec without a handler: {sorted(missing)}")
        self.memo = ReadMemo() if settings.memo == "on" else None
        self.fragments = Fragments() if settings.memo == "on" else None
        self.authenticator = Authenticator(store, clock, open_mode=settings.auth == "open", site_url=settings.site_url,
                                           texts=spec.texts)
        self.permissions = Permissions(spec.texts, settings.site_url)
        self.checker = ResponseChecker(spec) if settings.strict else None
        self.throttle = Throttle(clock, spec.texts) if settings.rate_limit == "posthog" else None
        self.workbench = sidecar.connect(store.db.path)
        self.journal = Journal(self.workbench, settings.journal_size,
                               writer=None if store.db.in_memory else sidecar.connect(store.db.path))
        self.faults = Faults(self.workbench, settings, spec.texts)
        self.snapshots = Snapshots(store)
        self.analytics = Engine(events_scale(settings.scale))
        self.server_errors = 0  # answers of the last resort: each one is a bug of the mock

    async def api(self, request: Request) -> Response:
        started = time.perf_counter()
        call: Call | None = None
        injection: Injection | None = None
        problems: list[str] = []
        crash: Exception | None = None
        try:
            self.store.db.notice_other_writers()
            routed = await self._route(request)
            if isinstance(routed, Response):
                return routed  # OPTIONS, answered by the router with the route's methods
            call = routed
            if self.faults.armed or PREFER in call.headers:
                injection = self.faults.plan(call)
            if injection is not None:
                await self.faults.wait(injection)
            if injection is not None and injection.replaces_answer:
                result = self.faults.answer(injection, call)
            else:
                self.authenticator.authenticate(call)
                self.permissions.authorize(call)
                if self.throttle:
                    self.throttle.check(call.operation, call.principal)
                result = await self._answer(call)
        except errors.APIError as error:
            problems.append(error.detail)
            result = rendering.error_response(error, head=request.method == "HEAD")
        except Exception as unexpected:  # the last resort: a bug of the mock answers in PostHog's shape
            crash = unexpected
            self.server_errors += 1
            logger.exception("unexpected error answering %s %s", request.method, request.scope["path"])
            problems.append(f"{type(unexpected).__name__}: {unexpected}")
            result = rendering.error_response(errors.error(self.spec.texts, "server_error"), head=request.method == "HEAD")
        operation = call.operation if call else None
        injected = injection is not None and injection.replaces_answer
        if crash is None and self.checker and operation is not None and request.method != "HEAD" and not injected:
            violations = self.checker.problems(operation, result.status_code, result.media_type or "", result.body, result.headers)
            if violations:
                self._note(request, call, result, problems + violations, started, injection)
                raise StrictModeViolation("; ".join(violations))
        self._note(request, call, result, problems, started, injection)
        if crash is not None and self.settings.strict:
            raise crash  # strict mode (the tests): a server error is a bug, and fails loudly
        return self.faults.slowed(injection, result) if injection is not None else result

    async def _route(self, request: Request) -> Call | Response:
        """The operation the method and path name, and the call that carries it down the pipeline."""
        match = self.router.match(request.method, request.scope["path"])
        if match is None:
            raise errors.error(self.spec.texts, "endpoint_not_found")
        if request.method == "OPTIONS":
            # Not an operation of the spec: the router answers with the route's methods, as DRF does.
            return Response(status_code=HTTPStatus.OK, headers={"Allow": ", ".join(match.route.allowed)})
        if match.operation is None:
            raise errors.method_not_allowed(self.spec.texts, request.method, match.route.allowed)
        refuse_unknown_format(request, match.operation, self.spec.texts)
        incoming = await Incoming.read(request, self.settings.max_body_bytes, self.spec.texts)
        return Call(request, incoming, match.operation, match.path_params, self.store, self.clock, self.spec, self.analytics,
                    self.fragments)

    async def _answer(self, call: Call) -> Response:
        """A remembered answer, or validate, handle and render (and remember when the read allows)."""
        lookup = self.memo.look_up(call) if self.memo else None
        if lookup is not None and lookup.answer is not None:
            return lookup.answer
        self.validators[call.operation.operation_id].validate(call)
        if self._scans(call):
            reply = await to_thread.run_sync(self._handle_elsewhere, call)
        else:
            with self.store.transaction(write=call.operation.is_write):
                reply = self.handlers[call.operation.base_id](call)
        if reply.writes:
            with self.store.transaction(write=True):
                for write in reply.writes:
                    write(self.store)
        result = rendering.render(call, reply)
        if lookup is not None:
            lookup.keep(call, result)
        return result

    def _scans(self, call: Call) -> bool:
        if not self.store.can_read_elsewhere:
            return False
        base_id = call.operation.base_id
        if base_id in COMPUTING:
            return True
        if call.operation.is_write:
            return False
        return base_id in SCANNING_READS or (base_id == "insights_list" and bool(call.query.get("search"))) or (
            base_id == "insights_retrieve" and call.query.get("refresh", "force_cache") != "force_cache")

    def _handle_elsewhere(self, call: Call) -> Reply:
        """On a worker thread: the handler over that thread's read-only connection."""
        call.store = self.store.reader()
        call.store.db.notice_other_writers()
        with call.store.transaction():
            return self.handlers[call.operation.base_id](call)

    def _note(self, request: Request, call: Call | None, result: Response, problems: list[str], started: float,
              injection: Injection | None) -> None:
        principal = call.principal if call else None
        key = principal.key if principal is not None else None
        caller = key.label if key is not None else f"session of {principal.user.email}" if principal is not None else None
        if caller is None and injection is not None and injection.replaces_answer:
            caller = self.faults.key_label(call)  # answered before authentication: the key it carried
        self.journal.add(Entry(
            at=self.clock.now(),
            method=request.method,
            path=request.scope["path"],
            operation_id=call.operation.operation_id if call else None,
            status=result.status_code,
            problems=tuple(problems),
            key_id=key.id if key is not None else None,
            query=request.scope.get("query_string", b""),
            duration_ms=(time.perf_counter() - started) * 1000,
            caller=caller,
            fault=injection.note() if injection is not None else None,
            request_type=call.headers.get("content-type") if call else None,
            request_body=call.incoming.body.raw if call else b"",
            response_type=result.media_type,
            response_body=result.body if isinstance(result.body, bytes) else b"",
        ))

    def reset(self) -> None:
        """Back to the seed (or the seed files): every row replaced in one transaction (a worker reading meanwhile sees
        the old state or the new one, never an empty store), the journal and rate limits emptied."""
        if self.settings.seed_files:
            seedfile.load_files(self.store, self.settings.seed_files, self.spec, self.clock)
        else:
            with self.store.transaction(write=True):
                self.store.db.clear()
                seed.load(self.store, self.settings, self.clock, self.spec)
        self.journal.clear()
        if self.throttle:
            self.throttle.clear()

