"""Timing shared by the benchmark scripts (each run as ``python benchmarks/<name>.py``)."""

from __future__ import annotations

import time


def timed(function, repeats: int = 3):
    """The last result of ``repeats`` calls of ``function()`` and the wall time of each, in s."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return result, times


def best_time(function, repeats: int = 3) -> float:
    """Shortest wall time of ``repeats`` calls, in s."""
    return min(timed(function, repeats)[1])
