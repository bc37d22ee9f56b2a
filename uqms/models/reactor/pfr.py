"""Isothermal, isobaric plug-flow reactor: the catalyst bed integrated on arrays, explicit or stiff.

Along the bed the extents ``x`` (mol/s) of the overall reactions grow with the moles of
sites passed, ``dx/dw = r(x)``, with the surface at steady state at every point
(pseudo-steady-state surface). scipy's ``solve_ivp`` integrates one system per call, so
using it here would mean a Python loop over samples with one steady-state solve per
sample and stage; instead two integrators are written on arrays, every sample keeping
its own position and step size and all samples still on the bed advancing together:

- the explicit Dormand-Prince 5(4) pair (six new rates per step), fast while the bed is
  far from equilibrium;
- the linearly implicit Rosenbrock method RODAS3 (Sandu et al., Atmos. Environ. 31
  (1997) 3459; order 3, L-stable, stiffly accurate, embedded order 2; three new rates and
  the Jacobian per step) for beds where a reaction sits at its equilibrium while others
  still move, where an explicit step is limited by stability and not by accuracy.

With one overall reaction the explicit steps after the first are taken in ln|x| over ln w
(:func:`_dormand_prince_logarithmic`): where the product inhibits the surface the extent grows
as a power of the sites over many decades (x ~ w^(1/3) for ammonia near the volcano's top),
ln x is nearly linear in ln w and the errors of earlier steps are damped along the bed, so the
outlet's relative error stays near ``rtol`` (ammonia workflow, 2048 samples: largest relative
error of the extent 8.4e-6 at rtol 1e-5 against a 1e-12 reference; steps in x over w reached
that error only at rtol 1e-7, with 1.8x the surface solves).

``method="auto"`` starts every sample on the explicit pair and moves a sample to the
Rosenbrock method once the pair's stiffness estimate (Hairer & Wanner, Solving ODEs II,
IV.2: ``h |k7 - k6| / |y7 - y6|`` near the stability boundary) fires on
:data:`STIFF_DETECTIONS` accepted steps.

At every accepted point the steady surface's derivatives along the bed follow from the
implicit function theorem (:meth:`ReactorConditions.surface_derivatives`: one batched
linear solve, no surface solve): the rate Jacobian serves RODAS3 and sizes the first
step (no rejected steps at the inlet, where the product's inhibition makes the rate fall
by orders of magnitude), and the coverage tangent predicts the coverages at every stage,
so each stage's surface solve starts a Newton step or two from its solution. With a
surrogate rate (no coverages) the Jacobian is taken by forward differences.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from uqms.models.microkinetics.steady_state import LOG_FLOOR
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
_C = np.array([0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0])  # stage nodes: the sums of the rows of _A
_E = np.array([71 / 57600, 0.0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40])
STABILITY = 3.25  # h rho of the Dormand-Prince pair at its stability boundary (Hairer & Wanner)
STIFF_DETECTIONS = 10  # accepted explicit steps at the boundary before a sample moves to RODAS3
RODAS3_GAMMA = 0.5
METHODS = ("auto", "explicit", "stiff")

#: rate(rows, extents) -> (rates per site (rows, reactions), converged (rows,), coverages or None)
RateFunction = Callable[[np.ndarray, np.ndarray], tuple]


def integrate_pfr(
    conditions: ReactorConditions,
    rate: RateFunction | None = None,
    rtol: float = 1e-9,
    atol: float = 1e-20,
    max_steps: int = 2000,
    method: str = "auto",
) -> ReactorOutlet:
    """Outlet of a PFR for every sample, integrating over ``conditions.sites`` moles of sites.

    A step is accepted when the error estimate of every extent is below ``atol * total
    inlet flow + rtol * |x|`` and the new point is admissible (every flow non-negative; one
    overall reaction not past its equilibrium: :meth:`ReactorConditions.admissible`). A sample is finished at the end of the bed, or earlier
    once its current rates times the sites left move no extent by more than the tolerance
    (rates fall along the bed as the reactions approach equilibrium).

    Args:
        conditions: inlet, pressure, sites and rate constants of every sample.
        rate: the surface rates; default the micro-kinetic steady state
            (:meth:`ReactorConditions.rates`), or a surrogate's ``rate``.
        rtol, atol: relative and absolute (per total inlet flow) tolerances on the extents.
        max_steps: attempted steps per sample before it is flagged.
        method: ``"auto"``, ``"explicit"`` (Dormand-Prince) or ``"stiff"`` (RODAS3).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    c = conditions
    surface = c.rates if rate is None else rate
    derivatives = c.surface_derivatives if rate is None else None

    def evaluate(rows, points, guess=None):
        values, converged, theta = surface(rows, points) if guess is None else surface(rows, points, guess)
        if theta is not None:  # the fallback start of these samples' next solve, and the outlet's coverages
            c.theta[rows[converged]] = theta[converged]
        return values, converged, theta

    n, m = len(c.inlet), len(c.reactions)
    extents, status = np.zeros((n, m)), np.full(n, NOT_CONVERGED)
    rows = np.flatnonzero(c.valid)
    absolute, length = atol * c.total_inlet[rows], c.sites[rows]
    x, w = np.zeros((rows.size, m)), np.zeros(rows.size)
    side = c.side(rows, x)
    r, ok, theta = evaluate(rows, x)
    status[rows[~ok]] = SURFACE_FAILED
    surface_state = _SurfaceState.at(derivatives, rows, x, theta)
    h = _first_step(c, rows, r, surface_state.jacobian, length, rtol)
    stiff = np.full(rows.size, method == "stiff")
    power_law = len(c.reactions) == 1  # explicit steps in ln x over ln w (see _dormand_prince_logarithmic)
    detections = np.zeros(rows.size, dtype=int)
    for _ in range(max_steps + 1):
        done = ok & ((w >= length * (1 - 1e-14))
                     | (np.abs(r) * (length - w)[:, None] <= absolute[:, None] + rtol * np.abs(x)).all(axis=1))
        extents[rows[done]], status[rows[done]] = x[done], OK
        go = ok & ~done
        rows, x, w, h, r, absolute, length, side, stiff, detections = (
            a[go] for a in (rows, x, w, h, r, absolute, length, side, stiff, detections))
        surface_state = surface_state[go]
        if rows.size == 0:
            break
        h = np.minimum(h, length - w)
        new, new_r, ok, error, stiffness = np.empty_like(x), np.empty_like(r), np.ones(rows.size, dtype=bool), \
            np.empty_like(x), np.zeros(rows.size)
        new_theta = None
        logarithmic = power_law & ~stiff & (w > 0) & (x[:, 0] != 0)
        for chosen, step in ((~stiff & ~logarithmic, _dormand_prince), (logarithmic, _dormand_prince_logarithmic),
                             (stiff, _rodas3)):
            if chosen.any():
                i = np.flatnonzero(chosen)
                new[i], new_r[i], ok[i], error[i], stiffness[i], theta = step(evaluate, c, rows[i], x[i], r[i], h[i], w[i],
                                                                        side[i], surface_state[i])
                if theta is not None:
                    new_theta = np.empty((rows.size, theta.shape[1])) if new_theta is None else new_theta
                    new_theta[i] = theta
        ratio = (np.abs(error) / (absolute[:, None] + rtol * np.maximum(np.abs(x), np.abs(new)))).max(axis=1)
        ratio = np.where(c.admissible(rows, new, side), ratio, np.inf)
        accept = ok & (ratio <= 1.0)
        start = w
        x, w, r = np.where(accept[:, None], new, x), np.where(accept, w + h, w), np.where(accept[:, None], new_r, r)
        surface_state = surface_state.moved(derivatives, rows, x, new_theta, accept)
        if method == "auto":  # a step at the stability boundary counts up, one inside it counts down
            detections = np.where(accept & ~stiff, np.maximum(detections + np.where(stiffness > STABILITY, 1, -1), 0),
                                  detections)
        order = np.where(stiff, 3.0, 5.0)
        with np.errstate(divide="ignore"):
            factor = np.clip(0.9 * ratio ** (-1 / order), 0.2, np.where(accept, 5.0, 1.0))
        step = h * factor
        if logarithmic.any():  # the step was taken in ln w: the controller scales that one
            i = np.flatnonzero(logarithmic)
            step[i] = w[i] * np.expm1(np.log1p(h[i] / start[i]) * factor[i])
        h = step
        stiff |= detections >= STIFF_DETECTIONS
        status[rows[~ok]] = SURFACE_FAILED
    if rate is not None:  # a surrogate: coverages at the outlet from one surface solve
        finished = np.flatnonzero(status == OK)
        _, solved, theta = c.rates(finished, extents[finished])
        c.theta[finished[solved]] = theta[solved]
        status[finished[~solved]] = SURFACE_FAILED
    return ReactorOutlet.checked(c, extents, status)


