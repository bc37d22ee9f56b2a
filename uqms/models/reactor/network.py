"""A reactor's conditions for a mechanism with several overall reactions, and the surface rates at any extents.

The gas composition is ``inlet + extents @ stoichiometry`` with one extent (mol/s) per
independent overall reaction (:class:`~uqms.models.reactor.reactions.OverallReactions`).
The surface's gas production per site, ``net step rates @ gas stoichiometry``, does not
depend on how the reactions are chosen; it is expressed in extents by least squares on
the reactions' stoichiometry, so the outlet keeps the elements exactly whatever the
steady-state solver's tolerance leaves in a quasi-equilibrated step's net rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from uqms.chemistry.mechanism import Mechanism
from uqms.models.microkinetics.rate_constants import RateConstants
from uqms.models.microkinetics.steady_state import solve_steady_state, uniform_guess
from uqms.models.reactor.reactions import OverallReactions


@dataclass
class NetworkConditions:
    """Inlet, pressure, catalyst and rate constants of every sample.

    Attributes:
        mechanism: the surface mechanism; ``reactions``: its independent overall reactions.
        rate_constants: (samples, steps), at the reactor temperature.
        inlet: molar flows (samples, gas), mol/s; pressure: total (samples,), bar;
        sites: moles of active sites (samples,).
        tolerance: steady-state tolerance of the surface solves.
        log_k: ln K of each overall reaction (samples, reactions); +inf through an irreversible step.
        theta: coverages of the last surface solve of each sample (the warm start).
        valid: samples whose inputs are finite and physical.
    """

    mechanism: Mechanism
    rate_constants: RateConstants
    inlet: np.ndarray
    pressure: np.ndarray
    sites: np.ndarray
    tolerance: float = 1e-12
    reactions: OverallReactions = field(init=False)
    log_k: np.ndarray = field(init=False)
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
        self.theta = uniform_guess(self.mechanism, n)

    def flows(self, rows: np.ndarray, extents: np.ndarray) -> np.ndarray:
        """Molar flows (rows, gas), mol/s, after ``extents`` (rows, reactions)."""
        return self.inlet[rows] + extents @ self.reactions.stoichiometry

    def rates(self, rows: np.ndarray, extents: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rate of each overall reaction per site (rows, reactions), 1/s, with the surface at steady state.

        Solved at the composition after ``extents`` (negative flows read as zero), warm-started
        from ``theta``. Returns the rates (0 where the solve failed), whether the solve
        converged, and the coverages.
        """
        flows = np.maximum(self.flows(rows, extents), 0.0)
        pressures = self.pressure[rows, None] * flows / flows.sum(axis=1, keepdims=True)
        k = self.rate_constants[rows]
        state = solve_steady_state(self.mechanism, k, pressures, self.theta[rows], tolerance=self.tolerance)
        ok = state.status == 0
        gas = self.mechanism.product_gas - self.mechanism.reactant_gas
        production = (state.forward - state.reverse) @ gas  # rows x gas
        rates = np.linalg.lstsq(self.reactions.stoichiometry.T, np.where(ok[:, None], production, 0.0).T,
                                rcond=None)[0].T
        return rates, ok, state.theta
