"""Linear scaling and Bronsted-Evans-Polanyi relations, vectorised over samples (eV)."""

from __future__ import annotations

import numpy as np


def linear_scaling(descriptor: np.ndarray, slope: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """Energy from a scaling relation: ``slope * descriptor + intercept`` (eV)."""
    return slope * descriptor + intercept


def clip_barrier(barrier: np.ndarray, reaction_energy: np.ndarray) -> np.ndarray:
    """A barrier kept at least ``max(0, reaction_energy)``, so neither direction runs downhill of 0 (eV)."""
    return np.maximum(barrier, np.maximum(reaction_energy, 0.0))


def bep_barrier(reaction_energy: np.ndarray, slope: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """Forward barrier from a BEP relation ``slope * dE + intercept``, clipped to ``>= max(0, dE)`` (eV)."""
    return clip_barrier(slope * reaction_energy + intercept, reaction_energy)


def transition_state_barrier(transition_state_energy: np.ndarray, reaction_energy: np.ndarray) -> np.ndarray:
    """Forward barrier from the transition-state energy relative to the initial state, clipped (eV)."""
    return clip_barrier(transition_state_energy, reaction_energy)
