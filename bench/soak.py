"""Soak: a served mock with two workers under mixed reads and writes, one worker killed half way.

`python -m bench.soak [--seconds 60] [--clients 8]` starts `posthog-mock serve --workers 2` on a
loopback port with a fresh database, runs the clients for the given time (and at most
`--max-requests` each), sends SIGKILL to one worker half way (uvicorn starts a new one), then
checks every write that was acknowledged: each client creates insights of its own and renames
them with increasing numbers, so an insight whose name is older than its last acknowledged
rename is a lost write. It prints, and writes as JSON under bench/results/: acknowledged writes
lost (must be 0), answers by status, transport errors (requests cut by the kill), p50/p99, and
the servers' resident memory before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.settings import REPO_ROOT, RESULTS_DIR

KEY = "phx_allaccess6468e5f613068522304ff1213007f098a5"  # the demo all-access key (README)
INSIGHTS = "/api/projects/1/insights"
QUERY = {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}]}
NAME = re.compile(r"^soak client (\d+) insight (\d+) rename (\d+)$")


@dataclass
class Client:
    """One client's own insights, the last rename of each it saw acknowledged, what it met."""

    number: int
    acknowledged: dict[int, int] = field(default_factory=dict)  # insight id -> rename number
    statuses: Counter = field(default_factory=Counter)
    transport_errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    renames: int = 0

    def run(self, base_url: str, until: float, max_requests: int) -> None:
        rng = random.Random(self.number)
        with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=30) as http:
            for _ in range(max_requests):
                if time.monotonic() > until:
                    return
                self.step(http, rng)

    def step(self, http: httpx.Client, rng: random.Random) -> None:
        roll = rng.random()
        own = list(self.acknowledged)
        if roll < 0.15 or not own:
            number = len(self.acknowledged) + 1
            self.send(http, "POST", f"{INSIGHTS}/", {"name": self.name(number, 0), "query": QUERY}, created=number)
        elif roll < 0.45:
            insight = rng.choice(own)
            self.renames += 1
            self.send(http, "PATCH", f"{INSIGHTS}/{insight}/", {"name": self.name(insight, self.renames)}, renamed=insight)
        elif roll < 0.55:
            self.send(http, "POST", f"{INSIGHTS}/viewed/", {"insight_ids": rng.sample(own, min(3, len(own)))})
        elif roll < 0.8:
            self.send(http, "GET", f"{INSIGHTS}/{rng.choice(own)}/")
        else:
            self.send(http, "GET", f"{INSIGHTS}/?limit=20")

    def name(self, insight: int, rename: int) -> str:
        return f"soak client {self.number} insight {insight} rename {rename}"

    def send(self, http: httpx.Client, method: str, path: str, body: object = None, *,
             created: int | None = None, renamed: int | None = None) -> None:
        started = time.perf_counter()
        try:
            response = http.request(method, path, json=body)
        except httpx.TransportError:
            self.transport_errors += 1  # cut by the kill: neither acknowledged nor an answer
            return
        self.latencies_ms.append((time.perf_counter() - started) * 1000)
        self.statuses[response.status_code] += 1
        if created is not None and response.status_code == 201:
            self.acknowledged[response.json()["id"]] = 0
        if renamed is not None and response.status_code == 200:
            self.acknowledged[renamed] = max(self.acknowledged[renamed], self.renames)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the clients run (default 60)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--max-requests", type=int, default=20_000, help="requests per client at most")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    record = soak(args.seconds, args.clients, args.max_requests)
    print(render(record))
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"soak-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps(record, indent=2), encoding="utf-8")
    print(f"results: {path}")
    return 0 if not record["writes"]["lost"] and not record["server_errors"] else 1


