"""The order the compiled steady-state kernel walks a batch in, against its definition.

:func:`uqms.models.microkinetics.batch_order.batch_order` (Morton key by shift-and-mask bit
spreading, numpy's quicksort with the ties put back in order) against the same function
with the key built bit by bit and sorted by numpy's stable sort (the definitions
tests/test_microkinetics_batch_order.py holds it to), on the descriptors of ammonia
samples (E_N uniform over -2..1 eV, N2 transition-state intercept normal(1.56, 0.1) eV,
6 site types 0.1 eV apart, 673 K): the key, the sort and the whole order, wall time in
one process, best and median of several repeats, alternating.

    python benchmarks/batch_order.py [repeats]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as in a batch's evaluation (uqms.execution.blas)
os.environ.setdefault("OMP_NUM_THREADS", "1")

import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.test_microkinetics_batch_order import interleaved
from uqms.chemistry.mechanism import load_mechanism
from uqms.models.microkinetics import batch_order as ordering
from uqms.models.microkinetics.from_energies import rate_constants_at


def features(n: int) -> np.ndarray:
    """Descriptors of n ammonia samples (the logs of their rate constants)."""
    rng = np.random.default_rng(1)
    mechanism = load_mechanism(ROOT / "workflows" / "ammonia_mechanism.toml")
    e_n = rng.uniform(-2.0, 1.0, n // 6)[:, None] + 0.1 * np.arange(-2.5, 3.0)[None, :]  # 6 site types
    intercept = np.repeat(rng.normal(1.56, 0.1, n // 6), 6)
    k = rate_constants_at(mechanism, np.full(e_n.size, 673.0), {"E_N": e_n.ravel(), "n2_ts_intercept": intercept})
    return ordering.descriptors(k.forward, k.reverse, None)


def by_definition(points: np.ndarray) -> np.ndarray:
    """batch_order with the bit-by-bit key and numpy's stable sort."""
    key, sort = ordering._morton_key, ordering._stable_argsort
    ordering._morton_key, ordering._stable_argsort = interleaved, lambda k: np.argsort(k, kind="stable")
    try:
        return ordering.batch_order(points)
    finally:
        ordering._morton_key, ordering._stable_argsort = key, sort


def compare(cases: dict, repeats: int) -> None:
    times = {label: [] for label in cases}
    for _ in range(repeats):
        for label, function in cases.items():
            start = time.perf_counter()
            function()
            times[label].append(time.perf_counter() - start)
    labels = list(cases)
    for label in labels:
        print(f"  {label:28s} best {min(times[label]) * 1e3:7.3f} ms   median {statistics.median(times[label]) * 1e3:7.3f} ms")
    for slow, fast in zip(labels[::2], labels[1::2], strict=True):
        print(f"  {slow} / {fast}: best {min(times[slow]) / min(times[fast]):.1f}x, "
              f"median {statistics.median(times[slow]) / statistics.median(times[fast]):.1f}x")


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; one process, best / median of {repeats}")
    for n in (12288, 31248):
        points = features(n)
        fast = ordering.batch_order(points)
        assert np.array_equal(fast, by_definition(points)), "the orders differ"
        finite = np.where(np.isfinite(points), points, 0.0)
        centred = finite - finite.mean(axis=0)
        components = centred @ np.linalg.eigh(centred.T @ centred)[1][:, ::-1][:, :4]
        levels = np.clip((components - components.min(0)) / np.ptp(components, 0).max() * 65536, 0, 65535).astype(np.uint64)
        key = ordering._morton_key(levels, 16)
        print(f"{n} samples ({len(np.unique(key))} distinct keys):")
        compare({"key bit by bit": lambda levels=levels: interleaved(levels, 16),
                 "key by spreading": lambda levels=levels: ordering._morton_key(levels, 16),
                 "stable sort (timsort)": lambda key=key: np.argsort(key, kind="stable"),
                 "quicksort, ties reordered": lambda key=key: ordering._stable_argsort(key),
                 "batch_order by definition": lambda points=points: by_definition(points),
                 "batch_order": lambda points=points: ordering.batch_order(points)}, repeats)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
