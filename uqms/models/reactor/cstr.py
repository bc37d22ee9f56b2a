"""Isothermal, isobaric continuous stirred-tank reactor on a micro-kinetic surface."""

from __future__ import annotations

import numpy as np

from uqms.models.reactor.conditions import ReactorConditions
from uqms.models.reactor.outlet import NOT_CONVERGED, OK, SURFACE_FAILED, ReactorOutlet

DERIVATIVE_STEP = 1e-7  # finite-difference step of the extent, relative to the equilibrium extent


def solve_cstr(conditions: ReactorConditions, tolerance: float = 1e-12, max_iterations: int = 200) -> ReactorOutlet:
    """Outlet of a CSTR for every sample: ``inlet - outlet + sites * production(outlet) = 0``.

    With the gas change written as the extent ``x`` (mol/s) of the overall reaction, the
    balances reduce to ``g(x) = x - sites * r(x) = 0`` with ``r`` the surface rate at the
    outlet composition (the steady state is solved there: concurrent coupling). ``g`` is
    non-positive at the inlet and positive at equilibrium, so the root lies between them:
    a batched Newton iteration on ``x`` (derivative by a forward difference, one extra
    warm-started surface solve) that falls back to bisection whenever its step leaves the
    bracket. Conversion therefore never passes equilibrium.

    Args:
        conditions: inlet, pressure, sites and rate constants of every sample.
        tolerance: accepted |g| relative to the extent (or to sites x rate where larger).
        max_iterations: Newton/bisection iterations before a sample is flagged.
    """
    n = len(conditions.inlet)
    extent = np.zeros(n)
    status = np.full(n, NOT_CONVERGED)
    rows = np.flatnonzero(conditions.valid)
    low, high = conditions.bracket(rows)
    x = np.zeros(rows.size)
    for _ in range(max_iterations):
        if rows.size == 0:
            break
        rate, ok, theta = conditions.rate(rows, x)
        conditions.theta[rows[ok]] = theta[ok]
        sites = conditions.sites[rows]
        g = x - sites * rate
        done = ok & ((np.abs(g) <= tolerance * np.maximum(np.abs(x), sites * np.abs(rate)))
                     | (high - low <= 1e-15 * np.abs(high)))
        extent[rows[done]] = x[done]
        status[rows[done]] = OK
        status[rows[~ok]] = SURFACE_FAILED
        go = ok & ~done
        rows, x, g, rate, sites, low, high = rows[go], x[go], g[go], rate[go], sites[go], low[go], high[go]
        low, high = np.where(g < 0, x, low), np.where(g < 0, high, x)
        step = DERIVATIVE_STEP * np.maximum(np.abs(conditions.equilibrium[rows]), 1e-300)
        step = np.where(x + step > high, -step, step)
        shifted, ok, _ = conditions.rate(rows, x + step)
        slope = 1.0 - sites * (shifted - rate) / step
        newton = x - g / slope
        inside = ok & np.isfinite(newton) & (newton > low) & (newton < high)
        x = np.where(inside, newton, 0.5 * (low + high))
    return ReactorOutlet.checked(conditions, extent, status)