def soak(seconds: float, clients: int, max_requests: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="posthog-soak-") as scratch:
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "mockserver", "serve", "--workers", "2", "--port", str(port),
             "--db", str(Path(scratch) / "soak.sqlite3")],
            cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            _wait_until_ready(base_url, server)
            rss_before = _rss_kib(server.pid)
            workers = _workers(server.pid)
            runners = [Client(n) for n in range(1, clients + 1)]
            until = time.monotonic() + seconds
            threads = [threading.Thread(target=c.run, args=(base_url, until, max_requests)) for c in runners]
            for thread in threads:
                thread.start()
            time.sleep(seconds / 2)
            killed = workers[0] if workers else None
            if killed:
                os.kill(killed, signal.SIGKILL)
            for thread in threads:
                thread.join(seconds + 120)
            rss_after = _rss_kib(server.pid)
            lost = _lost_writes(base_url, runners)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            _, log = server.communicate(timeout=30)
    statuses = sum((c.statuses for c in runners), Counter())
    latencies = [ms for c in runners for ms in c.latencies_ms]
    return {
        "seconds": seconds, "clients": clients, "workers": 2, "killed_worker": killed,
        "requests": sum(statuses.values()), "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "transport_errors": sum(c.transport_errors for c in runners),
        "server_errors": sum(v for k, v in statuses.items() if k >= 500),
        "latency_ms": {"p50": _percentile(latencies, 50), "p99": _percentile(latencies, 99)},
        "writes": {"insights": sum(len(c.acknowledged) for c in runners),
                   "acknowledged_renames": sum(1 for c in runners for v in c.acknowledged.values() if v), "lost": lost},
        "rss_mib": {"before": round(rss_before / 1024, 1), "after": round(rss_after / 1024, 1)},
        "server_log_tail": log.decode(errors="replace").splitlines()[-5:],
    }


def _lost_writes(base_url: str, runners: list[Client]) -> list[dict[str, object]]:
    """Every acknowledged insight must exist with its last acknowledged rename (or a later one)."""
    lost = []
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=30) as http:
        for runner in runners:
            for insight, rename in runner.acknowledged.items():
                response = http.get(f"{INSIGHTS}/{insight}/")
                found = NAME.match(response.json().get("name") or "") if response.status_code == 200 else None
                if found is None or int(found.group(3)) < rename:
                    lost.append({"insight": insight, "expected_rename": rename, "status": response.status_code})
    return lost


def render(record: dict[str, object]) -> str:
    writes, rss, latency = record["writes"], record["rss_mib"], record["latency_ms"]  # type: ignore[index]
    return "\n".join([
        f"Soak: {record['clients']} clients, {record['seconds']} s, 2 workers, worker {record['killed_worker']} killed (SIGKILL) half way",
        f"  requests answered: {record['requests']} {record['statuses']}; transport errors (cut by the kill): {record['transport_errors']}",
        f"  p50 {latency['p50']} ms, p99 {latency['p99']} ms",  # type: ignore[index]
        f"  acknowledged writes: {writes['insights']} insights created, {writes['acknowledged_renames']} renamed;"  # type: ignore[index]
        f" lost: {len(writes['lost'])}",  # type: ignore[index]
        f"  server RSS (all processes): {rss['before']} MiB before, {rss['after']} MiB after",  # type: ignore[index]
    ])


def _workers(pid: int) -> list[int]:
    """uvicorn's worker processes (multiprocessing's resource tracker is a child too)."""
    return [child for child in _children(pid) if b"spawn_main" in _cmdline(child)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


def _rss_kib(pid: int) -> int:
    """Resident memory of the server and its workers."""
    total = 0
    for process in [pid, *_children(pid)]:
        try:
            status = Path(f"/proc/{process}/status").read_text()
        except OSError:
            continue
        total += int(next((line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")), 0))
    return total


def _percentile(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * percent / 100))], 2)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_ready(base_url: str, server: subprocess.Popen[bytes], workers: int = 2, timeout_s: float = 60) -> None:
    """Ready once the spec answers and, for a multi-worker mock, every worker is up."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the mock exited: {server.stderr.read().decode(errors='replace') if server.stderr else ''}")
        try:
            if httpx.get(f"{base_url}/_mock/openapi.json", timeout=1).status_code == 200 and len(_workers(server.pid)) >= workers:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the mock did not start within {timeout_s:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
