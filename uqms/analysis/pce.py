"""Polynomial chaos expansions: orthonormal basis, fit by regression (dense or sparse) or quadrature, LOO error.

chaospy builds the univariate orthonormal polynomials (three-terms recurrence) and
does the quadrature fit. Three things are done here instead: regression fits take
their multi-indices from ``numpoly.glexindex`` without building chaospy's
multivariate basis (for 8 inputs at order 10 it has 43 758 terms and took 24 GB),
the design matrix is assembled
from univariate polynomials and the multi-indices (evaluating the numpoly basis
takes ~2 s for 495 terms at 4096 points, this ~0.3 s), and the least-squares fit
is solved through the normal equations, whose Cholesky factor also gives the
hat-matrix diagonal that the closed-form leave-one-out error needs
(``chaospy.fit_regression`` exposes neither). With an orthonormal basis the Gram
matrix stays close to ``n I``, so the normal equations are well conditioned.
The sparse fit ranks the terms by least-angle regression (:mod:`uqms.analysis.lars`)
and caps its highest order, counted before anything is built, by the samples and a
memory budget.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import comb

import chaospy
import numpoly
import numpy as np
from scipy import linalg

from uqms.analysis.lars import ROUND_OFF, lars_ols

MEMORY_BUDGET = 256 * 2**20
"""Default bytes a sparse fit may hold in its design matrix, QR factor and multi-indices."""

DESIGN_CHUNK = 1024
"""Terms of the design matrix evaluated at a time (each chunk needs two ``(n, chunk)`` temporaries)."""

CANDIDATES_PER_SAMPLE = 10
"""Most candidate terms per sample in a sparse fit: each LARS step costs ``O(n P)``."""


@dataclass(frozen=True)
class OrderSearch:
    """The degree-adaptive search of a sparse fit.

    Attributes:
        cap: highest order the samples and the memory budget allowed.
        candidates: ``{order: candidate terms}`` of each order tried (all built at most ``cap``'s).
        loo: ``{order: (m,) corrected LOO error}`` of the best LARS prefix of each order tried.
    """

    cap: int
    candidates: dict[int, int]
    loo: dict[int, np.ndarray]


@dataclass(frozen=True)
class PolynomialChaos:
    """An expansion ``y(x) = sum_k c_k Psi_k(x)`` over orthonormal polynomials ``Psi_k``.

    Attributes:
        joint: the (independent) joint distribution of the inputs.
        coefficients: ``(P, m)`` coefficients, one column per output entry, in output units
            (zero where a sparse fit left a term out of that column).
        multi_indices: ``(P, d)`` degree of each input in each term, ``Psi_0 = 1`` first.
        order: highest total degree of the terms.
        loo: ``(m,)`` relative leave-one-out error (mean squared LOO residual / variance;
            Chapelle-corrected for a sparse fit); NaN for a quadrature fit.
        n_samples: model evaluations used by the fit.
        search: the orders a sparse fit tried, None for the other fits.
    """

    joint: chaospy.Distribution
    coefficients: np.ndarray
    multi_indices: np.ndarray
    order: int
    loo: np.ndarray
    n_samples: int
    search: OrderSearch | None = None

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        """The expansion at ``samples`` shaped ``(d, n)``: values ``(n, m)``."""
        return design_matrix(self.joint, self.multi_indices, samples) @ self.coefficients

    @property
    def mean(self) -> np.ndarray:
        return self.coefficients[0]

    @property
    def variance(self) -> np.ndarray:
        return (self.coefficients[1:] ** 2).sum(axis=0)


_CACHE: dict[tuple, object] = {}
_CACHE_SIZE = 64


def _cached(key: tuple, build: Callable[[], object]) -> object:
    """Memoise chaospy's Stieltjes recurrences, ~0.1 s per expansion and repeated by every
    point of a convergence curve. Distributions are keyed by their repr, which lists
    every parameter at full precision."""
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        _CACHE[key] = build()
    return _CACHE[key]


def _q_norm(multi_indices: np.ndarray, q: float) -> np.ndarray:
    """``(sum_j alpha_j^q)^(1/q)`` of each row, rounded so that equal degrees compare equal."""
    return np.round((multi_indices.astype(float) ** q).sum(axis=1) ** (1 / q), 9)


def multi_index_set(dim: int, order: int, q: float = 1.0) -> np.ndarray:
    """The ``(P, dim)`` multi-indices ``alpha`` with q-norm ``(sum alpha_j^q)^(1/q) <= order``
    (``numpoly.glexindex``, which builds no polynomials).

    ``q = 1`` is the total-degree set (``P = comb(dim + order, order)``), ``q < 1`` a
    hyperbolic truncation keeping fewer interactions (chaospy's ``cross_truncation``).
    Rows are sorted by q-norm, so every lower order's set is a leading block.
    """
    indices = numpoly.glexindex(0, order + 1, dim, cross_truncation=q, graded=True, reverse=True)
    return indices[np.argsort(_q_norm(indices, q), kind="stable")]


def term_count(dim: int, order: int, q: float = 1.0) -> int:
    """Number of terms of :func:`multi_index_set` (``math.comb`` for ``q = 1``: nothing built)."""
    return comb(dim + order, order) if q == 1 else len(multi_index_set(dim, order, q))


def sparse_bytes(n: int, terms: int, dim: int) -> int:
    """Bytes a sparse fit on ``n`` samples and ``P = terms`` candidates holds (float64 and int64):
    the ``(n, P)`` design matrix and the temporaries of one chunk of it, LARS's QR factors
    ``(n, k)`` and ``(k, k)`` with ``k = min(n, P)``, and the ``(P, dim)`` multi-indices."""
    k = min(n, terms)
    return 8 * (n * terms + 2 * n * min(terms, DESIGN_CHUNK) + n * k + k * k + terms * dim)


def order_cap(dim: int, n: int, memory_budget: int = MEMORY_BUDGET, q: float = 1.0, max_order: int | None = None) -> int:
    """Highest candidate order of a sparse fit on ``n`` samples: at most ``CANDIDATES_PER_SAMPLE * n``
    terms, of degree below ``n``, within ``memory_budget`` bytes (:func:`sparse_bytes`) and at most
    ``max_order``; 0 if not even order 1 fits, or if ``n < 4`` (a LARS term and its OLS refit need
    three samples besides). Counted before anything is built."""
    if n < 4:
        return 0
    order = 0
    while max_order is None or order < max_order:
        terms = term_count(dim, order + 1, q)
        if terms > CANDIDATES_PER_SAMPLE * n or sparse_bytes(n, terms, dim) > memory_budget or order + 1 >= n:
            break
        order += 1
    return order


def orthonormal_basis(joint: chaospy.Distribution, order: int, cross_truncation: float = 1.0) -> tuple[numpoly.ndpoly, np.ndarray]:
    """chaospy's orthonormal basis of q-norm ``order`` (``q = cross_truncation``; for quadrature
    projection) and the ``(P, d)`` multi-index of each term.

    ``basis.exponents`` is the union of monomials of all terms, so each term's
    multi-index is read from its own coefficients: the highest degree of every
    input among its non-zero monomials (the leading monomial of a product of
    univariate orthogonal polynomials).
    """

    def build():
        basis = chaospy.generate_expansion(order, joint, normed=True, cross_truncation=cross_truncation)
        present = np.abs(np.array(basis.coefficients)) > 0  # (monomials, P)
        multi_indices = np.where(present[:, :, None], basis.exponents[:, None, :], 0).max(axis=0)
        return basis, multi_indices.astype(int)

    return _cached(("basis", repr(joint), order, cross_truncation), build)


def design_matrix(joint: chaospy.Distribution, multi_indices: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """``Psi[i, k]``: term ``k`` at sample ``i`` (``samples`` shaped ``(d, n)``), a product of univariate polynomials."""
    samples = np.atleast_2d(samples)
    psi = np.ones((samples.shape[1], len(multi_indices)))
    for j, x in enumerate(samples):
        degree, marginal = int(multi_indices[:, j].max()), joint[j]
        univariate = _cached(("univariate", repr(marginal), degree),
                             lambda degree=degree, marginal=marginal: chaospy.generate_expansion(degree, marginal, normed=True))
        psi *= np.asarray(univariate(x))[multi_indices[:, j]].T
    return psi


def _as_matrix(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return values.reshape(len(values), -1)


def least_squares(psi: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients ``(P, m)`` and relative LOO errors ``(m,)`` of the fit ``psi @ c ~ y``.

    LOO residuals in closed form: ``(y_i - yhat_i) / (1 - h_i)``, leverages
    ``h_i = |L^-1 psi_i|^2`` with ``L`` the Cholesky factor of ``psi^T psi``.
    """
    factor = linalg.cho_factor(psi.T @ psi, lower=True)
    coefficients = linalg.cho_solve(factor, psi.T @ y)
    leverage = (linalg.solve_triangular(factor[0], psi.T, lower=True) ** 2).sum(axis=0)
    residual = (y - psi @ coefficients) / (1 - leverage)[:, None]
    return coefficients, relative_error((residual**2).mean(axis=0), y)


def varies(variance: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Whether an output varies beyond round-off: std above 1e-12 of its magnitude."""
    return variance > (1e-12 * np.abs(mean)) ** 2 + np.finfo(float).tiny


def relative_error(mean_square: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``mean_square / Var(values)`` per output column; NaN (undefined) for an output that does not vary."""
    variance = values.var(axis=0)
    return np.divide(mean_square, variance, out=np.full(variance.shape, np.nan), where=varies(variance, values.mean(axis=0)))


def fit_regression(samples: np.ndarray, values: np.ndarray, joint: chaospy.Distribution, order: int, cross_truncation: float = 1.0) -> PolynomialChaos:
    """Least-squares fit on all terms of q-norm ``order`` (``q = cross_truncation``), samples
    ``(d, n)`` and values ``(n,)`` or ``(n, m)``, with its LOO error.

    Raises:
        ValueError: no more samples than basis terms (checked before the design matrix is built).
    """
    multi_indices = multi_index_set(len(joint), order, cross_truncation)
    y = _as_matrix(values)
    if len(y) <= len(multi_indices):
        raise ValueError(f"{len(multi_indices)} basis terms need more than {len(multi_indices)} ok samples, got {len(y)}")
    coefficients, loo = least_squares(design_matrix(joint, multi_indices, samples), y)
    return PolynomialChaos(joint, coefficients, multi_indices, order, loo, len(y))


def fit_sparse(samples: np.ndarray, values: np.ndarray, joint: chaospy.Distribution, max_order: int | None = None,
               memory_budget: int = MEMORY_BUDGET, q: float = 1.0, chapelle: bool = True) -> PolynomialChaos:
    """Sparse degree-adaptive fit on samples ``(d, n)`` and values ``(n,)`` or ``(n, m)``.

    For orders 1, 2, ... up to :func:`order_cap`, the candidates are the terms of
    q-norm at most that order (:func:`multi_index_set`); for each output column
    :func:`uqms.analysis.lars.lars_ols` keeps the LARS prefix with the lowest corrected
    LOO error. Each column keeps its best order; the search stops when no column has
    improved for two orders. Candidate orders are nested, so the design matrix of the
    cap is allocated once and filled one order at a time (its pages are touched only as
    orders are tried).
    Coefficients ``(P, m)`` live on the union of the columns' supports, zero elsewhere.

    Raises:
        ValueError: too few samples (or too small a budget) for a first-order expansion.
    """
    y = _as_matrix(values)
    n, dim = len(y), len(joint)
    cap = order_cap(dim, n, memory_budget, q, max_order)
    if cap < 1:
        raise ValueError(f"{n} samples are too few for a first-order expansion in {dim} inputs "
                         f"(or {memory_budget} bytes too small a budget)")
    candidates = multi_index_set(dim, cap, q)
    sizes = np.searchsorted(_q_norm(candidates, q), np.arange(cap + 1), side="right")  # terms up to each order
    psi_t = np.empty((sizes[-1], n))  # the design matrix transposed: LARS reads whole columns
    mean, variance = y.mean(axis=0), y.var(axis=0)
    moving = varies(variance, mean)
    best = [(np.inf, np.array([0]), mean[column:column + 1]) for column in range(y.shape[1])]
    tried, stalled, built = {}, 0, 0
    for order in range(1, cap + 1):
        for start in range(built, sizes[order], DESIGN_CHUNK):
            stop = min(start + DESIGN_CHUNK, sizes[order])
            psi_t[start:stop] = design_matrix(joint, candidates[start:stop], samples).T
        built = sizes[order]
        loo, improved = np.full(y.shape[1], np.nan), False
        for column in np.flatnonzero(moving):
            kept, coefficients, loo[column] = lars_ols(psi_t[:built].T, y[:, column], chapelle)
            if loo[column] < best[column][0] and best[column][0] > ROUND_OFF:
                best[column], improved = (loo[column], kept, coefficients), True
        tried[order] = loo
        stalled = 0 if improved else stalled + 1
        if stalled == 2:
            break
    union = np.unique(np.concatenate([kept for _, kept, _ in best]))
    coefficients = np.zeros((len(union), y.shape[1]))
    for column, (_, kept, column_coefficients) in enumerate(best):
        coefficients[np.searchsorted(union, kept), column] = column_coefficients
    loo = np.array([error if np.isfinite(error) else np.nan for error, _, _ in best])
    search = OrderSearch(cap, {order: int(sizes[order]) for order in tried}, tried)
    return PolynomialChaos(joint, coefficients, candidates[union], int(candidates[union].sum(axis=1).max()), loo, n, search)


def bootstrap_coefficients(fit: PolynomialChaos, samples: np.ndarray, values: np.ndarray, resamples: int = 200,
                           seed: int = 0) -> np.ndarray:
    """Coefficients ``(resamples, P, m)`` of ``fit``'s terms refitted by least squares on bootstrap
    resamples of its ``samples`` ``(d, n)`` and ``values``, the terms each column kept held fixed
    (the bootstrap PCE of Marelli and Sudret 2018, Struct. Saf. 75, 67): the spread of any
    quantity of the coefficients (Sobol indices) over the resamples is its sampling uncertainty.

    A resample is a row of multinomial counts, so each refit is a weighted least-squares
    problem on the normal equations: ``O(n k^2)`` for ``k`` kept terms, no copy of the rows.
    """
    y = _as_matrix(values)
    n = len(y)
    psi = design_matrix(fit.joint, fit.multi_indices, samples)
    counts = np.random.default_rng(seed).multinomial(n, np.full(n, 1.0 / n), size=resamples).astype(float)
    result = np.zeros((resamples, *fit.coefficients.shape))
    for column in range(y.shape[1]):
        kept = np.union1d([0], np.flatnonzero(fit.coefficients[:, column]))
        basis = psi[:, kept]
        gram = np.einsum("bi,ik,il->bkl", counts, basis, basis)  # (resamples, k, k)
        rhs = (counts * y[:, column]) @ basis  # (resamples, k)
        try:
            result[:, kept, column] = np.linalg.solve(gram, rhs[..., None])[..., 0]
        except np.linalg.LinAlgError:  # a resample that misses the rows some term needs
            result[:, kept, column] = np.stack([linalg.lstsq(g, r)[0] for g, r in zip(gram, rhs, strict=True)])
    return result


def quadrature(joint: chaospy.Distribution, order: int, sparse: bool = True, rule: str = "gaussian") -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``(d, K)`` and weights ``(K,)`` of a (sparse Smolyak) quadrature of level ``order``, through chaospy."""
    return chaospy.generate_quadrature(order, joint, rule=rule, sparse=sparse)


def fit_projection(nodes: np.ndarray, weights: np.ndarray, values: np.ndarray, joint: chaospy.Distribution, order: int) -> PolynomialChaos:
    """Spectral projection of values at quadrature nodes on the basis of total degree ``order``, through chaospy.

    Suited to smooth models: a kink (``|x - c|``) aliases high degrees into the
    coefficients, where regression stays accurate.
    """
    basis, multi_indices = orthonormal_basis(joint, order)
    y = _as_matrix(values)
    _, coefficients = chaospy.fit_quadrature(basis, nodes, weights, y, retall=1, norms=np.ones(len(basis)))
    return PolynomialChaos(joint, np.asarray(coefficients).reshape(len(basis), -1), multi_indices, order,
                           np.full(y.shape[1], np.nan), len(weights))


def fit_quadrature(function: Callable[[np.ndarray], np.ndarray], joint: chaospy.Distribution, order: int,
                   sparse: bool = True, rule: str = "gaussian") -> PolynomialChaos:
    """:func:`fit_projection` of ``function`` (nodes ``(d, K)`` -> values ``(K,)`` or ``(K, m)``) on :func:`quadrature` nodes."""
    nodes, weights = quadrature(joint, order, sparse, rule)
    return fit_projection(nodes, weights, function(nodes), joint, order)


def choose_order(samples: np.ndarray, values: np.ndarray, joint: chaospy.Distribution, orders: Sequence[int] = range(1, 11),
                 cross_truncation: float = 1.0) -> tuple[PolynomialChaos, dict[int, float]]:
    """The regression fit whose order has the lowest LOO error (averaged over output entries).

    Lower orders are leading terms of the highest order's basis, so one Cholesky factor
    ``L`` of the whole Gram matrix serves them all: the factor of a leading block is the
    leading block of ``L``, and so are the first rows of ``Z = L^-1 psi^T``. Every order's
    leverages, fitted values and LOO residuals are partial sums over the rows of ``Z``:
    one ``O(n P^2)`` pass instead of one per order. Orders with at least as many terms as
    samples are skipped. Returns the best fit and ``{order: mean LOO error}`` of every order tried.
    """
    y = _as_matrix(values)
    multi_indices = multi_index_set(len(joint), max(orders), cross_truncation)  # every order's terms a leading block
    degree = _q_norm(multi_indices, cross_truncation)
    sizes = {order: int((degree <= order).sum()) for order in sorted(orders)}
    sizes = {order: size for order, size in sizes.items() if size < len(y)}
    if not sizes:
        raise ValueError(f"{len(y)} samples are too few for a first-order expansion in {len(joint)} inputs")
    largest = max(sizes.values())
    psi = design_matrix(joint, multi_indices[:largest], samples)
    factor = linalg.cholesky(psi.T @ psi, lower=True)
    z = linalg.solve_triangular(factor, psi.T, lower=True)
    w = linalg.solve_triangular(factor, psi.T @ y, lower=True)
    best, errors = None, {}
    for order, size in sizes.items():
        leverage = (z[:size] ** 2).sum(axis=0)
        residual = (y - z[:size].T @ w[:size]) / (1 - leverage)[:, None]
        loo = relative_error((residual**2).mean(axis=0), y)
        errors[order] = float(np.nanmean(loo)) if np.isfinite(loo).any() else np.nan
        if best is None or errors[order] < errors[best[0]]:
            best = (order, size, loo)
    order, size, loo = best
    coefficients = linalg.solve_triangular(factor[:size, :size].T, w[:size], lower=False)
    return PolynomialChaos(joint, coefficients, multi_indices[:size], order, loo, len(y)), errors
