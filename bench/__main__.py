"""`python -m bench [--quick] ...`: run every phase, print the table, write the JSON.

Phases: tools (install what is missing), side by side (mock, bare, Prism), scale (1k/10k/100k),
contract suite (when contracts/ has a CLI). Every server is started inside a `with` and stopped
on the way out, including on Ctrl-C and SIGTERM.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import importlib.util
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType

from bench import compare, contract_suite, machine, report, scale, tools
from bench.console import say
from bench.load import LoadFailed
from bench.settings import REPO_ROOT, Settings, parse_args
from bench.targets import TargetFailed


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    settings = parse_args(args)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        toolbox = _toolbox(settings)
    except tools.ToolUnavailable as missing:
        print(f"bench: cannot run: {missing}", file=sys.stderr)
        return 2

    from mockserver import seed  # the demo keys are the mock's; import late so --help stays fast

    key = seed.DEMO_KEYS[0].value
    headers = {"Authorization": f"Bearer {key}"}
    started = datetime.now(timezone.utc)
    results: dict[str, object] = {
        "started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": " ".join(["python -m bench", *map(shlex.quote, args)]),
        "machine": machine.describe(),
        "versions": {**toolbox.versions(), **_library_versions(settings.loop)},
        "git": _git_state(),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(settings).items()},
    }
    artifacts = settings.results_dir / results["started_at"].replace(":", "").replace("-", "")  # type: ignore[union-attr]
    with tempfile.TemporaryDirectory(prefix="posthog-bench-") as scratch:
        workdir = Path(scratch)
        try:
            # Others commit to this tree while we measure: each phase notes the code its servers ran.
            if "compare" in settings.phases:
                results["compare"] = {"git": _git_state(), **compare.run(settings, toolbox, workdir, headers)}
            if "scale" in settings.phases and settings.scales:
                results["scale"] = {"git": _git_state(), **scale.run(settings, toolbox, workdir, headers)}
            if "contracts" in settings.phases and settings.contracts:
                results["contracts"] = {"git": _git_state(), **contract_suite.run(settings, workdir, headers, key)}
        except (TargetFailed, LoadFailed) as failure:
            print(f"bench: failed: {failure}\n(server logs: {artifacts})", file=sys.stderr)
            return 1
        finally:
            _keep_artifacts(workdir, artifacts)
    results["loadavg_at_end"] = machine.loadavg()
    results["finished_at"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    results["artifacts"] = str(artifacts)
    table = report.render(results)
    results["table"] = table
    path = report.write_json(results, settings.results_dir)
    print(table)
    print(f"\nresults: {path}\nserver logs and py-spy stacks: {artifacts}")
    return 0


def _toolbox(settings: Settings) -> tools.Toolbox:
    say("checking tools")
    wrk = tools.ensure_wrk()
    prism = prism_missing = py_spy = py_spy_missing = None
    if "prism" in settings.targets and "compare" in settings.phases:
        try:
            prism = tools.ensure_prism()
        except tools.ToolUnavailable as missing:
            prism_missing = str(missing)
    if settings.profile:
        try:
            py_spy = tools.ensure_py_spy()
        except tools.ToolUnavailable as missing:
            py_spy_missing = str(missing)
    return tools.Toolbox(wrk, prism, prism_missing, py_spy, py_spy_missing)


def _library_versions(loop: str) -> dict[str, str]:
    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return {"uvicorn": version("uvicorn"), "starlette": version("starlette"), "uvicorn_loop": f"{loop}+{http}"}


def _git_state() -> dict[str, str]:
    """The commit measured, the last commit that changed the code under test, and uncommitted
    changes to it (others work in this tree while the bench runs)."""
    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return done.stdout if done.returncode == 0 else ""

    code_paths = ("mockserver", "spec", "contracts")
    porcelain = git("status", "--porcelain", "--", *code_paths).splitlines()
    changed = sorted({line[3:].split("/")[0] for line in porcelain if len(line) > 3})
    return {
        "commit": git("rev-parse", "--short", "HEAD").strip() or "unknown",
        "code": git("log", "-1", "--format=%h", "--", *code_paths).strip() or "unknown",  # last change to what runs
        "dirty": ", ".join(changed),
    }


def _keep_artifacts(workdir: Path, artifacts: Path) -> None:
    """Server logs, py-spy stacks and Prism's JSON spec outlive the scratch directory."""
    artifacts.mkdir(parents=True, exist_ok=True)
    for pattern in ("*.log", "profile-*.txt", "openapi.json"):
        for path in workdir.glob(pattern):
            shutil.copy2(path, artifacts / path.name)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds the `with` blocks, which stop the servers


if __name__ == "__main__":
    sys.exit(main())
