"""Stoplight Prism as a peer: started on our spec, and what it made of it.

Prism reads spec/openapi.yaml as it is (OpenAPI 3.1, YAML merge keys `<<:`). If it cannot, the
JSON rendering of the loaded spec (the mock's GET /_mock/openapi.json, merge keys resolved) is
tried, and the report keeps both outcomes so the spec's fault, if any, is on record.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

from bench.settings import REPO_ROOT
from bench.targets import Server, TargetFailed, prism_launch, request_once, start, stop
from bench.workloads import Request

SPEC_YAML = REPO_ROOT / "spec" / "openapi.yaml"
OPENAPI_JSON = Request("GET", "/_mock/openapi.json")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
LEVEL = re.compile(r"\b(warning|error|fatal)\b", re.IGNORECASE)


def start_prism(
    prism: str, mock: Server, workdir: Path, probe: Request, headers: dict[str, str], stack: contextlib.ExitStack,
) -> tuple[Server | None, dict[str, object]]:
    """Prism on the YAML spec, else on the mock's JSON rendering; the server is stopped by `stack`."""
    report: dict[str, object] = {}
    for source, spec in (("yaml", SPEC_YAML), ("json", None)):
        if spec is None:
            spec = _json_rendering(mock, workdir)
            if spec is None:
                report["json"] = {"loaded": False, "error": "the mock did not serve /_mock/openapi.json"}
                break
        try:
            server = start(prism_launch(prism, spec, probe=probe, headers=headers), workdir)
        except TargetFailed as failure:
            report[source] = {"loaded": False, "error": _clean(str(failure))}
            continue
        stack.callback(stop, server)
        report[source] = {"loaded": True, "startup_s": round(server.startup_s, 2), "warnings": _warnings(server)}
        report["spec_used"] = source
        return server, report
    report["spec_used"] = None
    return None, report


def _json_rendering(mock: Server, workdir: Path) -> Path | None:
    found = request_once(mock.host, mock.launch.port, OPENAPI_JSON, {})
    if found is None or found[0] != 200:
        return None
    path = workdir / "openapi.json"
    path.write_text(json.dumps(json.loads(found[2]), indent=1), encoding="utf-8")
    return path


def _warnings(server: Server) -> list[str]:
    """What Prism logged at start-up at warn level or above (its own progress lines left out)."""
    lines = [_clean(line) for line in server.log_text().splitlines()]
    return [line for line in lines if LEVEL.search(line)][:40]


def _clean(text: str) -> str:
    return ANSI.sub("", text).strip()
