"""What leaves a reactor: flows, conversion, yields, mole fractions, approach to equilibrium, status."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from uqms.models.reactor.balance import BALANCE_TOLERANCE, element_imbalance
from uqms.models.reactor.conditions import ReactorConditions

OK, SURFACE_FAILED, NOT_CONVERGED, IMBALANCE, BAD_INPUT = 0, 1, 2, 3, 4
STATUS_MESSAGES = {
    SURFACE_FAILED: "micro-kinetic steady state (or its surrogate fit) not reached at a composition the reactor visits",
    NOT_CONVERGED: "reactor equations not solved within the iteration or step limit",
    IMBALANCE: f"element balance broken by more than {BALANCE_TOLERANCE:g} (relative)",
    BAD_INPUT: "inlet flows, pressure, sites or equilibrium constant not finite and physical",
}


@dataclass(frozen=True)
class ReactorOutlet:
    """The outlet of every sample; values are NaN where ``status`` is not 0.

    Attributes:
        conditions: the reactor's conditions (inlet, pressure, equilibrium).
        extent: extent of the overall reaction (samples,), mol/s.
        flows: outlet molar flows (samples, gas), mol/s.
        coverages: surface coverages at the outlet (samples, surface species).
        imbalance: largest relative element imbalance, per sample.
        status: 0 or one of :data:`STATUS_MESSAGES`.
    """

    conditions: ReactorConditions
    extent: np.ndarray
    flows: np.ndarray
    coverages: np.ndarray
    imbalance: np.ndarray
    status: np.ndarray

    @classmethod
    def checked(cls, conditions: ReactorConditions, extent: np.ndarray, status: np.ndarray) -> ReactorOutlet:
        """Outlet flows from the extents; element balance checked; failed samples blanked."""
        status = np.where(conditions.valid, status, BAD_INPUT).astype(np.int32)
        flows = conditions.reaction.flows(conditions.inlet, extent)
        imbalance = element_imbalance(conditions.reaction, conditions.inlet, flows)
        status = np.where((status == OK) & ~(imbalance <= BALANCE_TOLERANCE), IMBALANCE, status).astype(np.int32)
        bad = status != OK
        return cls(conditions, np.where(bad, np.nan, extent), np.where(bad[:, None], np.nan, flows),
                   np.where(bad[:, None], np.nan, conditions.theta), imbalance, status)

    def _column(self, gas: str) -> int:
        return self.conditions.reaction.gas.index(gas)

    def conversion(self, reactant: str) -> np.ndarray:
        """Fraction of the inlet flow of ``reactant`` consumed (samples,)."""
        j, inlet = self._column(reactant), self.conditions.inlet
        return (inlet[:, j] - self.flows[:, j]) / inlet[:, j]

    def equilibrium_conversion(self, reactant: str) -> np.ndarray:
        """Conversion of ``reactant`` at equilibrium at the reactor's inlet, T and p (samples,)."""
        j, c = self._column(reactant), self.conditions
        equilibrium = np.where(self.status == OK, c.equilibrium, np.nan)
        return -equilibrium * c.reaction.stoichiometry[j] / c.inlet[:, j]

    def yields(self, products: tuple[str, ...], reactant: str) -> np.ndarray:
        """Product made per inlet ``reactant``, in the reaction's stoichiometric ratio (samples, products)."""
        nu, inlet = self.conditions.reaction.stoichiometry, self.conditions.inlet
        j = self._column(reactant)
        columns = [self._column(p) for p in products]
        made = self.flows[:, columns] - inlet[:, columns]
        return made * (-nu[j] / nu[columns]) / inlet[:, j, None]

    @property
    def mole_fractions(self) -> np.ndarray:
        """Outlet mole fractions (samples, gas)."""
        return self.flows / self.flows.sum(axis=1, keepdims=True)

    @property
    def approach_to_equilibrium(self) -> np.ndarray:
        """Reaction quotient over equilibrium constant at the outlet, Q/K (samples,): 1 at equilibrium."""
        c = self.conditions
        with np.errstate(invalid="ignore"):
            return np.exp(c.reaction.log_quotient(self.flows, c.pressure) - c.log_k)
