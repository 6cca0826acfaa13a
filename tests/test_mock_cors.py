"""The mock's CORS layer answers exactly as Starlette's CORSMiddleware with the same policy: it
only applies that policy more cheaply (mockserver/cors.py). Both wrap the same small app and get
the same requests; status, body and headers must match, header for header."""

from __future__ import annotations

import asyncio

import pytest
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from mockserver.cors import CORS
from mockserver.settings import LOCAL_ORIGINS

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
POLICIES = {
    "local origins (the default)": {"allow_origins": [], "allow_origin_regex": LOCAL_ORIGINS},
    "configured origins": {"allow_origins": ["https://app.example", "http://localhost:3000"], "allow_origin_regex": None},
    "any origin": {"allow_origins": ["*"], "allow_origin_regex": None},
}
REQUESTS = [
    ("GET", {}),
    ("GET", {"origin": "http://localhost:3000"}),
    ("GET", {"origin": "http://127.0.0.1:5173"}),
    ("GET", {"origin": "https://app.example"}),
    ("GET", {"origin": "https://evil.example"}),
    ("POST", {"origin": "http://localhost:3000", "content-type": "application/json"}),
    ("OPTIONS", {}),
    ("OPTIONS", {"origin": "http://localhost:3000"}),
    ("OPTIONS", {"origin": "http://localhost:3000", "access-control-request-method": "POST",
                 "access-control-request-headers": "authorization, content-type"}),
    ("OPTIONS", {"origin": "https://app.example", "access-control-request-method": "GET"}),
    ("OPTIONS", {"origin": "https://evil.example", "access-control-request-method": "GET"}),
    ("OPTIONS", {"origin": "http://localhost:3000", "access-control-request-method": "TEAPOT"}),
    ("OPTIONS", {"access-control-request-method": "GET"}),
]
ANSWERS = {
    "plain": {},
    "with a Vary of its own": {"Vary": "Accept, Accept-Encoding"},
    "with Retry-After": {"Retry-After": "3"},
}


def _inner(extra_headers: dict[str, str]):
    async def app(scope, receive, send):
        await Response(b'{"ok":true}', media_type="application/json", headers=extra_headers)(scope, receive, send)
    return app


def _call(app, method: str, headers: dict[str, str]) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    scope = {"type": "http", "method": method, "path": "/api/projects/1/insights/", "query_string": b"",
             "headers": [(k.encode(), v.encode()) for k, v in headers.items()]}
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], sorted(sent[0]["headers"]), b"".join(m.get("body", b"") for m in sent[1:])


@pytest.mark.parametrize("credentials", [True, False], ids=["credentials (the mock's)", "no credentials"])
@pytest.mark.parametrize("policy", POLICIES, ids=list(POLICIES))
@pytest.mark.parametrize("answer", ANSWERS, ids=list(ANSWERS))
def test_cors_answers_exactly_as_starlettes_middleware(policy, answer, credentials):
    options = {**POLICIES[policy], "allow_methods": METHODS, "allow_headers": ["*"], "allow_credentials": credentials,
               "expose_headers": ["Retry-After"]}
    ours, theirs = CORS(_inner(ANSWERS[answer]), **options), CORSMiddleware(_inner(ANSWERS[answer]), **options)
    for method, headers in REQUESTS:
        assert _call(ours, method, headers) == _call(theirs, method, headers), (method, headers)


def test_a_response_without_an_origin_still_says_it_varies_by_origin():
    status, headers, _ = _call(CORS(_inner({"Vary": "Accept"}), allow_origin_regex=LOCAL_ORIGINS), "GET", {})
    assert status == 200 and (b"vary", b"Accept, Origin") in headers
