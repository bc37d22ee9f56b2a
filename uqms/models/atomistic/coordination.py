"""Coordination numbers (CN) and generalized coordination numbers (GCN) of atoms.

GCN(i) = sum over the neighbours j of i of CN(j) / CN_max, with CN_max = 12 for atop sites
of fcc metals (Calle-Vallejo et al., Science 350 (2015) 185).
"""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.neighborlist import neighbor_list

# Between the first (d) and second (sqrt(2) d in fcc) neighbour shells.
CUTOFF_FACTOR = 1.2


def _pairs(atoms: Atoms, cutoff: float | None) -> tuple[np.ndarray, np.ndarray]:
    if cutoff is None:
        first, _, distance = neighbor_list("ijd", atoms, 6.0)
        if first.size == 0:
            raise ValueError("no two atoms lie within 6 Angstrom: cannot tell the nearest-neighbour distance")
        cutoff = CUTOFF_FACTOR * distance.min()
    return neighbor_list("ij", atoms, cutoff)


def coordination_numbers(atoms: Atoms, cutoff: float | None = None) -> np.ndarray:
    """Number of nearest neighbours of every atom (periodic boundaries respected).

    Args:
        atoms: the structure.
        cutoff: neighbour distance in Angstrom (default 1.2 x the shortest interatomic distance).
    """
    first, _ = _pairs(atoms, cutoff)
    return np.bincount(first, minlength=len(atoms))


def generalized_coordination_numbers(atoms: Atoms, cn_max: float = 12.0, cutoff: float | None = None) -> np.ndarray:
    """GCN of every atom as an atop site: sum of its neighbours' CN divided by ``cn_max``."""
    first, second = _pairs(atoms, cutoff)
    cn = np.bincount(first, minlength=len(atoms))
    return np.bincount(first, weights=cn[second], minlength=len(atoms)) / cn_max


def surface_atoms(atoms: Atoms, bulk_cn: int = 12, cutoff: float | None = None) -> np.ndarray:
    """Indices of atoms with fewer than ``bulk_cn`` neighbours."""
    return np.flatnonzero(coordination_numbers(atoms, cutoff) < bulk_cn)
