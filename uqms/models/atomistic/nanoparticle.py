"""Metal nanoparticles of a given element, shape and size, built with ``ase.cluster``."""

from __future__ import annotations

from ase import Atoms
from ase.cluster import Icosahedron, Octahedron

SHAPES = ("cuboctahedron", "icosahedron", "octahedron")


def build_nanoparticle(element: str, shape: str, size: int, lattice_constant: float | None = None) -> Atoms:
    """A closed-shell nanoparticle (positions in Angstrom).

    Args:
        element: chemical symbol of an fcc metal, e.g. ``"Pt"``.
        shape: ``"cuboctahedron"``, ``"icosahedron"`` or ``"octahedron"``.
        size: atoms along one edge (the number of shells for the first two):
            a size-5 cuboctahedron or icosahedron has 309 atoms.
        lattice_constant: fcc lattice constant in Angstrom (default: ASE's reference value).

    Raises:
        ValueError: unknown shape or a size below 2.
    """
    if shape not in SHAPES:
        raise ValueError(f"unknown nanoparticle shape {shape!r}; expected one of {list(SHAPES)}")
    if int(size) < 2:
        raise ValueError(f"nanoparticle size must be at least 2 atoms per edge, got {size}")
    size = int(size)
    if shape == "icosahedron":
        return Icosahedron(element, noshells=size, latticeconstant=lattice_constant)
    # ase.cluster.Octahedron cut at its vertices: length 2*cutoff + 1 is the cuboctahedron.
    length, cutoff = (2 * size - 1, size - 1) if shape == "cuboctahedron" else (size, 0)
    return Octahedron(element, length, cutoff, latticeconstant=lattice_constant)
