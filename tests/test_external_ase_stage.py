"""The atomistic.energy stage: EMT through a structure template reproduces ASE's own energies."""

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT

from tests.conftest import REPO
from uqms.models.external.ase_stage import RAISED, AtomisticEnergy
from uqms.workflow import Workflow

TEMPLATE = REPO / "workflows" / "structures" / "cu_fcc.extxyz.j2"


def ase_energy(a: float) -> float:
    atoms = bulk("Cu", "fcc", a=a)
    atoms.calc = EMT()
    return atoms.get_potential_energy()


def test_emt_energies_equal_ases_own(tmp_path):
    text = (REPO / "workflows" / "atomistic_emt.toml").read_text()
    path = REPO / "workflows" / ".test_atomistic_emt.toml"  # beside the original, so its template resolves
    path.write_text(text.replace('"../runs/atomistic_emt.sqlite"', repr(str(tmp_path / "cache.sqlite"))))
    try:
        flow = Workflow.from_file(path)
    finally:
        path.unlink()
    run = flow.run(n=16, scheduler="synchronous")
    assert np.all(run["status"].values == 0)
    np.testing.assert_allclose(run["energy"].values, [ase_energy(a) for a in run["a"].values], rtol=0, atol=1e-12)
    again = flow.run(n=16, scheduler="synchronous")  # from the cache
    np.testing.assert_array_equal(again["energy"].values, run["energy"].values)


def test_a_structure_that_cannot_be_read_is_a_status(tmp_path):
    template = tmp_path / "broken.extxyz.j2"
    template.write_text("{% if a > 3.6 %}garbage{% else %}" + TEMPLATE.read_text() + "{% endif %}")
    stage = AtomisticEnergy(str(template), "extxyz", ["a"])
    out = stage({"a": np.array([3.5, 3.7])})
    assert out["status"].tolist() == [0, RAISED]
    assert out["energy"][0] == pytest.approx(ase_energy(3.5), abs=1e-12) and np.isnan(out["energy"][1])


def test_an_ensemble_needs_a_calculator_that_gives_one():
    with pytest.raises(ValueError, match="ensemble_size: calculator 'emt' gives no BEEF"):
        AtomisticEnergy(str(TEMPLATE), "extxyz", ["a"], ensemble_size=10)


def strain(atoms, strain):
    """A ``modify`` function: isotropic strain of the cell (positions scaled with it)."""
    atoms.set_cell(atoms.cell * (1.0 + strain), scale_atoms=True)


def test_a_structure_from_an_ase_database_row_by_id_or_key(tmp_path):
    import ase.db

    path = tmp_path / "structures.db"
    with ase.db.connect(path) as db:
        db.write(bulk("Cu", "fcc", a=3.6), name="cu")
        second = db.write(bulk("Cu", "fcc", a=3.7), name="cu_wide")
    strains = np.array([-0.01, 0.0, 0.02])
    module = "tests.test_external_ase_stage:strain"
    for select, a in (("name=cu", 3.6), (second, 3.7)):
        stage = AtomisticEnergy(structure_db_file=str(path), select=select, modify=module, inputs=["strain"])
        out = stage({"strain": strains})
        assert out["status"].tolist() == [0, 0, 0]
        np.testing.assert_allclose(out["energy"], [ase_energy(a * (1 + s)) for s in strains], rtol=0, atol=1e-12)


def test_a_database_row_must_be_found_once_and_take_its_inputs_through_modify(tmp_path):
    import ase.db

    path = tmp_path / "structures.db"
    with ase.db.connect(path) as db:
        db.write(bulk("Cu", "fcc", a=3.6), kind="bulk")
        db.write(bulk("Cu", "fcc", a=3.7), kind="bulk")
    with pytest.raises(ValueError, match="matches more than one row, expected exactly one"):
        AtomisticEnergy(structure_db_file=str(path), select="kind=bulk")
    with pytest.raises(ValueError, match="matches no row"):
        AtomisticEnergy(structure_db_file=str(path), select=7)
    with pytest.raises(ValueError, match=r"takes its inputs \['strain'\] through a function"):
        AtomisticEnergy(structure_db_file=str(path), select=1, inputs=["strain"])
    with pytest.raises(ValueError, match="expected exactly one of them"):
        AtomisticEnergy(str(TEMPLATE), "extxyz", ["a"], structure_db_file=str(path), select=1)
    with pytest.raises(ValueError, match="structure_db_file: no file"):
        AtomisticEnergy(structure_db_file=str(tmp_path / "none.db"), select=1)


class BeefEMT(EMT):
    """EMT answering ASE's BEEF ensemble interface as GPAW and VASP do under BEEF-vdW
    (``get_xc_functional``, ``get_nonselfconsistent_energies``): 32 basis contributions (eV)
    that change with the volume, so members differ from sample to sample."""

    calls = 0  # calculations made, by all instances

    def calculate(self, *args, **kwargs):
        BeefEMT.calls += 1
        super().calculate(*args, **kwargs)

    def get_xc_functional(self):
        return "BEEF-vdW"

    def get_nonselfconsistent_energies(self, beef_type):
        assert beef_type == "beefvdw"
        return np.linspace(-1.0, 1.0, 32) * self.atoms.get_volume() / 10.0 + np.cos(np.arange(32))


def test_beef_ensemble_members_are_an_output_with_a_member_axis(tmp_path):
    from ase.dft.bee import BEEFEnsemble

    from uqms._chaospy import chaospy
    from uqms.inputs import UncertainInput

    stage = AtomisticEnergy(str(TEMPLATE), "extxyz", ["a"], calculator="tests.test_external_ase_stage:BeefEMT",
                            ensemble_size=300, ensemble_seed=4, cache_path=str(tmp_path / "cache.sqlite"))
    assert stage.output_dims == {"energy_members": ("member",)}
    flow = Workflow([stage], [UncertainInput("a", chaospy.Uniform(3.55, 3.65))], n=6, seed=2)
    run = flow.run(scheduler="synchronous")
    assert run["energy_members"].dims == ("sample", "member") and run.sizes["member"] == 300
    assert (run["status"] == 0).all()
    for a, energy, members in zip(run["a"].values, run["energy"].values, run["energy_members"].values):
        atoms = bulk("Cu", "fcc", a=a)
        atoms.calc = BeefEMT()
        assert energy == pytest.approx(atoms.get_potential_energy(), abs=1e-12)
        # ASE's own route: coefficients drawn member by member for this structure
        np.testing.assert_allclose(members, BEEFEnsemble(atoms, verbose=False).get_ensemble_energies(300, 4),
                                   rtol=0, atol=1e-10)
    # the cache keeps the energy and contributions: another ensemble size is served from it
    larger = AtomisticEnergy(str(TEMPLATE), "extxyz", ["a"], calculator="tests.test_external_ase_stage:BeefEMT",
                             ensemble_size=400, ensemble_seed=4, cache_path=str(tmp_path / "cache.sqlite"))
    calls = BeefEMT.calls
    out = larger({"a": run["a"].values[:1]})
    assert BeefEMT.calls == calls
    atoms = bulk("Cu", "fcc", a=run["a"].values[0])
    atoms.calc = BeefEMT()
    atoms.get_potential_energy()
    np.testing.assert_allclose(out["energy_members"][0], BEEFEnsemble(atoms, verbose=False).get_ensemble_energies(400, 4),
                               rtol=0, atol=1e-10)
