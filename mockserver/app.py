"""The ASGI application: the API pipeline under `/api/`, the admin surface under `/_mock/`, CORS.

This module only composes: the pipeline (pipeline.py) knows nothing of the admin surface, and
the admin surface (admin.py) is built on the pipeline's server.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import request_response

from mockserver import admin, seed
from mockserver.clock import Clock
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
        if store.db.is_empty():
            seed.load(store, settings, clock, spec)
    server = MockServer(settings, spec, store, clock)

    middleware = [Middleware(
        CORS,
        allow_origins=list(settings.cors_origins),
        allow_origin_regex=None if settings.cors_origins else LOCAL_ORIGINS,
        allow_methods=METHODS,
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
