"""Ensembles: loading, principal components, sampling by member index, correlated energies."""

import ase.db
import numpy as np
import pytest
import xarray as xr
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator

from tests.conftest import REPO, load_script
from uqms.inputs import InputSet
from uqms.inputs.ensembles import (
    Ensemble,
    EnsembleEntry,
    ensemble_inputs,
    load_ensemble,
)
from uqms.models.atomistic.beef import member_energies


def _correlated(members=2000, rho=0.9, sigma=(0.15, 0.25), seed=0):
    rng = np.random.default_rng(seed)
    cov = np.array([[sigma[0] ** 2, rho * sigma[0] * sigma[1]], [rho * sigma[0] * sigma[1], sigma[1] ** 2]])
    return Ensemble(rng.multivariate_normal([-0.5, 0.8], cov, members), ["E_N", "E_TS"])


def test_all_components_reconstruct_the_covariance():
    rng = np.random.default_rng(2)
    ensemble = Ensemble(rng.normal(size=(300, 4)) @ rng.normal(size=(4, 4)), ["a", "b", "c", "d"])
    components = ensemble.principal_components(variance=1.0)
    assert components.n_components == 4
    np.testing.assert_allclose(components.covariance(), ensemble.covariance(), atol=1e-8, rtol=0)
    np.testing.assert_allclose(components.values(np.zeros((1, 4)))[0], ensemble.values.mean(axis=0))


def test_low_rank_ensemble_keeps_only_the_components_it_needs():
    # three energies driven by two functional parameters: rank 2
    rng = np.random.default_rng(3)
    factors = rng.normal(size=(500, 2))
    ensemble = Ensemble(factors @ np.array([[0.2, 0.1, -0.3], [0.05, 0.1, 0.02]]) + [-1.0, 0.3, 0.5], ["x", "y", "z"])
    components = ensemble.principal_components()  # 99.9 % of the variance
    assert components.n_components == 2
    assert components.explained.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(components.covariance(), ensemble.covariance(), atol=1e-8, rtol=0)
    assert ensemble.principal_components(variance=0.5).n_components == 1


def test_pca_inputs_are_standard_normals_reproducing_the_ensemble(tmp_path):
    ensemble = _correlated()
    np.save(tmp_path / "e.npy", ensemble.values)
    entry = EnsembleEntry(file="e.npy", quantities=["E_N", "E_TS"], mode="pca", group="functional")
    inputs, stage, _ = ensemble_inputs("beef", entry, tmp_path / "e.npy")
    assert [i.name for i in inputs] == ["beef_pc1", "beef_pc2"]
    assert inputs[0].kind == "epistemic" and inputs[0].group == "functional"
    assert "of 2" in inputs[0].description
    u = np.random.default_rng(4).random((20000, 2))
    values = stage(InputSet(inputs).from_unit_cube(u))
    sample = np.column_stack([values["E_N"], values["E_TS"]])
    np.testing.assert_allclose(np.cov(sample, rowvar=False), ensemble.covariance(), atol=3e-3)


def test_member_index_is_sampled_uniformly_and_looked_up(tmp_path):
    values = np.arange(20.0).reshape(10, 2)
    np.savetxt(tmp_path / "e.csv", values, delimiter=",", header="a,b", comments="")
    inputs, lookup, _ = ensemble_inputs("ens", EnsembleEntry(file="e.csv"), tmp_path / "e.csv")
    assert [i.name for i in inputs] == ["ens_member"] and inputs[0].kind == "epistemic"
    index_input = InputSet(inputs)
    grid = (np.arange(1000) + 0.5)[:, None] / 1000  # 100 points per member exactly
    index = index_input.from_unit_cube(grid)["ens_member"]
    np.testing.assert_array_equal(np.bincount(index.astype(int)), np.full(10, 100))
    random = index_input.from_unit_cube(np.random.default_rng(5).random((50000, 1)))["ens_member"]
    counts = np.bincount(random.astype(int), minlength=10)
    chi2 = ((counts - 5000) ** 2 / 5000).sum()
    assert chi2 < 27.9  # 99.9 % quantile of chi-square with 9 degrees of freedom
    out = lookup({"ens_member": np.array([0.0, 9.0, 3.0])})
    np.testing.assert_array_equal(out["a"], [0, 18, 6])
    with pytest.raises(ValueError, match="whole member indices 0..9"):
        lookup({"ens_member": np.array([10.0])})


def test_correlated_errors_cancel_in_energy_differences():
    ensemble = _correlated(rho=0.9)
    e_n, e_ts = ensemble.values.T
    assert np.corrcoef(e_n, e_ts)[0, 1] == pytest.approx(0.9, abs=0.01)
    spread = np.std(e_ts - e_n)
    assert spread < np.std(e_n) and spread < np.std(e_ts)
    # closed form: var(TS - N) = s_TS^2 + s_N^2 - 2 rho s_N s_TS
    assert spread == pytest.approx(np.sqrt(0.25**2 + 0.15**2 - 2 * 0.9 * 0.15 * 0.25), rel=0.05)
    independent = _correlated(rho=0.0).values
    assert np.std(independent[:, 1] - independent[:, 0]) > np.std(independent[:, 1])


