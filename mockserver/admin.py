"""The mock's own surface, outside `/api/`: reset, mint keys, open sessions, the request journal,
fault rules, the state as JSON, and the workbench page built on all of them (workbench.py).

It can mint keys and wipe the state, so no web page may reach it through the developer's
browser: unless the server was started with `--admin any`, it answers only clients on loopback,
under a loopback name (or one named with `--allowed-host`: DNS rebinding gives a foreign page a
name of its own), and its writes need a JSON body type (which a page can send cross-site only
after a CORS preflight) and no Origin the mock's CORS policy does not allow (the workbench page
is served by the mock itself, so its own origin is always allowed). Its answers use
PostHog's error shape, but its words and statuses are the mock's own, not PostHog's.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from mockserver import faults, rendering, seed, seedfile, state, workbench
from mockserver.auth import SESSION_COOKIE
from mockserver.clock import iso
from mockserver.errors import APIError
from mockserver.incoming import Incoming
from mockserver.pipeline import MockServer
from mockserver.projects import MAX_TEAM_ID
from mockserver.representations.keys import personal_api_key
from mockserver.settings import LOCAL_ORIGINS, LOOPBACK_CLIENTS
from posthog_spec import fidelity

# Starlette's TestClient calls the server "testserver".
LOOPBACK = LOOPBACK_CLIENTS
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
        own_page = origin == f"{request.url.scheme}://{host}"
        if origin is not None and not own_page and not (
                origin in server.settings.cors_origins or (origins and origins.fullmatch(origin))):
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
        limit = _number(request.query_params.get("limit")) or 100
        results = server.journal.recent(limit, status=request.query_params.get("status"),
                                        operation=request.query_params.get("operation") or None,
                                        after=_number(request.query_params.get("after")))
        return rendering.response(200, {"results": results, "server_errors": server.server_errors, "worker": server.journal.worker})

    async def one_request(request: Request) -> Response:
        found = server.journal.entry(_number(request.path_params["entry"]) or 0)
        if found is None:
            raise _missing("No such request in the journal.")
        return rendering.response(200, found)

    async def forget_requests(request: Request) -> Response:
        server.journal.clear()
        return Response(status_code=204)

    async def list_faults(request: Request) -> Response:
        rules = server.faults.rules()
        return rendering.response(200, {"active": bool(rules), "rules": rules, "statuses": server.faults.statuses(),
                                        "prefer": server.settings.prefer, "fault_seed": server.settings.fault_seed})

    async def add_fault(request: Request) -> Response:
        body = await _json_object(server, request)
        try:
            return rendering.response(201, server.faults.add(body, now=iso(server.clock.now())))
        except faults.RuleProblem as problem:
            raise _invalid(problem.detail, problem.attr or None) from None

    async def clear_faults(request: Request) -> Response:
        return rendering.response(200, {"removed": server.faults.clear()})

    async def drop_fault(request: Request) -> Response:
        if not server.faults.remove(request.path_params["rule"]):
            raise _missing("No such fault rule.")
        return Response(status_code=204)

    async def export_state(request: Request) -> Response:
        raw = request.query_params.get("project")
        project = _number(raw) if raw is not None else None
        if raw is not None and (project is None or server.store.accounts.project(project) is None):
            raise _invalid("project must be the id of a project of the mock.", "project")
        return rendering.response(200, state.export(server.store, project=project))

    async def load_state(request: Request) -> Response:
        body = await _json_object(server, request)
        try:
            loaded = seedfile.load_documents(server.store, [seedfile.Document("request body", body)], server.spec,
                                             server.clock)
        except seedfile.SeedFileError as problem:
            raise _invalid(str(problem), None) from None
        return rendering.response(200, {"loaded": loaded})

    async def overview(request: Request) -> Response:
        return rendering.response(200, state.overview(server, base_url=f"{request.url.scheme}://{request.url.netloc}"))

    async def fidelity_notes(request: Request) -> Response:
        return rendering.response(200, {"sections": fidelity.sections(server.spec)})

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
        *workbench.routes(guarded),
        Route("/overview", guarded(overview), methods=["GET"]),
        Route("/fidelity", guarded(fidelity_notes), methods=["GET"]),
        Route("/faults", guarded(list_faults), methods=["GET"]),
        Route("/faults", guarded(add_fault), methods=["POST"]),
        Route("/faults", guarded(clear_faults), methods=["DELETE"]),
        Route("/faults/{rule}", guarded(drop_fault), methods=["DELETE"]),
        Route("/requests/{entry}", guarded(one_request), methods=["GET"]),
        Route("/requests", guarded(forget_requests), methods=["DELETE"]),
        Route("/state", guarded(export_state), methods=["GET"]),
        Route("/state", guarded(load_state), methods=["POST"]),
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


def _number(raw: str | None) -> int | None:
    """A whole number from a query or path value (at most 18 digits), else None."""
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) <= 18 else None


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _invalid(detail: str, attr: str | None) -> APIError:
    return APIError(400, "validation_error", "invalid_input", detail, attr)


def _missing(detail: str) -> APIError:
    return APIError(404, "invalid_request", "not_found", detail)


def _refused(detail: str) -> APIError:
    return APIError(403, "authentication_error", "permission_denied", detail)
