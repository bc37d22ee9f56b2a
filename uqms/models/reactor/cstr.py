"""Isothermal, isobaric continuous stirred-tank reactor on a micro-kinetic surface."""

from __future__ import annotations

import numpy as np

from uqms.models.reactor.conditions import ReactorConditions
from uqms.models.reactor.outlet import NOT_CONVERGED, OK, SURFACE_FAILED, ReactorOutlet

ROUND_OFF = 1e-15  # a Newton step below this times the total inlet flow: g is resolved to round-off
HALVINGS = 50  # halvings of a Newton step that would make a flow negative
TRANSIENT_GROWTH = 10.0  # factor the pseudo-time grows by after a full step (shrinks by otherwise)


def solve_cstr(conditions: ReactorConditions, tolerance: float = 1e-12, max_iterations: int = 100) -> ReactorOutlet:
    """Outlet of a CSTR for every sample: ``inlet - outlet + sites * production(outlet) = 0``.

    With the gas change written as the extents ``x`` (samples, reactions), mol/s, of the
    overall reactions, the balances reduce to ``g(x) = x - sites * r(x) = 0`` with ``r``
    the surface rates at the outlet composition (the steady state is solved there:
    concurrent coupling). A batched Newton iteration (Jacobian by forward differences,
    one warm-started surface solve per reaction). With one overall reaction the root is
    bracketed between the inlet and equilibrium (``g`` is negative below it and positive
    above) and a step leaving the bracket is replaced by bisection, so the reaction never
    passes its equilibrium. With several, a step is halved while it would make a flow
    negative; where it had to be, or where a Newton step did not lower the residual
    (heading the wrong way or cycling between two compositions), the sample switches to
    implicit Euler steps of the tank's transient ``dx/dt = -g`` (pseudo-transient
    continuation), whose pseudo-time grows back to Newton's after full steps.

    Args:
        conditions: inlet, pressure, sites and rate constants of every sample.
        tolerance: accepted |g| of each reaction relative to its extent (or to sites x rate where
            larger); a sample whose Newton step falls below round-off (a rate resolved no better
            than the difference of its fluxes near equilibrium) is converged too.
        max_iterations: Newton iterations before a sample is flagged.
    """
    c = conditions
    n, m = len(c.inlet), len(c.reactions)
    extents, status = np.zeros((n, m)), np.full(n, NOT_CONVERGED)
    rows = np.flatnonzero(c.valid)
    x = np.zeros((rows.size, m))
    side = c.side(rows, x)
    moved = np.full(rows.size, np.inf)  # largest |change| of an extent in the last full Newton step
    tau = np.full(rows.size, np.inf)  # pseudo-time of the step: inf is Newton's
    previous = np.full(rows.size, np.inf)  # largest |g| / total inlet flow at the last iterate
    full = np.ones(rows.size, dtype=bool)  # whether the last step was taken whole
    low, high = np.minimum(0.0, c.equilibrium[rows, 0]), np.maximum(0.0, c.equilibrium[rows, 0])  # one reaction
    for _ in range(max_iterations):
        if rows.size == 0:
            break
        rate, ok, theta = c.rates(rows, x)
        c.theta[rows[ok]] = theta[ok]
        sites, scale = c.sites[rows, None], c.total_inlet[rows]
        g = x - sites * rate
        accepted = tolerance * np.maximum(np.abs(x), sites * np.abs(rate))
        done = ok & ((np.abs(g) <= accepted).all(axis=1) | (moved <= ROUND_OFF * scale)
                     | ((m == 1) & (high - low <= ROUND_OFF * np.abs(high))))
        extents[rows[done]], status[rows[done]] = x[done], OK
        status[rows[~ok]] = SURFACE_FAILED
        go = ok & ~done
        rows, x, g, rate, sites, scale, side, tau, previous, full, low, high = (
            a[go] for a in (rows, x, g, rate, sites, scale, side, tau, previous, full, low, high))
        residual = np.abs(g).max(axis=1) / scale
        size = 1.0 / np.maximum(residual, 1e-300)  # pseudo-time that moves x by ~ the inlet flow
        good = full & (np.isfinite(tau) | (residual < previous))  # a Newton step must lower |g|; a transient one need not
        tau = np.where(good, np.where(tau * TRANSIENT_GROWTH > 1e6 * size, np.inf, tau * TRANSIENT_GROWTH),
                       np.minimum(tau, 0.1 * size) / TRANSIENT_GROWTH)
        jacobian, _ = c.rate_jacobian(rows, x, rate, side)
        matrix = np.eye(m) * (1 + 1 / tau)[:, None, None] - sites[:, :, None] * jacobian
        with np.errstate(all="ignore"):
            step = np.linalg.solve(matrix, -g[:, :, None])[:, :, 0]
        step = np.where(np.isfinite(step), step, 0.0)
        if m == 1:  # the root lies between the inlet and equilibrium, g < 0 below it: bisect where a step leaves
            low, high = np.where(g[:, 0] < 0, x[:, 0], low), np.where(g[:, 0] < 0, high, x[:, 0])
            trial = x[:, 0] + step[:, 0]
            full = (trial > low) & (trial < high)
            step = np.where(full, trial, 0.5 * (low + high))[:, None] - x
        else:
            fraction = np.ones(rows.size)
            for _ in range(HALVINGS):
                fraction = np.where(c.admissible(rows, x + fraction[:, None] * step, side), fraction, 0.5 * fraction)
            full, step = fraction == 1.0, fraction[:, None] * step
        x, previous = x + step, residual
        moved = np.where(full & np.isinf(tau), np.abs(step).max(axis=1), np.inf)
    return ReactorOutlet.checked(c, extents, status)
