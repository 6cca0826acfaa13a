"""The ASGI application: the API pipeline under `/api/`, the admin surface and the workbench page
under `/_mock/` (`/` leads there), CORS.

This module only composes: the pipeline (pipeline.py) knows nothing of the admin surface, and
the admin surface (admin.py) is built on the pipeline's server.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver import admin, seed, seedfile, workbench
from mockserver.clock import Clock, iso
from mockserver.cors import CORS
from mockserver.pipeline import MockServer
from mockserver.settings import LOCAL_ORIGINS, Settings
from mockserver.store import Store
from posthog_spec import Spec, default_spec

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]


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
        if store.db.is_empty() and not settings.seed_files:
            seed.load(store, settings, clock, spec)
        if settings.seed_files and not settings.seed_files_loaded:
            _load_seed_files(store, settings, clock, spec)
    server = MockServer(settings, spec, store, clock)
    server.faults.install_flags(iso(clock.now()))

    async def root(request: Request) -> Response:
        if request.method in ("GET", "HEAD"):
            return await workbench.to_home(request)
        return await server.api(request)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        server.journal.flush()

    middleware = [Middleware(
        CORS,
        allow_origins=list(settings.cors_origins),
        allow_origin_regex=None if settings.cors_origins else LOCAL_ORIGINS,
        allow_methods=METHODS,
        allow_headers=["*"],
        allow_credentials=True,
        expose_headers=["Retry-After"],
    )]
    async def api(scope: Scope, receive: Receive, send: Send) -> None:
        response = await server.api(Request(scope, receive, send))
        await response(scope, receive, send)

    app = Starlette(middleware=middleware)
    # Every other path goes to the API pipeline too, whatever characters it holds.
    app.router = APIFirstRouter(api, spec.path_prefix, routes=[Route("/", root, methods=METHODS), *admin.routes(server)], default=api,
                                lifespan=lifespan)
    app.state.server = server
    return app


class APIFirstRouter(Router):
    """Paths under the spec's prefix (`/api/`) go to the pipeline before any route is tried. The root and the admin
    surface are the only routes; nearly every request is the API's, and it paid for trying them
    and for the default route's wrapping (a tenth of a remembered read's time in process). The
    pipeline answers every error itself, so the wrapping had nothing to catch."""

    def __init__(self, api: ASGIApp, prefix: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.api = api
        self.prefix = prefix

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            await self.api(scope, receive, send)
        else:
            await super().app(scope, receive, send)


def _load_seed_files(store: Store, settings: Settings, clock: Clock, spec: Spec) -> None:
    """The seed files, in place of the state. Under `--reload` a file just saved with a mistake
    leaves the state as it was and says why, so the next save can fix it."""
    try:
        seedfile.load_files(store, settings.seed_files, spec, clock)
    except seedfile.SeedFileError as problem:
        if not settings.reload:
            raise
        logging.getLogger("mockserver").error("seed files not loaded, the state is unchanged:\n%s", problem)
        if store.db.is_empty():
            seed.load(store, settings, clock, spec)


def create_app_from_env() -> Starlette:
    """For uvicorn workers: the settings come from POSTHOG_MOCK_* variables (see settings.py)."""
    return create_app(Settings.from_env())
