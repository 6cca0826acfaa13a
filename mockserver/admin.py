"""The mock's own surface, outside `/api/`: reset, mint keys, open sessions, recent requests.

It can mint keys and wipe the state, so no web page may reach it through the developer's
browser: unless the server was started with `--admin any`, it answers only clients on loopback,
under a loopback name (or one named with `--allowed-host`: DNS rebinding gives a foreign page a
name of its own), and its writes need a JSON body type (which a page can send cross-site only
after a CORS preflight) and no Origin the mock's CORS policy does not allow. Its answers use
PostHog's error shape, but its words and statuses are the mock's own, not PostHog's.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from mockserver import rendering, seed
from mockserver.auth import SESSION_COOKIE
from mockserver.clock import iso
from mockserver.errors import APIError
from mockserver.incoming import Incoming
from mockserver.pipeline import MockServer
from mockserver.projects import MAX_TEAM_ID
from mockserver.representations.keys import personal_api_key
from mockserver.settings import LOCAL_ORIGINS

# Starlette's TestClient calls itself "testclient" and the server "testserver".
LOOPBACK = {"127.0.0.1", "::1", "localhost", "testclient"}
LOOPBACK_NAMES = {"127.0.0.1", "[::1]", "localhost", "testserver"}
MAX_LABEL = 40  # PersonalAPIKey.label, posthog/models/personal_api_key.py
Endpoint = Callable[[Request], Awaitable[Response]]
logger = logging.getLogger("mockserver")


def routes(server: MockServer) -> list[Mount]:
    origins = re.compile(LOCAL_ORIGINS) if not server.settings.cors_origins else None

    def refusal(request: Request) -> APIError | None:
        """Why this request may not reach the admin surface, if it may not."""
        if server.settings.admin == "any":
            return None
        client = request.client.host if request.client else ""
        if client not in LOOPBACK:
            return _refused("The mock's admin surface answers on loopback only (start with --admin any).")
        host = request.headers.get("host", "").lower()
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if name not in LOOPBACK_NAMES and name not in server.settings.allowed_hosts:
            return _refused(f"The mock's admin surface answers to loopback names only, not {name!r}"
                            " (name it with --allowed-host).")
        origin = request.headers.get("origin")
        if origin is not None and not (origin in server.settings.cors_origins or (origins and origins.fullmatch(origin))):
            return _refused(f"The mock's admin surface refuses requests from the web page at {origin}.")
        if request.method == "POST" and _media_type(request) != "application/json":
            return APIError.of(server.spec.texts["unsupported_media_type"](media_type=request.headers.get("content-type", "")))
        return None

    def guarded(endpoint: Callable[[Request], Awaitable[Any]]) -> Endpoint:
        async def run(request: Request) -> Response:
            try:
                refused = refusal(request)
                if refused is not None:
                    raise refused
                return await endpoint(request)
            except APIError as error:
                return rendering.error_response(error)
            except Exception:  # the last resort, as on the API
                server.server_errors += 1
                logger.exception("unexpected error answering %s %s", request.method, request.url.path)
                if server.settings.strict:
                    raise
                return rendering.error_response(APIError.of(server.spec.texts["server_error"]()))
        return run

    async def reset(request: Request) -> Response:
        server.reset()
        return rendering.response(200, {"reset": True, "keys": seed.demo_keys_summary()})

    async def mint_key(request: Request) -> Response:
        body = await _json_object(server, request)
        scopes = body.get("scopes")
        if not isinstance(scopes, list) or not scopes or not all(isinstance(s, str) for s in scopes):
            raise _invalid("scopes must be a non-empty list of scopes, e.g. [\"insight:read\"].", "scopes")
        scoped_teams = body.get("scoped_teams")
        if scoped_teams is not None and not (
            isinstance(scoped_teams, list) and all(isinstance(t, int) and 0 < t <= MAX_TEAM_ID for t in scoped_teams)
        ):
            raise _invalid("scoped_teams must be a list of project ids.", "scoped_teams")
        label = body.get("label", "minted by the mock")
        if not isinstance(label, str) or not label or len(label) > MAX_LABEL:
            raise _invalid(f"label must be a text of 1 to {MAX_LABEL} characters.", "label")
        user_id = _user_id(server, body)
        with server.store.transaction(write=True):
            key, value = server.store.accounts.create_key(
                user_id=user_id, label=label, scopes=scopes,
                scoped_teams=scoped_teams or None, now=iso(server.clock.now()),
            )
        return rendering.response(201, {**personal_api_key(key), "value": value})

    async def open_session(request: Request) -> Response:
        body = await _json_object(server, request)
        user_id = _user_id(server, body)
        with server.store.transaction(write=True):
            cookie = server.store.accounts.create_session(user_id, iso(server.clock.now()))
        response = rendering.response(201, {SESSION_COOKIE: cookie, "user_id": user_id})
        response.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="lax")
        return response

    async def recent_requests(request: Request) -> Response:
        raw = request.query_params.get("limit", "100")
        limit = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 6 else 100
        return rendering.response(200, {"results": server.journal.recent(limit), "server_errors": server.server_errors})

    async def demo(request: Request) -> Response:
        return rendering.response(200, {"keys": seed.demo_keys_summary(), "projects": seed.DEMO_PROJECTS})

    async def take_snapshot(request: Request) -> Response:
        await _json_object(server, request)
        return rendering.response(201, {"snapshot": server.snapshots.take()})

    async def restore_snapshot(request: Request) -> Response:
        await _json_object(server, request)
        if not server.snapshots.restore(request.path_params["snapshot"]):
            raise _missing("No such snapshot.")
        return rendering.response(200, {"restored": request.path_params["snapshot"]})

    async def drop_snapshot(request: Request) -> Response:
        if not server.snapshots.drop(request.path_params["snapshot"]):
            raise _missing("No such snapshot.")
        return Response(status_code=204)

    async def openapi(request: Request) -> Response:
        return rendering.response(200, server.spec.document)

    return [Mount("/_mock", routes=[
        Route("/reset", guarded(reset), methods=["POST"]),
        Route("/keys", guarded(mint_key), methods=["POST"]),
        Route("/session", guarded(open_session), methods=["POST"]),
        Route("/requests", guarded(recent_requests), methods=["GET"]),
        Route("/demo", guarded(demo), methods=["GET"]),
        Route("/snapshots", guarded(take_snapshot), methods=["POST"]),
        Route("/snapshots/{snapshot}/restore", guarded(restore_snapshot), methods=["POST"]),
        Route("/snapshots/{snapshot}", guarded(drop_snapshot), methods=["DELETE"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ])]


async def _json_object(server: MockServer, request: Request) -> dict[str, Any]:
    """The body as the API reads bodies (size limit, JSON only, PostHog's parse errors); none is {}."""
    incoming = await Incoming.read(request, server.settings.max_body_bytes, server.spec.texts)
    body = incoming.json()
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise _invalid("Expected a JSON object.", None)
    return body


def _user_id(server: MockServer, body: dict[str, Any]) -> int:
    user_id = body.get("user_id", seed.DEMO_USER_ID)
    if not isinstance(user_id, int) or not 0 < user_id <= MAX_TEAM_ID or server.store.accounts.user(user_id) is None:
        raise _invalid("No such user.", "user_id")
    return user_id


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _invalid(detail: str, attr: str | None) -> APIError:
    return APIError(400, "validation_error", "invalid_input", detail, attr)


def _missing(detail: str) -> APIError:
    return APIError(404, "invalid_request", "not_found", detail)


def _refused(detail: str) -> APIError:
    return APIError(403, "authentication_error", "permission_denied", detail)
