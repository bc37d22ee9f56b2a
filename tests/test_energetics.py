"""Scaling and BEP relations, gas free-energy corrections, and the energetics stage."""

from pathlib import Path

import numpy as np
import pytest

from uqms.chemistry.gas import free_energy_correction, shomate_entropy
from uqms.chemistry.mechanism import Mechanism, Shomate, load_mechanism
from uqms.config import read_toml
from uqms.models.energetics.mechanism_energies import gas_corrections, step_energies
from uqms.models.energetics.relations import clip_barrier, linear_scaling
from uqms.models.energetics.stage import MechanismEnergies

AMMONIA = Path(__file__).resolve().parents[1] / "workflows" / "ammonia_mechanism.toml"


def test_barrier_is_clipped_to_zero_and_to_the_reaction_energy():
    dE = np.array([-2.0, 0.0, 1.0, 3.0])
    np.testing.assert_allclose(clip_barrier(linear_scaling(dE, 0.5, 0.2), dE), [0.0, 0.2, 1.0, 3.0])
    np.testing.assert_allclose(linear_scaling(np.array([1.0, 2.0]), 0.1, -0.44), [-0.34, -0.24])


def test_ammonia_step_energies_reproduce_the_published_step_relations():
    """The per-species energies in the file give back Vojvodic et al. (2014)'s step relations."""
    m = load_mechanism(AMMONIA)
    e_n = np.linspace(-1.5, 1.0, 6)
    reaction, barrier = step_energies(m, {"E_N": e_n, "n2_ts_intercept": np.full(6, 1.56)}, 6)
    published = {  # dE per step, step sites (REFERENCES.md table)
        "N2_dissociation": 2 * e_n, "H2_dissociation": 2 * (0.10 * e_n - 0.44),
        "NH_formation": -0.19 * e_n - 0.16, "NH2_formation": -0.39 * e_n - 0.37, "NH3_formation": -0.72 * e_n + 1.01,
    }
    for j, name in enumerate(m.step_names):
        np.testing.assert_allclose(reaction[:, j], published[name], atol=1e-12, err_msg=name)
    ts = 1.57 * e_n + 1.56
    np.testing.assert_allclose(barrier[:, 0], np.maximum(ts, np.maximum(2 * e_n, 0)))
    dE = published["NH3_formation"]
    np.testing.assert_allclose(barrier[:, 4], np.maximum(0.24 * dE + 1.48, np.maximum(dE, 0)))
    np.testing.assert_allclose(barrier[:, 1], np.maximum(reaction[:, 1], 0))  # non-activated H2 adsorption


def test_shomate_entropies_match_nist_tables_at_298_K():
    # NIST Chemistry WebBook S(298.15 K, 1 bar): N2 191.61, H2 130.68, NH3 192.77 J/(mol K);
    # coefficients of the ranges starting at 298 K (N2: 100-500 K range)
    n2 = [28.98641, 1.853978, -9.647459, 16.63537, 0.000117, -8.671914, 226.4168, 0.0]
    m = load_mechanism(AMMONIA)
    h2, nh3 = m.config.gas["H2"].shomate.coefficients, m.config.gas["NH3"].shomate.coefficients
    for coefficients, expected in ((n2, 191.61), (h2, 130.68), (nh3, 192.77)):
        assert shomate_entropy(coefficients, 298.15) == pytest.approx(expected, abs=0.02)


def test_gas_correction_is_zero_point_plus_enthalpy_minus_TS():
    shomate = Shomate(coefficients=[33.066178, -11.363417, 11.432816, -2.772874, -0.158558, -9.980797, 172.707974, 0.0],
                      temperature_range=(298.0, 1000.0), enthalpy_298_minus_0=8.468)
    at_298 = free_energy_correction(np.array([298.15]), 0.267, shomate)
    # at 298.15 K the Shomate enthalpy term vanishes: ZPE + H298-H0 - T S (S = 130.68 J/mol/K)
    expected = 0.267 + (8.468 - 298.15 * 130.68e-3) / 96.485332
    assert at_298[0] == pytest.approx(expected, abs=2e-4)
    with pytest.raises(ValueError, match="outside the Shomate range"):
        free_energy_correction(np.array([1200.0]), 0.267, shomate)


def test_energetics_stage_reads_named_parameters_and_labels_steps():
    stage = MechanismEnergies(mechanism_file=str(AMMONIA))
    assert stage.inputs == ("E_N", "n2_ts_intercept")
    out = stage({"E_N": np.array([-0.5, 0.0]), "n2_ts_intercept": np.array([1.56, 1.66])})
    assert out["reaction_energy"].shape == (2, 5) and stage.output_coords["step"][0] == "N2_dissociation"
    np.testing.assert_allclose(out["barrier"][:, 0], [1.57 * -0.5 + 1.56, 1.66])


def test_gas_corrections_of_one_temperature_equal_each_sample_on_its_own():
    """A batch at one temperature (its Shomate terms evaluated once) gets, sample by sample, the
    corrections each sample has alone, a per-sample ``free_energy_correction`` included; so does
    a batch of several temperatures."""
    data, _ = read_toml(AMMONIA)
    data["gas"]["NH3"]["free_energy_correction"] = "dG_NH3"
    m = Mechanism.from_dict(data)
    extra = np.array([0.0, 0.05, -0.1, 0.2])
    for temperature in (np.full(4, 673.0), np.array([673.0, 673.0, 700.0, 500.0])):
        together = gas_corrections(m, temperature, {"dG_NH3": extra})
        for i in range(4):
            alone = gas_corrections(m, temperature[i : i + 1], {"dG_NH3": extra[i : i + 1]})[0]
            np.testing.assert_array_equal(together[i], alone)
        np.testing.assert_allclose(together[:, 2], free_energy_correction(temperature, 0.903, m.config.gas["NH3"].shomate)
                                   + extra, rtol=1e-14)
