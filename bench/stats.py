"""Medians and spread over rounds: the figure to quote and how much to trust it."""

from __future__ import annotations

import statistics
from typing import Iterable, Sequence

from bench.load import Measurement


def spread(values: Iterable[float]) -> dict[str, float]:
    """Median, min, max and the interquartile range (meaningful from about five rounds on)."""
    data = sorted(values)
    if not data:
        return {}
    out = {"median": round(statistics.median(data), 3), "min": round(data[0], 3), "max": round(data[-1], 3)}
    if len(data) >= 4:
        q1, _, q3 = statistics.quantiles(data, n=4)
        out.update(q1=round(q1, 3), q3=round(q3, 3))
    return out


def summarize(rounds: Sequence[Measurement]) -> dict[str, object]:
    """Throughput and latency over rounds; errors added up (a non-zero count taints the figures)."""
    errors: dict[str, int] = {}
    for m in rounds:
        for kind, count in m.errors.items():
            errors[kind] = errors.get(kind, 0) + count
    return {
        "rps": spread(m.rps for m in rounds),
        "p50_ms": spread(m.latency_ms["p50"] for m in rounds),
        "p99_ms": spread(m.latency_ms["p99"] for m in rounds),
        "requests": sum(m.requests for m in rounds),
        "errors": errors,
    }


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 3)
