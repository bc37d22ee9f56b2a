"""Mean-field rate equations of a mechanism, vectorised over samples.

Coverages ``theta`` are shaped (samples, surface species) with the columns of
``mechanism.surface_species`` (adsorbates, then one free site per site type); pressures
are shaped (samples, gas) in bar. The steady-state solver works in log-coverages
``x = ln(theta)``; the residual and Jacobian here are written in those variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

import numpy as np

from uqms.chemistry.mechanism import Mechanism
from uqms.models.microkinetics.coverage_dependence import (
    CoverageDependence,
    coverage_orders,
)
from uqms.models.microkinetics.rate_constants import RateConstants

TINY = 1e-300  # keeps relative residuals finite where a species carries no flux at all


def pressure_array(mechanism: Mechanism, pressures: Mapping[str, object] | np.ndarray | None, n: int) -> np.ndarray:
    """Partial pressures (samples, gas) in bar from an array, a ``{gas: value}`` dict or the file defaults."""
    if pressures is not None and not isinstance(pressures, Mapping):
        array = np.asarray(pressures, dtype=float)
        return np.broadcast_to(array, (n, len(mechanism.gas))).copy()
    pressures = pressures or {}
    unknown = sorted(set(pressures) - set(mechanism.gas))
    if unknown:
        raise KeyError(f"pressures of {unknown} given, but the gas species are {list(mechanism.gas)}")
    array = np.empty((n, len(mechanism.gas)))
    for column, g in enumerate(mechanism.gas):  # each a number or n values, broadcast
        array[:, column] = pressures.get(g, mechanism.config.gas[g].pressure)
    return array


def pressure_weighted(mechanism: Mechanism, k: RateConstants, pressures: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rate constants times the pressures of the gas molecules each direction consumes (samples, steps)."""
    forward, reverse = k.forward.copy(), k.reverse.copy()
    for constants, stoichiometry in ((forward, mechanism.reactant_gas), (reverse, mechanism.product_gas)):
        for step, g in zip(*np.nonzero(stoichiometry), strict=True):  # the few gas molecules of the steps
            constants[:, step] *= pressures[:, g] ** int(stoichiometry[step, g])
    return forward, reverse


def directional_rates(mechanism: Mechanism, k: RateConstants, pressures: np.ndarray, theta: np.ndarray):
    """Forward and reverse rates of every step (samples, steps), 1/s per site."""
    forward, reverse = pressure_weighted(mechanism, k, pressures)
    forward = forward * np.prod(theta[:, None, :] ** mechanism.reactant_surface[None], axis=2)
    reverse = reverse * np.prod(theta[:, None, :] ** mechanism.product_surface[None], axis=2)
    return forward, reverse


def production_rates(mechanism: Mechanism, net_rates: np.ndarray) -> np.ndarray:
    """Net production of each gas species (samples, gas), molecules per site and second."""
    return net_rates @ (mechanism.product_gas - mechanism.reactant_gas)


