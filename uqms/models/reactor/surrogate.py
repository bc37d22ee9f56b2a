"""A per-sample surrogate of the surface rate along the composition path a reactor visits.

An isothermal, isobaric reactor whose mechanism makes one overall reaction only visits the compositions
``inlet + x nu`` between the inlet (``x = 0``) and equilibrium (``x = x_eq``). Along
that path the surrogate fits, for every sample,

    ln( r(x) / (1 - Q/K) )  as a Chebyshev series in  u = ln(x / x_eq)  on [ln s_min, 0],

i.e. in the log partial pressure of the product (``p_product`` is proportional to ``x``
near the inlet). Q/K is evaluated exactly, so the surrogate rate vanishes at equilibrium
and keeps its sign on either side; the fitted part is the smooth "forward" factor,
including power-law inhibition by the product, which is linear in ``u``. Below
``s_min x_eq`` the rate is held at its value there (an extent error of at most
``s_min``, relative). Fitting costs ``degree + 1`` warm-started batched surface solves
(Chebyshev nodes, interpolation), the error check ``held_out`` more at points between
them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.polynomial import chebyshev

from uqms.models.reactor.conditions import ReactorConditions


def _nodes(count: int) -> np.ndarray:
    """Chebyshev points of the first kind on [-1, 1], ascending."""
    return np.sort(np.cos((2 * np.arange(count) + 1) * np.pi / (2 * count)))


@dataclass(frozen=True)
class PathSurrogate:
    """Fitted surrogates of all samples of a :class:`ReactorConditions`.

    Attributes:
        conditions: the reactor conditions the surrogate was fitted for.
        coefficients: Chebyshev coefficients (samples, degree + 1); NaN where the fit failed.
        log_s_min: ln of the smallest extent fraction fitted.
        error: largest |surrogate / micro-kinetic rate - 1| on the held-out points (samples,).
        ok: samples whose training and held-out surface solves converged with a usable sign.
    """

    conditions: ReactorConditions
    coefficients: np.ndarray
    log_s_min: float
    error: np.ndarray
    ok: np.ndarray

    @classmethod
    def fit(cls, conditions: ReactorConditions, degree: int = 12, held_out: int = 6,
            s_min: float = 1e-6) -> PathSurrogate:
        """Fit every sample's surrogate and measure its error on ``held_out`` points.

        The held-out points are Chebyshev points of a count of the other parity than the
        training nodes (``held_out`` or one more), so they never coincide with them.
        """
        if len(conditions.reactions) != 1:
            raise ValueError(f"the path surrogate needs one overall reaction; {conditions.mechanism.name!r} makes "
                             f"{len(conditions.reactions)}")
        log_s_min = float(np.log(s_min))
        n = len(conditions.inlet)
        rows = np.arange(n)
        training = _nodes(degree + 1)
        target, ok = _log_forward_rates(conditions, training, log_s_min)
        inverse = np.linalg.inv(chebyshev.chebvander(training, degree))
        coefficients = target @ inverse.T
        surrogate = cls(conditions, coefficients, log_s_min, np.zeros(n), ok)
        check = _nodes(held_out + (held_out % 2 == (degree + 1) % 2))
        error = np.zeros(n)
        for t in check:
            extent = _extent(conditions, t, log_s_min)
            exact, converged, _ = conditions.rates(rows, extent[:, None])
            approximate, _, _ = surrogate.rate(rows, extent[:, None])
            with np.errstate(invalid="ignore", divide="ignore"):
                error = np.maximum(error, np.abs(approximate[:, 0] / exact[:, 0] - 1))
            ok &= converged
        ok &= np.isfinite(error) & np.isfinite(coefficients).all(axis=1)
        return cls(conditions, coefficients, log_s_min, np.where(ok, error, np.nan), ok)

    def rate(self, rows: np.ndarray, extents: np.ndarray) -> tuple[np.ndarray, np.ndarray, None]:
        """Surrogate rate per site (rows, 1), 1/s, in the signature of :meth:`ReactorConditions.rates`."""
        c = self.conditions
        extent, equilibrium = extents[:, 0], c.equilibrium[rows, 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            fraction = np.where(equilibrium != 0, extent / equilibrium, 1.0)
            u = np.log(np.clip(fraction, np.exp(self.log_s_min), 1.0))
        t = 2 * u / -self.log_s_min + 1  # [ln s_min, 0] -> [-1, 1]
        log_forward = np.einsum("nk,nk->n", chebyshev.chebvander(t, self.coefficients.shape[1] - 1),
                                self.coefficients[rows])
        flows = c.reactions.flows(c.inlet[rows], extents)
        distance = -np.expm1(c.reactions.log_quotients(flows, c.pressure[rows])[:, 0] - c.log_k[rows, 0])
        return (np.exp(log_forward) * distance)[:, None], self.ok[rows], None


def _extent(conditions: ReactorConditions, t: float, log_s_min: float) -> np.ndarray:
    """Extents (samples,) at the point ``t`` in [-1, 1] of the fitted interval."""
    return conditions.equilibrium[:, 0] * np.exp((t - 1) / 2 * -log_s_min)


def _log_forward_rates(conditions: ReactorConditions, points: np.ndarray, log_s_min: float):
    """ln(r / (1 - Q/K)) at ``points`` (samples, points), one warm-started batched solve per point."""
    n = len(conditions.inlet)
    rows = np.arange(n)
    values = np.empty((n, len(points)))
    ok = conditions.valid.copy()
    for i, t in enumerate(points):
        extent = _extent(conditions, t, log_s_min)
        rate, converged, theta = conditions.rates(rows, extent[:, None])
        conditions.theta[converged] = theta[converged]
        flows = conditions.reactions.flows(conditions.inlet, extent[:, None])
        log_ratio = conditions.reactions.log_quotients(flows, conditions.pressure)[:, 0] - conditions.log_k[:, 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            values[:, i] = np.log(rate[:, 0] / -np.expm1(log_ratio))
        ok &= converged & np.isfinite(values[:, i])
    return np.where(ok[:, None], values, np.nan), ok
