"""The contract suite's full default run against a fresh mock: wall time and examples per second
(issue 5: within 2 minutes).

The suite is `posthog-contracts run --base-url URL --project-id N --token KEY=SCOPES
[--junit-xml PATH]` (issue 4). Until contracts/ has that CLI the run is reported as not
available: no figure is made up for it. Examples per second come from the case counts the
suite itself prints per suite; when its output has none, none are reported.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import time
from pathlib import Path

from bench import targets, workloads
from bench.console import say
from bench.settings import REPO_ROOT, Settings

RUN_CLI = "import sys; from contracts.cli import main; sys.exit(main())"
# The suite's console summary: "<suite> PASSED|FAILED (n failures)  <cases> cases  <seconds> s"
SUITE_LINE = re.compile(r"^(?P<suite>\S+)\s+(?P<verdict>PASSED|FAILED \(\d+ failures?\))\s+(?P<cases>\d+) cases\s+(?P<seconds>[\d.]+) s\s*$")
# Quick mode proves the hook works; the full run uses the suite's own defaults.
QUICK_EXAMPLES = ["--examples", "2", "--scope-examples", "20", "--semantic-examples", "2"]


def unavailable_reason() -> str | None:
    """Why the suite cannot run yet, or None when contracts.cli has a main()."""
    try:
        spec = importlib.util.find_spec("contracts.cli")
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        return "not available yet: contracts/ has no cli.py (posthog-contracts run)"
    source = Path(spec.origin or "")
    if source.is_file() and "def main" not in source.read_text(encoding="utf-8", errors="replace"):
        return "not available yet: contracts/cli.py has no main()"
    return None


def run(settings: Settings, workdir: Path, headers: dict[str, str], key: str) -> dict[str, object]:
    reason = unavailable_reason()
    if reason:
        say(f"contract suite: {reason}")
        return {"status": "skipped", "reason": reason}
    probe = workloads.retrieve(1)
    junit = workdir / "contracts-junit.xml"
    with targets.running(targets.mock_launch(workdir / "contracts.sqlite3", scale=0, workers=settings.workers,
                                             probe=probe, headers=headers), workdir) as mock:
        command = [sys.executable, "-c", RUN_CLI, "run", "--base-url", mock.base_url, "--project-id", "1",
                   "--token", f"{key}=*", "--junit-xml", str(junit)]
        if settings.quick:
            command += QUICK_EXAMPLES
        say(f"contract suite: {'quick' if settings.quick else 'full default'} run against a fresh mock")
        began = time.perf_counter()
        try:
            done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True,
                                  timeout=settings.contracts_timeout_s)
        except subprocess.TimeoutExpired:
            return {"status": "timeout", "wall_s": settings.contracts_timeout_s, "command": _shown(command, key)}
        wall = time.perf_counter() - began
    suites = parse_suites(done.stdout)
    cases = sum(s["cases"] for s in suites.values()) if suites else None
    return {
        "status": "passed" if done.returncode == 0 else "failed",
        "mode": "quick (reduced examples)" if settings.quick else "full default",
        "exit_code": done.returncode,
        "wall_s": round(wall, 1),
        "suites": suites,
        "cases": cases,
        "cases_per_s": round(cases / wall, 1) if cases and wall else None,
        "run_time": run_time(done.stdout),
        "command": _shown(command, key),
        "output_tail": (done.stdout + done.stderr).strip().splitlines()[-15:],
    }


def parse_suites(output: str) -> dict[str, dict[str, object]]:
    """{suite: {verdict, cases, seconds}} from the suite's console summary lines."""
    found = {}
    for line in output.splitlines():
        match = SUITE_LINE.match(line.strip())
        if match:
            found[match.group("suite")] = {"verdict": match.group("verdict"), "cases": int(match.group("cases")),
                                           "seconds": float(match.group("seconds"))}
    return found


def run_time(output: str) -> str | None:
    """The suite's own account of its time and the machine's load ("time: ..."), if it gave one."""
    return next((line.removeprefix("time: ") for line in output.splitlines() if line.startswith("time: ")), None)


def _shown(command: list[str], key: str) -> str:
    return " ".join(command).replace(key, "<all-access demo key>")
