"""What a bench run does, in one place: built from the command line, full or quick."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
NODE_DIR = BENCH_DIR / ".node"  # Prism's local npm install (gitignored)

# "nomemo" is the mock with --memo off: every read handled and rendered afresh.
TARGETS = ("mock", "nomemo", "bare", "prism")
PHASES = ("compare", "scale", "contracts")


@dataclass(frozen=True)
class Settings:
    """The knobs of one run. The defaults are the full run; `quick()` shrinks everything."""

    duration_s: float = 10.0
    warmup_s: float = 2.0
    rounds: int = 3
    connections: int = 64
    threads: int = 1
    workers: int = 1
    loop: str = "asyncio"  # the event loop of the mock and of the bare app (the mock's default)
    targets: tuple[str, ...] = TARGETS
    workloads: tuple[str, ...] = ()  # empty: all of them
    compare_scale: int = 1000  # insights in project 1 during the side-by-side runs (a full page of 100)
    scales: tuple[int, ...] = (1_000, 10_000, 100_000)
    # "Moderate load" for the scale reads: a few connections, paced to a total request rate.
    moderate_connections: int = 4
    moderate_rate: int = 100
    scale_duration_s: float = 10.0
    profile: bool = True
    profile_s: float = 8.0
    contracts: bool = True
    contracts_timeout_s: float = 600.0
    quick: bool = False
    phases: tuple[str, ...] = PHASES
    results_dir: Path = RESULTS_DIR

    @classmethod
    def quick_mode(cls, **changes: object) -> "Settings":
        """A second or so per workload, one round, no warm-up, small stores: proves the bench runs end to end."""
        values: dict[str, object] = dict(
            duration_s=1.0, warmup_s=0.0, rounds=1, connections=16, compare_scale=200, scales=(200, 1_000),
            scale_duration_s=1.0, profile_s=1.0, contracts_timeout_s=120.0, quick=True,
        )
        values.update(changes)
        return cls(**values)  # type: ignore[arg-type]


def parse_args(argv: list[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Throughput and latency of the mock vs a bare Starlette app and Prism; scale, memory, start-up.",
    )
    parser.add_argument("--quick", action="store_true", help="about a second per workload, one round, small stores")
    parser.add_argument("--duration", type=float, help="seconds of load per measurement (default 10)")
    parser.add_argument("--rounds", type=int, help="measurements per workload and target (default 3)")
    parser.add_argument("--connections", type=int, help="wrk connections for the side-by-side runs (default 64)")
    parser.add_argument("--threads", type=int, help="wrk threads (default 1)")
    parser.add_argument("--workers", type=int, help="uvicorn workers of the mock and the bare app (default 1)")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], help="event loop of the mock and the bare app (default asyncio)")
    parser.add_argument("--targets", help=f"comma-separated subset of {','.join(TARGETS)}")
    parser.add_argument("--workloads", help="comma-separated subset of the workloads (default all)")
    parser.add_argument("--compare-scale", type=int, help="insights in project 1 during the side-by-side runs")
    parser.add_argument("--scales", help="comma-separated store sizes for the scale runs, or 'none'")
    parser.add_argument("--phases", help=f"comma-separated subset of {','.join(PHASES)} (default all)")
    parser.add_argument("--no-profile", action="store_true", help="skip profiling the mock with py-spy")
    parser.add_argument("--no-contracts", action="store_true", help="skip the contract suite's run")
    parser.add_argument("--results-dir", type=Path, help="where to write the JSON (default bench/results)")
    args = parser.parse_args(argv)

    changes: dict[str, object] = {}
    for name, key in (("duration", "duration_s"), ("rounds", "rounds"), ("connections", "connections"),
                      ("threads", "threads"), ("workers", "workers"), ("loop", "loop"), ("compare_scale", "compare_scale"),
                      ("results_dir", "results_dir")):
        value = getattr(args, name)
        if value is not None:
            changes[key] = value
    if args.duration is not None:
        changes["scale_duration_s"] = args.duration
    if args.targets:
        targets = tuple(t.strip() for t in args.targets.split(",") if t.strip())
        unknown = set(targets) - set(TARGETS)
        if unknown or "mock" not in targets:
            parser.error(f"--targets: choose among {', '.join(TARGETS)}, and keep mock")
        changes["targets"] = targets
    if args.workloads:
        changes["workloads"] = tuple(w.strip() for w in args.workloads.split(",") if w.strip())
    if args.scales:
        changes["scales"] = () if args.scales == "none" else tuple(int(s) for s in args.scales.split(","))
    if args.phases:
        phases = tuple(p.strip() for p in args.phases.split(",") if p.strip())
        if not phases or set(phases) - set(PHASES):
            parser.error(f"--phases: choose among {', '.join(PHASES)}")
        changes["phases"] = phases
    if args.no_profile:
        changes["profile"] = False
    if args.no_contracts:
        changes["contracts"] = False
    settings = Settings.quick_mode(**changes) if args.quick else Settings(**changes)  # type: ignore[arg-type]
    if settings.rounds < 1 or settings.duration_s <= 0 or settings.workers < 1 or settings.connections < 1:
        parser.error("rounds, workers and connections must be at least 1, duration above 0")
    return settings
