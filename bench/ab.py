"""This checkout's mock against another commit's, served alternately on one workload.

    python -m bench.ab --against 91e6023 [--workloads mixed] [--pairs 3] [--duration 6]

On a shared 2-core machine one side-by-side run moves by a third between runs, more than most
changes do. Here each run starts both mocks afresh (the other commit's code from `git archive`,
with its own defaults: its event loop, its flags), warms each up, then measures them one after
the other in an order that alternates from pair to pair, so whatever else the machine does falls
on both. It prints every run and the medians, and writes the record as JSON under bench/results/.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path

from bench import load, targets, tools, workloads
from bench.settings import REPO_ROOT, RESULTS_DIR

SIDES = ("this", "other")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.splitlines()[0])
    parser.add_argument("--against", required=True, help="the commit (or any git revision) to compare with")
    parser.add_argument("--workloads", default="mixed", help="comma-separated workloads (default mixed)")
    parser.add_argument("--pairs", type=int, default=3, help="runs of each side per workload (default 3)")
    parser.add_argument("--duration", type=int, default=6, help="seconds measured per run (default 6)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before each measurement (default 2)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--scale", type=int, default=1000, help="insights in project 1 (default 1000)")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if args.pairs < 1 or args.duration < 1 or args.connections < 1:
        parser.error("pairs, duration and connections must be at least 1")
    chosen = workloads.select(tuple(w.strip() for w in args.workloads.split(",") if w.strip()))
    wrk = tools.ensure_wrk().path
    revision = _commit(args.against)
    from mockserver import seed  # the demo keys are the mock's (both commits seed the same demo)

    headers = {"Authorization": f"Bearer {seed.DEMO_KEYS[0].value}"}
    record: dict[str, object] = {"started_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                                 "command": " ".join(["python -m bench.ab", *(argv if argv is not None else sys.argv[1:])]),
                                 "this": _commit("HEAD") + (" (with uncommitted changes)" if _dirty() else ""),
                                 "other": revision, "workloads": {}}
    with tempfile.TemporaryDirectory(prefix="bench-ab-") as scratch:
        other_tree = Path(scratch) / "other"
        _export(revision, other_tree)
        trees = {"this": REPO_ROOT, "other": other_tree}
        for workload in chosen:
            runs: dict[str, list[load.Measurement]] = {side: [] for side in SIDES}
            for pair in range(args.pairs):
                for side in (SIDES if pair % 2 == 0 else SIDES[::-1]):
                    measured = _measure(trees[side], Path(scratch) / f"{side}-{workload.name}-{pair}", workload,
                                        headers, wrk, args)
                    runs[side].append(measured)
                    failed = sum(measured.errors.values())
                    print(f"{workload.name:<14} {side:<5} {measured.rps:>8.0f} req/s  p50 {measured.latency_ms['p50']:>7.1f}"
                          f"  p99 {measured.latency_ms['p99']:>7.1f} ms" + (f"  {failed} errors {measured.errors}" if failed else ""),
                          flush=True)
            record["workloads"][workload.name] = _summary(runs)  # type: ignore[index]
    print(_table(record, args.against))
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"ab-{str(record['started_at']).replace(':', '').replace('-', '')}.json"
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"results: {path}")
    return 0


def _measure(tree: Path, workdir: Path, workload: workloads.Workload, headers: dict[str, str], wrk: str,
             args: argparse.Namespace) -> load.Measurement:
    """A fresh mock of `tree` (a database of its own), warmed up, then measured."""
    workdir.mkdir(parents=True)
    launch = targets.mock_launch(workdir / "mock.sqlite3", scale=args.scale, workers=1, probe=workloads.retrieve(1),
                                 headers=headers, loop=None, cwd=tree)
    with targets.running(launch, workdir) as server:
        if args.warmup:
            load.run(wrk, server.base_url, workload, headers, load.Load(args.connections, args.warmup))
        return load.run(wrk, server.base_url, workload, headers, load.Load(args.connections, args.duration), server.pid)


def _summary(runs: dict[str, list[load.Measurement]]) -> dict[str, object]:
    out: dict[str, object] = {side: {"rps": [round(m.rps, 1) for m in ms], "p99_ms": [m.latency_ms["p99"] for m in ms],
                                     "errors": sum(sum(m.errors.values()) for m in ms),
                                     "rps_median": round(statistics.median(m.rps for m in ms), 1),
                                     "p99_ms_median": statistics.median(m.latency_ms["p99"] for m in ms)}
                              for side, ms in runs.items()}
    out["rps_ratio"] = round(out["this"]["rps_median"] / out["other"]["rps_median"], 3)  # type: ignore[index]
    return out


def _table(record: dict[str, object], against: str) -> str:
    lines = ["", f"this checkout ({record['this']}) against {against} ({record['other']}), medians:",
             f"{'workload':<14} {'req/s this':>11} {'req/s other':>12} {'ratio':>6} {'p99 this':>9} {'p99 other':>10}"]
    for name, s in record["workloads"].items():  # type: ignore[union-attr]
        lines.append(f"{name:<14} {s['this']['rps_median']:>11.0f} {s['other']['rps_median']:>12.0f} {s['rps_ratio']:>6.2f}"
                     f" {s['this']['p99_ms_median']:>9.1f} {s['other']['p99_ms_median']:>10.1f}")
    return "\n".join(lines)


def _commit(revision: str) -> str:
    done = subprocess.run(["git", "rev-parse", "--short", f"{revision}^{{commit}}"], cwd=REPO_ROOT, capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise SystemExit(f"bench.ab: {revision!r} is not a commit of this repository: {done.stderr.strip()}")
    return done.stdout.strip()


def _dirty() -> bool:
    return bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
                               capture_output=True, text=True).stdout.strip())


def _export(revision: str, into: Path) -> None:
    """The commit's files, as `git archive` gives them (no worktree to clean up)."""
    archive = subprocess.run(["git", "archive", "--format=tar", revision], cwd=REPO_ROOT, capture_output=True, check=True)
    into.mkdir(parents=True)
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")


if __name__ == "__main__":
    sys.exit(main())
