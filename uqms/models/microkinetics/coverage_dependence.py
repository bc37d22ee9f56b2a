"""Coverage-dependent rate constants: lateral interactions and Cantera's coverage dependencies.

Both act on a rate constant as a factor whose logarithm is linear in the coverages and
in their logarithms::

    ln k(theta) = ln k(0) + sum_k L_jk theta_k + sum_k M_jk ln theta_k

- lateral interactions (the linear model, see :mod:`uqms.chemistry.mechanism`): the
  reaction energy of step j shifts by dE_j = sum_k D_jk theta_k with
  D = (products - reactants) @ eps; the forward barrier by alpha_j dE_j, the reverse by
  (alpha_j - 1) dE_j, so L_forward = -alpha D / k_B T, L_reverse = (1 - alpha) D / k_B T;
- Cantera's ``coverage-dependencies`` {a, m, E} of species k: L += a ln 10 - E / k_B T
  and M += m.

The orders M are numbers of the file (the same for every sample, :func:`coverage_orders`),
so the solver folds them into its constant operators; L may differ per sample (named
interaction parameters, temperature) and is what :class:`CoverageDependence` holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from uqms.chemistry.mechanism import CoverageDependency, Mechanism, Step
from uqms.chemistry.values import resolve


@dataclass(frozen=True)
class CoverageDependence:
    """The terms of the log rate constants linear in the coverages, L per unit coverage.

    Attributes:
        linear: (samples, species with a term, 2 x steps): the forward rate constants'
            columns, then the reverse ones' (laid out for the solver's products: both
            directions at once, steps last; only the coverages that enter, so the arrays the
            solver builds from it stay small).
        species: columns of those species among ``mechanism.surface_species``.
        n_species: number of surface species.
    """

    linear: np.ndarray
    species: np.ndarray
    n_species: int

    @classmethod
    def from_full(cls, linear: np.ndarray) -> CoverageDependence | None:
        """From L over every surface species (samples, surface species, 2 x steps); None if all zero."""
        species = np.flatnonzero(np.any(linear != 0, axis=(0, 2)))
        return cls(linear[:, species], species, linear.shape[1]) if species.size else None

    def _full(self, directions: slice) -> np.ndarray:
        full = np.zeros((len(self.linear), self.n_species, self.linear.shape[2]))
        full[:, self.species] = self.linear
        return full[:, :, directions].transpose(0, 2, 1)

    @property
    def forward_linear(self) -> np.ndarray:
        """L of the forward rate constants (samples, steps, surface species)."""
        return self._full(slice(0, self.linear.shape[2] // 2))

    @property
    def reverse_linear(self) -> np.ndarray:
        """L of the reverse rate constants (samples, steps, surface species)."""
        return self._full(slice(self.linear.shape[2] // 2, None))

    def __getitem__(self, rows) -> CoverageDependence:
        """The same dependence on a subset of the samples."""
        return CoverageDependence(self.linear[rows], self.species, self.n_species)


def coverage_dependence(mechanism: Mechanism, thermal_energy: np.ndarray,
                        batch: Mapping[str, np.ndarray]) -> CoverageDependence | None:
    """The coverage dependence of the mechanism's rate constants at k_B T = ``thermal_energy``
    (eV, shaped (samples,)); None if the mechanism has none (or all its terms are zero)."""
    if not mechanism.has_coverage_dependence:
        return None
    thermal_energy = np.asarray(thermal_energy, dtype=float)
    n, species, steps = len(thermal_energy), len(mechanism.surface_species), len(mechanism.steps)
    kt = thermal_energy[:, None, None]
    linear = np.zeros((n, species, 2 * steps))
    forward_linear = linear[:, :, :steps].transpose(0, 2, 1)  # views (samples, steps, species)
    reverse_linear = linear[:, :, steps:].transpose(0, 2, 1)
    if mechanism.has_interactions:
        adsorbates = len(mechanism.adsorbates)
        change = (mechanism.product_surface - mechanism.reactant_surface)[:, :adsorbates]  # steps x adsorbates
        shift = np.einsum("ji,nik->njk", change, mechanism.interaction_matrix(batch, n))  # dE per unit coverage
        alpha = np.stack([_interaction_fraction(step.entry, batch, n) for step in mechanism.steps], axis=1)[:, :, None]
        forward_linear[:, :, :adsorbates] -= alpha * shift / kt
        reverse_linear[:, :, :adsorbates] += (1.0 - alpha) * shift / kt
    for j, step in enumerate(mechanism.steps):
        forward, reverse = _directions(step)
        for direction, dependencies in ((forward_linear, forward), (reverse_linear, reverse)):
            for name, dependency in dependencies.items():
                k = mechanism.surface_species.index(name)
                direction[:, j, k] += (resolve(dependency.a, batch, n) * np.log(10.0)
                                    - resolve(dependency.E, batch, n) / thermal_energy)
    return CoverageDependence.from_full(linear)


def coverage_orders(mechanism: Mechanism) -> tuple[np.ndarray, np.ndarray]:
    """M of the forward and reverse rate constants (steps, surface species): Cantera's ``m``."""
    orders = np.zeros((2, len(mechanism.steps), len(mechanism.surface_species)))
    for j, step in enumerate(mechanism.steps):
        for order, dependencies in zip(orders, _directions(step)):
            for name, dependency in dependencies.items():
                order[j, mechanism.surface_species.index(name)] += dependency.m
    return orders[0], orders[1]


def _directions(step: Step) -> tuple[Mapping[str, CoverageDependency], Mapping[str, CoverageDependency]]:
    """A step's coverage dependencies of the forward and of the reverse rate constant (a reverse
    from equilibrium has the forward's, keeping the equilibrium constant)."""
    entry = step.entry
    return entry.coverage_dependencies, (entry.coverage_dependencies_reverse if step.reverse_given
                                         else entry.coverage_dependencies)


def _interaction_fraction(entry, batch: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    """alpha of a step (samples,): given, else its BEP slope, else 0.5."""
    if entry.interaction_fraction is not None:
        return resolve(entry.interaction_fraction, batch, n)
    if entry.bep is not None:
        return resolve(entry.bep.slope, batch, n)
    return np.full(n, 0.5)
