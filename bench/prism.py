"""Stoplight Prism as a peer: started on our spec, and what it made of it.

Prism is given spec/openapi.yaml as it is. Starting is not enough to call it loaded: Prism 5.14
parses YAML with merge keys switched off (@stoplight/json-schema-ref-parser, lib/parsers/yaml.js:
`mergeKeys: false`), so a `<<` would stay a literal key and whatever it should have merged would
be silently missing. The spec has none now (tests/test_spec_tooling.py keeps it so), and a few
probes prove Prism serves it; if one fails, the JSON rendering of the loaded spec (the mock's
GET /_mock/openapi.json) is measured instead, and the report keeps both outcomes so the spec's
fault is on record.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bench.settings import REPO_ROOT
from bench.targets import Server, TargetFailed, prism_launch, request_once, start, stop
from bench.workloads import INSIGHTS, TRENDING, Request

SPEC_YAML = REPO_ROOT / "spec" / "openapi.yaml"
OPENAPI_JSON = Request("GET", "/_mock/openapi.json")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
LEVEL = re.compile(r"\b(warning|error|fatal)\b", re.IGNORECASE)
MERGE_KEY = re.compile(r"^\s*(- )?<<:", re.MULTILINE)


@dataclass(frozen=True)
class Probe:
    """A request whose right answer depends on a part of the spec written with a merge key."""

    what: str
    request: Request
    holds: Callable[[int, bytes], bool]


PROBES = (
    Probe("operations merged into /api/environments/ answer (GET environments insight is 200)",
          Request("GET", "/api/environments/1/insights/1/"), lambda status, body: status == 200),
    Probe("body schemas merged from shared properties validate (PATCH name=123 is refused with 4xx)",
          Request("PATCH", f"{INSIGHTS}/2/", '{"name": 123}'), lambda status, body: 400 <= status < 500),
    Probe("examples merged from shared examples have no literal '<<' key (trending)",
          TRENDING, lambda status, body: status == 200 and b'"<<"' not in body),
)


def start_prism(
    prism: str, mock: Server, workdir: Path, probe: Request, headers: dict[str, str], stack: contextlib.ExitStack,
) -> tuple[Server | None, dict[str, object]]:
    """Prism on the YAML spec if it serves it faithfully, else on the JSON rendering (stopped by `stack`)."""
    report: dict[str, object] = {"merge_keys_in_yaml": len(MERGE_KEY.findall(SPEC_YAML.read_text(encoding="utf-8")))}
    chosen: Server | None = None
    for source in ("yaml", "json"):
        spec = SPEC_YAML if source == "yaml" else _json_rendering(mock, workdir)
        if spec is None:
            report[source] = {"loaded": False, "error": "the mock did not serve /_mock/openapi.json"}
            continue
        try:
            server = start(prism_launch(prism, spec, probe=probe, headers=headers), workdir)
        except TargetFailed as failure:
            report[source] = {"loaded": False, "error": _clean(str(failure))}
            continue
        checks = [_check(server, p, headers) for p in PROBES]
        faithful = all(c["holds"] for c in checks)
        report[source] = {"loaded": True, "faithful": faithful, "startup_s": round(server.startup_s, 2),
                          "probes": checks, "log": _warnings(server)}
        if chosen is None and faithful:
            chosen = server
            stack.callback(stop, server)
            report["spec_used"] = source
        else:
            stop(server)
        if chosen is not None:
            break
    if chosen is None:
        report["spec_used"] = None
    return chosen, report


def _check(server: Server, probe: Probe, headers: dict[str, str]) -> dict[str, object]:
    found = request_once(server.host, server.launch.port, probe.request, headers)
    status, body = (found[0], found[2]) if found else (0, b"")
    return {"what": probe.what, "request": probe.request.key, "status": status, "holds": probe.holds(status, body),
            "answer": body[:160].decode("utf-8", "replace")}


def _json_rendering(mock: Server, workdir: Path) -> Path | None:
    found = request_once(mock.host, mock.launch.port, OPENAPI_JSON, {})
    if found is None or found[0] != 200:
        return None
    path = workdir / "openapi.json"
    path.write_text(json.dumps(json.loads(found[2]), indent=1), encoding="utf-8")
    return path


def _warnings(server: Server) -> list[str]:
    """What Prism logged at warn level or above (its own progress lines left out)."""
    lines = [_clean(line) for line in server.log_text().splitlines()]
    return [line for line in lines if LEVEL.search(line)][:40]


def _clean(text: str) -> str:
    return ANSI.sub("", text).strip()
