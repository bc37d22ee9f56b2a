"""Saltelli's design for Monte Carlo Sobol indices, reproducible per sample index.

The inputs are swapped in ``k`` blocks: one input each (indices per input), or whole
input groups (grouped indices, fewer rows). Row layout (SALib's ``sobol.sample`` with
``calc_second_order=False``, and its ``groups``): base sample ``i`` owns the ``k + 2``
consecutive rows ``i*(k+2) ...``, in the order ``A, AB_1, ..., AB_k, B``. ``A`` and
``B`` are the first and last ``dim`` columns of point ``i`` of an Owen-scrambled Sobol'
sequence in ``2*dim`` dimensions; ``AB_j`` is ``A`` with the columns of block ``j``
taken from ``B``. Any prefix of whole base samples is itself a Saltelli design, which
the convergence diagnostics use. A run made with this design is recognised from its
``design`` attribute (``"saltelli"``); its ``saltelli_blocks`` attribute names the blocks.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

BLOCKS_EXTRA = 2  # rows per base sample beyond the dim AB_j rows: A and B


def rows_per_base(blocks: int) -> int:
    """Rows of the design per base sample: ``blocks + 2``."""
    return blocks + BLOCKS_EXTRA


def base_count(n_total: int, blocks: int) -> int:
    """Number of base samples N of an ``n_total``-row design; raises if it does not divide."""
    step = rows_per_base(blocks)
    if n_total % step:
        raise ValueError(
            f"the saltelli design needs n = N*(blocks+2) samples, a block being an input or, with "
            f"by = 'group', an input group: {n_total} is not a multiple of {step} "
            f"(e.g. n = {step * 1024} for N = 1024 base samples)"
        )
    return n_total // step


def split_blocks(values: np.ndarray, blocks: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split rows ordered as this design into ``A`` (N, ...), ``B`` (N, ...) and ``AB`` (N, blocks, ...)."""
    step = rows_per_base(blocks)
    rows = values.reshape(base_count(len(values), blocks), step, *values.shape[1:])
    return rows[:, 0], rows[:, step - 1], rows[:, 1 : step - 1]


class Saltelli:
    """Saltelli's radial design: N base samples, ``N*(k+2)`` rows (see the module docstring).

    Args:
        blocks: the design columns swapped together, one list per block; None: every
            column on its own.
    """

    name = "saltelli"
    fixed_n = None  # row i follows base sample i // (k+2) of the Sobol' sequence: a longer run extends a shorter one

    def __init__(self, blocks: Sequence[Sequence[int]] | None = None):
        self.blocks = None if blocks is None else [list(b) for b in blocks]

    def unit_cube(self, start: int, stop: int, n_total: int, dim: int, seed: int) -> np.ndarray:
        blocks = self.blocks or [[j] for j in range(dim)]
        step = rows_per_base(len(blocks))
        from_b = np.zeros((step, dim), dtype=bool)  # per row kind (A, AB_1.., B): columns taken from B
        for j, columns in enumerate(blocks, start=1):
            from_b[j, columns] = True
        from_b[step - 1] = True
        rows = np.arange(start, stop)
        first, last = start // step, (stop - 1) // step + 1
        from scipy.stats import qmc

        engine = qmc.Sobol(d=2 * dim, scramble=True, rng=np.random.default_rng([seed, 3]))
        if first:
            engine.fast_forward(first)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The balance properties", category=UserWarning)
            points = engine.random(last - first)[rows // step - first]
        return np.where(from_b[rows % step], points[:, dim:], points[:, :dim])
