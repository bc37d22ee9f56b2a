"""Hybrid LARS-OLS (Blatman & Sudret 2011, J. Comput. Phys. 230, 2345): sparse least squares.

Least-angle regression (Efron et al. 2004, the plain "lar" variant: terms only enter)
orders the candidate columns of a design matrix; every prefix of that order is
refitted by ordinary least squares and the prefix with the lowest corrected
leave-one-out error is kept.

Written here rather than taken from ``sklearn.linear_model.lars_path`` because the
OLS refits come for free from the same incremental QR factor the LARS steps need:
each new column adds one orthonormal vector ``q``, so the hat-matrix diagonal
(``h += q**2``), the fitted values (``yhat += q (q . y)``) and the Chapelle trace
are updated in ``O(n)`` to ``O(k^2)`` per step, and the path stops once the LOO
error has not improved for a while. lars_path returns only the order of entry after
running the whole path (up to ``min(n, P)`` steps of ``O(n P)`` each), leaving one
OLS fit per prefix to do.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

ROUND_OFF = 1e-20
"""A relative LOO error below this is round-off: the fit is exact and cannot improve."""


def patience(steps: int) -> int:
    """LARS steps without a better LOO error after which the path stops (UQLab's rule: 10 % of the path, at least 10)."""
    return max(10, steps // 10)


def lars_ols(psi: np.ndarray, y: np.ndarray, chapelle: bool = True) -> tuple[np.ndarray, np.ndarray, float]:
    """The LARS prefix whose OLS refit has the lowest (corrected) relative LOO error.

    Args:
        psi: ``(n, P)`` design matrix whose column 0 is constant (always kept); fastest
            in Fortran order (each step reads it whole, through ``psi.T @ u``, and one column).
        y: ``(n,)`` values, not constant.
        chapelle: multiply the LOO error by Chapelle's factor
            ``n / (n - k) (1 + tr((psi_S^T psi_S)^-1))`` for ``k`` terms, which
            penalises prefixes close to the sample count.

    Returns:
        Columns kept ``(k,)`` in order of entry (``0`` first), their OLS coefficients
        ``(k,)`` and the LOO error: mean squared LOO residual / variance of ``y``. An exact
        fit (error below ``ROUND_OFF``) ends the path.
    """
    n, size = psi.shape
    mean, square = psi.mean(axis=0), np.einsum("ij,ij->j", psi, psi)  # no (n, P) temporaries
    norm = np.sqrt(np.maximum(square - n * mean**2, 0.0))  # of the centred columns
    free = norm**2 > 1e-12 * square  # a (numerically) constant column cannot enter
    free[0] = False
    steps = min(int(free.sum()), n - 3)  # an OLS refit needs more samples than terms
    q = np.empty((n, steps + 1))
    r = np.zeros((steps + 1, steps + 1))
    q[:, 0] = 1 / np.sqrt(n)
    r[0, 0] = psi[0, 0] * np.sqrt(n)
    centred = y - y.mean()
    variance = centred @ centred / n
    # tr((psi_S^T psi_S)^-1) = |R^-1|_F^2, and R^-1 grows by one column per term
    fitted, leverage, trace = np.full(n, y.mean()), np.full(n, 1 / n), r[0, 0] ** -2.0

    def loo(terms: int) -> float:
        error = np.mean(((y - fitted) / (1 - leverage)) ** 2) / variance
        return error * n / (n - terms) * (1 + trace) if chapelle else error

    errors = [loo(1)]
    # LAR on the normalised centred columns: correlations c, their common active size c_max,
    # and z = R^-T (norm * sign) whose normalised image Q z is the equiangular direction
    c = np.divide(psi.T @ centred, norm, out=np.zeros(size), where=free)
    j = int(np.argmax(np.where(free, np.abs(c), -1.0))) if steps else -1
    c_max, support, z = abs(c[j]), [], []
    while len(support) < steps and j >= 0 and c_max > 0:
        free[j] = False
        k = len(support) + 1
        basis = q[:, :k]
        column = basis.T @ psi[:, j]
        vector = psi[:, j] - basis @ column
        again = basis.T @ vector  # classical Gram-Schmidt twice keeps Q orthonormal to round-off
        vector -= basis @ again
        column += again
        length = np.sqrt(vector @ vector)
        if length > 1e-8 * norm[j]:  # j is not (numerically) a combination of the active columns
            q[:, k] = vector / length
            r[:k, k], r[k, k] = column, length
            inverse = linalg.solve_triangular(r[:k, :k], column) / length  # column k of R^-1 above the diagonal, negated
            trace += inverse @ inverse + length**-2.0
            leverage += q[:, k] ** 2
            fitted += q[:, k] * (q[:, k] @ y)
            support.append(j)
            errors.append(loo(k + 1))
            if errors[-1] < ROUND_OFF or k - 1 - int(np.argmin(errors)) >= patience(steps):
                break
            z.append((norm[j] * np.sign(c[j]) - r[1:k, k] @ z) / length)
            direction = np.asarray(z)
            step_size = 1 / np.sqrt(direction @ direction)  # the equiangular direction's correlation
            a = np.divide(psi.T @ (q[:, 1 : k + 1] @ direction), norm, out=np.zeros(size), where=free) * step_size
        if not free.any():
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            gaps = np.concatenate([(c_max - c) / (step_size - a), (c_max + c) / (step_size + a)])
        gaps[~np.concatenate([free, free]) | ~(gaps > 1e-12 * c_max)] = np.inf
        nearest = int(np.argmin(gaps))
        gamma, j = gaps[nearest], nearest % size
        if not np.isfinite(gamma):
            break
        c -= gamma * a
        c_max -= gamma * step_size
    best = int(np.argmax(np.asarray(errors) <= max(min(errors), ROUND_OFF)))  # the shortest of equals
    kept = np.array([0, *support[:best]])
    coefficients = linalg.solve_triangular(r[: best + 1, : best + 1], q[:, : best + 1].T @ y)
    return kept, coefficients, float(errors[best])
