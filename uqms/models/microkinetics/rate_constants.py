"""Rate constants: transition-state theory, collision theory, Arrhenius, reverse rates from equilibrium.

Units: energies eV, temperature K, site area Angstrom^2, mass amu. A rate constant of a
step with gas species on its left carries 1/bar per gas molecule; coverages are
fractions of sites, so every rate is a turnover per site and second.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import constants

from uqms.chemistry.mechanism import Mechanism
from uqms.chemistry.values import resolve
from uqms.models.energetics.mechanism_energies import energy
from uqms.models.energetics.relations import clip_barrier
from uqms.models.microkinetics.coverage_dependence import (
    CoverageDependence,
    coverage_dependence,
)

BOLTZMANN = constants.k / constants.e  # eV/K
PLANCK = constants.h / constants.e  # eV s
BAR = 1e5  # Pa
log = logging.getLogger("uqms")


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


def arrhenius_rate_constant(a: np.ndarray, ea: np.ndarray, b: np.ndarray, temperature: np.ndarray) -> np.ndarray:
    """``A T^b exp(-Ea / k_B T)`` (units of ``A``; ``Ea`` in eV, ``T`` in K), Cantera's form."""
    temperature = np.asarray(temperature, dtype=float)
    return a * temperature**b * np.exp(-ea / (BOLTZMANN * temperature))


def free_energy_barrier(
    mechanism: Mechanism, barrier: np.ndarray, free: np.ndarray, consumed: np.ndarray
) -> np.ndarray:
    """Forward free-energy barriers of the energy steps (samples, energy steps), eV.

    ``barrier`` is the electronic barrier plus the transition state's free-energy correction,
    ``consumed`` the corrections of the species on the left (gas molecules, adsorbates).
    ``"electronic"`` convention: ``barrier - consumed`` (the electronic barrier clipped to
    ``max(0, dE)`` beforehand), at least ``max(0, dG)``. ``"free_energy"`` (CatMAP's): the
    transition state's free energy above the initial state's, the unclipped barrier minus
    ``consumed``, clipped to ``max(G initial, G final)``; steps with ``barrier = 0`` have no
    transition state and get ``max(0, dG)``.
    """
    lowest = np.maximum(free, 0.0)
    if mechanism.transition_state == "electronic":
        return np.maximum(barrier - consumed, lowest)
    no_state = np.array([mechanism.steps[j].non_activated for j in mechanism.energy_steps], dtype=bool)
    return np.where(no_state, lowest, np.maximum(barrier - consumed, lowest))


@dataclass(frozen=True)
class RateConstants:
    """Forward and reverse rate constants of every step, each shaped (samples, steps), at zero
    coverage, per site of the whole surface (see :mod:`uqms.chemistry.mechanism`).

    ``equilibrium`` = forward / reverse is the equilibrium constant of each step (bar to
    the power of the gas molecules it releases). ``coverage``: how they change with the
    coverages (None: they do not).
    """

    forward: np.ndarray
    reverse: np.ndarray
    coverage: CoverageDependence | None = None

    def __getitem__(self, rows) -> RateConstants:
        """The rate constants of a subset of the samples."""
        return RateConstants(self.forward[rows], self.reverse[rows],
                             None if self.coverage is None else self.coverage[rows])

    @property
    def equilibrium(self) -> np.ndarray:
        """forward / reverse; infinite for irreversible steps."""
        with np.errstate(divide="ignore"):
            return self.forward / self.reverse


def reaction_free_energies(mechanism: Mechanism, reaction_energy: np.ndarray, gas_correction: np.ndarray,
                           steps: tuple[int, ...] | None = None,
                           surface_correction: np.ndarray | None = None) -> np.ndarray:
    """Standard (1 bar) reaction free energies (samples, steps), eV, of ``steps`` (default all):
    the electronic reaction energies plus the free-energy corrections of the gas species and,
    if given, of the surface species (samples, ``mechanism.surface_species``)."""
    rows = slice(None) if steps is None else list(steps)
    free = reaction_energy + gas_correction @ (mechanism.product_gas - mechanism.reactant_gas)[rows].T
    if surface_correction is not None:
        free = free + surface_correction @ (mechanism.product_surface - mechanism.reactant_surface)[rows].T
    return free


