"""What leaves a reactor with several overall reactions: flows, conversion, selectivity, yield, equilibrium."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from uqms.models.reactor.balance import BALANCE_TOLERANCE, element_imbalance
from uqms.models.reactor.network import NetworkConditions
from uqms.models.reactor.outlet import BAD_INPUT, IMBALANCE, OK


@dataclass(frozen=True)
class NetworkOutlet:
    """The outlet of every sample; values are NaN where ``status`` is not 0 (codes of :mod:`.outlet`).

    Attributes:
        conditions: the reactor's conditions.
        extents: extent of each overall reaction (samples, reactions), mol/s.
        flows: outlet molar flows (samples, gas), mol/s.
        coverages: surface coverages at the outlet (samples, surface species).
        imbalance: largest relative element imbalance, per sample.
        status: 0 or a code of :data:`~uqms.models.reactor.outlet.STATUS_MESSAGES`.
    """

    conditions: NetworkConditions
    extents: np.ndarray
    flows: np.ndarray
    coverages: np.ndarray
    imbalance: np.ndarray
    status: np.ndarray

    @classmethod
    def checked(cls, conditions: NetworkConditions, extents: np.ndarray, status: np.ndarray) -> NetworkOutlet:
        """Outlet flows from the extents; element balance checked; failed samples blanked."""
        status = np.where(conditions.valid, status, BAD_INPUT)
        flows = conditions.flows(np.arange(len(extents)), extents)
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

    def yields(self, product: str, reactant: str) -> np.ndarray:
        """Moles of ``product`` made per mole of ``reactant`` fed, counted in reactant atoms (samples,).

        The atom count is that of the element ``reactant`` has most of among those ``product``
        shares with it (carbon for hydrocarbons), so yields of all products of a reactant sum to its conversion
        when they carry all its atoms of that element.
        """
        j, inlet = self._column(product), self.conditions.inlet
        made = self.flows[:, j] - inlet[:, j]
        return made * self._atom_ratio(product, reactant) / inlet[:, self._column(reactant)]

    def selectivity(self, product: str, reactant: str) -> np.ndarray:
        """Yield of ``product`` over the conversion of ``reactant`` (samples,): atoms of it that went to ``product``."""
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
