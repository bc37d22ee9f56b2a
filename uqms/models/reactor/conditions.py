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

from dataclasses import dataclass, field

import numpy as np

from uqms.chemistry.mechanism import Mechanism
from uqms.models.microkinetics.rate_constants import RateConstants
from uqms.models.microkinetics.steady_state import solve_steady_state, uniform_guess
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
        theta: coverages of the last surface solve of each sample (the warm start).
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
        self.theta = uniform_guess(self.mechanism, n)

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
        again from the uniform guess). Returns the rates (0 where the solve
        failed), whether the solve converged, and the coverages (the caller decides whether
        to keep them as the next warm start).
        """
        k = self.rate_constants[rows]
        pressures = self.partial_pressures(rows, extents)
        state = solve_steady_state(self.mechanism, k, pressures, self.theta[rows] if guess is None else guess,
                                   tolerance=self.tolerance)
        production, theta, ok = state.production, state.theta, state.status == 0
        if not ok.all():  # a warm start can sit in the basin of no solution (a surface near a switch of regime)
            again = np.flatnonzero(~ok)
            cold = solve_steady_state(self.mechanism, k[again],
                                      pressures[again], uniform_guess(self.mechanism, again.size),
                                      tolerance=self.tolerance)
            production, theta, ok = production.copy(), theta.copy(), ok.copy()
            production[again], theta[again], ok[again] = cold.production, cold.theta, cold.status == 0
        return self.reactions.rates(np.where(ok[:, None], production, 0.0)), ok, theta
