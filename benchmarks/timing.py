"""Timing shared by the benchmark scripts (each run as ``python benchmarks/<name>.py``)."""

from __future__ import annotations

import time


def best_time(function, repeats: int = 3) -> float:
    """Shortest wall time of ``repeats`` calls, in s."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)
