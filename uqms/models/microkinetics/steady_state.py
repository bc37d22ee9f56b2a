"""Batched steady-state solver: every sample of a batch at once.

scipy has no batched root finder (``scipy.optimize.root`` solves one system per call),
so Newton's method is written here on arrays shaped (samples, species), with
``numpy.linalg.solve`` on the stacked Jacobians. The Jacobian is taken in
log-coverages and the step applied to the coverages, which stay positive (a step may
shrink a coverage by at most :data:`STEP_FLOOR`); every site balance is one of the
equations, so they sum to one; steps are capped and damped by a backtracking line search.

Samples Newton cannot bring home from the guess are started again from the guess by
pseudo-transient continuation: linearly implicit Euler steps of the rate equations
with a growing time step, handed back to Newton once close. A sample that still fails
gets a status code and NaN values, never a silent wrong answer; the residual and the
site balances are checked on every returned sample.

With numba installed, the same iteration runs compiled sample by sample
(:mod:`uqms.models.microkinetics.kernels`; this module's numpy path is the reference and
the fallback), and samples solved without a guess start from solved neighbours in the
batch (``along_batch``).

Guarantees, with or without coverage-dependent rate constants (lateral interactions,
Cantera's coverage dependencies, whose coverage derivatives the Jacobian includes) and
for any number of site types: every sample returned with status 0 has coverages in
(0, 1], each adsorbate balance at |net / gross| <= 100 x ``tolerance`` and each site
type's balance at |sum - 1| <= 1e-10, checked after solving; every other sample is
flagged. Not guaranteed: that a steady state is found for every sample (none may exist
in floating point, or the iteration limits may be reached), or that it is the only one;
strongly attractive interactions can make several, and the solver returns the one
continuation from the guess reaches.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from uqms.chemistry.mechanism import Mechanism
from uqms.models.microkinetics.batch_order import batch_order, descriptors
from uqms.models.microkinetics.coverage_dependence import CoverageDependence
from uqms.models.microkinetics.kinetics import (
    TINY,
    equations_of,
    pressure_array,
    pressure_weighted,
    production_rates,
)
from uqms.models.microkinetics.rate_constants import RateConstants
from uqms.models.rows import every, largest_magnitude

OK, NOT_CONVERGED, BAD_INPUT = 0, 1, 2
STATUS_MESSAGES = {
    NOT_CONVERGED: "steady state not reached (Newton and pseudo-transient continuation failed)",
    BAD_INPUT: "rate constants or pressures not finite and non-negative",
}
LOG_FLOOR = -700.0  # ln of the smallest coverage represented (1e-304)
NEWTON_STEP = 10.0  # largest relative change of a coverage in one Newton step
STEP_FLOOR = 1e-3  # smallest factor a coverage may shrink by in one Newton step
NEWTON_START = 8  # Newton iterations from a given guess before continuation takes over
HANDOVER = 1e-6  # scaled residual below which continuation hands over to Newton
TRANSIENT_START = 1e-2  # first time step, as a fraction of the fastest time scale theta / gross flux
TRANSIENT_GROWTH = 5.0  # factor the time step grows by after an accepted implicit Euler step
TRANSIENT_FLOOR = 1e-3  # smallest factor a coverage may shrink by in one implicit Euler step
HALVINGS = 30  # step lengths the line search tries, from the full step down by halves


@dataclass(frozen=True)
class SteadyState:
    """The solution for a batch; coverages are NaN where ``status`` is not 0.

    Attributes:
        mechanism: the mechanism solved.
        theta: coverages (samples, surface species): adsorbates then free sites.
        forward, reverse: rates of every step in each direction (samples, steps), 1/s per site.
        status: 0 converged, :data:`NOT_CONVERGED`, :data:`BAD_INPUT`.
        residual: largest |net / gross| production of an adsorbate, per sample.
        site_balance: largest |sum of coverages - 1| over site types, per sample.
        iterations: Newton plus implicit Euler iterations used, per sample.
        transient: whether the sample needed pseudo-transient continuation.
        coverage: the coverage dependence of the rate constants solved with (None: none).
    """

    mechanism: Mechanism
    theta: np.ndarray
    forward: np.ndarray
    reverse: np.ndarray
    status: np.ndarray
    residual: np.ndarray
    site_balance: np.ndarray
    iterations: np.ndarray
    transient: np.ndarray
    coverage: CoverageDependence | None = None

    @functools.cached_property
    def net_rates(self) -> np.ndarray:
        """Net rate of every step (samples, steps), 1/s per site; those of quasi-equilibrated
        steps from the adsorbate balances (:func:`resolved_net_rates`)."""
        balance = (self.mechanism.product_surface - self.mechanism.reactant_surface).T[: len(self.mechanism.adsorbates)]
        return resolved_net_rates(self.forward, self.reverse, balance)

    @property
    def coverages(self) -> np.ndarray:
        """Adsorbate coverages (samples, adsorbates)."""
        return self.theta[:, : len(self.mechanism.adsorbates)]

    @property
    def free_sites(self) -> np.ndarray:
        """Fraction of free sites of each site type (samples, site types)."""
        return self.theta[:, len(self.mechanism.adsorbates):]

    @functools.cached_property
    def production(self) -> np.ndarray:
        """Net production of every gas species (samples, gas), molecules per site and second: the
        turnover, the one definition micro-kinetics and reactors share (from :attr:`net_rates`)."""
        return production_rates(self.mechanism, self.net_rates)

    def tof(self, products: tuple[str, ...] | None = None) -> np.ndarray:
        """Turnover frequency of each product (samples, products), molecules per site and second."""
        products = self.mechanism.products if products is None else products
        columns = [self.mechanism.gas.index(p) for p in products]
        return self.production[:, columns]

    def site_tof(self, site_fractions: np.ndarray, products: tuple[str, ...] | None = None) -> np.ndarray:
        """Turnover frequency of each product on each site type (samples, site types, products):
        the production by the steps counted per that type (``per_site``), per site of that type.

        ``site_fractions`` (samples, site types) is each type's share of all sites
        (:meth:`~uqms.chemistry.mechanism.Mechanism.site_fractions`); the shares times these
        sum to :meth:`tof`.
        """
        mechanism = self.mechanism
        products = mechanism.products if products is None else products
        columns = [mechanism.gas.index(p) for p in products]
        stoichiometry = (mechanism.product_gas - mechanism.reactant_gas)[:, columns]  # steps x products
        home = np.eye(len(mechanism.sites))[mechanism.step_site]  # steps x site types
        production = np.einsum("nj,js,jp->nsp", self.net_rates, home, stoichiometry)
        return production / site_fractions[:, :, None]

    def selectivity(self, products: tuple[str, ...] | None = None) -> np.ndarray:
        """Share of each product in the total production of the named products (samples, products)."""
        tof = self.tof(products)
        with np.errstate(invalid="ignore", divide="ignore"):
            return tof / tof.sum(axis=1, keepdims=True)


def uniform_guess(mechanism: Mechanism, n: int) -> np.ndarray:
    """Coverages spread evenly over the species of each site type (samples, surface species)."""
    per_site = mechanism.site_membership.sum(axis=1)
    return np.broadcast_to(mechanism.site_membership.T @ (1.0 / per_site), (n, len(mechanism.surface_species))).copy()


def solve_steady_state(
    mechanism: Mechanism,
    rate_constants: RateConstants,
    pressures=None,
    guess: SteadyState | np.ndarray | None = None,
    *,
    tolerance: float = 1e-12,
    max_newton: int = 60,
    max_transient: int = 300,
    along_batch: bool = True,
) -> SteadyState:
    """Steady-state coverages and rates of all samples at once.

    Args:
        mechanism: the mechanism.
        rate_constants: forward and reverse rate constants (samples, steps).
        pressures: partial pressures in bar: an array (samples, gas) in ``mechanism.gas``
            order, a ``{gas: value or array}`` dict, or ``None`` for the file's defaults.
        guess: starting coverages (samples, surface species) or a previous
            :class:`SteadyState` (warm start): Newton starts from it. Without a guess,
            continuation starts from :func:`uniform_guess`.
        tolerance: largest accepted |net / gross| production of any adsorbate.
        max_newton, max_transient: iteration limits of Newton (after continuation) and of continuation.
        along_batch: without a guess, start each sample's Newton from a solved neighbour
            in rate-constant space (continuation along the batch, compiled path only;
            :func:`~uqms.models.microkinetics.batch_order.batch_order`), pseudo-transient
            continuation from the uniform guess where that fails. Where a mechanism has
            several stable steady states a sample may then land on its neighbour's branch.

    Returns:
        A :class:`SteadyState`; samples that failed carry a non-zero ``status`` and NaNs.
    """
    n = len(rate_constants.forward)
    p = pressure_array(mechanism, pressures, n)
    forward_k, reverse_k = pressure_weighted(mechanism, rate_constants, p)
    newton_first = guess is not None  # the uniform default is rarely within Newton's reach
    if guess is None:
        guess = uniform_guess(mechanism, n)
    elif isinstance(guess, SteadyState):
        guess = guess.theta
        if not np.isfinite(guess).all():  # failed samples start from the uniform guess
            guess = np.where(np.isfinite(guess), guess, uniform_guess(mechanism, n))
    guess = np.asarray(guess, dtype=float)
    valid = (every(np.isfinite(forward_k) & (forward_k >= 0)) & every(np.isfinite(reverse_k) & (reverse_k >= 0))
             & every(np.isfinite(p) & (p >= 0)) & every(guess >= 0))  # NaN is not >= 0
    coverage = rate_constants.coverage
    if coverage is not None:
        valid &= every(np.isfinite(coverage.linear))
    equations = equations_of(mechanism)
    from uqms.models.microkinetics import kernels  # imports this module's constants

    if kernels.enabled():
        order = None
        if along_batch and not newton_first:
            order = batch_order(descriptors(forward_k, reverse_k, coverage))
        solved = kernels.solve_rows(equations, forward_k, reverse_k, coverage, guess, valid,
                                    newton_first, tolerance, max_newton, max_transient, order)
        return _accepted(mechanism, coverage, solved.theta, solved.forward, solved.reverse, solved.residual,
                         solved.site_balance, valid, solved.converged, 100 * tolerance, solved.iterations,
                         solved.transient)
    with np.errstate(divide="ignore", invalid="ignore"):
        start = np.clip(np.log(guess), LOG_FLOOR, 0.0)
    x, converged, iterations, transient = _solve_batch(equations, forward_k, reverse_k, coverage, start, valid,
                                                       newton_first, tolerance, max_newton, max_transient)
    theta = np.exp(x)
    forward, reverse = equations.rates(forward_k, reverse_k, x, coverage)
    with np.errstate(invalid="ignore"):
        residual = largest_magnitude(((forward - reverse) @ equations.net.T)
                                     / ((forward + reverse) @ equations.gross.T + TINY))
        site_balance = largest_magnitude(theta @ equations.sites.T - 1.0)
    return _accepted(mechanism, coverage, theta, forward, reverse, residual, site_balance, valid, converged,
                     100 * tolerance, iterations, transient)


def _solve_batch(equations, forward_k, reverse_k, coverage, start, valid, newton_first, tolerance, max_newton,
                 max_transient):
    """The numpy path, all samples at once: Newton from ``start`` if ``newton_first``, then
    continuation from ``start`` and Newton for the rest. Returns log-coverages, the
    converged mask, iterations per sample and whether continuation ran."""
    n = len(start)
    x = start.copy()
    iterations = np.zeros(n, dtype=np.int64)
    rows = np.flatnonzero(valid)
    converged = np.zeros(n, dtype=bool)
    if newton_first:
        converged = _newton(equations, forward_k, reverse_k, coverage, x, rows, tolerance,
                            min(NEWTON_START, max_newton), iterations)
    retry = rows[~converged[rows]]
    x[retry] = start[retry]
    close = _continuation(equations, forward_k, reverse_k, coverage, x, retry, max_transient, iterations)
    converged |= _newton(equations, forward_k, reverse_k, coverage, x, retry[close], tolerance, max_newton,
                         iterations)
    transient = np.zeros(n, dtype=bool)
    transient[retry] = True
    return x, converged, iterations, transient


def _newton(equations, forward_k, reverse_k, coverage, x, rows, tolerance, max_iterations, iterations) -> np.ndarray:
    """Damped Newton on ``rows`` of ``x`` (updated in place); returns the converged mask (all samples).

    The Jacobian is taken in log-coverages (columns of one scale whatever the coverage);
    the step is applied to the coverages, theta (1 + step): Newton in the coverages, in
    which mass-action rates are polynomials, so it converges in fewer steps than in logs.
    """
    converged = np.zeros(len(x), dtype=bool)
    active = rows
    xa, kf, kr, ca = x[active], forward_k[active], reverse_k[active], _rows(coverage, active)
    forward, reverse = equations.rates(kf, kr, xa, ca)
    for iteration in range(max_iterations + 1):
        residual, scale = equations.residual(forward, reverse, xa)
        norm = largest_magnitude(residual)
        go = (norm > tolerance) & np.isfinite(norm)
        if not go.all():  # some leave: write them back and carry on with the rest
            x[active] = xa
            converged[active[norm <= tolerance]] = True
            active, xa, kf, kr, ca = active[go], xa[go], kf[go], kr[go], _rows(ca, go)
            forward, reverse, residual, scale = forward[go], reverse[go], residual[go], scale[go]
        if active.size == 0 or iteration == max_iterations:
            break
        step = _solve(equations.jacobian(forward, reverse, xa, scale, ca), -residual)
        step *= np.minimum(1.0, NEWTON_STEP / largest_magnitude(step))[:, None]
        merit = np.einsum("ij,ij->i", residual, residual)
        xa, forward, reverse, moved = _line_search(equations, kf, kr, ca, xa, step, scale, merit, forward, reverse)
        iterations[active] += 1
        if not moved.all():
            x[active] = xa
            active, xa, kf, kr, forward, reverse = (a[moved] for a in (active, xa, kf, kr, forward, reverse))
            ca = _rows(ca, moved)
    x[active] = xa
    return converged


def _advance(xa: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Log-coverages after the coverages take the Newton step: theta (1 + step), shrinking
    by at most :data:`STEP_FLOOR`, at most 1."""
    return np.clip(xa + np.log(np.maximum(1.0 + step, STEP_FLOOR)), LOG_FLOOR, 0.0)


