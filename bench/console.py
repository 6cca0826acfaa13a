"""Progress lines on stderr, so stdout carries only the results table."""

from __future__ import annotations

import sys
import time

_STARTED = time.monotonic()


def say(message: str) -> None:
    elapsed = time.monotonic() - _STARTED
    print(f"[bench {elapsed:6.0f}s] {message}", file=sys.stderr, flush=True)
