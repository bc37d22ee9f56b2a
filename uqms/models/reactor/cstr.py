"""Isothermal, isobaric continuous stirred-tank reactor on a micro-kinetic surface."""

from __future__ import annotations

import numpy as np

from uqms.models.reactor.conditions import ReactorConditions
from uqms.models.reactor.outlet import NOT_CONVERGED, OK, SURFACE_FAILED, ReactorOutlet

ROUND_OFF = 1e-15  # a Newton step below this times the total inlet flow: g is resolved to round-off
HALVINGS = 50
TRANSIENT_GROWTH = 10.0  # factor the pseudo-time changes by after a full (or a shortened) step  # halvings of a Newton step that would make a flow negative or pass an equilibrium


def solve_cstr(conditions: ReactorConditions, tolerance: float = 1e-12, max_iterations: int = 100) -> ReactorOutlet:
    """Outlet of a CSTR for every sample: ``inlet - outlet + sites * production(outlet) = 0``.

    With the gas change written as the extents ``x`` (samples, reactions), mol/s, of the
    overall reactions, the balances reduce to ``g(x) = x - sites * r(x) = 0`` with ``r``
    the surface rates at the outlet composition (the steady state is solved there:
    concurrent coupling). A batched Newton iteration (Jacobian by forward differences,
    one warm-started surface solve per reaction) whose step is halved while it would make
    a flow negative or carry a reaction past its equilibrium, so no reaction ever passes
    its equilibrium. Where a step had to be shortened (Newton heading the wrong way, as
    where the rate grows with the extent: autocatalysis by a product) the sample switches
    to implicit Euler steps of the tank's transient ``dx/dt = -g`` (pseudo-transient
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
    for _ in range(max_iterations):
        if rows.size == 0:
            break
        rate, ok, theta = c.rates(rows, x)
        c.theta[rows[ok]] = theta[ok]
        sites, scale = c.sites[rows, None], c.total_inlet[rows]
        g = x - sites * rate
        accepted = tolerance * np.maximum(np.abs(x), sites * np.abs(rate))
        done = ok & ((np.abs(g) <= accepted).all(axis=1) | (moved <= ROUND_OFF * scale))
        extents[rows[done]], status[rows[done]] = x[done], OK
        status[rows[~ok]] = SURFACE_FAILED
        go = ok & ~done
        rows, x, g, rate, sites, scale, side, tau = (a[go] for a in (rows, x, g, rate, sites, scale, side, tau))
        jacobian, _ = c.rate_jacobian(rows, x, rate, side)
        matrix = np.eye(m) * (1 + 1 / tau)[:, None, None] - sites[:, :, None] * jacobian
        with np.errstate(all="ignore"):
            step = np.linalg.solve(matrix, -g[:, :, None])[:, :, 0]
        step = np.where(np.isfinite(step), step, 0.0)
        fraction = np.ones(rows.size)
        for _ in range(HALVINGS):
            fraction = np.where(c.admissible(rows, x + fraction[:, None] * step, side), fraction, 0.5 * fraction)
        x = x + fraction[:, None] * step
        full = fraction == 1.0
        moved = np.where(full & np.isinf(tau), np.abs(step).max(axis=1), np.inf)
        size = scale / np.maximum(np.abs(g).max(axis=1), 1e-300)  # pseudo-time that moves x by ~ the inlet flow
        tau = np.where(full, np.where(tau * TRANSIENT_GROWTH > 1e6 * size, np.inf, tau * TRANSIENT_GROWTH),
                       np.minimum(tau, 0.1 * size) / TRANSIENT_GROWTH)
    return ReactorOutlet.checked(c, extents, status)
