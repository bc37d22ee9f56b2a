"""Sobol indices read off the coefficients of an orthonormal polynomial chaos expansion.

With orthonormal terms the output variance is the sum of the squared coefficients
of the non-constant terms, and each term belongs to the inputs of its multi-index.
Summing squared coefficients over masks of terms takes ~1e-4 s, where chaospy's
``Sens_m``/``Sens_t`` re-integrate the polynomial symbolically (~25 s each for a
3-input order-8 expansion).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from uqms.analysis.pce import PolynomialChaos, varies


def _support(multi_indices: np.ndarray) -> np.ndarray:
    return np.asarray(multi_indices) > 0  # (P, d): which inputs each term depends on


def _share(mask: np.ndarray, coefficients: np.ndarray) -> np.ndarray:
    """Share of the variance carried by the terms selected in each row of ``mask`` (k, P): (k, m)."""
    power = np.asarray(coefficients, dtype=float).reshape(len(mask[0]), -1) ** 2
    power[0] = 0.0  # the constant term carries the mean, not variance
    variance = power.sum(axis=0)
    mean = np.asarray(coefficients, dtype=float).reshape(len(mask[0]), -1)[0]
    # an output that does not vary has no variance to share: its indices are undefined (NaN)
    return np.divide(mask @ power, variance, out=np.full((len(mask), power.shape[1]), np.nan),
                     where=varies(variance, mean))


def first_order(coefficients: np.ndarray, multi_indices: np.ndarray) -> np.ndarray:
    """``S_i``: terms depending on input ``i`` only. Shape ``(d, m)``."""
    support = _support(multi_indices)
    return _share((support & (support.sum(axis=1) == 1)[:, None]).T, coefficients)


def total_order(coefficients: np.ndarray, multi_indices: np.ndarray) -> np.ndarray:
    """``S_Ti``: terms depending on input ``i`` at all. Shape ``(d, m)``."""
    return _share(_support(multi_indices).T, coefficients)


def second_order(coefficients: np.ndarray, multi_indices: np.ndarray) -> np.ndarray:
    """``S_ij`` (i != j): terms depending on exactly inputs ``i`` and ``j``. Shape ``(d, d, m)``, zero diagonal."""
    support = _support(multi_indices)
    d = support.shape[1]
    pair = support[:, :, None] & support[:, None, :] & (support.sum(axis=1) == 2)[:, None, None]
    pair &= ~np.eye(d, dtype=bool)
    return _share(pair.reshape(len(support), d * d).T, coefficients).reshape(d, d, -1)


def grouped(coefficients: np.ndarray, multi_indices: np.ndarray, groups: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Closed (first-order) and total indices of groups of inputs (column numbers). Each ``(k, m)``.

    Closed: terms whose inputs all lie in the group; total: terms touching the group.
    """
    support = _support(multi_indices)
    member = np.zeros((len(groups), support.shape[1]), dtype=bool)
    for k, columns in enumerate(groups):
        member[k, list(columns)] = True
    touches = (support[None, :, :] & member[:, None, :]).any(axis=2)
    inside = touches & ~(support[None, :, :] & ~member[:, None, :]).any(axis=2)
    return _share(inside, coefficients), _share(touches, coefficients)


def indices(pce: PolynomialChaos) -> dict[str, np.ndarray]:
    """First ``(d, m)``, total ``(d, m)`` and second-order ``(d, d, m)`` indices of an expansion."""
    return {
        "first": first_order(pce.coefficients, pce.multi_indices),
        "total": total_order(pce.coefficients, pce.multi_indices),
        "second": second_order(pce.coefficients, pce.multi_indices),
    }
