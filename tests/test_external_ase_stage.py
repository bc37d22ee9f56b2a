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
