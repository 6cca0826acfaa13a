"""The mock server: a Starlette application serving the spec with real state.

A request flows one way, each step a call into its own module:

    route -> authenticate -> authorize -> validate -> handle -> render -> (strict) check
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import request_response

from mockserver import admin, errors, permissions, rendering, seed
from mockserver.auth import Authenticator
from mockserver.clock import Clock
from mockserver.cors import CORS
from mockserver.handlers import CLOCK_FREE, Call, load_handlers
from mockserver.incoming import Incoming
from mockserver.journal import Entry, Journal
from mockserver.memo import ReadMemo
from mockserver.ratelimit import Throttle
from mockserver.routing import Router
from mockserver.settings import LOCAL_ORIGINS, Settings
from mockserver.spec import Spec, default_spec
from mockserver.store import Store
from mockserver.strict import ResponseChecker, StrictModeViolation
from mockserver.validation import compile_validators


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
        self.clock_free = dict(CLOCK_FREE)
        self.memo = ReadMemo() if settings.memo == "on" else None
        missing = {op.base_id for op in spec.operations} - self.handlers.keys()
        if missing:
            raise RuntimeError(f"operations in the spec without a handler: {sorted(missing)}")
        self.authenticator = Authenticator(store, clock, open_mode=settings.auth == "open", site_url=settings.site_url,
                                           texts=spec.texts)
        self.permissions = permissions.Permissions(spec, settings.site_url)
        self.legacy_writes = permissions.LegacyWrites(spec)
        self.checker = ResponseChecker(spec) if settings.strict else None
        self.throttle = Throttle(clock) if settings.rate_limit == "posthog" else None
        self.journal = Journal()

    async def api(self, request: Request) -> Response:
        operation, principal, problems = None, None, []
        head = request.method == "HEAD"
        self.store.db.notice_other_writers()
        try:
            match = self.router.match(request.method, request.scope["path"])
            if match is None:
                raise errors.endpoint_not_found()
            if request.method == "OPTIONS":
                return Response(status_code=200, headers={"Allow": ", ".join(match.route.allowed)})
            operation = match.operation
            if operation is None:
                raise errors.method_not_allowed(request.method, match.route.allowed)
            sent = await Incoming.read(request, self.settings.max_body_bytes)
            principal = self.authenticator.authenticate(operation, sent)
            self.permissions.authorize_operation(operation, principal)
            team = None
            if operation.project_param:
                team = permissions.resolve_team(self.store, principal, match.path_params[operation.project_param])
                self.permissions.authorize_project(principal, team, self.store)
            if self.throttle:
                self.throttle.check(operation, principal)
            memo_key = self._memo_key(request, operation, principal, sent)
            generation = self.store.db.generation
            answer = self.memo.get(memo_key, generation) if memo_key else None
            if answer is None:
                result = self._answer(request, match, operation, principal, team, sent, head, memo_key, generation)
            else:
                result = rendering.replay(answer)
        except errors.APIError as error:
            problems.append(error.detail)
            result = rendering.error_response(error, head=head)
        if self.checker and operation is not None and not head:
            violations = self.checker.problems(operation, result.status_code, result.media_type or "", result.body, result.headers)
            if violations:
                self._note(request, operation, principal, result.status_code, problems + violations)
                raise StrictModeViolation("; ".join(violations))
        self._note(request, operation, principal, result.status_code, problems)
        return result

    def _answer(self, request: Request, match: Any, operation: Any, principal: Any, team: Any, sent: Incoming,
                head: bool, memo_key: tuple | None, generation: int) -> Response:
        """Validate, handle and render; remember the answer when the read turns out clock-free."""
        validator = self.validators[operation.operation_id]
        path_values = validator.path(match.path_params)
        query_values = validator.query(dict(sent.query))
        self.legacy_writes.refuse(operation, sent.json())
        call = Call(
            operation=operation, principal=principal, team=team, path=path_values, query=query_values,
            body=validator.body(sent.json(), sent=sent.body.sent), request_url=lambda: str(request.url), headers=sent.headers,
            store=self.store, clock=self.clock,
        )
        with self.store.transaction(write=operation.is_write):
            reply = self.handlers[operation.base_id](call)
        as_csv = query_values.get("format") == "csv"
        result = rendering.response(reply.status, reply.body, as_csv=as_csv, empty=reply.empty, headers=reply.headers, head=head)
        if memo_key and 200 <= result.status_code < 300 and self.clock_free[operation.base_id](call):
            self.memo.put(memo_key, generation, rendering.answer_of(result))
        return result

    def _memo_key(self, request: Request, operation: Any, principal: Any, sent: Incoming) -> tuple | None:
        """The key of a bodiless GET of an operation that may be remembered, else None.

        It holds everything the answer can depend on besides the stored data: the caller and every
        part of the URL (page links are absolute). A remembered answer was validated and found
        clock-free for this very URL, so a hit skips validation too.
        """
        if self.memo is None or request.method != "GET" or sent.body.sent or operation.base_id not in self.clock_free:
            return None
        scope = request.scope
        server = tuple(scope["server"]) if scope.get("server") else None
        return (operation.operation_id, scope["scheme"], sent.headers.get("host"), server, scope.get("root_path", ""),
                scope["path"], scope["query_string"], principal.user.id, principal.key.id if principal.key else None)

    def _note(self, request: Request, operation: Any, principal: Any, status: int, problems: list[str]) -> None:
        self.journal.add(Entry(
            at=self.clock.now(),
            method=request.method,
            path=request.scope["path"],
            operation_id=operation.operation_id if operation else None,
            status=status,
            problems=problems,
            key_id=principal.key.id if principal is not None and principal.key is not None else None,
        ))

    def reset(self) -> None:
        """Back to the seed: every row replaced, the journal and rate limits emptied."""
        self.store.db.clear()
        seed.load(self.store, self.settings, self.clock)
        self.journal.clear()
        if self.throttle:
            self.throttle.clear()


def create_app(
    settings: Settings | None = None,
    *,
    spec: Spec | None = None,
    store: Store | None = None,
    clock: Clock | None = None,
) -> Starlette:
    """The ASGI app. With no store given, one is opened from `settings.db` and seeded if new."""
    settings = settings or Settings()
    spec = spec or default_spec()
    clock = clock or Clock()
    if store is None:
        store = Store.open(settings.db, reset=settings.reset)
        if store.db.is_empty():
            seed.load(store, settings, clock)
    server = MockServer(settings, spec, store, clock)

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
    middleware = [Middleware(
        CORS,
        allow_origins=list(settings.cors_origins),
        allow_origin_regex=None if settings.cors_origins else LOCAL_ORIGINS,
        allow_methods=methods,
        allow_headers=["*"],
        allow_credentials=True,
        expose_headers=["Retry-After"],
    )]
    app = Starlette(routes=admin.routes(server), middleware=middleware)
    # Every other path goes to the API pipeline, whatever characters it holds.
    app.router.default = request_response(server.api)
    app.state.server = server
    return app


def create_app_from_env() -> Starlette:
    """For uvicorn workers: the settings come from POSTHOG_MOCK_* variables (see settings.py)."""
    return create_app(Settings.from_env())