def _line_search(equations, kf, kr, ca, xa, step, scale, merit, forward, reverse, halvings: int = HALVINGS):
    """Backtrack along ``step`` until the squared scaled residual ``merit`` decreases.

    Returns the new log-coverages and rates (unchanged where no step length helped) and
    which samples moved.
    """
    trial = _advance(xa, step)
    trial_forward, trial_reverse = equations.rates(kf, kr, trial, ca)
    residual, _ = equations.residual(trial_forward, trial_reverse, trial, scale)
    moved = np.einsum("ij,ij->i", residual, residual) <= (1 - 1e-4) * merit  # NaN is never better
    if moved.all():  # the full step, as almost always
        return trial, trial_forward, trial_reverse, moved
    xa, forward, reverse = (np.where(moved[:, None], a, b) for a, b in
                            ((trial, xa), (trial_forward, forward), (trial_reverse, reverse)))
    pending = np.flatnonzero(~moved)
    alpha = 1.0
    for _ in range(halvings - 1):
        alpha /= 2
        trial = _advance(xa[pending], alpha * step[pending])
        trial_forward, trial_reverse = equations.rates(kf[pending], kr[pending], trial, _rows(ca, pending))
        residual, _ = equations.residual(trial_forward, trial_reverse, trial, scale[pending])
        better = np.einsum("ij,ij->i", residual, residual) <= (1 - 1e-4 * alpha) * merit[pending]
        accepted = pending[better]
        xa[accepted], forward[accepted], reverse[accepted] = trial[better], trial_forward[better], trial_reverse[better]
        moved[accepted] = True
        pending = pending[~better]
        if pending.size == 0:
            break
    return xa, forward, reverse, moved


