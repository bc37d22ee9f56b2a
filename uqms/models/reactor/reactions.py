"""The independent overall gas reactions of a mechanism, found from its stoichiometry.

At a steady surface the net step rates form a combination of catalytic cycles ``c`` (no
surface species accumulates: ``c @ surface = 0``, the null space of the surface balance);
each cycle changes the gas by ``c @ gas``. The distinct gas changes span the overall
reactions; their rank is the number of independent overall reactions (extents). The
basis is chosen so that each reaction makes one of the mechanism's products, in the
order the products are listed, and none of the others (e.g. A -> B, A -> C for both
consecutive A -> B -> C and parallel A -> B, A -> C); columns other than products are
taken when the products do not fill the rank.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy.linalg import null_space

from uqms.chemistry.mechanism import Mechanism, _formula
from uqms.models.microkinetics.rate_constants import RateConstants

RANK_TOLERANCE = 1e-9  # singular values below this times the largest count as zero


def gas_composition(mechanism: Mechanism) -> tuple[tuple[str, ...], np.ndarray]:
    """Element names and atoms of each element per gas molecule (elements x gas)."""
    formulas = [_formula(g.partition("_")[0]) for g in mechanism.gas]
    elements = tuple(sorted({e for f in formulas for e in f}))
    return elements, np.array([[f.get(e, 0) for f in formulas] for e in elements], dtype=float)


@dataclass(frozen=True)
class OverallReactions:
    """The independent overall reactions of the gas species.

    Attributes:
        gas: gas species names (columns of ``stoichiometry``).
        stoichiometry: coefficient of each gas species in each reaction (reactions x gas;
            negative: consumed), the smallest nonzero magnitude of each row scaled to one.
        cycles: multiple of each step's net rate in one turnover of each reaction (reactions x steps).
        elements: element names; ``composition`` atoms of each element per gas molecule (elements x gas).
    """

    gas: tuple[str, ...]
    stoichiometry: np.ndarray
    cycles: np.ndarray
    elements: tuple[str, ...]
    composition: np.ndarray

    def __len__(self) -> int:
        return len(self.stoichiometry)

    @classmethod
    def of(cls, mechanism: Mechanism) -> OverallReactions:
        """The overall reactions of ``mechanism``.

        Raises:
            ValueError: the mechanism's cycles change no gas species.
        """
        surface = mechanism.product_surface - mechanism.reactant_surface  # steps x surface
        gas = mechanism.product_gas - mechanism.reactant_gas  # steps x gas
        cycles = null_space(surface.T).T  # cycles x steps
        overall = cycles @ gas
        u, sigma, _ = np.linalg.svd(overall, full_matrices=False) if overall.size else (None, np.zeros(0), None)
        rank = int((sigma > RANK_TOLERANCE * max(sigma.max(initial=0.0), 1.0)).sum())
        if rank == 0:
            raise ValueError(f"mechanism {mechanism.name!r}: no catalytic cycle changes the gas phase")
        basis = (u[:, :rank] / sigma[:rank]).T @ cycles  # cycles whose gas changes are orthonormal
        products = [mechanism.gas.index(p) for p in mechanism.products]
        order = products + [j for j in range(len(mechanism.gas)) if j not in products]
        basis = _reduced(basis, basis @ gas, order, rank, len(products))
        nu = basis @ gas
        nu[np.abs(nu) < 1e-12] = 0.0
        scale = np.array([np.abs(row[row != 0]).min() for row in nu])[:, None]
        elements, composition = gas_composition(mechanism)
        return cls(mechanism.gas, nu / scale, basis / scale, elements, composition)

    @property
    def equations(self) -> tuple[str, ...]:
        """The reactions as text, e.g. ``("C4H8_a -> C4H8_b", "C4H8_a -> C4H8_c")``."""
        def side(row, sign):
            terms = [(abs(c), g) for c, g in zip(row, self.gas) if sign * c > 0]
            return " + ".join(g if np.isclose(c, 1) else f"{c:g} {g}" for c, g in terms)
        return tuple(f"{side(row, -1)} -> {side(row, 1)}" for row in self.stoichiometry)

    @property
    def reactants(self) -> tuple[str, ...]:
        """Gas species some reaction consumes and none makes."""
        nu = self.stoichiometry
        return tuple(g for g, lowest, highest in zip(self.gas, nu.min(axis=0), nu.max(axis=0), strict=True)
                     if lowest < 0 and highest <= 0)

    def flows(self, inlet: np.ndarray, extents: np.ndarray) -> np.ndarray:
        """Molar flows (samples, gas) after ``extents`` (samples, reactions) of the reactions, mol/s."""
        return inlet + extents @ self.stoichiometry

    def rates(self, production: np.ndarray) -> np.ndarray:
        """Rate of each reaction (samples, reactions) that makes the gas ``production`` (samples, gas).

        A steady surface makes gas only along its cycles, so ``production`` lies in the span of
        the reactions and its coordinates there are exact (least squares, one pseudo-inverse).
        """
        return production @ self._inverse

    @functools.cached_property
    def _inverse(self) -> np.ndarray:
        return np.linalg.pinv(self.stoichiometry)

    def log_equilibrium_constants(self, rate_constants: RateConstants) -> np.ndarray:
        """ln K of each reaction (samples, reactions), pressures in bar; +inf through an irreversible step."""
        with np.errstate(divide="ignore", invalid="ignore"):
            log_ratio = np.log(rate_constants.forward) - np.log(rate_constants.reverse)
            on = np.abs(self.cycles) > 1e-12
            terms = np.where(on[None], log_ratio[:, None, :] * self.cycles[None], 0.0)
        return terms.sum(axis=2)

    def log_quotients(self, flows: np.ndarray, pressure: np.ndarray) -> np.ndarray:
        """ln of each reaction quotient (samples, reactions) of ideal-gas partial pressures in bar."""
        fractions = flows / flows.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_p = np.log(pressure[:, None] * fractions)
            terms = np.where(self.stoichiometry[None] != 0, self.stoichiometry[None] * log_p[:, None, :], 0.0)
        return terms.sum(axis=2)


def _reduced(basis: np.ndarray, nu: np.ndarray, order: list[int], rank: int, products: int) -> np.ndarray:
    """Row-reduce ``basis`` (and its gas changes ``nu``) on the gas columns in ``order`` (products first).

    Each pivot column gets coefficient +1 in its row and 0 in the others, so the reaction
    of a product pivot makes that product and no other pivot species; a non-product
    pivot is consumed (-1).
    """
    basis, nu = basis.copy(), nu.copy()
    row = 0
    for position, j in enumerate(order):
        if row == rank:
            break
        pivot = row + int(np.argmax(np.abs(nu[row:, j])))
        if abs(nu[pivot, j]) <= RANK_TOLERANCE * np.abs(nu).max():
            continue
        basis[[row, pivot]], nu[[row, pivot]] = basis[[pivot, row]], nu[[pivot, row]]
        sign = 1.0 if position < products else -1.0
        factor = sign / nu[row, j]
        basis[row], nu[row] = basis[row] * factor, nu[row] * factor
        others = np.arange(rank) != row
        basis[others] -= nu[others, j, None] * basis[row]
        nu[others] -= nu[others, j, None] * nu[row]
        row += 1
    return basis
