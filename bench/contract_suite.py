"""The contract suite's full default run against a fresh mock: wall time (issue 5: within 2 minutes).

The suite is `posthog-contracts run --base-url URL --project-id N --token KEY [--junit-xml PATH]`
(issue 4). Until contracts/ has that CLI the run is reported as not available: no figure is
made up for it.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from bench import targets, workloads
from bench.console import say
from bench.settings import REPO_ROOT, Settings

RUN_CLI = "import sys; from contracts.cli import main; sys.exit(main())"


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
                   "--token", key, "--junit-xml", str(junit)]
        say("contract suite: full default run against a fresh mock")
        began = time.perf_counter()
        try:
            done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True,
                                  timeout=settings.contracts_timeout_s)
        except subprocess.TimeoutExpired:
            return {"status": "timeout", "timeout_s": settings.contracts_timeout_s,
                    "command": _shown(command, key)}
        wall = time.perf_counter() - began
    return {
        "status": "passed" if done.returncode == 0 else "failed",
        "exit_code": done.returncode,
        "wall_s": round(wall, 1),
        "junit_testcases": _testcases(junit),
        "command": _shown(command, key),
        "output_tail": (done.stdout + done.stderr).strip().splitlines()[-15:],
    }


def _testcases(junit: Path) -> int | None:
    """Test cases in the JUnit report, if the CLI wrote one (the suite's own unit of work)."""
    if not junit.is_file():
        return None
    try:
        return sum(1 for _ in ElementTree.parse(junit).getroot().iter("testcase"))
    except ElementTree.ParseError:
        return None


def _shown(command: list[str], key: str) -> str:
    return " ".join(command).replace(key, "<all-access demo key>")
