"""Isothermal, isobaric CSTR and PFR for mechanisms with several overall reactions (unknowns: their extents).

CSTR: ``g(x) = x - sites * r(x) = 0`` for the extents ``x`` (samples, reactions), mol/s,
solved by a batched Newton iteration (Jacobian by forward differences, one warm-started
surface solve per reaction) whose step is halved until every flow stays non-negative.
PFR: ``dx/dw = r(x)`` over the moles of sites ``w``, the Dormand-Prince 5(4) pair of
:mod:`.pfr` on arrays, every sample with its own position and step size.
"""

from __future__ import annotations

import numpy as np

from uqms.models.reactor.network import NetworkConditions
from uqms.models.reactor.network_outlet import NetworkOutlet
from uqms.models.reactor.outlet import NOT_CONVERGED, OK, SURFACE_FAILED
from uqms.models.reactor.pfr import _A, _E

DERIVATIVE_STEP = 1e-7  # finite-difference step of an extent, relative to the total inlet flow
HALVINGS = 40  # step halvings that keep the flows non-negative before a Newton step gives up


def solve_network_cstr(conditions: NetworkConditions, tolerance: float = 1e-12,
                       max_iterations: int = 100) -> NetworkOutlet:
    """Outlet of a CSTR for every sample; converged when every |g| <= ``tolerance`` x total inlet flow."""
    c = conditions
    n, m = len(c.inlet), len(c.reactions.stoichiometry)
    extents, status = np.zeros((n, m)), np.full(n, NOT_CONVERGED)
    rows = np.flatnonzero(c.valid)
    x = np.zeros((rows.size, m))
    for _ in range(max_iterations):
        if rows.size == 0:
            break
        rate, ok, theta = c.rates(rows, x)
        c.theta[rows[ok]] = theta[ok]
        sites, scale = c.sites[rows, None], c.inlet[rows].sum(axis=1)
        g = x - sites * rate
        done = ok & (np.abs(g).max(axis=1) <= tolerance * scale)
        extents[rows[done]], status[rows[done]] = x[done], OK
        status[rows[~ok]] = SURFACE_FAILED
        go = ok & ~done
        rows, x, g, rate, sites, scale = rows[go], x[go], g[go], rate[go], sites[go], scale[go]
        h = DERIVATIVE_STEP * scale
        jacobian = np.empty((rows.size, m, m))
        for i in range(m):  # one batched surface solve per reaction
            shifted, _, _ = c.rates(rows, x + h[:, None] * np.eye(m)[i])
            jacobian[:, :, i] = np.eye(m)[:, i] - sites * (shifted - rate) / h[:, None]
        step = np.linalg.solve(jacobian, -g[:, :, None])[:, :, 0]
        fraction = np.ones(rows.size)
        for _ in range(HALVINGS):
            negative = (c.flows(rows, x + fraction[:, None] * step) < -1e-15 * scale[:, None]).any(axis=1)
            fraction = np.where(negative, 0.5 * fraction, fraction)
        x = x + fraction[:, None] * step
    return NetworkOutlet.checked(c, extents, status)


def integrate_network_pfr(conditions: NetworkConditions, rtol: float = 1e-10, atol: float = 1e-14,
                          max_steps: int = 5000) -> NetworkOutlet:
    """Outlet of a PFR for every sample, integrating over ``conditions.sites`` moles of sites.

    A step is accepted when the error estimate of every extent is below ``atol * total
    inlet flow + rtol * |x|``.
    """
    c = conditions
    n, m = len(c.inlet), len(c.reactions.stoichiometry)
    extents, status = np.zeros((n, m)), np.full(n, NOT_CONVERGED)
    rows = np.flatnonzero(c.valid)
    absolute, length = atol * c.inlet[rows].sum(axis=1), c.sites[rows]
    x, w = np.zeros((rows.size, m)), np.zeros(rows.size)
    r, ok, theta = c.rates(rows, x)
    c.theta[rows[ok]] = theta[ok]
    status[rows[~ok]] = SURFACE_FAILED
    scale = c.inlet[rows].sum(axis=1)
    h = np.minimum(length, 0.01 * scale / np.maximum(np.abs(r).max(axis=1), 1e-300))
    for _ in range(max_steps + 1):
        done = ok & (w >= length * (1 - 1e-14))
        extents[rows[done]], status[rows[done]] = x[done], OK
        go = ok & ~done
        rows, x, w, h, r, absolute, length = (a[go] for a in (rows, x, w, h, r, absolute, length))
        if rows.size == 0:
            break
        h = np.minimum(h, length - w)
        stages, ok = [r], np.ones(rows.size, dtype=bool)
        for a in _A[1:]:
            point = x + h[:, None] * sum(coefficient * k for coefficient, k in zip(a, stages))
            k, converged, theta = c.rates(rows, point)
            stages.append(k)
            ok &= converged
        error = np.abs(h[:, None] * sum(e * k for e, k in zip(_E, stages)))
        ratio = (error / (absolute[:, None] + rtol * np.maximum(np.abs(x), np.abs(point)))).max(axis=1)
        accept = ok & (ratio <= 1.0)
        c.theta[rows[accept]] = theta[accept]
        x = np.where(accept[:, None], point, x)
        w, r = np.where(accept, w + h, w), np.where(accept[:, None], stages[-1], r)
        with np.errstate(divide="ignore"):
            h = h * np.clip(0.9 * ratio ** -0.2, 0.2, np.where(accept, 5.0, 1.0))
        status[rows[~ok]] = SURFACE_FAILED
    return NetworkOutlet.checked(c, extents, status)
