"""Member energies of a BEEF-vdW functional ensemble, built with ASE's ``ase.dft.bee``.

A BEEF-vdW calculation yields the self-consistent energy and 32 non-self-consistent
basis contributions; ``ase.dft.bee.BEEFEnsemble`` turns them into one energy per
ensemble functional. The same ``seed`` gives the same functionals, so energy
differences between structures keep the ensemble's correlations.

ASE draws the functionals' coefficients anew, one member at a time, for every
structure (0.14 s for 2000 members); they depend only on the functional, the size
and the seed, so :func:`ensemble_coefficients` draws them once with ASE's own
method and :func:`member_energies` applies them to any number of structures at once.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from ase.dft.bee import BEEFEnsemble

ENSEMBLE_SIZE = 2000  # members of the published BEEF-vdW ensemble
BASIS_SIZE = {"beefvdw": 32, "mbeef": 64, "mbeefvdw": 28}  # basis contributions per ASE's beef_type


def beef_type(xc: str) -> str:
    """ASE's name of the ensemble of functional ``xc`` (``"BEEF-vdW"`` -> ``"beefvdw"``).

    Raises:
        NotImplementedError: ``xc`` has no ensemble.
    """
    return BEEFEnsemble(None, 0.0, np.zeros(0), xc, verbose=False).beef_type


@lru_cache(maxsize=8)
def ensemble_coefficients(xc: str, size: int = ENSEMBLE_SIZE, seed: int = 0) -> np.ndarray:
    """``(size, basis)`` perturbations of the ensemble's functionals, drawn by ASE (read-only)."""
    kind = beef_type(xc)
    ensemble = BEEFEnsemble(None, 0.0, np.zeros(BASIS_SIZE[kind]), xc, verbose=False)
    coefficients = np.asarray(getattr(ensemble, f"get_{kind}_ensemble_coefs")(size, seed), dtype=float)
    coefficients.setflags(write=False)
    return coefficients


def contributions_from_calculator(calculator) -> tuple[str, np.ndarray]:
    """The functional and the non-self-consistent basis contributions (eV) of a calculator
    that has computed a structure (ASE's interface: ``get_xc_functional``,
    ``get_nonselfconsistent_energies``, as GPAW and VASP provide).

    Raises:
        ValueError: a count of contributions other than the functional's basis.
    """
    xc = calculator.get_xc_functional()
    kind = beef_type(xc)
    contributions = np.asarray(calculator.get_nonselfconsistent_energies(kind), dtype=float)
    if contributions.shape != (BASIS_SIZE[kind],):
        raise ValueError(f"{xc}: expected {BASIS_SIZE[kind]} basis contributions, got shape {contributions.shape}")
    return xc, contributions


def member_energies_from_calculator(calculator, size: int = ENSEMBLE_SIZE, seed: int = 0) -> np.ndarray:
    """Energies (eV) of ``size`` ensemble functionals from a calculator (or Atoms with one)
    that provides ``get_xc_functional``, ``get_potential_energy`` and
    ``get_nonselfconsistent_energies``."""
    return np.asarray(BEEFEnsemble(calculator, verbose=False).get_ensemble_energies(size, seed))


def member_energies(energy, contributions, xc: str = "BEEF-vdW", size: int = ENSEMBLE_SIZE, seed: int = 0) -> np.ndarray:
    """Energies (eV) of ``size`` ensemble functionals from stored energies (eV, scalar or ``(n,)``)
    and their basis contributions (``(basis,)`` or ``(n, basis)``): ``(size,)`` or ``(n, size)``."""
    coefficients = ensemble_coefficients(xc, size, seed)
    return np.asarray(energy, dtype=float)[..., None] + np.asarray(contributions, dtype=float) @ coefficients.T
