"""How long a run took, and how busy the machine was meanwhile.

A run's time means little without the machine's load: on a shared 2-core box the same default
run took 21 s alone and 75-87 s beside other work. So the report gives the wall time with the
CPU time this process used (an in-process target's included), the CPU time every other process
used in the same seconds (read from /proc/stat, where there is one), the cores, and the load
average at the start and the end.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

PROC_STAT = Path("/proc/stat")


@dataclass(frozen=True)
class RunTime:
    wall_s: float
    cpu_s: float  # used by this process
    others_cpu_s: float | None  # used by every other process meanwhile; None where the machine does not say
    cores: int
    load_at_start: float | None  # 1-minute load average
    load_at_end: float | None

    def summary(self) -> str:
        """One line for the console."""
        parts = [f"{self.wall_s:.1f} s on {self.cores} cores", f"this process used {self.cpu_s:.1f} CPU-s"]
        if self.others_cpu_s is not None:
            parts.append(f"other processes {self.others_cpu_s:.1f} CPU-s of the {self.wall_s * self.cores:.0f} there were")
        if self.load_at_start is not None and self.load_at_end is not None:
            parts.append(f"load average {self.load_at_start:.2f} at the start, {self.load_at_end:.2f} at the end")
        return "; ".join(parts)

    def properties(self) -> dict[str, str]:
        """The same figures as JUnit properties."""
        figures = {"wall_s": self.wall_s, "cpu_s": self.cpu_s, "others_cpu_s": self.others_cpu_s, "cores": self.cores,
                   "load_at_start": self.load_at_start, "load_at_end": self.load_at_end}
        return {name: f"{value:.2f}" if isinstance(value, float) else str(value)
                for name, value in figures.items() if value is not None}


class Stopwatch:
    """Started when made; `stop()` gives the RunTime. Every reading can be given (tests)."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, cpu: Callable[[], float] = time.process_time,
                 busy: Callable[[], float | None] | None = None, load: Callable[[], float | None] | None = None,
                 cores: int | None = None):
        self.clock, self.cpu = clock, cpu
        self.busy = busy or machine_busy_s
        self.load = load or load_average
        self.cores = cores or os.cpu_count() or 1
        self.started, self.cpu_started, self.busy_started, self.load_started = clock(), cpu(), self.busy(), self.load()

    def stop(self) -> RunTime:
        cpu = self.cpu() - self.cpu_started
        busy, busy_started = self.busy(), self.busy_started
        others = max(0.0, busy - busy_started - cpu) if busy is not None and busy_started is not None else None
        return RunTime(wall_s=self.clock() - self.started, cpu_s=cpu, others_cpu_s=others, cores=self.cores,
                       load_at_start=self.load_started, load_at_end=self.load())


def machine_busy_s() -> float | None:
    """CPU seconds every core has been busy since boot (Linux), or None."""
    try:
        fields = [int(value) for value in PROC_STAT.read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle and iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None
