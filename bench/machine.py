"""The machine a run happened on, and how busy it was with other work while we measured.

Figures from a shared 2-core box mean little without knowing what else ran: each measurement
records the CPU the server and wrk used and the CPU everything else used in the same seconds.
"""

from __future__ import annotations

import os
import platform
import resource
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.targets import process_tree

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def describe() -> dict[str, object]:
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": _memory_gib(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "loadavg_at_start": loadavg(),
    }


def loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


@dataclass(frozen=True)
class CpuSample:
    machine_busy: float  # seconds of CPU busy on all cores since boot
    server: float  # seconds of CPU used by the server's process tree
    children: float  # seconds of CPU of our reaped children (wrk, once it has exited)


class CpuMeter:
    """CPU seconds used during a measurement: by the server, by wrk, and by everything else."""

    def __init__(self, server_pid: int):
        self.server_pid = server_pid
        self.before = self._sample()

    def _sample(self) -> CpuSample:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return CpuSample(_machine_busy_s(), _tree_cpu_s(self.server_pid), usage.ru_utime + usage.ru_stime)

    def finish(self, seconds: float) -> dict[str, float]:
        after = self._sample()
        server = after.server - self.before.server
        wrk = after.children - self.before.children
        busy = after.machine_busy - self.before.machine_busy
        other = max(0.0, busy - server - wrk)
        per_s = (lambda v: round(v / seconds, 2)) if seconds > 0 else (lambda v: 0.0)
        # In cores: 1.0 means one core busy for the whole measurement.
        return {"server_cores": per_s(server), "wrk_cores": per_s(wrk), "other_cores": per_s(other)}


def _machine_busy_s() -> float:
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    # guest time is already counted in user time
    total = sum(fields[:8])
    return (total - idle) / CLOCK_TICKS


def _tree_cpu_s(pid: int) -> float:
    total = 0
    for member in process_tree(pid):
        try:
            after_name = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(after_name[11]) + int(after_name[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            continue
    return total / CLOCK_TICKS
