"""The overall gas-phase reaction of a mechanism and its equilibrium constant.

At a steady surface the net step rates form a catalytic cycle ``c`` (no surface species
accumulates: ``c @ (product_surface - reactant_surface) = 0``), so the gas changes by
``c @ (product_gas - reactant_gas)``. The reactors here handle mechanisms whose cycles all
make one overall reaction; its equilibrium constant is the product of the step
equilibrium constants along the cycle, so it holds whatever the surface energies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import null_space

from uqms.chemistry.mechanism import Mechanism, _formula
from uqms.models.microkinetics.rate_constants import RateConstants


@dataclass(frozen=True)
class OverallReaction:
    """One overall reaction of the gas species.

    Attributes:
        gas: gas species names (columns of ``stoichiometry``).
        stoichiometry: coefficient of each gas species (negative: consumed), the smallest
            nonzero magnitude scaled to one and the mechanism's products positive.
        cycle: multiple of each step's net rate in one turnover of the reaction.
        elements: element names; ``composition`` atoms of each element per gas molecule (elements x gas).
    """

    gas: tuple[str, ...]
    stoichiometry: np.ndarray
    cycle: np.ndarray
    elements: tuple[str, ...]
    composition: np.ndarray

    @classmethod
    def of(cls, mechanism: Mechanism) -> OverallReaction:
        """The overall reaction of ``mechanism``.

        Raises:
            ValueError: the mechanism's cycles make no or several independent gas reactions.
        """
        surface = mechanism.product_surface - mechanism.reactant_surface  # steps x surface
        gas = mechanism.product_gas - mechanism.reactant_gas  # steps x gas
        cycles = null_space(surface.T).T  # cycles x steps
        overall = cycles @ gas
        u, sigma, _ = np.linalg.svd(overall, full_matrices=False) if overall.size else (None, np.zeros(0), None)
        rank = int((sigma > 1e-9 * max(sigma.max(initial=0.0), 1.0)).sum())
        if rank != 1:
            raise ValueError(f"mechanism {mechanism.name!r} makes {rank} independent gas-phase reactions; "
                             "the reactors handle exactly one")
        cycle = u[:, 0] @ cycles / sigma[0]
        nu = cycle @ gas
        nu[np.abs(nu) < 1e-12] = 0.0
        scale = np.abs(nu[nu != 0]).min()
        if any(nu[mechanism.gas.index(p)] < 0 for p in mechanism.products):
            scale = -scale
        formulas = [_formula(g.partition("_")[0]) for g in mechanism.gas]
        elements = tuple(sorted({e for f in formulas for e in f}))
        composition = np.array([[f.get(e, 0) for f in formulas] for e in elements], dtype=float)
        return cls(mechanism.gas, nu / scale, cycle / scale, elements, composition)

    @property
    def equation(self) -> str:
        """The reaction as text, e.g. ``"N2 + 3 H2 -> 2 NH3"``."""
        def side(sign):
            terms = [(abs(c), g) for c, g in zip(self.stoichiometry, self.gas) if sign * c > 0]
            return " + ".join(g if np.isclose(c, 1) else f"{c:g} {g}" for c, g in terms)
        return f"{side(-1)} -> {side(1)}"

    def log_equilibrium_constant(self, rate_constants: RateConstants) -> np.ndarray:
        """ln K of the overall reaction (samples,), pressures in bar."""
        return np.log(rate_constants.forward) @ self.cycle - np.log(rate_constants.reverse) @ self.cycle

    def flows(self, inlet: np.ndarray, extent: np.ndarray) -> np.ndarray:
        """Molar flows (samples, gas) after ``extent`` (samples,) of the reaction, mol/s."""
        return inlet + extent[:, None] * self.stoichiometry

    def extent_limits(self, inlet: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Smallest and largest extents (samples,) that keep every flow non-negative."""
        nu = self.stoichiometry
        with np.errstate(divide="ignore", invalid="ignore"):
            bounds = -inlet / nu
        low = np.where(nu > 0, bounds, -np.inf).max(axis=1)
        high = np.where(nu < 0, bounds, np.inf).min(axis=1)
        return low, high

    def log_quotient(self, flows: np.ndarray, pressure: np.ndarray) -> np.ndarray:
        """ln of the reaction quotient (samples,) of ideal-gas partial pressures in bar."""
        fractions = flows / flows.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(self.stoichiometry != 0, self.stoichiometry * np.log(pressure[:, None] * fractions), 0.0)
        return terms.sum(axis=1)
