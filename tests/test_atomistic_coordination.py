"""CN and GCN of known sites against hand counts; nanoparticles; the site census and its figure."""

import numpy as np
import pytest
from ase.build import fcc100, fcc111

from uqms.models.atomistic.coordination import (
    coordination_numbers,
    generalized_coordination_numbers,
    surface_atoms,
)
from uqms.models.atomistic.nanoparticle import build_nanoparticle
from uqms.models.atomistic.surface_sites import plot_site_histogram, surface_site_table


def _top_atom(slab):
    return int(np.argmax(slab.positions[:, 2]))


def test_fcc111_terrace_atom_has_gcn_7_5():
    slab = fcc111("Pt", size=(3, 3, 4), vacuum=8.0)
    top = _top_atom(slab)
    assert coordination_numbers(slab)[top] == 9
    # 6 in-plane neighbours of CN 9 and 3 below of CN 12: (6*9 + 3*12) / 12
    assert generalized_coordination_numbers(slab)[top] == pytest.approx((6 * 9 + 3 * 12) / 12) == 7.5


def test_fcc100_terrace_atom_has_gcn_6_667():
    slab = fcc100("Pt", size=(3, 3, 4), vacuum=8.0)
    top = _top_atom(slab)
    assert coordination_numbers(slab)[top] == 8
    # 4 in-plane neighbours of CN 8 and 4 below of CN 12
    assert generalized_coordination_numbers(slab)[top] == pytest.approx((4 * 8 + 4 * 12) / 12)


def test_cuboctahedron_corner_edge_and_facet_sites():
    # Pt309 cuboctahedron, 5 atoms per edge. Hand counts (fcc lattice, neighbours listed
    # from the vertex (4,4,0) in units of a/2):
    #  corner: 4 edge neighbours (CN 7) + 1 inner (CN 12) -> CN 5, GCN 40/12
    #  edge atom next to a corner: corner 5, edges 7 + 7, (100) facet 8, (111) facet 9,
    #    2 inner 12 -> GCN 60/12;  edge middle: edges 7 + 7, (100) 8, (111) 9 + 9, inner 12 + 12 -> 64/12
    #  (100) facet centre: 4 facet neighbours (CN 8) + 4 inner -> 80/12
    atoms = build_nanoparticle("Pt", "cuboctahedron", 5)
    assert len(atoms) == 309
    cn = coordination_numbers(atoms)
    gcn = generalized_coordination_numbers(atoms)
    corners = cn == 5
    assert corners.sum() == 12
    np.testing.assert_allclose(gcn[corners], 40 / 12)
    edge_gcn = np.sort(gcn[cn == 7])
    assert len(edge_gcn) == 24 * 3  # 24 edges, 3 atoms between their corners
    np.testing.assert_allclose(edge_gcn[:48], 60 / 12)
    np.testing.assert_allclose(edge_gcn[48:], 64 / 12)
    assert (np.isclose(gcn, 80 / 12) & (cn == 8)).sum() == 6  # one centre per (100) facet
    assert len(surface_atoms(atoms)) == 309 - 147  # the inner Pt147 cuboctahedron is bulk


def test_icosahedron_and_octahedron_sizes_and_unknown_shape():
    assert len(build_nanoparticle("Cu", "icosahedron", 5)) == 309
    assert len(build_nanoparticle("Au", "octahedron", 4)) == 44
    with pytest.raises(ValueError, match="unknown nanoparticle shape 'cube'"):
        build_nanoparticle("Pt", "cube", 4)


def test_site_census_table_and_histogram(tmp_path):
    table = surface_site_table(build_nanoparticle("Pt", "cuboctahedron", 5))
    assert table["count"].sum() == 162
    assert table["fraction"].sum() == pytest.approx(1.0)
    assert table.iloc[0][["cn", "gcn", "count"]].tolist() == [5, pytest.approx(40 / 12), 12]
    assert list(table["gcn"]) == sorted(table["gcn"])
    fig = plot_site_histogram(table, "Pt309 cuboctahedron")
    ax = fig.axes[0]
    assert "GCN" in ax.get_xlabel() and "[-]" in ax.get_xlabel() and "[%]" in ax.get_ylabel()
    heights = sorted(p.get_height() for p in ax.patches)
    np.testing.assert_allclose(heights, sorted(100 * table["fraction"]))
    fig.savefig(tmp_path / "sites.png")
    assert (tmp_path / "sites.png").stat().st_size > 0
