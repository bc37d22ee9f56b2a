"""Calculator energies cached in an ASE database; BEEF-vdW member energies with ase.dft.bee."""

import ase.calculators.emt
import numpy as np
import pytest
from ase.build import bulk, fcc111
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.emt import EMT

from uqms.models.atomistic.beef import member_energies, member_energies_from_calculator
from uqms.models.atomistic.calculators import (
    CalculatorCache,
    cache_key,
    make_calculator,
)


@pytest.fixture
def emt_calls(monkeypatch):
    """Count the energy evaluations EMT really performs."""
    calls = []
    original = ase.calculators.emt.EMT.calculate

    def counting(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ase.calculators.emt.EMT, "calculate", counting)
    return calls


def test_second_run_is_served_from_the_database(tmp_path, emt_calls):
    structures = {"bulk": bulk("Cu", "fcc", a=3.6), "slab": fcc111("Cu", size=(2, 2, 3), vacuum=6.0)}
    first = CalculatorCache(tmp_path / "cache.db").energies(structures)
    assert len(emt_calls) == 2
    again = CalculatorCache(tmp_path / "cache.db")  # a new run, same database
    assert again.energies(structures) == first
    assert len(emt_calls) == 2 and again.computed == 0
    direct = structures["slab"].copy()
    direct.calc = EMT()
    assert first["slab"] == pytest.approx(direct.get_potential_energy())


def test_key_covers_structure_and_calculator_settings(tmp_path, emt_calls):
    atoms = bulk("Cu", "fcc", a=3.6)
    CalculatorCache(tmp_path / "c.db").energy(atoms)
    CalculatorCache(tmp_path / "c.db", "emt", {"asap_cutoff": True}).energy(atoms)  # other settings
    moved = atoms.copy()
    moved.positions[0, 0] += 1e-3
    CalculatorCache(tmp_path / "c.db").energy(moved)  # other structure
    assert len(emt_calls) == 3
    assert cache_key(atoms, "emt") != cache_key(atoms, "emt", {"asap_cutoff": True})
    assert cache_key(atoms, "emt") == cache_key(atoms.copy(), "emt")


def test_calculators_by_ase_name_or_import_path():
    assert isinstance(make_calculator(), EMT)
    assert isinstance(make_calculator("ase.calculators.emt:EMT"), EMT)


# A BEEF-vdW calculator double: fixed energy and 32 basis contributions (eV).
CONTRIBUTIONS = np.linspace(-2.0, 3.0, 32) ** 2 - 1.0


class BeefDouble(Calculator):
    implemented_properties = ["energy"]

    def __init__(self, energy=-10.0, shift=0.0, **kwargs):
        super().__init__(**kwargs)
        self.fixed_energy, self.shift = energy, shift

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.results["energy"] = self.fixed_energy

    def get_xc_functional(self):
        return "BEEF-vdW"

    def get_nonselfconsistent_energies(self, beef_type):
        assert beef_type == "beefvdw"
        return CONTRIBUTIONS + self.shift


def test_beef_members_from_a_calculator_follow_the_ensemble_covariance():
    from ase.dft.pars_beefvdw import uiOmega

    atoms = bulk("Cu")
    atoms.calc = BeefDouble()
    energies = member_energies_from_calculator(atoms, size=2000, seed=0)
    assert energies.shape == (2000,)
    # The 31 coefficient perturbations have covariance uiOmega; the 32nd is minus the 31st.
    c = CONTRIBUTIONS[:31].copy()
    c[30] -= CONTRIBUTIONS[31]
    expected_std = np.sqrt(c @ uiOmega @ c)
    assert energies.std() == pytest.approx(expected_std, rel=0.05)
    assert energies.mean() == pytest.approx(-10.0, abs=4 * expected_std / np.sqrt(2000))
    np.testing.assert_allclose(member_energies(-10.0, CONTRIBUTIONS, size=2000, seed=0), energies)


def test_beef_members_of_two_structures_share_their_functionals():
    # identical basis contributions: every member gives the same energy difference
    a = member_energies(-10.0, CONTRIBUTIONS, size=500, seed=3)
    b = member_energies(-12.5, CONTRIBUTIONS, size=500, seed=3)
    np.testing.assert_allclose(a - b, 2.5, atol=1e-10)
    assert a.std() > 0.1


def test_cache_stores_beef_contributions_for_the_ensemble(tmp_path):
    import ase.db

    cache = CalculatorCache(tmp_path / "beef.db", f"{__name__}:BeefDouble", {"energy": -3.0})
    assert cache.energy(bulk("Cu"), name="Cu_bulk") == -3.0
    row = ase.db.connect(tmp_path / "beef.db").get(name="Cu_bulk")
    np.testing.assert_allclose(row.data["beef_contributions"], CONTRIBUTIONS)
    assert row.xc == "BEEF-vdW"
