"""A reactor's conditions for a batch and the surface rate at any gas composition (the coupling)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from uqms.chemistry.mechanism import Mechanism
from uqms.models.microkinetics.rate_constants import RateConstants
from uqms.models.microkinetics.steady_state import solve_steady_state, uniform_guess
from uqms.models.reactor.equilibrium import equilibrium_extent
from uqms.models.reactor.reaction import OverallReaction


@dataclass
class ReactorConditions:
    """Inlet, pressure, catalyst and rate constants of every sample, with derived equilibrium.

    Attributes:
        mechanism: the surface mechanism; ``reaction``: its overall gas reaction.
        rate_constants: (samples, steps), at the reactor temperature.
        inlet: molar flows (samples, gas), mol/s; pressure: total (samples,), bar;
        sites: moles of active sites (samples,).
        tolerance: steady-state tolerance of the surface solves.
        log_k: ln K of the overall reaction; equilibrium: its equilibrium extent (mol/s).
        theta: coverages of the last surface solve of each sample (the warm start).
        valid: samples whose inputs are finite and physical (others get :data:`BAD_INPUT`).
    """

    mechanism: Mechanism
    rate_constants: RateConstants
    inlet: np.ndarray
    pressure: np.ndarray
    sites: np.ndarray
    tolerance: float = 1e-12
    reaction: OverallReaction = field(init=False)
    log_k: np.ndarray = field(init=False)
    equilibrium: np.ndarray = field(init=False)
    theta: np.ndarray = field(init=False)
    valid: np.ndarray = field(init=False)

    def __post_init__(self):
        n = len(self.inlet)
        self.reaction = OverallReaction.of(self.mechanism)
        self.inlet = np.asarray(self.inlet, dtype=float)
        self.pressure = np.broadcast_to(np.asarray(self.pressure, dtype=float), (n,)).copy()
        self.sites = np.broadcast_to(np.asarray(self.sites, dtype=float), (n,)).copy()
        with np.errstate(divide="ignore", invalid="ignore"):
            self.log_k = self.reaction.log_equilibrium_constant(self.rate_constants)
        self.valid = (np.isfinite(self.log_k) & np.isfinite(self.inlet).all(1) & (self.inlet >= 0).all(1)
                      & (self.inlet.sum(1) > 0) & (self.pressure > 0) & (self.sites >= 0) & np.isfinite(self.sites))
        self.equilibrium = np.where(self.valid, equilibrium_extent(
            self.reaction, np.where(self.valid[:, None], self.inlet, 1.0), np.where(self.valid, self.pressure, 1.0),
            np.where(self.valid, self.log_k, 0.0)), np.nan)
        self.theta = uniform_guess(self.mechanism, n)

    @property
    def total_inlet(self) -> np.ndarray:
        return self.inlet.sum(axis=1)

    def bracket(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Extents between the inlet (0) and equilibrium, ordered (lower, upper)."""
        return np.minimum(0.0, self.equilibrium[rows]), np.maximum(0.0, self.equilibrium[rows])

    def partial_pressures(self, rows: np.ndarray, extent: np.ndarray) -> np.ndarray:
        """Partial pressures (rows, gas), bar, after ``extent`` of the reaction."""
        flows = np.maximum(self.reaction.flows(self.inlet[rows], extent), 0.0)
        return self.pressure[rows, None] * flows / flows.sum(axis=1, keepdims=True)

    def rate(self, rows: np.ndarray, extent: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Net rate of the overall reaction per site (rows,), 1/s, with the surface at steady state.

        The micro-kinetic steady state is solved at the gas composition reached after
        ``extent`` (rows,), warm-started from the coverages stored in ``theta`` for those
        samples. Returns the rate, whether the surface solve converged, and the coverages
        (the caller decides whether to store them as the next warm start).
        """
        k = self.rate_constants[rows]
        state = solve_steady_state(self.mechanism, k, self.partial_pressures(rows, extent), self.theta[rows],
                                   tolerance=self.tolerance)
        ok = state.status == 0
        return self.turnover(state.forward, state.reverse, ok), ok, state.theta

    def turnover(self, forward: np.ndarray, reverse: np.ndarray, ok: np.ndarray) -> np.ndarray:
        """Rate of the overall reaction per site from steady-state step rates (samples, steps), 1/s.

        At steady state every step of the cycle runs at ``cycle_j`` times the overall
        rate. The rate is read from the step whose gross flux ``(r+ + r-) / |cycle_j|`` is
        smallest: the least reversible step, whose net rate the solver's relative
        tolerance resolves best (a quasi-equilibrated step's net rate is a small
        difference of large fluxes). Samples not ``ok`` get 0.
        """
        cycle = self.reaction.cycle
        on = np.abs(cycle) > 1e-12
        with np.errstate(invalid="ignore", divide="ignore"):
            gross = np.where(on, (forward + reverse) / np.abs(cycle), np.inf)
            best = np.argmin(np.where(np.isfinite(gross), gross, np.inf), axis=1)
            rate = np.take_along_axis((forward - reverse) / np.where(on, cycle, 1.0), best[:, None], axis=1)[:, 0]
        return np.where(ok, rate, 0.0)
