"""The order in which the compiled steady-state kernel walks a batch (continuation along the batch).

Each sample is started by Newton from the last one solved, so neighbours in descriptor
space (:func:`descriptors`) should come one after the other: :func:`batch_order` runs a
Morton (Z-order) curve through the leading principal components. Its key is built by
spreading each component's bits with a few shifts and masks, and sorted by numpy's
vectorised quicksort with the ties put back in order: the same order as a bit-by-bit
interleave (8x dearer) and numpy's stable sort (timsort, 2-3x dearer); see
benchmarks/batch_order.py.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


def descriptors(forward_k: np.ndarray, reverse_k: np.ndarray, coverage) -> np.ndarray:
    """What :func:`batch_order` orders the samples by (samples, few): the logs of the
    rate constants and, if any, the linear coverage terms L (the change of a log rate
    constant per unit coverage: on the scale of the logs)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        columns = [np.log(forward_k), np.log(reverse_k)]
    if coverage is not None:
        columns.append(coverage.linear.reshape(len(forward_k), -1))
    return np.concatenate(columns, axis=1)


def batch_order(features: np.ndarray, dimensions: int = 4, bits: int = 16) -> np.ndarray:
    """An order of the samples in which neighbours are close in ``features`` (samples, few):
    a Morton (Z-order) curve through the leading principal components.

    All components share one grid, that of the widest (between its 0.1 and 99.9 %
    quantiles, outliers clipped to its edges), so a component of little spread takes few
    of the curve's bits and round-off spread none. Samples of equal key keep their order.
    """
    if dimensions * bits > 64:
        raise ValueError(f"batch_order: {dimensions} dimensions of {bits} bits do not fit a 64-bit key")
    n = len(features)
    if n < 3:
        return np.arange(n)
    centred = np.where(np.isfinite(features), features, 0.0)
    centred -= centred.mean(axis=0)  # in place, as below: fresh arrays of a batch cost their page faults
    _, axes = np.linalg.eigh(centred.T @ centred)  # principal axes from the small covariance matrix
    components = centred @ axes[:, ::-1][:, :dimensions]
    low, high = np.quantile(components, [0.001, 0.999], axis=0)
    width = (high - low).max()
    if not width > 0:
        return np.arange(n)
    cells = float(1 << bits)
    components -= low
    components /= width
    components *= cells
    levels = np.clip(components, 0, cells - 1, out=components).astype(np.uint64)
    return _stable_argsort(_morton_key(levels, bits))


def _morton_key(levels: np.ndarray, bits: int) -> np.ndarray:
    """The Morton key (samples,) of grid levels (samples, dimensions), each below 2**bits: bit b
    of dimension d at bit b * dimensions + dimensions - 1 - d of the key (the first dimension
    the most significant at every level of the curve; dimensions * bits <= 64).

    Each level's bits are spread apart by the shift-and-mask steps of :func:`_spreading`
    (four for 16 bits): a loop over the bits and dimensions (64 passes over the batch) cost
    6-8x more, and a table look-up twice as much with its table out of the cache.
    """
    n, dimensions = levels.shape
    steps = _spreading(dimensions, bits)
    key = np.zeros(n, dtype=np.uint64)
    for d in range(dimensions):
        spread = levels[:, d].copy()
        for shift, mask in steps:
            spread |= spread << shift
            spread &= mask
        key |= spread << np.uint64(dimensions - 1 - d)
    return key


@lru_cache(maxsize=16)
def _spreading(stride: int, bits: int) -> tuple[tuple[np.uint64, np.uint64], ...]:
    """Shifts and masks that move bit j of a ``bits``-bit number to bit j * ``stride``
    (x = (x | x << shift) & mask for each): blocks of s bits, s halving down to 1, each
    split in two, its upper half moved up by s * (stride - 1) ("part1by3" for stride 4 and
    16 bits: the masks 0x000000FF000000FF, 0x000F000F000F000F, 0x0303..., 0x1111...)."""
    steps = []
    size = 1
    while 2 * size < bits:
        size *= 2
    while size >= 1 and stride > 1:
        mask = 0
        for block in range(-(-bits // size)):  # block k of the number ends at k * size * stride
            mask |= ((1 << size) - 1) << (block * size * stride)
        steps.append((np.uint64(size * (stride - 1)), np.uint64(mask & (2**64 - 1))))
        size //= 2
    return tuple(steps)


def _stable_argsort(key: np.ndarray) -> np.ndarray:
    """``np.argsort(key, kind="stable")`` of 64-bit keys: numpy's quicksort (vectorised), then
    the indices of equal keys put back in ascending order (timsort, numpy's stable sort of
    64-bit integers, costs 2-5x more on keys that are mostly distinct)."""
    order = np.argsort(key)
    ordered = key[order]
    tied = ordered[1:] == ordered[:-1]
    if tied.any():
        rows = np.flatnonzero(np.concatenate([tied, [False]]) | np.concatenate([[False], tied]))
        group = np.cumsum(np.concatenate([[False], ~tied]))[rows]  # runs of equal keys, numbered along the sort
        order[rows] = order[rows][np.argsort(group * len(key) + order[rows])]
    return order