def rate_constants(
    mechanism: Mechanism,
    reaction_energy: np.ndarray,
    barrier: np.ndarray,
    temperature: np.ndarray,
    gas_correction: np.ndarray,
    batch: Mapping[str, np.ndarray] | None = None,
    surface_correction: np.ndarray | None = None,
    transition_state_correction: np.ndarray | None = None,
) -> RateConstants:
    """Thermodynamically consistent rate constants of all steps for a batch of samples.

    Steps whose rates come from energies: collision theory for steps with a ``sticking``
    coefficient (the electronic barrier, clipped to ``max(0, dE)``, as activation energy),
    otherwise transition-state theory with the step's ``prefactor`` (default k_B T / h)
    and the free-energy barrier of the mechanism's transition-state convention
    (:func:`free_energy_barrier`). Steps that give rate constants: ``k`` or Arrhenius
    ``A, Ea, b``. Reverse: zero for irreversible steps; given (``k_reverse``, ``A_reverse``...);
    otherwise forward / K with K = exp(-dG / k_B T) from the standard reaction free
    energy dG, so every cycle of such steps reproduces the gas-phase equilibrium. Each
    step's rate constants, per site of its site type, are multiplied by that type's share of
    all sites; lateral interactions and coverage dependencies come with them as ``coverage``.

    Args:
        mechanism: the mechanism.
        reaction_energy, barrier: electronic reaction energies and forward barriers of the
            energy steps (samples, ``mechanism.energy_steps``), eV.
        temperature: K, shaped (samples,).
        gas_correction: G(T, 1 bar) - E of each gas species (samples, gas), eV.
        batch: where named prefactors, sticking coefficients and rate parameters are read from.
        surface_correction: F(T) - E of each surface species (samples, surface species), eV, or
            ``None`` for none (adsorbates without thermal corrections).
        transition_state_correction: F(T) - E of the transition state of each energy step
            (samples, energy steps), eV, or ``None`` for none.
    """
    batch = batch or {}
    temperature = np.asarray(temperature, dtype=float)
    n = len(temperature)
    kt = BOLTZMANN * temperature
    energy_steps = mechanism.energy_steps
    free = reaction_free_energies(mechanism, reaction_energy, gas_correction, energy_steps, surface_correction)
    consumed = gas_correction @ mechanism.reactant_gas[list(energy_steps)].T
    if surface_correction is not None:
        consumed = consumed + surface_correction @ mechanism.reactant_surface[list(energy_steps)].T
    if transition_state_correction is not None:
        barrier = barrier + transition_state_correction
    free_barrier = free_energy_barrier(mechanism, barrier, free, consumed)
    log_forward = np.empty((n, len(mechanism.steps)))
    log_reverse = np.empty((n, len(mechanism.steps)))
    thermal = thermal_prefactor(temperature)  # the default TST prefactor, once for all its steps
    with np.errstate(divide="ignore"):
        for e, j in enumerate(energy_steps):
            step, entry = mechanism.steps[j], mechanism.steps[j].entry
            if step.uses_collision_theory:
                gas = next(g for g in step.reactants if g in mechanism.gas)
                k = collision_rate_constant(_sticking(entry.sticking, batch, n, step.name),
                                            mechanism.config.sites[step.site].site_area,
                                            mechanism.config.gas[gas].mass, temperature,
                                            clip_barrier(barrier[:, e], reaction_energy[:, e]))
            else:
                prefactor = thermal if entry.prefactor is None else resolve(entry.prefactor, batch, n)
                k = tst_rate_constant(free_barrier[:, e], temperature, prefactor)
            log_forward[:, j] = np.log(k)
            log_reverse[:, j] = log_forward[:, j] + free[:, e] / kt
        for j, step in enumerate(mechanism.steps):
            if not step.rates_given:
                continue
            entry = step.entry
            log_forward[:, j] = np.log(_given(entry.k, entry.A, entry.Ea, entry.b, temperature, batch))
            if step.reverse_given:
                log_reverse[:, j] = np.log(_given(entry.k_reverse, entry.A_reverse, entry.Ea_reverse, entry.b_reverse,
                                                  temperature, batch))
            elif entry.reversible:
                dg = reaction_free_energies(mechanism, energy(entry.reaction_energy, batch, n)[:, None],
                                            gas_correction, (j,), surface_correction)[:, 0]
                log_reverse[:, j] = log_forward[:, j] + dg / kt
        for j, step in enumerate(mechanism.steps):
            if not step.entry.reversible:
                log_reverse[:, j] = -np.inf
    if len(mechanism.sites) > 1:  # per site of the whole surface (one site type: all of it)
        share = np.log(mechanism.site_fractions(batch, n))[:, mechanism.step_site]
        log_forward += share
        log_reverse += share
    return RateConstants(np.exp(log_forward), np.exp(log_reverse), coverage_dependence(mechanism, kt, batch))


def _sticking(value: float | str, batch: Mapping[str, np.ndarray], n: int, step: str) -> np.ndarray:
    """A step's sticking coefficients (samples,); NaN where one given as a batch name is no
    probability (outside [0, 1]): the rate constant of such a sample is NaN, so the sample
    fails with a status and the others go on (a number is checked when the mechanism is read)."""
    sticking = resolve(value, batch, n)
    outside = (sticking < 0.0) | (sticking > 1.0)
    if outside.any():
        log.warning("step %r: sticking coefficient %r outside [0, 1] in %d of %d samples (the first %g); "
                    "their rate constants are NaN", step, value, int(outside.sum()), n, sticking[outside][0])
        sticking = np.where(outside, np.nan, sticking)
    return sticking


def _given(k, a, ea, b, temperature: np.ndarray, batch: Mapping[str, np.ndarray]) -> np.ndarray:
    """A rate constant given as ``k`` or as Arrhenius ``A, Ea, b`` (each a number or a batch name)."""
    n = len(temperature)
    if k is not None:
        return resolve(k, batch, n)
    return arrhenius_rate_constant(resolve(a, batch, n), resolve(ea or 0.0, batch, n), resolve(b or 0.0, batch, n),
                                   temperature)
