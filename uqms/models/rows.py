"""Reductions along the rows of (samples, few) arrays, the shape of most per-sample values.

numpy reduces along the few entries of each row of a row-major array about 2-10x slower
than across whole columns; these reduce column-wise instead.
"""

from __future__ import annotations

import numpy as np


def every(mask: np.ndarray) -> np.ndarray:
    """Whether every entry of each sample's row is true (samples,), for (samples, ...) arrays:
    reduced in column-major layout (a copy as large as a boolean of the array)."""
    return np.asfortranarray(mask.reshape(len(mask), int(np.prod(mask.shape[1:])))).all(axis=1)  # 0 samples too


def largest_magnitude(values: np.ndarray) -> np.ndarray:
    """Largest absolute value of each row of a (samples, few) array (0 if it has no columns),
    NaN where one is NaN: a loop over the few columns (numpy's maximum along rows of a
    column-major copy has a slow path for NaN)."""
    largest = np.zeros(len(values))
    for column in values.T:
        np.maximum(largest, np.abs(column), out=largest)
    return largest
