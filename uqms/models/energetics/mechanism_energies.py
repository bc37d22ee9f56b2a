"""The energies of a mechanism for a batch: reaction energies, barriers, free-energy corrections (eV)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from uqms.chemistry.gas import free_energy_correction
from uqms.chemistry.mechanism import Linear, Mechanism
from uqms.chemistry.thermochemistry import frequency_matrix, harmonic_free_energy
from uqms.chemistry.values import resolve
from uqms.models.energetics.relations import clip_barrier, linear_scaling


def energy(spec, batch: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    """Per-sample value of an energy written as a number, a batch name or a :class:`Linear` relation."""
    if isinstance(spec, Linear):
        return linear_scaling(resolve(spec.descriptor, batch, n), resolve(spec.slope, batch, n),
                              resolve(spec.intercept, batch, n))
    return resolve(spec, batch, n)


def species_energies(mechanism: Mechanism, batch: Mapping[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    """Electronic energy of every species that has one (free sites are the zero), eV."""
    energies = {site: np.zeros(n) for site in mechanism.free_sites}
    for name, entry in mechanism.config.gas.items():
        if entry.energy is not None:
            energies[name] = energy(entry.energy, batch, n)
    for name, entry in mechanism.config.adsorbates.items():
        if entry.energy is not None:
            energies[name] = energy(entry.energy, batch, n)
    return energies


def step_energies(mechanism: Mechanism, batch: Mapping[str, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Reaction energies and forward barriers of the steps whose rates come from energies
    (``mechanism.energy_steps``), each shaped (samples, those steps), eV.

    A step's reaction energy is its own ``reaction_energy`` or products minus reactants
    of the species energies; its barrier comes from ``barrier``, ``bep`` or
    ``transition_state``, clipped to at least ``max(0, reaction energy)`` under the
    ``"electronic"`` transition-state convention and left unclipped under ``"free_energy"``
    (the rate constants clip the free energy of the transition state instead).
    """
    species = species_energies(mechanism, batch, n)
    steps = [mechanism.steps[j] for j in mechanism.energy_steps]
    reaction = np.empty((n, len(steps)))
    barrier = np.empty((n, len(steps)))
    for j, step in enumerate(steps):
        entry = step.entry
        if entry.reaction_energy is not None:
            reaction[:, j] = energy(entry.reaction_energy, batch, n)
        else:
            reaction[:, j] = (sum(c * species[s] for s, c in step.products.items())
                              - sum(c * species[s] for s, c in step.reactants.items()))
        if entry.bep is not None:
            barrier[:, j] = linear_scaling(reaction[:, j], resolve(entry.bep.slope, batch, n),
                                           resolve(entry.bep.intercept, batch, n))
        elif entry.transition_state is not None:
            barrier[:, j] = energy(entry.transition_state, batch, n)
        else:
            barrier[:, j] = resolve(entry.barrier, batch, n)
    if mechanism.transition_state == "electronic":
        barrier = clip_barrier(barrier, reaction)
    return reaction, barrier


def gas_corrections(mechanism: Mechanism, temperature: np.ndarray, batch: Mapping[str, np.ndarray]) -> np.ndarray:
    """G(T, 1 bar) - E_electronic of every gas species, shaped (samples, gas), eV: Shomate or
    ideal-gas thermal terms, plus any ``free_energy_correction``."""
    temperature = np.asarray(temperature, dtype=float)
    n = len(temperature)
    # Shomate terms, a function of the temperature alone, evaluated once where the batch has one
    # temperature (a constant, the nodes of a site average) and broadcast
    shomate_at = temperature[:1] if n > 1 and temperature.min() == temperature.max() else temperature
    columns = []
    for name, entry in mechanism.config.gas.items():
        extra = resolve(entry.free_energy_correction, batch, n)
        if entry.ideal_gas is not None:
            frequencies = frequency_matrix(entry.ideal_gas.frequencies, batch, n)
            columns.append(mechanism.ideal_gases[name].free_energy(frequencies, temperature) + extra)
        else:
            columns.append(free_energy_correction(shomate_at, entry.zero_point_energy, entry.shomate, extra))
    return np.stack(columns, axis=1) if columns else np.zeros((n, 0))


def surface_corrections(mechanism: Mechanism, temperature: np.ndarray,
                        batch: Mapping[str, np.ndarray]) -> np.ndarray | None:
    """Harmonic free energies F(T) - E of the surface species (samples, ``mechanism.surface_species``),
    eV (free sites and adsorbates without frequencies 0), or ``None`` if no adsorbate lists frequencies."""
    entries = mechanism.config.adsorbates
    if not any(entry.frequencies for entry in entries.values()):
        return None
    temperature = np.asarray(temperature, dtype=float)
    n = len(temperature)
    corrections = np.zeros((n, len(mechanism.surface_species)))
    for name, entry in entries.items():
        if entry.frequencies:
            corrections[:, mechanism.index(name)] = harmonic_free_energy(
                frequency_matrix(entry.frequencies, batch, n), temperature)
    return corrections


def transition_state_corrections(mechanism: Mechanism, temperature: np.ndarray,
                                 batch: Mapping[str, np.ndarray]) -> np.ndarray | None:
    """Harmonic free energies F(T) - E of the transition states of the energy steps
    (samples, ``mechanism.energy_steps``), eV, or ``None`` if no step lists their frequencies."""
    steps = [mechanism.steps[j].entry for j in mechanism.energy_steps]
    if not any(entry.transition_state_frequencies for entry in steps):
        return None
    temperature = np.asarray(temperature, dtype=float)
    n = len(temperature)
    corrections = np.zeros((n, len(steps)))
    for e, entry in enumerate(steps):
        if entry.transition_state_frequencies:
            corrections[:, e] = harmonic_free_energy(frequency_matrix(entry.transition_state_frequencies, batch, n),
                                                     temperature)
    return corrections