def _continuation(equations, forward_k, reverse_k, coverage, x, rows, max_iterations, iterations) -> np.ndarray:
    """Pseudo-transient continuation on ``rows``: linearly implicit Euler in coverages.

    The adsorbates follow d(theta)/dt = N r(theta) and the free sites close the site
    balances (a differential-algebraic system): each step solves, for the relative
    change s = d(theta) / theta,

        adsorbate rows:  (theta / dt - dF/dx) s = F,  divided by the gross flux;
        site rows:       sum over the site type of theta s = 1 - sum of theta.

    In exact arithmetic this is the implicit Euler step of every species, free sites
    included (the columns of N sum to zero over a site type, so the free sites' rows are
    implied by the others); written that way, with absolute coverages as unknowns, the
    system's condition grew with dt and with the spread of the coverages (1e28 at
    coverages of 1e-13 next to free sites of 1, where the free sites' step was round-off
    whose size the BLAS kernel decided, and continuation could stall). Here it stays near
    that of Newton's Jacobian. The time step grows by :data:`TRANSIENT_GROWTH` per accepted
    step. A step that would shrink a coverage by more than the factor :data:`TRANSIENT_FLOOR`
    is rejected and the time step cut to a quarter; sums are renormalised against
    round-off. Returns, over ``rows``, whether the sample came within :data:`HANDOVER` of
    steady state (``x`` is updated in place).
    """
    close = np.zeros(len(rows), dtype=bool)
    active = np.arange(len(rows))
    change = equations.change
    dt = None
    for _ in range(max_iterations):
        if active.size == 0:
            break
        xa, kf, kr = x[rows[active]], forward_k[rows[active]], reverse_k[rows[active]]
        ca = _rows(coverage, rows[active])
        forward, reverse = equations.rates(kf, kr, xa, ca)
        residual, _ = equations.residual(forward, reverse, xa)
        norm = largest_magnitude(residual)
        near = norm <= HANDOVER
        close[active[near]] = True
        theta = np.exp(xa)
        gross = (forward + reverse) @ np.abs(change).T + TINY
        if dt is None:
            dt = TRANSIENT_START * (theta / gross).min(axis=1)
        go = ~near & np.isfinite(norm)
        if not go.all():
            active, theta, dt, forward, reverse, gross = active[go], theta[go], dt[go], forward[go], reverse[go], gross[go]
            ca = _rows(ca, go)
        if active.size == 0:
            break
        step = _implicit_euler_step(equations, forward, reverse, theta, dt, gross[:, : equations.net.shape[0]], ca)
        new = np.maximum(theta + step, np.exp(LOG_FLOOR))
        accept = every(np.isfinite(new) & (new >= TRANSIENT_FLOOR * theta))
        new = np.minimum(new[accept], 1.0)
        new /= (new @ equations.sites.T) @ equations.sites  # site sums back to one
        x[rows[active[accept]]] = np.log(new)
        iterations[rows[active]] += 1
        dt = np.where(accept, np.minimum(dt * TRANSIENT_GROWTH, 1e250), dt / 4)
    return close


