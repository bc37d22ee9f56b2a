"""What leaves a reactor: flows, conversion, selectivity, yield, mole fractions, approach to equilibrium, status."""

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
        """Moles of ``product`` made per mole of ``reactant`` fed, counted in reactant atoms (samples,).

        The atom count is that of the element ``reactant`` has most of among those ``product``
        shares with it (N for NH3 from N2, carbon for hydrocarbons), so the yields of all
        products of a reactant sum to its conversion when they carry all its atoms of that element.
        """
        j, inlet = self._column(product), self.conditions.inlet
        made = self.flows[:, j] - inlet[:, j]
        return made * self._atom_ratio(product, reactant) / inlet[:, self._column(reactant)]

    def selectivity(self, product: str, reactant: str) -> np.ndarray:
        """Yield of ``product`` over the conversion of ``reactant`` (samples,): atoms of it that went to ``product``."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.yields(product, reactant) / self.conversion(reactant)

    def _atom_ratio(self, product: str, reactant: str) -> float:
        composition = self.conditions.reactions.composition
        a, b = composition[:, self._column(reactant)], composition[:, self._column(product)]
        shared = (a > 0) & (b > 0)
        if not shared.any():
            raise ValueError(f"product {product!r} shares no element with reactant {reactant!r}")
        e = np.flatnonzero(shared)[np.argmax(a[shared])]
        return b[e] / a[e]

    @property
    def mole_fractions(self) -> np.ndarray:
        """Outlet mole fractions (samples, gas)."""
        return self.flows / self.flows.sum(axis=1, keepdims=True)

    @property
    def approach_to_equilibrium(self) -> np.ndarray:
        """Q/K of each overall reaction at the outlet (samples, reactions): 1 at equilibrium, 0 if irreversible."""
        c = self.conditions
        with np.errstate(invalid="ignore", over="ignore"):
            return np.exp(c.reactions.log_quotients(self.flows, c.pressure) - c.log_k)
