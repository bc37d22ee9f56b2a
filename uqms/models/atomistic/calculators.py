"""ASE calculators by name, and their energies cached in an ASE database.

A cached energy is keyed by the structure (atomic numbers, positions, cell, periodicity)
and the calculator settings (name and parameters), so nothing is computed twice.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ase.db
import numpy as np
from ase import Atoms
from ase.calculators.calculator import get_calculator_class
from ase.calculators.singlepoint import SinglePointCalculator

DEFAULT_CALCULATOR = "emt"
# Positions and cell are rounded to this many decimals (Angstrom) in the key.
KEY_DECIMALS = 6


def make_calculator(name: str = DEFAULT_CALCULATOR, parameters: Mapping[str, Any] | None = None):
    """An ASE calculator: a name ASE knows (``"emt"``, ``"gpaw"``, ``"vasp"``, ``"espresso"``)
    or an import path ``"package.module:Class"`` (a machine-learned potential, a test double)."""
    return calculator_class(name)(**dict(parameters or {}))


def calculator_class(name: str = DEFAULT_CALCULATOR):
    """The class (or factory) of a calculator named as :func:`make_calculator` takes it; nothing is built."""
    if ":" in name:
        module, _, attribute = name.partition(":")
        return getattr(importlib.import_module(module), attribute)
    return get_calculator_class(name)


def cache_key(atoms: Atoms, calculator: str, parameters: Mapping[str, Any] | None = None) -> str:
    """SHA-256 of the structure and calculator settings."""
    content = {
        "numbers": atoms.numbers.tolist(),
        "positions": np.round(atoms.positions, KEY_DECIMALS).tolist(),
        "cell": np.round(atoms.cell.array, KEY_DECIMALS).tolist(),
        "pbc": atoms.pbc.tolist(),
        "calculator": calculator,
        "parameters": dict(parameters or {}),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


class CalculatorCache:
    """Potential energies (eV) of structures from one calculator, stored in an ASE database (SQLite).

    When the calculator also provides BEEF non-self-consistent energies
    (``get_nonselfconsistent_energies``), they are stored in the row's data as
    ``beef_contributions`` with ``xc`` as a key, ready for :mod:`uqms.models.atomistic.beef`.

    Args:
        path: the ``.db`` file (created if absent).
        calculator: a name or import path understood by :func:`make_calculator` (default EMT).
        parameters: keyword arguments of the calculator (part of the cache key).
    """

    def __init__(self, path: str | Path, calculator: str = DEFAULT_CALCULATOR, parameters: Mapping[str, Any] | None = None):
        self.path = Path(path)
        self.calculator, self.parameters = calculator, dict(parameters or {})
        self.computed = 0  # calculator evaluations made by this object

    def energy(self, atoms: Atoms, name: str = "") -> float:
        """Potential energy of ``atoms`` in eV, computed once per structure and settings.

        Args:
            atoms: the structure.
            name: label stored with a newly computed row (key ``name``).
        """
        key = cache_key(atoms, self.calculator, self.parameters)
        with ase.db.connect(self.path) as db:
            for row in db.select(cache_key=key):
                return float(row.energy)
            energy, data, extra = self._compute(atoms)
            stored = atoms.copy()
            stored.calc = SinglePointCalculator(stored, energy=energy)
            labels = {"name": name} if name else {}
            db.write(stored, cache_key=key, calculator_name=self.calculator, data=data, **labels, **extra)
        return energy

    def energies(self, structures: Mapping[str, Atoms]) -> dict[str, float]:
        """Energies (eV) of named structures."""
        return {name: self.energy(atoms, name) for name, atoms in structures.items()}

    def _compute(self, atoms: Atoms) -> tuple[float, dict, dict]:
        work = atoms.copy()
        work.calc = make_calculator(self.calculator, self.parameters)
        energy = float(work.get_potential_energy())
        self.computed += 1
        data = {"calculator_parameters": self.parameters}
        extra = {}
        if hasattr(work.calc, "get_nonselfconsistent_energies"):
            data["beef_contributions"] = np.asarray(work.calc.get_nonselfconsistent_energies("beefvdw"), dtype=float)
            extra["xc"] = work.calc.get_xc_functional()
        return energy, data, extra
