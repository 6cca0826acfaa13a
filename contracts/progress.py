"""How far a long run has got, on a terminal: suite, done / total, failures so far.

One line on stderr, rewritten in place at most a few times a second; nothing at all when stderr
is not a terminal or the run is in CI (`CI` set), unless asked for (`--progress always`).
"""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

REFRESH_S = 0.25


class Progress:
    def __init__(self, enabled: bool, stream: TextIO | None = None, clock=time.monotonic):
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.clock = clock
        self._shown_at = float("-inf")
        self._width = 0

    @classmethod
    def choose(cls, mode: str, stream: TextIO | None = None) -> "Progress":
        """`auto`: on a terminal outside CI; `always`; `never`."""
        stream = stream or sys.stderr
        if mode == "auto":
            return cls(stream.isatty() and not os.environ.get("CI"), stream)
        return cls(mode == "always", stream)

    def update(self, suite: str, done: int, total: int, unit: str, failures: int, *, final: bool = False) -> None:
        if not self.enabled:
            return
        now = self.clock()
        if not final and now - self._shown_at < REFRESH_S:
            return
        self._shown_at = now
        line = f"{suite}: {done}/{total} {unit}, {failures} failure{'s' if failures != 1 else ''} so far"
        self.stream.write("\r" + line.ljust(self._width))
        self._width = len(line)
        if final:
            self.stream.write("\n")
            self._width = 0
        self.stream.flush()
