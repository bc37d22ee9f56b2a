"""Isothermal, isobaric plug-flow reactor: the catalyst bed integrated with a batched Runge-Kutta pair.

Along the bed the extent ``x`` (mol/s) of the overall reaction grows with the moles of
sites passed, ``dx/dw = r(x)``, with the surface at steady state at every point
(pseudo-steady-state surface). scipy's ``solve_ivp`` integrates one system per call, so
using it here would mean a Python loop over samples with one steady-state solve per
sample and stage; instead the Dormand-Prince 5(4) pair is written on arrays: every
sample keeps its own position and step size, all samples still on the bed advance
together, and each stage is one batched surface solve warm-started from the coverages
of the sample's last accepted point.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from uqms.models.reactor.conditions import ReactorConditions
from uqms.models.reactor.outlet import NOT_CONVERGED, OK, SURFACE_FAILED, ReactorOutlet

# Dormand-Prince 5(4): stage coefficients, 5th-order weights (= last stage row, FSAL), error weights
_A = (
    (),
    (1 / 5,),
    (3 / 40, 9 / 40),
    (44 / 45, -56 / 15, 32 / 9),
    (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
    (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
    (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84),
)
_E = np.array([71 / 57600, 0.0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40])

#: rate(rows, extent) -> (rate per site (rows,), converged (rows,), coverages or None)
RateFunction = Callable[[np.ndarray, np.ndarray], tuple]


def integrate_pfr(
    conditions: ReactorConditions,
    rate: RateFunction | None = None,
    rtol: float = 1e-9,
    atol: float = 1e-20,
    max_steps: int = 2000,
) -> ReactorOutlet:
    """Outlet of a PFR for every sample, integrating over ``conditions.sites`` moles of sites.

    A step is accepted when its error estimate is below ``atol * total inlet flow +
    rtol * |x|``. Extents are kept between the inlet and equilibrium (the rate vanishes
    there), so conversion never passes equilibrium. A sample is finished at the end of
    the bed, or earlier once its current rate times the sites left moves its extent by
    less than the tolerance (rates fall along the bed as the reaction
    approaches equilibrium; this ends the otherwise stiff crawl next to equilibrium).

    Args:
        conditions: inlet, pressure, sites and rate constants of every sample.
        rate: the surface rate; default the micro-kinetic steady state
            (:meth:`ReactorConditions.rate`), or a surrogate's ``rate``.
        rtol, atol: relative and absolute (per total inlet flow) tolerances on the extent.
        max_steps: attempted steps per sample before it is flagged.
    """
    rate = conditions.rate if rate is None else rate
    n = len(conditions.inlet)
    extent = np.zeros(n)
    status = np.full(n, NOT_CONVERGED)
    rows = np.flatnonzero(conditions.valid)
    low, high = conditions.bracket(rows)
    absolute = atol * conditions.total_inlet[rows]
    length = conditions.sites[rows]
    x, w = np.zeros(rows.size), np.zeros(rows.size)
    r, ok, theta = rate(rows, x)
    _store(conditions, rows, ok, theta)
    status[rows[~ok]] = SURFACE_FAILED
    h = np.minimum(length, 0.01 * np.abs(high - low) / np.maximum(np.abs(r), 1e-300))
    for _ in range(max_steps + 1):
        done = ok & ((w >= length * (1 - 1e-14)) | (np.abs(r) * (length - w) <= absolute + rtol * np.abs(x)))
        extent[rows[done]] = x[done]
        status[rows[done]] = OK
        go = ok & ~done
        rows, x, w, h, r, low, high, absolute, length = (
            a[go] for a in (rows, x, w, h, r, low, high, absolute, length))
        if rows.size == 0:
            break
        h = np.minimum(h, length - w)
        stages = [r]
        ok = np.ones(rows.size, dtype=bool)
        for a in _A[1:]:
            point = np.clip(x + h * sum(c * k for c, k in zip(a, stages)), low, high)
            k, converged, theta = rate(rows, point)
            stages.append(k)
            ok &= converged
        error = np.abs(h * sum(e * k for e, k in zip(_E, stages)))
        ratio = error / (absolute + rtol * np.maximum(np.abs(x), np.abs(point)))
        accept = ok & (ratio <= 1.0)
        _store(conditions, rows, accept, theta)
        x, w, r = np.where(accept, point, x), np.where(accept, w + h, w), np.where(accept, stages[-1], r)
        with np.errstate(divide="ignore"):
            h = h * np.clip(0.9 * ratio ** -0.2, 0.2, np.where(accept, 5.0, 1.0))
        status[rows[~ok]] = SURFACE_FAILED
    if theta is None:  # a surrogate: coverages at the outlet from one surface solve
        finished = np.flatnonzero(status == OK)
        _, ok, theta = conditions.rate(finished, extent[finished])
        conditions.theta[finished[ok]] = theta[ok]
        status[finished[~ok]] = SURFACE_FAILED
    return ReactorOutlet.checked(conditions, extent, status)


def _store(conditions: ReactorConditions, rows: np.ndarray, keep: np.ndarray, theta) -> None:
    """Keep the coverages of accepted points as the next warm start (surrogates return None)."""
    if theta is not None:
        conditions.theta[rows[keep]] = theta[keep]
