"""Where the mock spends its time under load: py-spy samples while wrk pushes one workload.

py-spy attaches to the running server from outside (no code in the mock changes) and writes
collapsed stacks; we rank functions by self time (the frame on top) and by inclusive time
(anywhere on the stack), both as a share of the samples in which the server was busy.
"""

from __future__ import annotations

import re
import subprocess
import threading
from collections import Counter
from pathlib import Path

from bench import load
from bench.settings import REPO_ROOT
from bench.targets import Server
from bench.workloads import Workload

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
TOP = 12


def profile(py_spy: str, wrk: str, server: Server, workload: Workload, headers: dict[str, str],
            seconds: float, connections: int, out_dir: Path) -> dict[str, object]:
    """Sample the server's busiest process for `seconds` while wrk loads it a little longer."""
    raw = out_dir / f"profile-{workload.name}.txt"
    pid = server.python_pids()[0]
    duration = max(1, round(seconds))
    spy = subprocess.Popen(
        [py_spy, "record", "--pid", str(pid), "--duration", str(duration), "--rate", "200",
         "--format", "raw", "--output", str(raw)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    result: dict[str, load.Measurement] = {}
    pushing = threading.Thread(target=lambda: result.update(m=load.run(
        wrk, server.base_url, workload, headers, load.Load(connections=connections, duration_s=duration + 1))))
    pushing.start()
    try:
        output, _ = spy.communicate(timeout=duration + 60)
    except subprocess.TimeoutExpired:
        spy.kill()
        output, _ = spy.communicate()
    pushing.join()
    if spy.returncode != 0 or not raw.exists():
        return {"error": f"py-spy failed ({spy.returncode}): {output.strip()[-400:]}"}
    ranked = rank(raw.read_text(encoding="utf-8", errors="replace"))
    ranked["raw_file"] = raw.name  # kept beside the JSON (see __main__._keep_artifacts)
    ranked["rps_while_sampling"] = result["m"].rps if "m" in result else None
    return ranked


def rank(collapsed: str) -> dict[str, object]:
    """Top functions by self and inclusive share of samples, from py-spy's raw (collapsed) output."""
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_name(frame) for frame in stack.split(";")]
        total += count
        self_time[frames[-1]] += count
        for name in set(frames):
            inclusive[name] += count
    share = lambda n: round(100 * n / total, 1) if total else 0.0  # noqa: E731
    return {
        "samples": total,
        "self": [{"function": name, "percent": share(n)} for name, n in self_time.most_common(TOP)],
        "inclusive": [{"function": name, "percent": share(n)} for name, n in _interesting(inclusive)],
    }


def _interesting(inclusive: Counter[str]) -> list[tuple[str, int]]:
    """Inclusive time of the mock's own functions and of the libraries it calls, minus the plumbing
    every request crosses (event loop, uvicorn, Starlette middleware), which is ~100% by definition."""
    plumbing = ("asyncio/", "uvicorn/", "runpy", "<frozen", "mockserver/cli.py", "mockserver/__main__.py",
                "starlette/middleware/", "starlette/applications.py", "starlette/routing.py", "starlette/_exception_handler.py")
    kept = [(name, n) for name, n in inclusive.most_common() if not any(p in name for p in plumbing)]
    return kept[:TOP]


def _name(frame: str) -> str:
    """`function (path/file.py:12)` -> `function (file path relative to the package)`."""
    match = FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match.group("file")
    for marker in ("site-packages/", f"{REPO_ROOT}/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{match.group('function')} ({path})"
