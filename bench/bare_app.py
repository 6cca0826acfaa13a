"""The ceiling of our stack: Starlette + uvicorn answering, from memory, the bytes the mock answered.

No auth, no validation, no database and no middleware: only routing a request to a prepared
answer. Whatever the mock costs beyond this app is the mock's own work. The answers come from
bench/capture.py (a JSON file named by BENCH_BARE_ANSWERS), keyed by method and full path.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def load_answers(path: Path) -> dict[str, tuple[int, str | None, bytes]]:
    """{"GET /path?query": (status, content type, body)} from a capture file."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {
        key: (answer["status"], answer.get("content_type"), base64.b64decode(answer["body_b64"]))
        for key, answer in raw["answers"].items()
    }


def create_app() -> Starlette:
    answers = load_answers(Path(os.environ["BENCH_BARE_ANSWERS"]))

    async def answer(request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            await request.body()  # any real endpoint reads what it was sent
        query = request.scope["query_string"].decode("latin-1")
        key = f"{request.method} {request.scope['path']}" + (f"?{query}" if query else "")
        found = answers.get(key)
        if found is None:
            return Response(f"bare app: nothing captured for {key}", status_code=404, media_type="text/plain")
        status, content_type, body = found
        return Response(body, status_code=status, media_type=content_type)

    return Starlette(routes=[Route("/{path:path}", answer, methods=METHODS)])
