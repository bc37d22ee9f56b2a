"""Linear scaling and Bronsted-Evans-Polanyi relations, vectorised over samples (eV)."""

from __future__ import annotations

import numpy as np


def linear_scaling(descriptor: np.ndarray, slope: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """Energy from a scaling relation: ``slope * descriptor + intercept`` (eV)."""
    return slope * descriptor + intercept


def clip_barrier(barrier: np.ndarray, reaction_energy: np.ndarray) -> np.ndarray:
    """A barrier kept at least ``max(0, reaction_energy)``, so neither direction runs downhill of 0 (eV)."""
    return np.maximum(barrier, np.maximum(reaction_energy, 0.0))
