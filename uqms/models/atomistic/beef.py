"""Member energies of a BEEF-vdW functional ensemble, built with ASE's ``ase.dft.bee``.

A BEEF-vdW calculation yields the self-consistent energy and 32 non-self-consistent
basis contributions; ``ase.dft.bee.BEEFEnsemble`` turns them into one energy per
ensemble functional. The same ``seed`` gives the same functionals, so energy
differences between structures keep the ensemble's correlations.
"""

from __future__ import annotations

import numpy as np
from ase.dft.bee import BEEFEnsemble

ENSEMBLE_SIZE = 2000  # members of the published BEEF-vdW ensemble


def member_energies_from_calculator(calculator, size: int = ENSEMBLE_SIZE, seed: int = 0) -> np.ndarray:
    """Energies (eV) of ``size`` ensemble functionals from a calculator (or Atoms with one)
    that provides ``get_xc_functional``, ``get_potential_energy`` and
    ``get_nonselfconsistent_energies``."""
    return np.asarray(BEEFEnsemble(calculator, verbose=False).get_ensemble_energies(size, seed))


def member_energies(energy: float, contributions, xc: str = "BEEF-vdW", size: int = ENSEMBLE_SIZE, seed: int = 0) -> np.ndarray:
    """Energies (eV) of ``size`` ensemble functionals from a stored energy (eV) and its basis contributions."""
    ensemble = BEEFEnsemble(None, float(energy), np.asarray(contributions, dtype=float), xc, verbose=False)
    return np.asarray(ensemble.get_ensemble_energies(size, seed))
