"""A reactor's conditions for a batch and the surface rates at any gas composition (the coupling).

The gas composition is ``inlet + extents @ stoichiometry`` with one extent (mol/s) per
independent overall reaction of the mechanism
(:class:`~uqms.models.reactor.reactions.OverallReactions`; a mechanism whose cycles make
one gas reaction is the case of one extent). The surface's gas production per site is
the steady state's (:attr:`SteadyState.production`, the one turnover definition of
micro-kinetics and reactors); the rate of each reaction is its coordinate in the
reactions' stoichiometry, so the outlet keeps the elements exactly.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from uqms.chemistry.mechanism import Mechanism
from uqms.models.microkinetics.kinetics import TINY, RateEquations, equations_of
from uqms.models.microkinetics.rate_constants import RateConstants
from uqms.models.microkinetics.sensitivity import steady_derivatives
from uqms.models.microkinetics.steady_state import (
    solve_steady_state,
    step_irreversibility,
    uniform_guess,
)
from uqms.models.reactor.equilibrium import equilibrium_extents
from uqms.models.reactor.reactions import OverallReactions

DERIVATIVE_STEP = 1e-7  # finite-difference step of an extent, relative to the larger of it and its equilibrium extent
DERIVATIVE_FLOOR = 1e-4  # ... or to this share of the total inlet flow (rates resolved to ~1e-12 need steps this big)
AT_EQUILIBRIUM = 1e-12  # |ln Q - ln K| within which a reaction counts as at equilibrium (round-off of ln Q)


@dataclass
class ReactorConditions:
    """Inlet, pressure, catalyst and rate constants of every sample, with derived equilibrium.

    Attributes:
        mechanism: the surface mechanism; ``reactions``: its independent overall reactions.
        rate_constants: (samples, steps), at the reactor temperature.
        inlet: molar flows (samples, gas), mol/s; pressure: total (samples,), bar;
        sites: moles of active sites (samples,).
        tolerance: steady-state tolerance of the surface solves.
        log_k: ln K of each overall reaction (samples, reactions); +-inf through an irreversible step.
        equilibrium: equilibrium extents at the inlet, T and p (samples, reactions), mol/s.
        theta: coverages of the last surface solve of each sample (the warm start; NaN: none yet).
        valid: samples whose inputs are finite and physical (others get ``BAD_INPUT``).
    """

    mechanism: Mechanism
    rate_constants: RateConstants
    inlet: np.ndarray
    pressure: np.ndarray
    sites: np.ndarray
    tolerance: float = 1e-12
    reactions: OverallReactions = field(init=False)
    log_k: np.ndarray = field(init=False)
    equilibrium: np.ndarray = field(init=False)
    theta: np.ndarray = field(init=False)
    valid: np.ndarray = field(init=False)

    def __post_init__(self):
        n = len(self.inlet)
        self.reactions = OverallReactions.of(self.mechanism)
        self.inlet = np.asarray(self.inlet, dtype=float)
        self.pressure = np.broadcast_to(np.asarray(self.pressure, dtype=float), (n,)).copy()
        self.sites = np.broadcast_to(np.asarray(self.sites, dtype=float), (n,)).copy()
        self.log_k = self.reactions.log_equilibrium_constants(self.rate_constants)
        self.valid = (~np.isnan(self.log_k).any(1) & np.isfinite(self.inlet).all(1) & (self.inlet >= 0).all(1)
                      & (self.inlet.sum(1) > 0) & (self.pressure > 0) & (self.sites >= 0) & np.isfinite(self.sites))
        ok = self.valid[:, None]
        self.equilibrium = np.where(ok, equilibrium_extents(
            self.reactions, np.where(ok, self.inlet, 1.0), np.where(self.valid, self.pressure, 1.0),
            np.where(ok, self.log_k, 0.0)), np.nan)
        self.theta = np.full((n, len(self.mechanism.surface_species)), np.nan)

    @property
    def total_inlet(self) -> np.ndarray:
        return self.inlet.sum(axis=1)

    def flows(self, rows: np.ndarray, extents: np.ndarray) -> np.ndarray:
        """Molar flows (rows, gas), mol/s, after ``extents`` (rows, reactions)."""
        return self.reactions.flows(self.inlet[rows], extents)

    def partial_pressures(self, rows: np.ndarray, extents: np.ndarray) -> np.ndarray:
        """Partial pressures (rows, gas), bar, after ``extents`` (negative flows read as zero)."""
        flows = np.maximum(self.flows(rows, extents), 0.0)
        return self.pressure[rows, None] * flows / flows.sum(axis=1, keepdims=True)

    def pressure_slopes(self, rows: np.ndarray, extents: np.ndarray) -> np.ndarray:
        """d(partial pressures)/d(extents) (rows, gas, reactions), bar per mol/s."""
        flows = np.maximum(self.flows(rows, extents), 0.0)
        total = flows.sum(axis=1)
        nu = self.reactions.stoichiometry  # reactions x gas
        pressure = self.pressure[rows, None, None]
        return (pressure * nu.T[None] - pressure * flows[:, :, None] * nu.sum(axis=1)[None, None, :]
                / total[:, None, None]) / total[:, None, None]

    @functools.cached_property
    def equations(self) -> RateEquations:
        return equations_of(self.mechanism)

    def surface_derivatives(self, rows: np.ndarray, extents: np.ndarray, theta: np.ndarray):
        """Derivatives of the steady surface at ``extents`` (its coverages ``theta``, solved)
        with respect to the extents: d ln(theta)/d extents (rows, surface species, reactions)
        and d rates/d extents (rows, reactions, reactions), 1/s per site and mol/s.

        By the implicit function theorem, no surface solve: see :func:`surface_derivatives`.
        """
        return surface_derivatives(self.equations, self.reactions, self.rate_constants[rows],
                                   self.partial_pressures(rows, extents), self.pressure_slopes(rows, extents), theta)

    def side(self, rows: np.ndarray, extents: np.ndarray) -> np.ndarray:
        """Sign of ln Q - ln K of each reaction (rows, reactions): -1 short of equilibrium, +1 past it,
        0 within :data:`AT_EQUILIBRIUM` of it."""
        with np.errstate(invalid="ignore"):
            distance = np.nan_to_num(self.reactions.log_quotients(np.maximum(self.flows(rows, extents), 0.0),
                                                                  self.pressure[rows]) - self.log_k[rows])
        return np.where(np.abs(distance) <= AT_EQUILIBRIUM, 0.0, np.sign(distance))

    def admissible(self, rows: np.ndarray, extents: np.ndarray, side: np.ndarray) -> np.ndarray:
        """Whether ``extents`` keep every flow non-negative and, for one overall reaction, the
        reaction on the ``side`` of its equilibrium it started on (rows,).

        With several reactions one may rightly pass its own equilibrium when coupled to
        another (a product turning back into the reactant that makes a second product), so
        only the flows are checked there; the reactors' error and residual control keeps
        them from overshooting.
        """
        positive = (self.flows(rows, extents) >= -1e-15 * self.total_inlet[rows, None]).all(axis=1)
        if len(self.reactions) > 1:
            return positive
        return positive & ((self.side(rows, extents) * side >= 0) | (side == 0)).all(axis=1)

    def rate_jacobian(self, rows: np.ndarray, extents: np.ndarray, rates: np.ndarray, side: np.ndarray,
                      rate=None) -> tuple[np.ndarray, np.ndarray]:
        """d rates / d extents (rows, reactions, reactions) by forward differences, one batched
        surface solve per reaction (``rate``: default :meth:`rates`; ``rates``: its values at
        ``extents``), each step taken towards equilibrium unless that leaves the admissible
        extents; and whether every solve converged."""
        rate = self.rates if rate is None else rate
        m = extents.shape[1]
        scale = np.maximum(np.maximum(np.abs(extents), np.abs(self.equilibrium[rows])),
                           DERIVATIVE_FLOOR * self.total_inlet[rows, None])
        jacobian, ok = np.empty((len(rows), m, m)), np.ones(len(rows), dtype=bool)
        for i, unit in enumerate(np.eye(m)):
            h = DERIVATIVE_STEP * scale[:, i] * np.where(side[:, i] > 0, -1.0, 1.0)
            h = np.where(self.admissible(rows, extents + h[:, None] * unit, side), h, -h)
            shifted, converged, *_ = rate(rows, extents + h[:, None] * unit)
            jacobian[:, :, i] = (shifted - rates) / h[:, None]
            ok &= converged
        return jacobian, ok

    def rates(self, rows: np.ndarray, extents: np.ndarray, guess: np.ndarray | None = None):
        """Rate of each overall reaction per site (rows, reactions), 1/s, with the surface at steady state.

        Solved at the composition after ``extents``, warm-started from ``guess`` (default: the
        coverages stored in ``theta`` for those rows; samples that fail from there are solved
        again from the uniform guess). Samples never solved start from solved neighbours in
        the batch when the whole batch is new (continuation along the batch of
        :func:`solve_steady_state`), else from the uniform guess. Returns the rates (0 where the solve
        failed), whether the solve converged, and the coverages (the caller decides whether
        to keep them as the next warm start).
        """
        k = self.rate_constants[rows]
        pressures = self.partial_pressures(rows, extents)
        start = self.theta[rows] if guess is None else guess
        fresh = np.isnan(start).all(axis=1)  # never solved: from solved neighbours in the batch (all fresh)
        if fresh.all():
            start = None
        elif fresh.any():
            start = np.where(fresh[:, None], uniform_guess(self.mechanism, len(rows)), start)
        state = solve_steady_state(self.mechanism, k, pressures, start, tolerance=self.tolerance)
        rates, theta, ok = self.steady_rates(state), state.theta, state.status == 0
        if not ok.all():  # a warm start can sit in the basin of no solution (a surface near a switch of regime)
            again = np.flatnonzero(~ok)
            cold = solve_steady_state(self.mechanism, k[again],
                                      pressures[again], uniform_guess(self.mechanism, again.size),
                                      tolerance=self.tolerance)
            rates, theta, ok = rates.copy(), theta.copy(), ok.copy()
            rates[again], theta[again], ok[again] = self.steady_rates(cold), cold.theta, cold.status == 0
        return np.where(ok[:, None], rates, 0.0), ok, theta

    def steady_rates(self, state) -> np.ndarray:
        """Rates of the overall reactions (rows, reactions) of a solved :class:`SteadyState`: the
        coordinates of its production (:attr:`SteadyState.production`, from the resolved net rates).

        For one reaction the resolved net rates are the cycle times the net rate of the most
        irreversible step in it (the one step the balances do not fix), so the rate is that
        step's net rate over its share of the cycle: the same numbers without the general
        resolution (a Gram-Schmidt over the steps per sample, the dearest part of a solve).
        """
        if len(self.reactions) > 1:
            return self.reactions.rates(state.production)
        cycle = self.reactions.cycles[0]
        net = state.forward - state.reverse
        trusted = np.argmax(np.where(cycle != 0, step_irreversibility(state.forward, state.reverse), -1.0), axis=1)
        rows = np.arange(len(net))
        return (net[rows, trusted] / cycle[trusted])[:, None]


def surface_derivatives(equations: RateEquations, reactions: OverallReactions, k: RateConstants,
                        pressures: np.ndarray, slopes: np.ndarray, theta: np.ndarray):
    """d ln(theta)/dx (rows, species, reactions) and d rates/dx (rows, reactions, reactions) of
    steady surfaces (coverages ``theta``, rate constants ``k``, partial ``pressures``) as the
    gas moves along ``slopes`` = d pressures/dx (rows, gas, reactions).

    The steady state G(ln theta, p) = 0 (the scaled balances of :class:`RateEquations`)
    moves by d ln(theta)/dx = -G_theta^-1 G_p dp/dx (implicit function theorem), G_theta
    being the Jacobian Newton uses (:func:`steady_derivatives`); the rates then change through
    the coverages and directly through the pressures. One batched linear solve replaces the
    surface solves of a finite-difference Jacobian. Rows whose coverages are not finite get NaN.
    """
    mechanism = equations.mechanism
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(theta)
    coverage = k.coverage
    factors, factor_slopes = _pressure_factors(mechanism, pressures, slopes)
    ones = np.ones_like(factors[0])
    coverage_f, coverage_r = equations.rates(ones, ones, y, coverage)  # rates per unit rate constant
    forward, reverse = k.forward * factors[0] * coverage_f, k.reverse * factors[1] * coverage_r
    # d net rates / dx at fixed coverages: the rate constants' pressure factors move along the slopes
    direct = ((k.forward * coverage_f)[:, :, None] * factor_slopes[0]
              - (k.reverse * coverage_r)[:, :, None] * factor_slopes[1])
    log_theta, net = steady_derivatives(equations, forward, reverse, y, coverage, direct)
    blank = np.isnan(log_theta).any(axis=(1, 2))  # coverages or rates not finite (rows left out of the solve)
    net[blank] = 0.0
    rates = cycle_rates(reactions.cycles, net, forward + reverse)
    rates[blank] = np.nan
    return log_theta, rates


def cycle_rates(cycles: np.ndarray, net: np.ndarray, gross: np.ndarray) -> np.ndarray:
    """Rates of the overall reactions (rows, reactions, columns) whose cycles (reactions x steps)
    best make the steps' ``net`` rates (rows, steps, columns): here their derivatives, each
    step weighted by 1 / its ``gross`` rate (rows, steps).

    At steady state the net rates are ``rates @ cycles``; a quasi-equilibrated step's net
    rate (derivative) is the difference of two huge terms and carries round-off in
    proportion to its gross rate, so it counts for little and the slow steps fix the result
    (weighted least squares; rows without any flux get 0). The rates themselves come from
    the steady state's resolved net rates (:attr:`SteadyState.production`): the solver's
    residual errs in proportion to each adsorbate's gross flux, not each step's, which this
    weighting misjudges (PROX's rates came out noisy enough to double its steps).
    """
    relative = np.maximum(gross / np.max(gross, axis=1, keepdims=True, initial=TINY), 1e-100)
    if len(cycles) == 1:  # one reaction: a weighted mean
        weighted = cycles[None] / relative[:, None, :]  # (rows, 1, steps)
        return (weighted @ (net / relative[:, :, None])) / (weighted @ weighted.transpose(0, 2, 1))
    # the weights span many decades, so not the normal equations (their condition is squared) but
    # Householder QR of the weighted system, its rows sorted from the heaviest (Cox & Higham,
    # BIT 39 (1999) 34: then stable whatever the spread of the weights)
    order = np.argsort(relative, axis=1)[:, :, None]
    system = np.take_along_axis(cycles.T[None] / relative[:, :, None], order, axis=1)  # (rows, steps, reactions)
    q, r = np.linalg.qr(system)
    return np.linalg.solve(r, q.transpose(0, 2, 1) @ np.take_along_axis(net / relative[:, :, None], order, axis=1))


def _pressure_factors(mechanism: Mechanism, pressures: np.ndarray, slopes: np.ndarray):
    """The pressure factors prod_g p_g^nu_jg of every step's forward and reverse rate constant
    (2, rows, steps) and their derivatives along the extents (2, rows, steps, reactions), given
    ``slopes`` = d pressures/dx (rows, gas, reactions); finite where a pressure is zero (a
    product absent at the inlet), which the logarithmic derivative nu / p is not.

    Written over the few non-zero orders of each step (a gas or two), in products of
    integer powers: whole (rows, steps, gas) arrays of powers cost ``pow`` on every entry,
    most of them 0 ** 0, and were the dearest part of the derivatives."""
    n, steps = pressures.shape[0], mechanism.reactant_gas.shape[0]
    factors, derivatives = np.ones((2, n, steps)), np.zeros((2, n, steps, slopes.shape[2]))
    for direction, orders in enumerate((mechanism.reactant_gas, mechanism.product_gas)):  # steps x gas
        for j in range(steps):
            gases = np.flatnonzero(orders[j])
            powers = [pressures[:, g] ** int(orders[j, g]) for g in gases]
            for i, g in enumerate(gases):
                factors[direction, :, j] *= powers[i]
                own = orders[j, g] * pressures[:, g] ** int(orders[j, g] - 1)  # d p_g^nu / d p_g
                for other, power in enumerate(powers):
                    if other != i:
                        own = own * power
                derivatives[direction, :, j] += own[:, None] * slopes[:, g]
    return factors, derivatives
