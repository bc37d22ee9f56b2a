"""Monte Carlo Sobol indices on a Saltelli design, with bootstrap confidence intervals.

First order: Saltelli et al. (2010), ``S_j = mean(B (AB_j - A)) / V``; total: Jansen
(1999), ``S_Tj = mean((A - AB_j)^2) / (2 V)``; ``V`` is the variance of the pooled
``A`` and ``B`` rows. As in SALib the output is standardised first (these estimators
are not shift invariant), so both give the same numbers on the same rows.

Both estimators are ratios of sample means over base samples, so a bootstrap
resample is a row of multinomial counts and all resamples are one matrix product.
"""

from __future__ import annotations

import numpy as np

from uqms.sampling.saltelli import split_blocks

BOOTSTRAP_ENTRIES = 2**22  # resample counts held at once (32 MiB of int64)


def _features(a: np.ndarray, b: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """Per base sample: B(AB_j - A), (A - AB_j)^2/2 for every j, then A, A^2, B, B^2. Shape (N, 2d+4, m)."""
    return np.concatenate([b[:, None] * (ab - a[:, None]), 0.5 * (a[:, None] - ab) ** 2,
                           np.stack([a, a**2, b, b**2], axis=1)], axis=1)


def _ratios(means: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    """First and total indices from the means of the features (..., 2d+4, m)."""
    a, a2, b, b2 = (means[..., 2 * d + k, :] for k in range(4))
    variance = (a2 + b2) / 2 - ((a + b) / 2) ** 2
    return means[..., :d, :] / variance[..., None, :], means[..., d : 2 * d, :] / variance[..., None, :]


def standardise(values: np.ndarray) -> np.ndarray:
    """Rows of every column centred on their mean and scaled to unit standard deviation (ddof=0)."""
    return (values - values.mean(axis=0)) / values.std(axis=0)


def estimate(a: np.ndarray, b: np.ndarray, ab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First- and total-order indices ``(d, m)`` from blocks A, B ``(N, m)`` and AB ``(N, d, m)``."""
    return _ratios(_features(a, b, ab).mean(axis=0), ab.shape[1])


def bootstrap(a: np.ndarray, b: np.ndarray, ab: np.ndarray, resamples: int = 1000, confidence: float = 0.95,
              seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap intervals over base samples: ``(2, d, m)`` bounds of first and of total indices."""
    n, d = ab.shape[:2]
    features = _features(a, b, ab)
    rng = np.random.default_rng(seed)
    per_chunk = max(1, BOOTSTRAP_ENTRIES // n)  # resamples at a time: memory stays bounded for any n
    means = []
    for start in range(0, resamples, per_chunk):
        size = min(per_chunk, resamples - start)
        draws = rng.integers(n, size=(size, n))  # the same stream as one (resamples, n) draw
        counts = np.bincount((draws + n * np.arange(size)[:, None]).ravel(), minlength=size * n).reshape(size, n)
        means.append(np.tensordot(counts / n, features, axes=(1, 0)))  # (size, 2d+4, m)
    first, total = _ratios(np.concatenate(means), d)
    levels = [(1 - confidence) / 2, (1 + confidence) / 2]
    return np.quantile(first, levels, axis=0), np.quantile(total, levels, axis=0)


def saltelli_indices(values: np.ndarray, dim: int, resamples: int = 1000, confidence: float = 0.95, seed: int = 0) -> dict[str, np.ndarray]:
    """Indices and intervals from the rows of a Saltelli design (``uqms.sampling.saltelli`` layout).

    Args:
        values: ``(N*(dim+2),)`` or ``(N*(dim+2), m)`` outputs, rows in design order.
        dim: number of inputs (or input groups) of the design.
        resamples, confidence, seed: bootstrap settings.

    Returns:
        ``first``, ``total`` ``(dim, m)`` and ``first_interval``, ``total_interval`` ``(2, dim, m)``.
    """
    y = standardise(np.asarray(values, dtype=float).reshape(len(values), -1))
    a, b, ab = split_blocks(y, dim)
    first, total = estimate(a, b, ab)
    first_interval, total_interval = bootstrap(a, b, ab, resamples, confidence, seed)
    return {"first": first, "total": total, "first_interval": first_interval, "total_interval": total_interval}
