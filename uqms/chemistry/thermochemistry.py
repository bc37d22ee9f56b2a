"""Free-energy corrections from vibrational frequencies: adsorbates in the harmonic limit, ideal gases.

Both return G(T, 1 bar) - E_electronic in eV, one value per sample, with frequencies in
cm^-1 shaped (samples, modes) (each mode a number or an uncertain input) and temperatures
in K shaped (samples,):

- adsorbates and transition states (:func:`harmonic_free_energy`): every degree of freedom a
  harmonic vibration, F = sum_i [h nu_i / 2 + k_B T ln(1 - exp(-h nu_i / k_B T))], as
  ``ase.thermochemistry.HarmonicThermo``;
- ideal gases (:class:`IdealGas`): translation, rigid rotation, electronic degeneracy 2S + 1
  and harmonic vibrations at 1 bar, as ``ase.thermochemistry.IdealGasThermo``.

Why not call ASE's classes per sample: they take one list of frequencies and one temperature,
so per-sample frequencies and temperatures would need a Python loop over samples in the
rate-constant hot path (called at every bed point of a reactor). The harmonic sums are short
and written here in numpy; the molecule-specific part of the ideal gas (mass, moments of
inertia, symmetry number, spin) comes from ASE itself, evaluated once per molecule at
:data:`REFERENCE_TEMPERATURE`. Both are tested against ASE's classes sample by sample.
ASE is imported when first needed (it takes ~0.3 s), and its CODATA constants are used so
that the results equal ASE's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from uqms.chemistry.values import resolve

#: Temperature (K) at which ASE evaluates the translational, rotational and electronic entropy.
REFERENCE_TEMPERATURE = 298.15

Geometry = Literal["monatomic", "linear", "nonlinear"]
_ROTATIONS = {"monatomic": 0, "linear": 2, "nonlinear": 3}


def _units():
    from ase import units

    return units


def frequency_matrix(values: Sequence[float | str], batch: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    """Frequencies (cm^-1) given as numbers or batch names, shaped (n, modes)."""
    if not values:
        return np.zeros((n, 0))
    return np.column_stack([resolve(value, batch, n) for value in values])


def harmonic_free_energy(frequencies: np.ndarray, temperature: np.ndarray) -> np.ndarray:
    """Helmholtz free energy of harmonic modes, ZPE + U_vib - T S_vib (eV), shaped (samples,).

    Args:
        frequencies: real vibrational frequencies, cm^-1, shaped (samples, modes). A sample
            with a frequency <= 0 gets NaN (it then fails with a status downstream).
        temperature: K, shaped (samples,).
    """
    units = _units()
    energy = np.asarray(frequencies, dtype=float) * units.invcm  # eV
    kt = units.kB * np.asarray(temperature, dtype=float)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        thermal = kt * np.log1p(-np.exp(-energy / kt))
        free = (0.5 * energy + thermal).sum(axis=1)
    return np.where((energy > 0).all(axis=1), free, np.nan)


@dataclass(frozen=True)
class IdealGas:
    """One ideal-gas molecule: its geometry and its entropy of translation (1 bar), rotation and
    spin at :data:`REFERENCE_TEMPERATURE` (eV/K, from ASE).

    Build it with :meth:`from_atoms`; :attr:`vibrations` is the number of frequencies its
    geometry calls for (3N - 5 linear, 3N - 6 nonlinear, 0 monatomic).
    """

    geometry: Geometry
    vibrations: int
    reference_entropy: float

    @classmethod
    def from_atoms(cls, atoms, geometry: Geometry, symmetry_number: int, spin: float) -> IdealGas:
        """From an ``ase.Atoms`` molecule (no periodic boundaries), its symmetry number and spin."""
        from ase.thermochemistry import IdealGasThermo

        thermo = IdealGasThermo([], geometry, atoms=atoms, symmetrynumber=symmetry_number, spin=spin,
                                vib_selection="all")
        entropy, _ = thermo.get_ideal_entropy(REFERENCE_TEMPERATURE, translation=True, rotation=True,
                                              geometry=geometry, electronic=True, symmetrynumber=symmetry_number)
        vibrations = {"monatomic": 0, "linear": 3 * len(atoms) - 5, "nonlinear": 3 * len(atoms) - 6}[geometry]
        return cls(geometry, max(vibrations, 0), float(entropy))

    def free_energy(self, frequencies: np.ndarray, temperature: np.ndarray) -> np.ndarray:
        """G(T, 1 bar) - E_electronic (eV), shaped (samples,): ZPE + H(T) - H(0) - T S(T, 1 bar).

        Translation and rotation contribute (5/2 + r/2) k_B T to H (r = 0, 2, 3 rotations, with
        k_B T of pV) and (5/2 + r/2) k_B ln(T / T_ref) to S beyond the reference entropy:
        the exact temperature dependence of ASE's expressions.
        """
        units = _units()
        temperature = np.asarray(temperature, dtype=float)
        degrees = 2.5 + _ROTATIONS[self.geometry] / 2
        entropy = self.reference_entropy + degrees * units.kB * np.log(temperature / REFERENCE_TEMPERATURE)
        return harmonic_free_energy(frequencies, temperature) + degrees * units.kB * temperature - temperature * entropy


def molecule_atoms(formula: str, molecule: str | None = None, symbols: str | None = None,
                   positions: Sequence[Sequence[float]] | None = None):
    """An ``ase.Atoms`` molecule: ``symbols`` at ``positions`` (Angstrom) if given, else
    ``ase.build.molecule(molecule or formula)`` (ASE's G2 set: 'CO', 'NH3', 'CO2', ...), or one
    atom if that name is an element ('Ar').

    Raises:
        ValueError: an unknown molecule name, symbols and positions of different lengths.
    """
    from ase import Atoms
    from ase.build import molecule as build
    from ase.data import chemical_symbols

    if positions is not None:
        return Atoms(symbols or formula, positions=positions)
    name = molecule or formula
    if name in chemical_symbols:
        return Atoms(name)
    try:
        return build(name)
    except KeyError:
        raise ValueError(f"ASE knows no molecule {name!r} (ase.build.molecule); give `molecule` (a name of "
                         "ase.collections.g2) or `positions` (Angstrom) with `symbols`") from None
