"""Saltelli's design for Monte Carlo Sobol indices, reproducible per sample index.

Row layout (the same as SALib's ``sobol.sample`` with ``calc_second_order=False``):
base sample ``i`` owns the ``dim + 2`` consecutive rows ``i*(dim+2) ...``, in the order
``A, AB_1, ..., AB_dim, B``. ``A`` and ``B`` are the first and last ``dim`` columns of
point ``i`` of an Owen-scrambled Sobol' sequence in ``2*dim`` dimensions; ``AB_j`` is
``A`` with column ``j`` taken from ``B``. Any prefix of whole base samples is itself a
Saltelli design, which the convergence diagnostics use. A run made with this design is
recognised from its ``design`` attribute (``"saltelli"``) and its number of inputs.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import qmc

BLOCKS_EXTRA = 2  # rows per base sample beyond the dim AB_j rows: A and B


def rows_per_base(dim: int) -> int:
    """Rows of the design per base sample: ``dim + 2``."""
    return dim + BLOCKS_EXTRA


def base_count(n_total: int, dim: int) -> int:
    """Number of base samples N of an ``n_total``-row design; raises if it does not divide."""
    step = rows_per_base(dim)
    if n_total % step:
        raise ValueError(
            f"the saltelli design needs n = N*(inputs+2) samples: {n_total} is not a multiple of {step} "
            f"(e.g. n = {step * 1024} for N = 1024 base samples)"
        )
    return n_total // step


def split_blocks(values: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split rows ordered as this design into ``A`` (N, ...), ``B`` (N, ...) and ``AB`` (N, dim, ...)."""
    step = rows_per_base(dim)
    blocks = values.reshape(base_count(len(values), dim), step, *values.shape[1:])
    return blocks[:, 0], blocks[:, step - 1], blocks[:, 1 : step - 1]


class Saltelli:
    """Saltelli's radial design: N base samples, ``N*(dim+2)`` rows (see the module docstring)."""

    name = "saltelli"

    def unit_cube(self, start: int, stop: int, n_total: int, dim: int, seed: int) -> np.ndarray:
        step = rows_per_base(dim)
        rows = np.arange(start, stop)
        first, last = start // step, (stop - 1) // step + 1
        engine = qmc.Sobol(d=2 * dim, scramble=True, rng=np.random.default_rng([seed, 3]))
        if first:
            engine.fast_forward(first)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The balance properties", category=UserWarning)
            points = engine.random(last - first)[rows // step - first]
        a, b = points[:, :dim], points[:, dim:]
        block = rows % step  # 0: A, j in 1..dim: AB_j, dim+1: B
        take_b = (block[:, None] == np.arange(1, dim + 1)) | (block[:, None] == step - 1)
        return np.where(take_b, b, a)
