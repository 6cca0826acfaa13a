"""The mock's own cost per request, with no server, client or network in the way.

`python -m bench.inprocess [--calls 3000] [--rounds 5] [--workloads get_insight,list_page]`

The served bench (wrk against uvicorn) says what a user sees, but on a shared 2-core machine its
rounds move by a third from one run to the next, which drowns a few microseconds of per-request
work. Here each workload's requests (bench/workloads.py, the same ones wrk sends) are passed
straight to the ASGI apps in one process, round robin, and the best round is kept: the mock as
served (memo on), the mock with `--memo off`, and the bare Starlette app answering the bytes the
mock answered (bench/bare_app.py's ceiling). It reports microseconds per request and the
bare/mock ratio, which is the throughput ratio mock/bare without the server's share. Writes are
sent as wrk sends them (`%d` replaced by a counter), so PATCHes really change the insight.
Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from bench.workloads import WORKLOADS, Request, Workload
from mockserver.app import create_app
from mockserver.seed import DEMO_KEYS
from mockserver.settings import Settings

KEY = next(key.value for key in DEMO_KEYS if key.name == "all-access")
SCALE = 1000  # insights in project 1, as in the served bench's side-by-side runs
TARGETS = ("mock", "nomemo", "bare")
ASGI = Callable[..., Any]


@dataclass
class Sender:
    """Sends a workload's requests to one ASGI app, as a client on loopback would."""

    app: ASGI
    counter: int = 0

    async def send(self, request: Request) -> tuple[int, bytes]:
        self.counter += 1
        path, _, query = request.path.partition("?")
        body = request.body_bytes(self.counter) or b""
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": request.method,
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
                 "root_path": "", "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
                 "headers": [(b"host", b"127.0.0.1:8000"), (b"authorization", f"Bearer {KEY}".encode()),
                             (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]}
        answer: dict[str, Any] = {"body": b""}

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            else:
                answer["body"] += message.get("body", b"")

        await self.app(scope, receive, send)
        return answer["status"], answer["body"]


def bare_app(answers: dict[str, tuple[int, bytes]]) -> Starlette:
    """bench/bare_app.py's app over answers held in memory."""

    async def answer(request: Any) -> Response:
        if request.method not in ("GET", "HEAD"):
            await request.body()
        query = request.scope["query_string"].decode("latin-1")
        status, body = answers[f"{request.method} {request.scope['path']}" + (f"?{query}" if query else "")]
        return Response(body, status_code=status, media_type="application/json")

    return Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST", "PATCH"])])


async def timed(sender: Sender, workload: Workload, calls: int, rounds: int) -> float:
    """Microseconds per request, best round."""
    requests = workload.requests
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for n in range(calls):
            await sender.send(requests[n % len(requests)])
        best = min(best, (time.perf_counter() - started) / calls * 1e6)
    return best


async def measure(names: list[str], calls: int, rounds: int, directory: Path) -> list[dict[str, Any]]:
    mock = Sender(create_app(Settings(db=str(directory / "mock.sqlite3"), scale=SCALE)))
    nomemo = Sender(create_app(Settings(db=str(directory / "nomemo.sqlite3"), scale=SCALE, memo="off")))
    answers: dict[str, tuple[int, bytes]] = {}
    for name in names:
        for request in WORKLOADS[name].distinct():
            status, body = await mock.send(request)
            if status >= 400:
                raise SystemExit(f"the mock answered {status} to {request.key}: {body[:200]!r}")
            answers[request.key] = (status, body)
    bare = Sender(bare_app(answers))
    rows = []
    for name in names:
        workload = WORKLOADS[name]
        us = {target: await timed(sender, workload, calls, rounds)
              for target, sender in (("mock", mock), ("nomemo", nomemo), ("bare", bare))}
        rows.append({"workload": name, "us": us, "mock_over_bare": round(us["bare"] / us["mock"], 3),
                     "nomemo_over_bare": round(us["bare"] / us["nomemo"], 3)})
    return rows


def render(rows: list[dict[str, Any]], calls: int, rounds: int) -> str:
    lines = [f"In process ({calls} calls per round, best of {rounds} rounds; us per request, and bare/mock)",
             f"{'workload':16}{'mock us':>10}{'nomemo us':>11}{'bare us':>9}{'mock/bare':>11}{'nomemo/bare':>13}"]
    for row in rows:
        us = row["us"]
        lines.append(f"{row['workload']:16}{us['mock']:10.1f}{us['nomemo']:11.1f}{us['bare']:9.1f}"
                     f"{row['mock_over_bare']:11.3f}{row['nomemo_over_bare']:13.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000, help="requests per round (default 3000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per workload and target; the best is kept (default 5)")
    parser.add_argument("--workloads", default="get_insight,list_page,patch_insight,post_viewed,trending,mixed",
                        help="comma-separated, from bench/workloads.py")
    args = parser.parse_args(argv)
    names = args.workloads.split(",")
    unknown = [name for name in names if name not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads: {', '.join(unknown)} (known: {', '.join(WORKLOADS)})")
    with tempfile.TemporaryDirectory() as directory:
        rows = asyncio.run(measure(names, args.calls, args.rounds, Path(directory)))
    print(render(rows, args.calls, args.rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