class RateEquations:
    """Scaled steady-state equations in log-coverages and their analytic Jacobian.

    Rows: one balance per adsorbate, d(theta_a)/dt = sum_j N_aj r_j, divided by the gross
    flux through the adsorbate ``w_a = sum_j |N_aj| (r+_j + r-_j)`` so that every row
    reads "net / gross" whatever the rate scale; then one site balance per site type,
    sum of its coverages - 1.

    Rates are r+_j = k+_j exp(sum_k F_jk x_k + sum_k L+_jk theta_k) with F the reactant
    coefficients plus the coverage orders (:mod:`~uqms.models.microkinetics.coverage_dependence`),
    likewise r-_j; the optional ``coverage`` argument of the methods holds L (None: no linear
    coverage terms), so d r+_j / d x_k = r+_j (F_jk + L+_jk theta_k).
    """

    def __init__(self, mechanism: Mechanism):
        self.mechanism = mechanism
        n_ads = len(mechanism.adsorbates)
        self.reactant = mechanism.reactant_surface
        self.product = mechanism.product_surface
        forward_order, reverse_order = coverage_orders(mechanism)
        self.forward_exponent = self.reactant + forward_order  # steps x species: powers of theta in r+
        self.reverse_exponent = self.product + reverse_order
        self.net = (self.product - self.reactant).T[:n_ads]  # adsorbates x steps
        self.signed_net = np.concatenate([self.net, -self.net], axis=1)  # adsorbates x (forward, reverse steps)
        self.gross = np.abs(self.net)
        self.sites = mechanism.site_membership  # site types x surface species
        self.change = (self.product - self.reactant).T  # surface species x steps, free sites included
        self.balance_operator = self.derivative_operator(self.net)
        self.rate_operator = self.derivative_operator(np.eye(self.net.shape[1]))
        self.change_operator = self.derivative_operator(self.change)

    def rates(self, forward_k: np.ndarray, reverse_k: np.ndarray, x: np.ndarray,
              coverage: CoverageDependence | None = None):
        """Forward and reverse rates from pressure-weighted rate constants and log-coverages."""
        forward, reverse = x @ self.forward_exponent.T, x @ self.reverse_exponent.T
        if coverage is not None:
            shift = np.einsum("nkj,nk->nj", coverage.linear, np.exp(x[:, coverage.species]))
            steps = forward.shape[1]
            forward += shift[:, :steps]
            reverse += shift[:, steps:]
        return forward_k * np.exp(forward), reverse_k * np.exp(reverse)

    def residual(self, forward: np.ndarray, reverse: np.ndarray, x: np.ndarray, scale: np.ndarray | None = None):
        """Scaled residual (samples, species) and the gross fluxes used as scale (samples, adsorbates)."""
        if scale is None:
            scale = (forward + reverse) @ self.gross.T + TINY
        balance = ((forward - reverse) @ self.net.T) / scale
        return np.concatenate([balance, np.exp(x) @ self.sites.T - 1.0], axis=1), scale

    def rate_derivatives(self, forward: np.ndarray, reverse: np.ndarray, x: np.ndarray | None = None,
                         coverage: CoverageDependence | None = None) -> np.ndarray:
        """d(net rate_j)/d(x_k), shaped (samples, steps, species): one matrix product
        (:meth:`combined_derivatives`; broadcast products of the rates and exponents took 2x longer)."""
        derivatives = self.combined_derivatives(self.rate_operator, forward, reverse)
        if coverage is not None:
            derivatives += self._linear_terms(forward, reverse, x, coverage)
        return derivatives

    def derivative_operator(self, matrix: np.ndarray) -> np.ndarray:
        """The constant operator of :meth:`combined_derivatives` for a (rows x steps) ``matrix``.

        d(matrix @ (r+ - r-))/dx_k = sum_j matrix_mj (r+_j F_jk - r-_j B_jk) (F, B: the
        exponents of the forward and reverse rates) is linear in the rates, so it is one
        product of [r+, r-] (samples, 2 steps) with this (2 steps, rows * species) array.
        """
        forward = np.einsum("mj,jk->jmk", matrix, self.forward_exponent)
        reverse = -np.einsum("mj,jk->jmk", matrix, self.reverse_exponent)
        return np.concatenate([forward, reverse]).reshape(2 * matrix.shape[1], -1)

    def combined_derivatives(self, operator: np.ndarray, forward: np.ndarray, reverse: np.ndarray) -> np.ndarray:
        """d(matrix @ net rates)/dx, shaped (samples, rows, species), from :meth:`derivative_operator`,
        without the linear coverage terms (:meth:`balance_derivatives` adds them).

        One plain matrix product over all samples: the hot spot of every Newton and
        continuation step.
        """
        species = self.reactant.shape[1]
        return (np.concatenate([forward, reverse], axis=1) @ operator).reshape(len(forward), -1, species)

    def balance_derivatives(self, forward: np.ndarray, reverse: np.ndarray, x: np.ndarray,
                            coverage: CoverageDependence | None = None) -> np.ndarray:
        """d(N @ net rates)/dx of the adsorbate balances (samples, adsorbates, species), unscaled."""
        derivatives = self.combined_derivatives(self.balance_operator, forward, reverse)
        if coverage is not None:  # sum_j N_aj (r+_j L+_jk - r-_j L-_jk) theta_k, contracted by BLAS (einsum: 20x slower)
            species = coverage.species
            weighted = np.concatenate([forward, reverse], axis=1)[:, None, :] * coverage.linear
            contracted = (weighted.reshape(-1, weighted.shape[2]) @ self.signed_net.T).reshape(len(x), len(species), -1)
            derivatives[:, :, species] += (contracted * np.exp(x[:, species])[:, :, None]).transpose(0, 2, 1)
        return derivatives

    def jacobian(self, forward: np.ndarray, reverse: np.ndarray, x: np.ndarray, scale: np.ndarray,
                 coverage: CoverageDependence | None = None) -> np.ndarray:
        """d(scaled residual)/dx, shaped (samples, species, species)."""
        balance = self.balance_derivatives(forward, reverse, x, coverage) / scale[:, :, None]
        sites = self.sites[None] * np.exp(x)[:, None, :]
        return np.concatenate([balance, sites], axis=1)

    @staticmethod
    def _linear_terms(forward, reverse, x, coverage: CoverageDependence) -> np.ndarray:
        """d(net rate_j)/dx_k from the linear coverage terms: (r+_j L+_jk - r-_j L-_jk) theta_k."""
        return (forward[:, :, None] * coverage.forward_linear
                - reverse[:, :, None] * coverage.reverse_linear) * np.exp(x)[:, None, :]


@lru_cache(maxsize=64)
def equations_of(mechanism: Mechanism) -> RateEquations:
    """The :class:`RateEquations` of a mechanism object, built once: a reactor asks for them at
    every integrator stage, where building them again cost as much as the compiled solve itself
    (a mechanism hashes by identity and is not changed after it is checked)."""
    return RateEquations(mechanism)
