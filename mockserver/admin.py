"""The mock's own surface, outside `/api/`: reset, mint keys, open sessions, recent requests.

It answers only on loopback unless the server was started with `--admin any`. Its answers use
PostHog's error shape, but its words and statuses are the mock's own, not PostHog's.
"""

from __future__ import annotations

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

LOOPBACK = {"127.0.0.1", "::1", "localhost", "testclient"}
Endpoint = Callable[[Request], Awaitable[Response]]


def routes(server: MockServer) -> list[Mount]:
    def guarded(endpoint: Callable[[Request], Awaitable[Any]]) -> Endpoint:
        async def run(request: Request) -> Response:
            client = request.client.host if request.client else ""
            try:
                if server.settings.admin != "any" and client not in LOOPBACK:
                    raise _refused("The mock's admin surface answers on loopback only (start with --admin any).")
                return await endpoint(request)
            except APIError as error:
                return rendering.error_response(error)
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
        user_id = _user_id(server, body)
        with server.store.transaction(write=True):
            key, value = server.store.accounts.create_key(
                user_id=user_id, label=str(body.get("label", "minted by the mock")), scopes=scopes,
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
        return rendering.response(200, {"results": server.journal.recent(limit)})

    async def demo(request: Request) -> Response:
        return rendering.response(200, {"keys": seed.demo_keys_summary(), "projects": seed.DEMO_PROJECTS})

    async def openapi(request: Request) -> Response:
        return rendering.response(200, server.spec.document)

    return [Mount("/_mock", routes=[
        Route("/reset", guarded(reset), methods=["POST"]),
        Route("/keys", guarded(mint_key), methods=["POST"]),
        Route("/session", guarded(open_session), methods=["POST"]),
        Route("/requests", guarded(recent_requests), methods=["GET"]),
        Route("/demo", guarded(demo), methods=["GET"]),
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


def _invalid(detail: str, attr: str | None) -> APIError:
    return APIError(400, "validation_error", "invalid_input", detail, attr)


def _refused(detail: str) -> APIError:
    return APIError(403, "authentication_error", "permission_denied", detail)
