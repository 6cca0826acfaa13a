"""What each target answers to each request, fetched once before any load.

The mock's answers become the bare app's answers (so both send the same bytes); every target's
statuses are kept for the report, because a fast 4xx is not a fast answer: a throughput figure
means something only next to the status it was measured with.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.targets import Server, request_once
from bench.workloads import Request, Workload


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str | None
    size: int


def fetch(server: Server, request: Request, headers: dict[str, str]) -> tuple[Answer, bytes]:
    found = request_once(server.host, server.launch.port, request, headers)
    if found is None:
        raise RuntimeError(f"{server.name} did not answer {request.key}:\n{server.log_tail()}")
    status, answer_headers, body = found
    return Answer(status, answer_headers.get("content-type"), len(body)), body


def capture_for_bare(mock: Server, requests: list[Request], headers: dict[str, str], path: Path) -> dict[str, Answer]:
    """Fetch every request from the mock (reads first, so writes do not change what reads saw)."""
    ordered = sorted(requests, key=lambda r: r.method != "GET")
    answers, stored = {}, {}
    for request in ordered:
        answer, body = fetch(mock, request, headers)
        answers[request.key] = answer
        stored[request.key] = {"status": answer.status, "content_type": answer.content_type,
                               "body_b64": base64.b64encode(body).decode("ascii")}
    path.write_text(json.dumps({"answers": stored}), encoding="utf-8")
    return answers


def statuses(server: Server, workload: Workload, headers: dict[str, str]) -> dict[str, int]:
    """How often each status answers the workload's sequence, e.g. {"200": 85, "201": 15}."""
    seen: dict[str, Answer] = {}
    for request in workload.distinct():
        seen[request.key] = fetch(server, request, headers)[0]
    counts = Counter(str(seen[r.key].status) for r in workload.requests)
    return dict(sorted(counts.items()))


def as_dict(answers: dict[str, Answer]) -> dict[str, dict[str, object]]:
    return {key: asdict(answer) for key, answer in answers.items()}
