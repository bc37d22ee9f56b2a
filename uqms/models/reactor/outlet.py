"""What leaves a reactor: flows, conversion, selectivity, yield, mole fractions, approach to equilibrium, status."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from uqms.models.reactor.balance import BALANCE_TOLERANCE, element_imbalance
from uqms.models.reactor.conditions import ReactorConditions

FLOW_ROUND_OFF = 1e-16  # relative resolution of an outlet flow
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
        extents: extent of each overall reaction (samples, reactions), mol/s.
        flows: outlet molar flows (samples, gas), mol/s.
        coverages: surface coverages at the outlet (samples, surface species).
        imbalance: largest relative element imbalance, per sample.
        status: 0 or one of :data:`STATUS_MESSAGES`.
    """

    conditions: ReactorConditions
    extents: np.ndarray
    flows: np.ndarray
    coverages: np.ndarray
    imbalance: np.ndarray
    status: np.ndarray

    @classmethod
    def checked(cls, conditions: ReactorConditions, extents: np.ndarray, status: np.ndarray) -> ReactorOutlet:
        """Outlet flows from the extents; element balance checked; failed samples blanked."""
        status = np.where(conditions.valid, status, BAD_INPUT)
        flows = conditions.reactions.flows(conditions.inlet, extents)
        imbalance = element_imbalance(conditions.reactions, conditions.inlet, flows)
        status = np.where((status == OK) & ~(imbalance <= BALANCE_TOLERANCE), IMBALANCE, status).astype(np.int32)
        bad = status != OK
        return cls(conditions, np.where(bad[:, None], np.nan, extents), np.where(bad[:, None], np.nan, flows),
                   np.where(bad[:, None], np.nan, conditions.theta), imbalance, status)

    def _column(self, gas: str) -> int:
        return self.conditions.reactions.gas.index(gas)

    def conversion(self, reactant: str) -> np.ndarray:
        """Fraction of the inlet flow of ``reactant`` consumed (samples,)."""
        j, inlet = self._column(reactant), self.conditions.inlet
        return (inlet[:, j] - self.flows[:, j]) / inlet[:, j]

    def equilibrium_conversion(self, reactant: str) -> np.ndarray:
        """Conversion of ``reactant`` with every reaction at equilibrium at the inlet, T and p (samples,)."""
        c, j = self.conditions, self._column(reactant)
        flows = c.reactions.flows(c.inlet, c.equilibrium)[:, j]
        return np.where(self.status == OK, (c.inlet[:, j] - flows) / c.inlet[:, j], np.nan)

    def yields(self, product: str, reactant: str) -> np.ndarray:
        """``reactant`` consumed in making ``product`` per ``reactant`` fed (samples,).

        Read from the overall reaction that makes ``product`` (each product has its own,
        :class:`~uqms.models.reactor.reactions.OverallReactions`): ``product`` made times that
        reaction's moles of ``reactant`` per mole of ``product``. The yields of all products
        of a reactant sum to its conversion (NH3 from N2: NH3 made / 2 per N2 fed; PROX: CO2
        made / 2 per O2 fed).
        """
        nu, inlet = self.conditions.reactions.stoichiometry, self.conditions.inlet
        q, j = self._column(product), self._column(reactant)
        making = np.flatnonzero(nu[:, q] != 0)
        if len(making) != 1:
            raise ValueError(f"{product!r} takes part in {len(making)} of the overall reactions "
                             f"{self.conditions.reactions.equations}; a yield needs exactly one")
        r = making[0]
        return (self.flows[:, q] - inlet[:, q]) * (-nu[r, j] / nu[r, q]) / inlet[:, j]

    def selectivity(self, product: str, reactant: str) -> np.ndarray:
        """Yield of ``product`` over the conversion of ``reactant`` (samples,): the share of the
        converted reactant that went to ``product``."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.yields(product, reactant) / self.conversion(reactant)

    @property
    def mole_fractions(self) -> np.ndarray:
        """Outlet mole fractions (samples, gas)."""
        return self.flows / self.flows.sum(axis=1, keepdims=True)

    @property
    def approach_to_equilibrium(self) -> np.ndarray:
        """Q/K of each overall reaction at the outlet (samples, reactions): 1 at equilibrium, 0 if irreversible.

        Flows below the round-off of the total flow (a reactant used up) count as that round-off,
        so Q stays finite: a reaction whose K is beyond what double precision resolves then
        reads as short of equilibrium, as it is.
        """
        c = self.conditions
        flows = np.maximum(self.flows, FLOW_ROUND_OFF * self.flows.sum(axis=1, keepdims=True))
        with np.errstate(invalid="ignore", over="ignore"):
            return np.exp(c.reactions.log_quotients(flows, c.pressure) - c.log_k)