@dataclass(frozen=True)
class _SurfaceState:
    """The surface at each active sample's last accepted point: its coverages, their
    derivatives d ln(theta)/dx and the rate Jacobian dr/dx (implicit function theorem,
    :meth:`ReactorConditions.surface_derivatives`); all None for a surrogate rate, the
    coverages and their derivatives None for several reactions (see :meth:`guess`)."""

    log_theta: np.ndarray | None = None
    slopes: np.ndarray | None = None
    jacobian: np.ndarray | None = None

    @classmethod
    def at(cls, derivatives, rows, x, theta) -> _SurfaceState:
        if derivatives is None or theta is None:
            return cls()
        slopes, jacobian = derivatives(rows, x, theta)
        if slopes.shape[2] > 1:  # several reactions: the Jacobian only (see guess)
            return cls(jacobian=jacobian)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_theta = np.log(theta)
        good = np.isfinite(log_theta).all(axis=1) & np.isfinite(slopes).all(axis=(1, 2))
        return cls(np.where(good[:, None], log_theta, np.nan), np.where(good[:, None, None], slopes, 0.0), jacobian)

    def __getitem__(self, rows) -> _SurfaceState:
        return _SurfaceState(*(None if a is None else a[rows] for a in (self.log_theta, self.slopes, self.jacobian)))

    def moved(self, derivatives, rows, x, theta, accept) -> _SurfaceState:
        """The state after a step: the new point where ``accept``, the old one elsewhere."""
        if self.jacobian is None or not accept.any():
            return self
        if accept.all():  # as most steps: no copies of the old state
            return _SurfaceState.at(derivatives, rows, x, theta)
        i = np.flatnonzero(accept)
        fresh = _SurfaceState.at(derivatives, rows[i], x[i], theta[i])
        arrays = []
        for old, new in zip((self.log_theta, self.slopes, self.jacobian), (fresh.log_theta, fresh.slopes, fresh.jacobian),
                            strict=True):
            if old is not None:
                old = old.copy()
                old[i] = new
            arrays.append(old)
        return _SurfaceState(*arrays)

    def guess(self, x, point, anchor=None, logarithmic=False) -> np.ndarray | None:
        """Coverages predicted at ``point`` from the tangent at ``x`` (None: no prediction at all;
        NaN rows: the accepted point's coverages unknown), or along the chord through
        ``anchor`` = (a point, its solved log-coverages) of the same step where given;
        ``logarithmic``: both in ln|x| (the points of a step in ln|x|, all of one sign per
        sample: 11% fewer Newton steps per solve there than tangent and chord in x).

        The tangent is taken in log-coverages where they fall (they stay positive) and in the
        coverages where they rise (a coverage growing from near zero with the pressure of a
        product rises linearly, far slower than its log-slope there foretells). A chord through
        a solved stage of the step predicts the next stages better than the tangent (fewer
        Newton steps; a quadratic through both extrapolates worse).

        Only for one overall reaction: with several (PROX, workflows/prox.toml) predicted
        coverages often left the basin of the steady state (about 8 failed solves per sample,
        7 Newton steps per solve against 3 from the last solved point), so there the last
        solved coverages serve.
        """
        if self.log_theta is None:
            return None
        move = np.log(point / x) if logarithmic else point - x
        if anchor is not None:
            where, log_theta = anchor
            reach = np.log(where / x) if logarithmic else where - x
            with np.errstate(divide="ignore", invalid="ignore"):
                along = np.einsum("nm,nm->n", move, reach) / np.einsum("nm,nm->n", reach, reach)
            chord = self.log_theta + (log_theta - self.log_theta) * along[:, None]
            usable = np.isfinite(along) & ~np.isnan(log_theta[:, 0])
            if usable.all():
                return np.exp(np.clip(chord, LOG_FLOOR, 0.0))
        change = np.einsum("nsm,nm->ns", self.slopes, x * move if logarithmic else move)  # dx = x d ln|x|
        predicted = self.log_theta + np.where(change > 0, np.log1p(np.maximum(change, 0.0)), change)
        if anchor is not None:
            predicted = np.where(usable[:, None], chord, predicted)
        return np.exp(np.clip(predicted, LOG_FLOOR, 0.0))


