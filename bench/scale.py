"""The mock as its store grows: the same reads at 1k, 10k and 100k insights, start-up and memory.

Reads run at a moderate, paced load (a few connections, a capped request rate) so latency shows
the cost of a request rather than queueing behind others. Each size gets a fresh database: the
first start seeds it (cold start), the second opens the existing file (warm start), and the
reads are measured on the warm server. The mock runs with `--memo off`: the same read is sent
again and again, and a remembered answer would hide the store's cost, which is what grows.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path

from bench import capture, hotspots, load, stats, targets, workloads
from bench.console import say
from bench.settings import Settings
from bench.tools import Toolbox


def run(settings: Settings, toolbox: Toolbox, workdir: Path, headers: dict[str, str]) -> dict[str, object]:
    reads = [workloads.WORKLOADS[name] for name in workloads.SCALE_READS]
    moderate = load.Load.paced(settings.moderate_connections, settings.moderate_rate, max(1, round(settings.scale_duration_s)))
    probe = workloads.retrieve(1)
    sizes: list[dict[str, object]] = []
    for size in settings.scales:
        db = workdir / f"scale-{size}.sqlite3"
        launch = lambda: targets.mock_launch(db, scale=size, workers=settings.workers, probe=probe, headers=headers, memo=False,  # noqa: E731
                                             loop=settings.loop)
        say(f"scale {size}: cold start (seeding {size} insights)")
        with targets.running(launch(), workdir) as cold:
            cold_s, cold_rss = cold.startup_s, cold.rss_kib()
        say(f"scale {size}: warm start")
        with targets.running(launch(), workdir) as mock:
            entry: dict[str, object] = {
                "insights": size, "cold_start_s": round(cold_s, 2), "warm_start_s": round(mock.startup_s, 2),
                "rss_mib_after_cold_start": _mib(cold_rss), "rss_mib_idle": _mib(mock.rss_kib()),
                "db_mib": _db_mib(db),
                "statuses": {w.name: capture.statuses(mock, w, headers) for w in reads},
            }
            rounds: dict[str, list[load.Measurement]] = {w.name: [] for w in reads}
            for round_no in range(1, settings.rounds + 1):
                for workload in reads:
                    say(f"scale {size}: round {round_no}/{settings.rounds} {workload.name}")
                    rounds[workload.name].append(
                        load.run(toolbox.wrk.path, mock.base_url, workload, headers, moderate, server_pid=mock.pid))
            if size == max(settings.scales):
                say(f"scale {size}: GET insight while searches run beside it")
                entry["beside_slow"] = beside_slow(settings, toolbox, mock, headers, moderate)
            entry["rss_mib_after_load"] = _mib(mock.rss_kib())
            entry["peak_rss_mib"] = _mib(mock.peak_rss_kib())
            entry["reads"] = {name: {**stats.summarize(ms), "rounds": [m.as_dict() for m in ms]} for name, ms in rounds.items()}
            if settings.profile and toolbox.py_spy is not None and size == max(settings.scales):
                say(f"scale {size}: profiling list_filtered with py-spy")
                entry["profile_list_filtered"] = hotspots.profile(
                    toolbox.py_spy.path, toolbox.wrk.path, mock, workloads.WORKLOADS["list_filtered"], headers,
                    settings.profile_s, settings.moderate_connections, workdir)
        sizes.append(entry)
    return {
        "load": {"connections": moderate.connections, "pace_ms": moderate.pace_ms, "max_rps": settings.moderate_rate,
                 "duration_s": moderate.duration_s, "rounds": settings.rounds},
        "sizes": sizes,
        "growth": growth(sizes),
    }


def beside_slow(settings: Settings, toolbox: Toolbox, mock: targets.Server, headers: dict[str, str],
                moderate: load.Load) -> dict[str, object]:
    """GET insight at moderate load, alone and then while two connections send searches without a
    pause: what a slow request costs the requests beside it (nothing, if it never holds the loop)."""
    quick, slow = (workloads.WORKLOADS[name] for name in workloads.BESIDE_SLOW)
    alone = load.run(toolbox.wrk.path, mock.base_url, quick, headers, moderate, server_pid=mock.pid)
    hammer = load.Load(connections=2, duration_s=moderate.duration_s + 2)
    found: dict[str, load.Measurement] = {}
    background = threading.Thread(target=lambda: found.setdefault(
        "slow", load.run(toolbox.wrk.path, mock.base_url, slow, headers, hammer)))
    background.start()
    beside = load.run(toolbox.wrk.path, mock.base_url, quick, headers, moderate, server_pid=mock.pid)
    background.join()
    return {"alone": alone.as_dict(), "beside_slow": beside.as_dict(),
            "slow": found["slow"].as_dict() if "slow" in found else None,
            "p99_ratio": stats.ratio(beside.latency_ms.get("p99"), alone.latency_ms.get("p99"))}


def growth(sizes: list[dict[str, object]]) -> dict[str, dict[str, float | None]]:
    """p50 at the largest size over p50 at the smallest, next to what log and linear growth would give."""
    if len(sizes) < 2:
        return {}
    small, large = sizes[0], sizes[-1]
    n_small, n_large = int(small["insights"]), int(large["insights"])  # type: ignore[arg-type]
    out: dict[str, dict[str, float | None]] = {}
    for name in large["reads"]:  # type: ignore[union-attr]
        p50_small = small["reads"][name]["p50_ms"].get("median")  # type: ignore[index]
        p50_large = large["reads"][name]["p50_ms"].get("median")  # type: ignore[index]
        out[name] = {
            "p50_ratio": stats.ratio(p50_large, p50_small),
            "logarithmic_ratio": round(math.log(n_large) / math.log(n_small), 3),
            "linear_ratio": round(n_large / n_small, 3),
        }
    return out


def _db_mib(db: Path) -> float:
    total = sum(p.stat().st_size for p in db.parent.glob(db.name + "*") if p.is_file())
    return round(total / 1024 / 1024, 1)


def _mib(kib: int) -> float:
    return round(kib / 1024, 1)
