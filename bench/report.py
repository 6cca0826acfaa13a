"""The results as a table for people and as JSON for the record (bench/results/<timestamp>.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

THROUGHPUT_TARGET = 0.5  # mock >= 50% of bare Starlette (issue 5)
PRISM_TARGET = 3.0  # mock >= 3x Prism
P99_TARGET_MS = 25.0  # filtered page of 100 at 100k insights, moderate load
# Issue 15: the frontend mix and its parts, side by side at the run's connections (64 by default).
MIX_TARGETS = {"mixed": ("mock", 0.3), "list_page": ("nomemo", 0.3)}  # workload: (target, share of bare)
MIX_PRISM_TARGET = 3.0
MIX_P99_TARGET_MS = 50.0
MIX_WORKLOADS = ("mixed", "patch_insight", "post_viewed", "trending")


def write_json(results: dict[str, Any], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = results["started_at"].replace(":", "").replace("-", "")
    path = directory / f"{stamp}.json"
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def render(results: dict[str, Any]) -> str:
    lines = _header(results)
    if "compare" in results:
        lines += [""] + _compare(results["compare"])
    if "scale" in results:
        lines += [""] + _scale(results["scale"])
    lines += [""] + _contracts(results.get("contracts", {"status": "skipped", "reason": "not run this time (--phases or --no-contracts)"}))
    compared = results.get("compare", {})
    lines += _profiles(compared.get("profiles"), results.get("scale"))
    lines += _prism(compared.get("prism"))
    return "\n".join(lines)


def _header(r: dict[str, Any]) -> list[str]:
    m, v, g = r["machine"], r["versions"], r.get("git", {})
    stamps = {phase: r[phase]["git"] for phase in ("compare", "scale", "contracts") if isinstance(r.get(phase), dict) and "git" in r[phase]}
    changed = [f"{phase} ran on code of {x.get('code', x['commit'])}{' (+ uncommitted ' + x['dirty'] + ')' if x['dirty'] else ''}"
               for phase, x in stamps.items() if (x.get("code"), x["dirty"]) != (g.get("code"), g.get("dirty"))]
    warning = [f"WARNING: the code changed during the run: {'; '.join(changed)}"] if changed else []
    return warning + [
        f"PostHog mock bench, {r['started_at']}{'  (QUICK MODE: figures are not meaningful)' if r['settings']['quick'] else ''}",
        f"machine: {m['cpu_count']} x {m['cpu_model']}, {m['memory_gib']} GiB, Python {m['python']}, {m['platform']}",
        f"load average at start: {' '.join(str(x) for x in m['loadavg_at_start'])}; at end: {' '.join(str(x) for x in r.get('loadavg_at_end', []))}",
        f"command: {r['command']}   (git {g.get('commit', '?')}, code of {g.get('code', '?')}"
        f"{', uncommitted changes in ' + g['dirty'] if g.get('dirty') else ''})",
        f"tools: wrk {v['wrk']}, Prism {v['prism']} (node {v['node']}), py-spy {v['py_spy']}; "
        f"uvicorn {v['uvicorn']} ({v['uvicorn_loop']}), starlette {v['starlette']}",
    ]


def _compare(c: dict[str, Any]) -> list[str]:
    lines = [
        f"Side by side: wrk {c['threads']} thread(s), {c['connections']} connections, {c['duration_s']} s x {c['rounds']} round(s); "
        f"project 1 holds {c['store_insights']} insights; {c['workers']} uvicorn worker(s)",
        "'others' = CPU cores used by other processes on the machine during the measurement (median).",
        "'KiB' = bytes per answer on the wire (headers included): Prism answers its spec examples, not the store.",
        "'nomemo' = the mock with --memo off: every read handled and rendered afresh (no remembered answers).",
        f"{'workload':<14} {'target':<6} {'req/s median [min-max]':>26} {'p50 ms':>8} {'p99 ms':>8} {'KiB':>6}  {'others':>6}  {'vs bare':>7}  statuses",
    ]
    for name, w in c["workloads"].items():
        bare = w["targets"].get("bare", {}).get("rps", {}).get("median")
        for i, (target, s) in enumerate(w["targets"].items()):
            rps = s["rps"]
            others = _median([m["cpu"].get("other_cores", 0.0) for m in w["rounds"][target]])
            kib = _median([m["bytes"] / m["requests"] / 1024 for m in w["rounds"][target] if m["requests"]])
            vs_bare = f"{rps['median'] / bare:.2f}" if bare else "-"
            bad = _errors(s["errors"])
            lines.append(
                f"{name if i == 0 else '':<14} {target:<6} {rps['median']:>9.0f} [{rps['min']:>6.0f}-{rps['max']:>6.0f}]"
                f" {s['p50_ms']['median']:>8.1f} {s['p99_ms']['median']:>8.1f} {kib:>6.1f}  {others:>6.2f}  {vs_bare:>7}  "
                f"{_statuses(w['statuses'][target])}{'  ' + bad if bad else ''}"
            )
    columns = ("mock/bare", "nomemo/bare", "prism/bare", "mock/prism", "nomemo/prism")
    lines += ["", f"{'ratios (median req/s)':<22} " + " ".join(f"{c:>12}" for c in columns)]
    for name, w in c["workloads"].items():
        lines.append(f"{name:<22} " + " ".join(f"{_num(w['ratios'].get(c)):>12}" for c in columns))
    if {"get_insight", "list_page"} & c["workloads"].keys():
        lines += ["", "targets (issue 5):"]
    for name in ("get_insight", "list_page"):
        if name in c["workloads"]:
            r = c["workloads"][name]["ratios"]
            for target in ("mock", "nomemo"):
                if r.get(f"{target}/bare") is None and r.get(f"{target}/prism") is None:
                    continue
                lines.append(f"  {name} {target}: {target}/bare {_num(r[f'{target}/bare'])} (target >= {THROUGHPUT_TARGET}:"
                             f" {_verdict(r[f'{target}/bare'], THROUGHPUT_TARGET)}), {target}/prism {_num(r[f'{target}/prism'])}"
                             f" (target >= {PRISM_TARGET}: {_verdict(r[f'{target}/prism'], PRISM_TARGET)})")
    lines += _mix_targets(c["workloads"])
    t = c["targets"]
    lines.append("servers: " + "; ".join(
        f"{n} start {x['startup_s']} s, RSS {x['rss_mib_idle']} MiB idle, {x.get('rss_mib_after', '-')} MiB after load" for n, x in t.items()))
    return lines


def _mix_targets(measured: dict[str, Any]) -> list[str]:
    """Issue 15's rows: the mix and its writes and trending against Prism and in p99; the mix and
    the uncached page against the bare app."""
    lines = ["", "targets (issue 15, frontend mix):"]
    for name in MIX_WORKLOADS:
        if name not in measured:
            continue
        w = measured[name]
        parts = []
        if w["ratios"].get("mock/prism") is not None:
            parts.append(f"mock/prism {_num(w['ratios']['mock/prism'])} (target >= {MIX_PRISM_TARGET}:"
                         f" {_verdict(w['ratios']['mock/prism'], MIX_PRISM_TARGET)})")
        p99 = w["targets"]["mock"]["p99_ms"]["median"]
        parts.append(f"p99 {p99:.1f} ms (target <= {MIX_P99_TARGET_MS:.0f}: {_verdict(MIX_P99_TARGET_MS - p99, 0)})")
        lines.append(f"  {name} mock: " + ", ".join(parts))
    for name, (target, share) in MIX_TARGETS.items():
        ratio = measured.get(name, {}).get("ratios", {}).get(f"{target}/bare")
        if ratio is not None:
            lines.append(f"  {name} {target}: {target}/bare {_num(ratio)} (target >= {share}: {_verdict(ratio, share)})")
    return lines if len(lines) > 2 else []


def _scale(s: dict[str, Any]) -> list[str]:
    load = s["load"]
    reads = list(s["sizes"][0]["reads"]) if s["sizes"] else []
    lines = [
        f"Scale (moderate load: {load['connections']} connections, each pausing {load['pace_ms']} ms between requests,"
        f" at most {load['max_rps']} req/s; {load['duration_s']} s x {load['rounds']} round(s)); p50/p99 in ms, medians over rounds",
        f"{'insights':>9} {'cold start':>10} {'warm start':>10} {'RSS idle':>9} {'RSS load':>9} {'db MiB':>7}  "
        + "  ".join(f"{r:>19}" for r in reads),
    ]
    for e in s["sizes"]:
        cells = []
        for r in reads:
            x = e["reads"][r]
            cells.append(f"{x['p50_ms']['median']:>7.1f} /{x['p99_ms']['median']:>7.1f}{'!' if _errors(x['errors']) else ' '}   ")
        lines.append(
            f"{e['insights']:>9} {e['cold_start_s']:>9.2f}s {e['warm_start_s']:>9.2f}s {e['rss_mib_idle']:>7.1f}Mi"
            f" {e['rss_mib_after_load']:>7.1f}Mi {e['db_mib']:>7.1f}  " + "".join(f"{c:>21}" for c in cells)
        )
    if s["sizes"]:
        achieved = [f"{r} {_median([x['rps']['median'] for x in [e['reads'][r] for e in s['sizes']]]):.0f}" for r in reads]
        lines.append("achieved req/s (median over sizes): " + ", ".join(achieved))
    for name, g in s.get("growth", {}).items():
        lines.append(f"  {name}: p50 grew x{_num(g['p50_ratio'])} from smallest to largest store"
                     f" (logarithmic growth would be x{g['logarithmic_ratio']}, linear x{g['linear_ratio']})")
    largest = s["sizes"][-1] if s["sizes"] else None
    if largest and "search_similar" in largest["reads"]:
        x = largest["reads"]["search_similar"]
        lines.append(f"  search with no exact match at {largest['insights']} insights: p50 {x['p50_ms']['median']:.1f} ms,"
                     f" p99 {x['p99_ms']['median']:.1f} ms")
    if largest and largest.get("beside_slow"):
        b = largest["beside_slow"]
        alone, beside = b["alone"]["latency_ms"], b["beside_slow"]["latency_ms"]
        slow = b["slow"]["rps"] if b.get("slow") else 0
        lines.append(f"  GET insight alone p50/p99 {alone.get('p50', 0):.1f}/{alone.get('p99', 0):.1f} ms; while searches run"
                     f" beside it ({slow:.0f} searches/s) {beside.get('p50', 0):.1f}/{beside.get('p99', 0):.1f} ms"
                     f" (p99 x{_num(b['p99_ratio'])})")
    if largest and "list_filtered" in largest["reads"]:
        p99 = largest["reads"]["list_filtered"]["p99_ms"]["median"]
        lines.append(f"  filtered page of 100 at {largest['insights']} insights: p99 {p99:.1f} ms"
                     f" (target <= {P99_TARGET_MS:.0f} ms at 100k: {_verdict(P99_TARGET_MS - p99, 0) if largest['insights'] >= 100_000 else 'n/a at this size'})")
    return lines


def _contracts(c: dict[str, Any]) -> list[str]:
    if c.get("status") == "skipped":
        return [f"Contract suite full run: {c['reason']}"]
    if c.get("status") == "timeout":
        return [f"Contract suite run: timed out after {c['wall_s']} s (target: a full run under 120 s)"]
    rate = f", {c['cases']} cases, {c['cases_per_s']} cases/s" if c.get("cases") else ", case counts not reported by the suite"
    lines = [f"Contract suite run ({c['mode']}): {c['status']} (exit {c['exit_code']}) in {c['wall_s']} s wall{rate}"
             f" (target: a full default run under 120 s)"]
    lines += [f"  {name:<12} {x['verdict']:<22} {x['cases']:>6} cases {x['seconds']:>7.1f} s" for name, x in c.get("suites", {}).items()]
    if c["status"] != "passed":
        lines += [f"  | {line}" for line in c.get("output_tail", [])[-5:]]
    return lines


def _profiles(profiles: dict[str, Any] | None, scale: dict[str, Any] | None) -> list[str]:
    found = dict(profiles or {})
    if scale and scale.get("sizes") and "profile_list_filtered" in scale["sizes"][-1]:
        found[f"list_filtered at {scale['sizes'][-1]['insights']} insights"] = scale["sizes"][-1]["profile_list_filtered"]
    if not found:
        return []
    if "skipped" in found:
        return ["", f"Profile: skipped ({found['skipped']})"]
    lines = ["", "Mock hot spots under load (py-spy; % of busy samples)"]
    for name, p in found.items():
        if "error" in p:
            lines.append(f"  {name}: {p['error']}")
            continue
        lines.append(f"  {name} ({p['samples']} samples) self time:")
        lines += [f"    {x['percent']:>5.1f}%  {x['function']}" for x in p["self"][:8]]
        lines.append("    inclusive (mock code and libraries):")
        lines += [f"    {x['percent']:>5.1f}%  {x['function']}" for x in p["inclusive"][:10]]
    return lines


def _prism(p: dict[str, Any] | None) -> list[str]:
    if not p:
        return []
    if "skipped" in p:
        return ["", f"Prism: left out ({p['skipped']})"]
    lines = ["", f"Prism {p.get('version')} and our spec ({p.get('merge_keys_in_yaml')} YAML merge keys `<<:` in spec/openapi.yaml):"]
    for source, label in (("yaml", "spec/openapi.yaml"), ("json", "JSON rendering (GET /_mock/openapi.json)")):
        if source not in p:
            continue
        outcome = p[source]
        if not outcome["loaded"]:
            lines.append(f"  {label}: NOT loaded: {outcome['error'][:600]}")
            continue
        verdict = "served faithfully" if outcome["faithful"] else "started, but NOT served faithfully"
        lines.append(f"  {label}: {verdict} (start-up {outcome['startup_s']} s)")
        for check in outcome["probes"]:
            mark = "ok  " if check["holds"] else "FAIL"
            answer = "" if check["holds"] else f": {check['answer'][:90]}"
            lines.append(f"    {mark} {check['what']} -> {check['status']}{answer}")
    lines.append(f"  measured with: {p.get('spec_used') or 'nothing (Prism left out)'}")
    return lines


def _statuses(counts: dict[str, int]) -> str:
    if len(counts) == 1:
        return next(iter(counts))
    return " ".join(f"{k}x{v}" for k, v in counts.items())


def _errors(errors: dict[str, int]) -> str:
    found = {k: v for k, v in errors.items() if v}
    return ("errors: " + ", ".join(f"{k} {v}" for k, v in found.items())) if found else ""


def _median(values: list[float]) -> float:
    data = sorted(values)
    if not data:
        return 0.0
    mid = len(data) // 2
    return data[mid] if len(data) % 2 else (data[mid - 1] + data[mid]) / 2


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _verdict(value: float | None, target: float) -> str:
    if value is None:
        return "not measured"
    return "met" if value >= target else "NOT met"