def test_files_npy_csv_netcdf_give_the_same_ensemble(tmp_path):
    ensemble = _correlated(members=50)
    np.save(tmp_path / "e.npy", ensemble.values)
    np.savetxt(tmp_path / "e.csv", ensemble.values, delimiter=",", header="E_N,E_TS", comments="")
    xr.DataArray(ensemble.values, dims=("member", "quantity"), coords={"quantity": ["E_N", "E_TS"]},
                 name="energy").to_netcdf(tmp_path / "e.nc")
    xr.Dataset({"E_N": ("member", ensemble.values[:, 0]), "E_TS": ("member", ensemble.values[:, 1])}).to_netcdf(tmp_path / "v.nc")
    for name in ("e.npy", "e.csv", "e.nc", "v.nc"):
        loaded = load_ensemble(tmp_path / name, ["E_N", "E_TS"])
        assert loaded.quantities == ("E_N", "E_TS")
        np.testing.assert_allclose(loaded.values, ensemble.values)
    assert load_ensemble(tmp_path / "e.csv", ["E_TS"]).values.shape == (50, 1)
    with pytest.raises(ValueError, match="name the columns of a .npy file"):
        load_ensemble(tmp_path / "e.npy")


@pytest.mark.parametrize(
    "values, message",
    [(np.array([[0.1, np.nan], [0.2, 0.3]]), "1 non-finite values, first at member 0, quantity 'b'"),
     (np.ones((1, 2)), "at least 2 members"),
     (np.ones((4, 3)), r"members x quantities \(2\)")],
)
def test_bad_ensembles_are_refused(values, message):
    with pytest.raises(ValueError, match=message):
        Ensemble(values, ["a", "b"])


def _write_row(db, name, energy, **data):
    atoms = bulk("Cu")
    atoms.calc = SinglePointCalculator(atoms, energy=energy)
    db.write(atoms, name=name, data=data, **({"xc": "BEEF-vdW"} if "beef_contributions" in data else {}))


def test_ase_database_rows_with_member_energies_make_reaction_energies(tmp_path):
    path = tmp_path / "energies.db"
    rng = np.random.default_rng(6)
    slab, adsorbed, gas = rng.normal(size=(3, 40))
    with ase.db.connect(path) as db:
        _write_row(db, "slab", 0.0, member_energies=slab)
        _write_row(db, "N_slab", 0.0, member_energies=adsorbed)
        _write_row(db, "N2", 0.0, member_energies=gas)
    ensemble = load_ensemble(path, {"E_N": {"N_slab": 1, "slab": -1, "N2": -0.5}, "E_slab": {"slab": 1}})
    np.testing.assert_allclose(ensemble.values[:, 0], adsorbed - slab - 0.5 * gas)
    np.testing.assert_allclose(ensemble.values[:, 1], slab)
    with pytest.raises(ValueError, match="one row with name='missing'"):
        load_ensemble(path, ["missing"])


def test_ase_database_rows_with_beef_contributions_use_ase_dft_bee(tmp_path):
    path = tmp_path / "beef.db"
    contributions = np.linspace(-1, 1, 32)
    with ase.db.connect(path) as db:
        _write_row(db, "slab", -100.0, beef_contributions=contributions)
        _write_row(db, "N_slab", -104.0, beef_contributions=contributions + 0.3)
    ensemble = load_ensemble(path, {"dE": {"N_slab": 1, "slab": -1}}, size=500, seed=1)
    expected = member_energies(-104.0, contributions + 0.3, size=500, seed=1) - member_energies(-100.0, contributions, size=500, seed=1)
    np.testing.assert_allclose(ensemble.values[:, 0], expected)
    assert ensemble.members == 500 and ensemble.values.std() > 0


def test_shipped_demo_ensemble_is_what_its_script_writes():
    data = REPO / "workflows" / "data"
    script = load_script(data / "make_ammonia_ensemble.py")
    shipped = load_ensemble(data / "ammonia_beef_ensemble.csv")
    assert shipped.quantities == ("E_N", "n2_ts_intercept")
    np.testing.assert_allclose(shipped.values, script.members(), atol=5e-7)
    # E_TS = intercept + 1.57 E_N keeps the intended 0.9 correlation with E_N
    e_ts = shipped.values[:, 1] + script.TS_SLOPE * shipped.values[:, 0]
    assert np.corrcoef(shipped.values[:, 0], e_ts)[0, 1] == pytest.approx(script.RHO, abs=0.03)
