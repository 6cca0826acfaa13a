"""The requests of each workload, as a frontend on the insights pages would send them.

Every request carries the all-access demo key (`Authorization: Bearer ...`). A workload is a
fixed sequence that wrk sends round-robin on every connection, so all targets see exactly the
same requests. A body may hold `%d`, which wrk replaces by a per-thread counter: PATCHes then
really change the insight (and log activity) instead of writing the same name again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

PROJECT = "/api/projects/1"
INSIGHTS = f"{PROJECT}/insights"


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # with its query string
    body: str | None = None  # JSON text; `%d` is a per-thread counter

    @property
    def key(self) -> str:
        """How the bare app finds its answer: the method and the full path (bodies are not looked at)."""
        return f"{self.method} {self.path}"

    def body_bytes(self, counter: int = 0) -> bytes | None:
        return None if self.body is None else self.body.replace("%d", str(counter)).encode()


@dataclass(frozen=True)
class Workload:
    name: str
    description: str
    requests: tuple[Request, ...]

    @property
    def writes(self) -> bool:
        return any(r.method not in ("GET", "HEAD") for r in self.requests)

    def distinct(self) -> list[Request]:
        """One request per key, in first-seen order (what the bare app must be able to answer)."""
        seen: dict[str, Request] = {}
        for request in self.requests:
            seen.setdefault(request.key, request)
        return list(seen.values())


def retrieve(insight_id: int) -> Request:
    return Request("GET", f"{INSIGHTS}/{insight_id}/")


LIST_PAGE = Request("GET", f"{INSIGHTS}/?limit=100")
# The "Saved insights" page: saved ones, last modified first, a page of 100.
LIST_FILTERED = Request("GET", f"{INSIGHTS}/?saved=true&order=-last_modified_at&limit=100")
TRENDING = Request("GET", f"{INSIGHTS}/trending/?days=7")
# A search with a typo: no insight contains it, so PostHog (and the mock) fall back to similar
# ones ("Weekly signups #..." are: pg_trgm similarity about 0.48).
SEARCH_NO_EXACT = Request("GET", f"{INSIGHTS}/?search=wekly%20signupz&limit=100")


def patch(insight_id: int) -> Request:
    return Request("PATCH", f"{INSIGHTS}/{insight_id}/", f'{{"name": "Bench edit %d of insight {insight_id}"}}')


def viewed(*insight_ids: int) -> Request:
    return Request("POST", f"{INSIGHTS}/viewed/", '{"insight_ids": [%s]}' % ", ".join(map(str, insight_ids)))


def _frontend_mix() -> tuple[Request, ...]:
    """100 requests: 40% retrieve, 25% lists, 15% trending, 12% viewed, 8% PATCH, in a fixed shuffle."""
    mix: list[Request] = []
    mix += [retrieve(1 + i % 10) for i in range(40)]
    mix += [LIST_PAGE] * 15 + [Request("GET", f"{INSIGHTS}/?limit=100&offset=100")] * 5 + [LIST_FILTERED] * 5
    mix += [TRENDING] * 15
    mix += [viewed(1 + i % 10) for i in range(12)]
    mix += [patch(2 + i % 4) for i in range(8)]
    random.Random(2026).shuffle(mix)
    return tuple(mix)


WORKLOADS: dict[str, Workload] = {w.name: w for w in (
    Workload("get_insight", "GET one insight", (retrieve(1),)),
    Workload("list_page", "GET a page of 100 insights", (LIST_PAGE,)),
    Workload("list_filtered", "GET a filtered page of 100 (saved, by last modified)", (LIST_FILTERED,)),
    Workload("trending", "GET trending insights (7 days)", (TRENDING,)),
    Workload("search_similar", "GET a search with no exact match (similar insights)", (SEARCH_NO_EXACT,)),
    Workload("patch_insight", "PATCH an insight's name", (patch(2),)),
    Workload("post_viewed", "POST viewed (three ids)", (viewed(1, 2, 3),)),
    Workload("mixed", "frontend mix: 40% retrieve, 25% list, 15% trending, 12% viewed, 8% PATCH", _frontend_mix()),
)}

# The reads repeated at every store size.
SCALE_READS = ("get_insight", "list_page", "list_filtered", "trending", "search_similar")
# At the largest size: GET insight measured alone and while searches run without pause beside it.
BESIDE_SLOW = ("get_insight", "search_similar")
# The two workloads the throughput targets name.
HEADLINE = ("get_insight", "list_page")


def select(names: tuple[str, ...]) -> list[Workload]:
    if not names:
        return list(WORKLOADS.values())
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        raise SystemExit(f"unknown workloads {unknown}; choose among {', '.join(WORKLOADS)}")
    return [WORKLOADS[n] for n in names]


def all_requests() -> list[Request]:
    """Every distinct request of every workload (what capture fetches once from the mock)."""
    seen: dict[str, Request] = {}
    for workload in WORKLOADS.values():
        for request in workload.distinct():
            seen.setdefault(request.key, request)
    return list(seen.values())
