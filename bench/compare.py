"""Side by side: the mock (memo on and off), the bare app and Prism under the same load, on the same machine.

All run at once, idle but for the one under load, and the rounds interleave them
(round 1: workload A on mock, bare, Prism; workload B ...), so a change in the machine's
background load during the run hits every target alike instead of one.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from bench import capture, hotspots, load, prism, stats, targets, workloads
from bench.console import say
from bench.settings import Settings
from bench.tools import Toolbox


def run(settings: Settings, toolbox: Toolbox, workdir: Path, headers: dict[str, str]) -> dict[str, object]:
    chosen = workloads.select(settings.workloads)
    probe = workloads.retrieve(1)
    heavy = load.Load(connections=settings.connections, duration_s=_seconds(settings.duration_s), threads=settings.threads)
    result: dict[str, object] = {
        "store_insights": settings.compare_scale, "connections": heavy.connections, "threads": heavy.threads,
        "duration_s": heavy.duration_s, "rounds": settings.rounds, "workers": settings.workers,
        "loop": settings.loop,
    }
    with contextlib.ExitStack() as stack:
        say(f"starting the mock (project 1 padded to {settings.compare_scale} insights)")
        mock = stack.enter_context(targets.running(targets.mock_launch(
            workdir / "compare.sqlite3", scale=settings.compare_scale, workers=settings.workers,
            probe=probe, headers=headers, loop=settings.loop), workdir))
        servers = {"mock": mock}
        if "nomemo" in settings.targets:
            say("starting the mock again with --memo off")
            servers["nomemo"] = stack.enter_context(targets.running(targets.mock_launch(
                workdir / "compare-nomemo.sqlite3", scale=settings.compare_scale, workers=settings.workers,
                probe=probe, headers=headers, memo=False, loop=settings.loop), workdir))
        answers_file = workdir / "bare-answers.json"
        result["captured"] = capture.as_dict(capture.capture_for_bare(mock, workloads.all_requests(), headers, answers_file))
        if "bare" in settings.targets:
            say("starting the bare Starlette app with the mock's answers")
            servers["bare"] = stack.enter_context(targets.running(targets.bare_launch(
                answers_file, workers=settings.workers, probe=probe, headers=headers, loop=settings.loop), workdir))
        if "prism" in settings.targets:
            result["prism"] = _start_prism(toolbox, mock, workdir, probe, headers, stack, servers)

        result["targets"] = {name: {"pid": s.pid, "startup_s": round(s.startup_s, 2), "rss_mib_idle": _mib(s.rss_kib())}
                             for name, s in servers.items()}
        statuses = {w.name: {name: capture.statuses(s, w, headers) for name, s in servers.items()} for w in chosen}

        if settings.warmup_s > 0:
            say(f"warming up every target ({_seconds(settings.warmup_s)} s per workload)")
            warm = load.Load(connections=heavy.connections, duration_s=_seconds(settings.warmup_s), threads=heavy.threads)
            for workload in chosen:
                for server in servers.values():
                    load.run(toolbox.wrk.path, server.base_url, workload, headers, warm)

        measured: dict[str, dict[str, list[load.Measurement]]] = {w.name: {n: [] for n in servers} for w in chosen}
        for round_no in range(1, settings.rounds + 1):
            for workload in chosen:
                for name, server in servers.items():
                    say(f"round {round_no}/{settings.rounds}  {workload.name:<14} {name}")
                    measured[workload.name][name].append(
                        load.run(toolbox.wrk.path, server.base_url, workload, headers, heavy, server_pid=server.pid))

        for name, server in servers.items():
            result["targets"][name].update(rss_mib_after=_mib(server.rss_kib()), peak_rss_mib=_mib(server.peak_rss_kib()))  # type: ignore[index]
        if settings.profile:
            result["profiles"] = _profile(settings, toolbox, mock, headers, workdir)

    result["workloads"] = {w.name: _summary(w, measured[w.name], statuses[w.name]) for w in chosen}
    return result


def _start_prism(toolbox: Toolbox, mock: targets.Server, workdir: Path, probe: workloads.Request,
                 headers: dict[str, str], stack: contextlib.ExitStack, servers: dict[str, targets.Server]) -> dict[str, object]:
    if toolbox.prism is None:
        say(f"Prism left out: {toolbox.prism_missing}")
        return {"skipped": toolbox.prism_missing}
    say(f"starting Prism {toolbox.prism.version} on spec/openapi.yaml")
    server, report = prism.start_prism(toolbox.prism.path, mock, workdir, probe, headers, stack)
    if server is not None:
        servers["prism"] = server
    else:
        say("Prism could not load the spec in either form; see the report")
    return {"version": toolbox.prism.version, **report}


def _profile(settings: Settings, toolbox: Toolbox, mock: targets.Server, headers: dict[str, str],
             workdir: Path) -> dict[str, object]:
    if toolbox.py_spy is None:
        return {"skipped": toolbox.py_spy_missing}
    out = {}
    for name in workloads.HEADLINE:
        say(f"profiling the mock under {name} with py-spy ({_seconds(settings.profile_s)} s)")
        out[name] = hotspots.profile(toolbox.py_spy.path, toolbox.wrk.path, mock, workloads.WORKLOADS[name], headers,
                                     settings.profile_s, settings.connections, workdir)
    return out


def _summary(workload: workloads.Workload, rounds: dict[str, list[load.Measurement]],
             statuses: dict[str, dict[str, int]]) -> dict[str, object]:
    per_target = {name: stats.summarize(ms) for name, ms in rounds.items()}
    rps = {name: s["rps"].get("median") for name, s in per_target.items()}  # type: ignore[union-attr]
    return {
        "description": workload.description,
        "statuses": statuses,
        "targets": per_target,
        "ratios": {
            "mock/bare": stats.ratio(rps.get("mock"), rps.get("bare")),
            "nomemo/bare": stats.ratio(rps.get("nomemo"), rps.get("bare")),
            "prism/bare": stats.ratio(rps.get("prism"), rps.get("bare")),
            "mock/prism": stats.ratio(rps.get("mock"), rps.get("prism")),
            "nomemo/prism": stats.ratio(rps.get("nomemo"), rps.get("prism")),
        },
        "rounds": {name: [m.as_dict() for m in ms] for name, ms in rounds.items()},
    }


def _seconds(value: float) -> int:
    return max(1, round(value))


def _mib(kib: int) -> float:
    return round(kib / 1024, 1)
