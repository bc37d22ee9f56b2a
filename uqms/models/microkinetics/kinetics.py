"""Mean-field rate equations of a mechanism, vectorised over samples.

Coverages ``theta`` are shaped (samples, surface species) with the columns of
``mechanism.surface_species`` (adsorbates, then one free site per site type); pressures
are shaped (samples, gas) in bar. The steady-state solver works in log-coverages
``x = ln(theta)``; the residual and Jacobian here are written in those variables.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from uqms.chemistry.mechanism import Mechanism
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
    columns = [pressures.get(g, mechanism.config.gas[g].pressure) for g in mechanism.gas]
    return np.stack([np.broadcast_to(np.asarray(c, dtype=float), (n,)) for c in columns], axis=1) if columns \
        else np.zeros((n, 0))


def pressure_weighted(mechanism: Mechanism, k: RateConstants, pressures: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rate constants times the pressures of the gas molecules each direction consumes (samples, steps)."""
    forward, reverse = k.forward.copy(), k.reverse.copy()
    for g in range(len(mechanism.gas)):  # a loop over the few gas species, not over samples
        for constants, stoichiometry in ((forward, mechanism.reactant_gas), (reverse, mechanism.product_gas)):
            steps = np.flatnonzero(stoichiometry[:, g])
            constants[:, steps] *= pressures[:, g : g + 1] ** stoichiometry[steps, g]
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
    """

    def __init__(self, mechanism: Mechanism):
        self.mechanism = mechanism
        n_ads = len(mechanism.adsorbates)
        self.reactant = mechanism.reactant_surface
        self.product = mechanism.product_surface
        self.net = (self.product - self.reactant).T[:n_ads]  # adsorbates x steps
        self.gross = np.abs(self.net)
        self.sites = mechanism.site_membership  # site types x surface species
        self.change = (self.product - self.reactant).T  # surface species x steps, free sites included
        self.balance_operator = self.derivative_operator(self.net)
        self.change_operator = self.derivative_operator(self.change)

    def rates(self, forward_k: np.ndarray, reverse_k: np.ndarray, x: np.ndarray):
        """Forward and reverse rates from pressure-weighted rate constants and log-coverages."""
        return forward_k * np.exp(x @ self.reactant.T), reverse_k * np.exp(x @ self.product.T)

    def residual(self, forward: np.ndarray, reverse: np.ndarray, x: np.ndarray, scale: np.ndarray | None = None):
        """Scaled residual (samples, species) and the gross fluxes used as scale (samples, adsorbates)."""
        if scale is None:
            scale = (forward + reverse) @ self.gross.T + TINY
        balance = ((forward - reverse) @ self.net.T) / scale
        return np.concatenate([balance, np.exp(x) @ self.sites.T - 1.0], axis=1), scale

    def rate_derivatives(self, forward: np.ndarray, reverse: np.ndarray) -> np.ndarray:
        """d(net rate_j)/d(x_k), shaped (samples, steps, species)."""
        return forward[:, :, None] * self.reactant[None] - reverse[:, :, None] * self.product[None]

    def derivative_operator(self, matrix: np.ndarray) -> np.ndarray:
        """The constant operator of :meth:`combined_derivatives` for a (rows x steps) ``matrix``.

        d(matrix @ (r+ - r-))/dx_k = sum_j matrix_mj (r+_j R_jk - r-_j P_jk) is linear in the
        rates, so it is one product of [r+, r-] (samples, 2 steps) with this
        (2 steps, rows * species) array.
        """
        forward = np.einsum("mj,jk->jmk", matrix, self.reactant)
        reverse = -np.einsum("mj,jk->jmk", matrix, self.product)
        return np.concatenate([forward, reverse]).reshape(2 * matrix.shape[1], -1)

    def combined_derivatives(self, operator: np.ndarray, forward: np.ndarray, reverse: np.ndarray) -> np.ndarray:
        """d(matrix @ net rates)/dx, shaped (samples, rows, species), from :meth:`derivative_operator`.

        One plain matrix product over all samples: the hot spot of every Newton and
        continuation step.
        """
        species = self.reactant.shape[1]
        return (np.concatenate([forward, reverse], axis=1) @ operator).reshape(len(forward), -1, species)

    def jacobian(self, forward: np.ndarray, reverse: np.ndarray, x: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """d(scaled residual)/dx, shaped (samples, species, species)."""
        balance = self.combined_derivatives(self.balance_operator, forward, reverse) / scale[:, :, None]
        sites = self.sites[None] * np.exp(x)[:, None, :]
        return np.concatenate([balance, sites], axis=1)