def _first_step(c, rows, r, jacobian, length, rtol) -> np.ndarray:
    """First step of each sample, mol of sites: the Dormand-Prince pair's error on x' = J x is
    about (0.4 h |J|)^5 of the step (from its coefficients), so h = 0.8 rtol^(1/5) / (0.4 |J|)
    (|J| the largest row sum of |dr/dx|), up to the whole bed. Without a Jacobian (a surrogate
    rate) and for several reactions: the step that moves an extent by 1% of the total inlet
    flow (PROX's Jacobian steps landed 3 of 256 samples on surfaces that failed to solve)."""
    if jacobian is not None and jacobian.shape[1] == 1:
        norm = np.abs(jacobian).sum(axis=2).max(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            h = np.where(np.isfinite(norm) & (norm > 0), 2.0 * rtol ** 0.2 / norm, np.inf)
        return np.minimum(length, h)
    return np.minimum(length, 0.01 * c.total_inlet[rows] / np.maximum(np.abs(r).max(axis=1), 1e-300))


def _solve_from(evaluate, c, rows, x, point, surface, anchor=None, logarithmic=False):
    """The rates at ``point``, the surface solve warm-started from the prediction of
    :meth:`_SurfaceState.guess` (from the sample's last solved coverages where there is none)."""
    guess = surface.guess(x, point, anchor, logarithmic)
    if guess is None:
        return evaluate(rows, point)
    return evaluate(rows, point, np.where(np.isnan(guess), c.theta[rows], guess))


def _dormand_prince(evaluate, c, rows, x, r, h, w, side, surface):
    """One Dormand-Prince step in the extents over the sites: new extents, their rates, converged,
    error estimate, stiffness estimate h rho, and the coverages at the new point (None for a surrogate)."""
    return _explicit_step(evaluate, c, rows, x, r, surface, x, h, lambda z: z, lambda stage, point, rates: rates, False)


def _dormand_prince_logarithmic(evaluate, c, rows, x, r, h, w, side, surface):
    """One Dormand-Prince step from ``w`` to ``w + h`` taken in u = ln|x| over s = ln w (one overall
    reaction, x and w not 0), returned as :func:`_dormand_prince` does.

    Where the product inhibits the surface the rate falls by orders of magnitude along the bed and
    the extent grows as a power of the sites, x ~ w^a (a = 1/3 over ten decades of w for ammonia
    near the volcano's top): ln x is then nearly linear in ln w and a deviation from that line
    decays along the bed, so the steps' local errors do not add up as they do in x over w (there
    the outlet erred by up to ~80 rtol on the ammonia workflow, here by less than rtol). The error
    estimate in ln|x| is one relative to x, so it is returned times |x| at the new point.
    """
    sign, span = np.sign(x), np.log1p(h / w)
    with np.errstate(divide="ignore"):
        z = np.log(np.abs(x))

    def slope(stage, point, rates):  # du/ds = w r / x at the stage's w = w exp(c_stage span)
        return (w * np.exp(_C[stage] * span))[:, None] * rates / point

    new, new_r, ok, error, stiffness, theta = _explicit_step(evaluate, c, rows, x, r, surface, z, span,
                                                            lambda u: sign * np.exp(u), slope, True)
    return new, new_r, ok, error * np.abs(new), stiffness, theta


def _explicit_step(evaluate, c, rows, x, r, surface, z, span, point_of, slope, logarithmic):
    """One Dormand-Prince step of length ``span`` in coordinates ``z`` (the extents ``x`` =
    ``point_of(z)``, dz/d(independent) = ``slope(stage, extents, rates)``; ``logarithmic``: z
    is ln|x|): the new extents, their rates, converged, the error estimate in ``z``, the
    stiffness estimate span rho in ``z`` and the coverages at the new point."""
    stages, ok = [slope(0, x, r)], np.ones(rows.size, dtype=bool)
    coordinates, points, anchor = [], [], None
    for stage, a in enumerate(_A[1:], start=1):
        coordinates.append(z + span[:, None] * sum(coefficient * k for coefficient, k in zip(a, stages, strict=False)))
        points.append(point_of(coordinates[-1]))
        rates, converged, theta = _solve_from(evaluate, c, rows, x, points[-1], surface, anchor, logarithmic)
        stages.append(slope(stage, points[-1], rates))
        ok &= converged
        if theta is not None:  # the next stage's prediction passes through this one
            with np.errstate(divide="ignore", invalid="ignore"):
                anchor = (points[-1], np.where(converged[:, None], np.log(theta), np.nan))
    error = span[:, None] * sum(e * k for e, k in zip(_E, stages, strict=True))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # rho inf: the estimate the largest float or inf
        rho = np.linalg.norm(stages[6] - stages[5], axis=1) / np.linalg.norm(coordinates[5] - coordinates[4], axis=1)
        stiffness = span * np.nan_to_num(rho)
    return points[-1], rates, ok, error, stiffness, theta


def _rodas3(evaluate, c, rows, x, r, h, w, side, surface):
    """One RODAS3 step (the coefficients of Sandu et al. 1997 in the form of KPP's Rosenbrock
    integrator: ``(I / (h gamma) - J) K_i = f(x + sum A_ij K_j) + sum C_ij K_j / h``), with the
    analytic Jacobian at ``x`` where the surface gives one, else forward differences."""
    m = x.shape[1]
    if surface.jacobian is not None:
        jacobian, ok = surface.jacobian, np.isfinite(surface.jacobian).all(axis=(1, 2))
    else:
        jacobian, ok = c.rate_jacobian(rows, x, r, side, evaluate)
    matrix = np.eye(m) / (h * RODAS3_GAMMA)[:, None, None] - jacobian
    with np.errstate(all="ignore"):
        inverse = np.linalg.inv(np.where(np.isfinite(matrix), matrix, 0.0))

    def solve(rhs):
        return np.einsum("nij,nj->ni", inverse, rhs)

    hh = h[:, None]
    k1 = solve(r)
    k2 = solve(r + 4.0 * k1 / hh)
    f3, converged, _ = _solve_from(evaluate, c, rows, x, x + 2.0 * k1, surface)
    ok &= converged
    k3 = solve(f3 + (k1 - k2) / hh)
    f4, converged, _ = _solve_from(evaluate, c, rows, x, x + 2.0 * k1 + k3, surface)
    ok &= converged
    k4 = solve(f4 + (k1 - k2 - 8.0 / 3.0 * k3) / hh)
    new = x + 2.0 * k1 + k3 + k4
    new_r, converged, theta = _solve_from(evaluate, c, rows, x, new, surface)
    ok &= converged & np.isfinite(new).all(axis=1)
    return new, new_r, ok, k4, np.zeros(rows.size), theta
