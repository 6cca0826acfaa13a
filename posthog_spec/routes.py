"""Routes from the spec: which operation a method and path name.

Like PostHog's router: the trailing slash is optional, and a path matches the first route whose
pattern fits regardless of method, literal routes before templated ones, so
`/insights/trending/` is the trending action and never an insight whose short_id is
"trending"; a method that route lacks answers 405 with `Allow`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Iterable

from posthog_spec.document import PARAM, Operation


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern[str]
    template: str
    operations: dict[str, Operation] = field(default_factory=dict)

    @property
    def allowed(self) -> list[str]:
        methods = set(self.operations)
        if "GET" in methods:
            methods.add("HEAD")
        return sorted(methods | {"OPTIONS"})


@dataclass(frozen=True)
class Match:
    route: Route
    operation: Operation | None
    path_params: dict[str, str]


class Router:
    def __init__(self, operations: Iterable[Operation]):
        routes: dict[str, Route] = {}
        for op in operations:
            route = routes.get(op.path) or routes.setdefault(op.path, Route(_compile(op.path), op.path))
            route.operations[op.method] = op
        # Literal routes first (fewer parameters), as Django tries them in registration order;
        # only routes with as many path segments can match, so they are looked up by that number.
        self.routes = sorted(routes.values(), key=lambda r: (len(PARAM.findall(r.template)), r.template))
        self.by_segments: dict[int, list[Route]] = {}
        for route in self.routes:
            self.by_segments.setdefault(_segments(route.template), []).append(route)

        self._found = functools.lru_cache(maxsize=4096)(self._route_of)

    def match(self, method: str, path: str) -> Match | None:
        """The route for the path (None: no route), and its operation for the method (None: 405)."""
        found = self._found(path)
        if found is None:
            return None
        route, params = found
        return Match(route, route.operations.get("GET" if method == "HEAD" else method), dict(params))

    def _route_of(self, path: str) -> tuple[Route, tuple[tuple[str, str], ...]] | None:
        """A path's route and parameters; remembered, since a frontend asks for the same paths again
        and again and trying the patterns one by one was a tenth of a remembered read's time."""
        for route in self.by_segments.get(_segments(path), ()):
            found = route.pattern.match(path)
            if found:
                return route, tuple(found.groupdict().items())
        return None


def _segments(path: str) -> int:
    return path.strip("/").count("/") + 1


def _compile(template: str) -> re.Pattern[str]:
    pattern, position = "", 0
    for param in PARAM.finditer(template):
        pattern += re.escape(template[position:param.start()]) + f"(?P<{param.group(1)}>[^/]+)"
        position = param.end()
    pattern += re.escape(template[position:].rstrip("/"))
    return re.compile(f"^{pattern}/?$")
