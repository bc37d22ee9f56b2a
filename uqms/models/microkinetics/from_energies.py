"""Rate constants of a mechanism straight from a batch: its energy relations, thermochemistry, temperature."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from uqms.chemistry.mechanism import Mechanism
from uqms.models.energetics.mechanism_energies import (
    gas_corrections,
    step_energies,
    surface_corrections,
    transition_state_corrections,
)
from uqms.models.microkinetics.rate_constants import RateConstants, rate_constants


def rate_constants_at(
    mechanism: Mechanism,
    temperature: np.ndarray,
    batch: Mapping[str, np.ndarray],
    reaction_energy: np.ndarray | None = None,
    barrier: np.ndarray | None = None,
) -> RateConstants:
    """Rate constants (samples, steps) at ``temperature`` (K, shaped (samples,)).

    Reaction energies and barriers (eV, samples x ``mechanism.energy_steps``) are taken as given, or evaluated
    from the mechanism's scaling and BEP relations on ``batch`` when omitted.
    """
    temperature = np.asarray(temperature, dtype=float)
    if reaction_energy is None or barrier is None:
        reaction_energy, barrier = step_energies(mechanism, batch, len(temperature))
    return rate_constants(mechanism, reaction_energy, barrier, temperature,
                          gas_corrections(mechanism, temperature, batch), batch,
                          surface_corrections(mechanism, temperature, batch),
                          transition_state_corrections(mechanism, temperature, batch))