def _implicit_euler_step(equations, forward, reverse, theta, dt, scale, coverage=None) -> np.ndarray:
    """Change of the coverages (samples, surface species) in one linearly implicit Euler
    step of length ``dt`` (samples), the adsorbate rows divided by ``scale`` (their gross
    fluxes); see :func:`_continuation` for the system solved."""
    adsorbates, species = equations.net.shape[0], theta.shape[1]
    x = None if coverage is None else np.log(theta)
    jacobian = equations.balance_derivatives(forward, reverse, x, coverage)  # d/dx
    diagonal = np.eye(adsorbates, species)[None] * (theta / dt[:, None])[:, None, :]
    matrix = np.concatenate([(diagonal - jacobian) / scale[:, :, None], equations.sites[None] * theta[:, None, :]],
                            axis=1)
    rhs = np.concatenate([((forward - reverse) @ equations.net.T) / scale, 1.0 - theta @ equations.sites.T], axis=1)
    return theta * _solve(matrix, rhs)


def _rows(coverage: CoverageDependence | None, rows) -> CoverageDependence | None:
    """The coverage dependence of a subset of the samples (None stays None)."""
    return None if coverage is None else coverage[rows]


def _solve(matrix: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve a stack of linear systems (``matrix``: stack, size, size) for right-hand sides
    (stack, size) or several at once (stack, size, columns: one factorisation for all);
    singular members get the least-squares solution.

    LU fails for the whole stack if one member is singular, so the stack is halved until
    the singular members are isolated (rare: a handful of extra calls).
    """
    columns = rhs if rhs.ndim == matrix.ndim else rhs[..., None]
    try:
        solution = np.linalg.solve(matrix, columns)
    except np.linalg.LinAlgError:
        if len(matrix) == 1:
            with np.errstate(all="ignore"):
                solution = np.linalg.pinv(np.nan_to_num(matrix)) @ columns
        else:
            half = len(matrix) // 2
            solution = np.concatenate([_solve(matrix[:half], columns[:half]), _solve(matrix[half:], columns[half:])])
    return solution if rhs.ndim == matrix.ndim else solution[..., 0]


def _accepted(mechanism, coverage, theta, forward, reverse, residual, site_balance, valid, converged,
              check_tolerance, iterations, transient) -> SteadyState:
    """The solution with its acceptance check: a converged valid sample passes where its
    ``residual`` (largest |net / gross| of an adsorbate, from rates at the returned coverages)
    is at most ``check_tolerance``, its ``site_balance`` at most 1e-10 and its coverages at
    most 1; the others are flagged and blanked."""
    with np.errstate(invalid="ignore"):  # NaN is not <= anything: flagged
        good = converged & valid & (residual <= check_tolerance) & (site_balance <= 1e-10) & every(theta <= 1.0)
    status = np.where(valid, np.where(good, OK, NOT_CONVERGED), BAD_INPUT).astype(np.int32)
    if not good.all():
        blank = ~good[:, None]
        theta, forward, reverse = (np.where(blank, np.nan, a) for a in (theta, forward, reverse))
    return SteadyState(mechanism, theta, forward, reverse, status, residual, site_balance, iterations, transient,
                       coverage)


def resolved_net_rates(forward: np.ndarray, reverse: np.ndarray, balance: np.ndarray) -> np.ndarray:
    """Net rates (samples, steps) at steady state, each as precise as the most
    irreversible steps allow (``balance``: adsorbates x steps, ``balance @ r = 0``).

    forward - reverse of a fast step near equilibrium keeps few or no digits: its error
    is about the solver's tolerance times its gross rate, which can exceed the net rate
    itself (the sign is then round-off). The balances fix ``rank(balance)`` net rates
    from the others, so per sample the least irreversible steps (smallest |net| / gross)
    whose balance columns are independent are solved from the balances, given the
    forward - reverse of the rest (least squares). Which steps those are, and the linear
    map from the others' net rates to theirs, depend on the ranking of the steps alone:
    both are computed once per distinct ranking (samples share a few) and applied to all.
    """
    net = forward - reverse
    rankings, which = _distinct_rows(_ranks(step_irreversibility(forward, reverse)))
    derived = _least_irreversible_basis(balance, rankings)  # (rankings, steps)
    columns, others = balance[None] * derived[:, None, :], balance[None] * ~derived[:, None, :]
    maps = -np.linalg.pinv(columns) @ others  # (rankings, steps, steps): derived from trusted net rates
    diagonal = np.arange(net.shape[1])
    maps[:, diagonal, diagonal] += ~derived  # the trusted steps keep their own
    return np.einsum("nij,nj->ni", maps[which], np.where(derived[which], 0.0, net))  # failed samples' NaN stays


def step_irreversibility(forward: np.ndarray, reverse: np.ndarray) -> np.ndarray:
    """|net| / gross rate of each step (samples, steps): 0 at equilibrium, 1 irreversible;
    the largest float where a step carries no flux or its rates are NaN (nothing to trust)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        irreversibility = np.where(forward + reverse > 0, np.abs(forward - reverse) / (forward + reverse), np.inf)
    return np.nan_to_num(irreversibility, nan=np.inf)


def _least_irreversible_basis(balance: np.ndarray, irreversibility: np.ndarray) -> np.ndarray:
    """Per sample, the steps whose balance columns form a basis of the column space,
    picked greedily from the least irreversible up (samples, steps), by Gram-Schmidt
    on all samples at once: loops over steps and basis vectors, not samples (arrays
    are laid out with samples last, so every operation runs along them)."""
    n, steps = irreversibility.shape
    order = np.empty((n, steps), dtype=np.int64)
    order[np.arange(n)[:, None], _ranks(irreversibility)] = np.arange(steps)
    rank = balance.shape[0]
    basis = np.zeros((rank, rank, n))  # basis[k]: the k-th orthonormal vector (adsorbates, samples)
    size = np.zeros(n, dtype=np.int64)
    chosen = np.zeros((n, steps), dtype=bool)
    for position in range(steps):
        step = order[:, position]
        column = balance[:, step]  # (adsorbates, samples)
        residual = column - np.einsum("kan,kn->an", basis, np.einsum("kan,an->kn", basis, column))
        length = np.sqrt(np.einsum("an,an->n", residual, residual))
        new = length > 1e-9 * np.sqrt(np.einsum("an,an->n", column, column))
        unit = residual / np.where(new, length, 1.0)
        for k in range(rank):
            basis[k] = np.where(new & (size == k), unit, basis[k])
        size += new
        chosen[np.arange(n), step] |= new
    return chosen


def _distinct_rows(ranks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of ``ranks`` (samples, steps; entries in 0..steps-1) and the index
    of each sample's row among them: by one integer per row, ``sum_i ranks_i steps^i``, where
    it fits in 64 bits (``numpy.unique`` along an axis compares rows as byte strings, 30x
    slower), looked up in a table of every possible integer where that is small (no sort: 5x
    faster than ``numpy.unique`` of the integers); the distinct rows ordered by their integer."""
    steps = ranks.shape[1]
    if steps**steps >= 2**63:
        distinct, inverse = np.unique(ranks, axis=0, return_inverse=True)
        return distinct, inverse.ravel()
    powers = steps ** np.arange(steps, dtype=np.int64)
    keys = ranks @ powers
    if steps**steps > 2**16:  # a table of every integer only up to 6 steps
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        return ranks[first], inverse
    present = np.zeros(steps**steps, dtype=bool)
    present[keys] = True
    distinct = np.flatnonzero(present)
    index = np.empty(steps**steps, dtype=np.int64)
    index[distinct] = np.arange(len(distinct))
    return distinct[:, None] // powers % steps, index[keys]


def _ranks(values: np.ndarray) -> np.ndarray:
    """Rank of each entry within its row, ties by column (samples, few): ``argsort`` of
    short rows is slow; each pair of columns is compared once, on contiguous columns
    (4x faster than comparing each column with the whole rows)."""
    steps = values.shape[1]
    columns = [np.ascontiguousarray(values[:, i]) for i in range(steps)]
    ranks = np.zeros((steps, len(values)), dtype=np.int64)
    for i in range(steps):
        for j in range(i + 1, steps):
            ranks[j] += columns[i] <= columns[j]  # i before j: smaller, or equal and to its left
            ranks[i] += columns[j] < columns[i]  # (a NaN is before nothing, nothing before it)
    return ranks.T
