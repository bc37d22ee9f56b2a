"""Rate constants: transition-state theory, collision theory, reverse rates from equilibrium.

Units: energies eV, temperature K, site area Angstrom^2, mass amu. A rate constant of a
step with gas species on its left carries 1/bar per gas molecule; coverages are
fractions of sites, so every rate is a turnover per site and second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
from scipy import constants

from uqms.models.energetics.values import resolve
from uqms.models.microkinetics.mechanism import Mechanism

BOLTZMANN = constants.k / constants.e  # eV/K
PLANCK = constants.h / constants.e  # eV s
BAR = 1e5  # Pa


def thermal_prefactor(temperature: np.ndarray) -> np.ndarray:
    """The transition-state-theory prefactor k_B T / h (1/s)."""
    return BOLTZMANN * np.asarray(temperature, dtype=float) / PLANCK


def tst_rate_constant(barrier: np.ndarray, temperature: np.ndarray, prefactor: np.ndarray | None = None) -> np.ndarray:
    """``prefactor * exp(-barrier / k_B T)`` (1/s); the prefactor defaults to k_B T / h."""
    temperature = np.asarray(temperature, dtype=float)
    prefactor = thermal_prefactor(temperature) if prefactor is None else prefactor
    return prefactor * np.exp(-np.asarray(barrier) / (BOLTZMANN * temperature))


def collision_rate_constant(
    sticking: np.ndarray, site_area: float, mass: float, temperature: np.ndarray, barrier: np.ndarray
) -> np.ndarray:
    """Adsorption rate constant from kinetic gas theory (1/(s bar)).

    ``sticking * A_site / sqrt(2 pi m k_B T) * exp(-barrier / k_B T)`` with the impingement
    flux of one bar on a site of area ``site_area`` (Angstrom^2) by molecules of ``mass`` (amu).
    """
    temperature = np.asarray(temperature, dtype=float)
    flux = site_area * 1e-20 * BAR / np.sqrt(2 * np.pi * mass * constants.atomic_mass * constants.k * temperature)
    return sticking * flux * np.exp(-np.asarray(barrier) / (BOLTZMANN * temperature))


@dataclass(frozen=True)
class RateConstants:
    """Forward and reverse rate constants of every step, each shaped (samples, steps).

    ``equilibrium`` = forward / reverse is the equilibrium constant of each step (bar to
    the power of the gas molecules it releases).
    """

    forward: np.ndarray
    reverse: np.ndarray

    @property
    def equilibrium(self) -> np.ndarray:
        return self.forward / self.reverse


def reaction_free_energies(mechanism: Mechanism, reaction_energy: np.ndarray, gas_correction: np.ndarray) -> np.ndarray:
    """Standard (1 bar) reaction free energies of the steps (samples, steps), eV."""
    return reaction_energy + gas_correction @ (mechanism.product_gas - mechanism.reactant_gas).T


def rate_constants(
    mechanism: Mechanism,
    reaction_energy: np.ndarray,
    barrier: np.ndarray,
    temperature: np.ndarray,
    gas_correction: np.ndarray,
    batch: Mapping[str, np.ndarray] | None = None,
) -> RateConstants:
    """Thermodynamically consistent rate constants of all steps for a batch of samples.

    Forward: collision theory for steps with a ``sticking`` coefficient (the electronic
    barrier as activation energy), otherwise transition-state theory with the step's
    ``prefactor`` (default k_B T / h) and the free-energy barrier: the electronic barrier
    minus the free-energy corrections of gas molecules consumed (the transition state
    keeps no gas-phase entropy), kept at least ``max(0, dG)``. Reverse: forward / K with
    K = exp(-dG / k_B T) from the standard reaction free energy dG, so every cycle
    reproduces the gas-phase equilibrium.

    Args:
        mechanism: the mechanism.
        reaction_energy, barrier: electronic reaction energies and forward barriers (samples, steps), eV.
        temperature: K, shaped (samples,).
        gas_correction: G(T, 1 bar) - E of each gas species (samples, gas), eV.
        batch: where named prefactors and sticking coefficients are read from.
    """
    batch = batch or {}
    temperature = np.asarray(temperature, dtype=float)
    n = len(temperature)
    kt = BOLTZMANN * temperature[:, None]
    free = reaction_free_energies(mechanism, reaction_energy, gas_correction)
    free_barrier = np.maximum(barrier - gas_correction @ mechanism.reactant_gas.T, np.maximum(free, 0.0))
    log_forward = np.empty((n, len(mechanism.steps)))
    for j, step in enumerate(mechanism.steps):
        entry = step.entry
        if step.uses_collision_theory:
            gas = next(g for g in step.reactants if g in mechanism.gas)
            site = next(iter(mechanism.sites_of(step.reactants)))
            k = collision_rate_constant(resolve(entry.sticking, batch, n), mechanism.config.sites[site].site_area,
                                        mechanism.config.gas[gas].mass, temperature, barrier[:, j])
        else:
            prefactor = None if entry.prefactor is None else resolve(entry.prefactor, batch, n)
            k = tst_rate_constant(free_barrier[:, j], temperature, prefactor)
        with np.errstate(divide="ignore"):
            log_forward[:, j] = np.log(k)
    return RateConstants(np.exp(log_forward), np.exp(log_forward + free / kt))
