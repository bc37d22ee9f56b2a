"""Thermochemistry from frequencies: equal to ASE's HarmonicThermo and IdealGasThermo sample by sample,
a gas-phase equilibrium constant against the NIST-JANAF tables, and its path into the rate constants."""

import numpy as np
import pytest
from ase import units
from ase.build import molecule
from ase.thermochemistry import HarmonicThermo, IdealGasThermo

from uqms.chemistry.mechanism import Mechanism
from uqms.chemistry.thermochemistry import (
    IdealGas,
    harmonic_free_energy,
    molecule_atoms,
)
from uqms.errors import WorkflowError
from uqms.models.energetics.mechanism_energies import gas_corrections, step_energies
from uqms.models.microkinetics.from_energies import rate_constants_at
from uqms.models.microkinetics.rate_constants import BOLTZMANN, PLANCK
from uqms.models.microkinetics.stages import SteadyStateStage

TEMPERATURES = np.array([300.0, 673.0, 1000.0])
KJ_PER_MOL = 1e3 / (units._e * units._Nav)  # eV per kJ/mol

# Experimental fundamental frequencies (cm^-1) as tabulated in the NIST CCCBDB (assumption: standard
# values quoted from the tables' usual listing, not re-read for this test; they only set the thermal
# terms, the 0 K reaction energy is taken from JANAF below).
FREQUENCIES = {
    "N2": [2330.7], "H2": [4161.2], "NH3": [3337.0, 950.0, 3444.0, 3444.0, 1627.0, 1627.0],
    "CO": [2143.0], "O2": [1556.0], "CO2": [1333.0, 667.0, 667.0, 2349.0],
}
IDEAL = {  # geometry, symmetry number, spin
    "N2": ("linear", 2, 0.0), "H2": ("linear", 2, 0.0), "NH3": ("nonlinear", 3, 0.0),
    "CO": ("linear", 1, 0.0), "O2": ("linear", 2, 1.0), "CO2": ("linear", 2, 0.0),
}


def test_harmonic_free_energy_equals_ase_harmonic_thermo_sample_by_sample():
    rng = np.random.default_rng(16)
    n = 6
    frequencies = rng.uniform(60.0, 3600.0, size=(n, 5))  # cm^-1, per sample
    temperature = np.repeat(TEMPERATURES, 2)
    ours = harmonic_free_energy(frequencies, temperature)
    for i in range(n):
        thermo = HarmonicThermo(frequencies[i] * units.invcm)
        assert ours[i] == pytest.approx(thermo.get_helmholtz_energy(temperature[i], verbose=False), abs=1e-12)
    assert np.isnan(harmonic_free_energy(np.array([[500.0, -20.0]]), np.array([500.0])))[0]  # imaginary: NaN
    assert harmonic_free_energy(np.zeros((2, 0)), np.array([300.0, 500.0])).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("gas", ["N2", "NH3", "O2", "CO2"])
def test_ideal_gas_free_energy_equals_ase_ideal_gas_thermo_at_three_temperatures(gas):
    geometry, sigma, spin = IDEAL[gas]
    atoms = molecule(gas)
    model = IdealGas.from_atoms(atoms, geometry, sigma, spin)
    scale = np.array([0.9, 1.0, 1.1])  # frequencies vary per sample (an uncertain input)
    frequencies = np.array(FREQUENCIES[gas])[None, :] * scale[:, None]
    ours = model.free_energy(frequencies, TEMPERATURES)
    for i, t in enumerate(TEMPERATURES):
        thermo = IdealGasThermo(frequencies[i] * units.invcm, geometry, atoms=atoms, symmetrynumber=sigma, spin=spin,
                                vib_selection="exact")
        assert ours[i] == pytest.approx(thermo.get_gibbs_energy(t, 1e5, verbose=False), abs=1e-12)


def test_ideal_gas_of_a_monatomic_molecule_equals_ase():
    atoms = molecule_atoms("Ar")
    ours = IdealGas.from_atoms(atoms, "monatomic", 1, 0.0).free_energy(np.zeros((3, 0)), TEMPERATURES)
    for i, t in enumerate(TEMPERATURES):
        expected = IdealGasThermo([], "monatomic", atoms=atoms, symmetrynumber=1, spin=0.0).get_gibbs_energy(
            t, 1e5, verbose=False)
        assert ours[i] == pytest.approx(expected, abs=1e-12)


# NIST-JANAF Thermochemical Tables, 4th ed. (M. W. Chase, J. Phys. Chem. Ref. Data Monograph 9, 1998),
# tables N-023 (N2), H-050 (H2), H-083 (NH3), C-093 (CO), O-029 (O2), C-095 (CO2): dfH(0 K) and
# H(298.15) - H(0) in kJ/mol, and the Gibbs energy function -[G(T) - H(298.15)]/T in J/(mol K) at
# 500, 700 and 900 K. Transcribed from a public embedded copy of these tables (janaf.nist.gov itself
# was not read here); the H(298.15) - H(0) of N2, H2 and NH3 agree with those in
# workflows/ammonia_mechanism.toml, cited from JANAF independently.
JANAF_TEMPERATURES = np.array([500.0, 700.0, 900.0])
JANAF = {
    "N2": (0.0, 8.670, [194.917, 199.813, 204.510]),
    "H2": (0.0, 8.467, [133.973, 138.822, 143.411]),
    "NH3": (-38.907, 10.045, [197.021, 203.727, 210.543]),
    "CO": (-113.805, 8.671, [200.968, 205.890, 210.628]),
    "O2": (0.0, 8.683, [208.524, 213.611, 218.552]),
    "CO2": (-393.151, 9.364, [218.290, 225.388, 232.500]),
}


def janaf_gibbs(gas: str) -> np.ndarray:
    """G(T) - H(0 K) of the elements in their reference states, kJ/mol, at JANAF_TEMPERATURES."""
    formation, shift, function = JANAF[gas]
    return formation + shift - JANAF_TEMPERATURES * np.array(function) * 1e-3


def ideal_gas_mechanism(reaction: str) -> tuple[Mechanism, np.ndarray, dict[str, int]]:
    """A surface mechanism whose gases are ideal gases, the electronic energies set from JANAF's
    dfH(0 K) minus the zero-point energies; returns it, the multiples of its steps that make the
    overall reaction, and the overall reaction's stoichiometry."""
    if reaction == "ammonia":
        overall = {"N2": -1, "H2": -3, "NH3": 2}
        steps = [("N2 + 2* <=> 2N*", 1), ("H2 + 2* <=> 2H*", 3), ("N* + 3H* <=> NH3 + 4*", 2)]
        adsorbates = ["N*", "H*"]
    else:
        overall = {"CO": -2, "O2": -1, "CO2": 2}
        steps = [("CO + * <=> CO*", 2), ("O2 + 2* <=> 2O*", 1), ("CO* + O* <=> CO2 + 2*", 2)]
        adsorbates = ["CO*", "O*"]
    gas = {}
    for name in overall:
        geometry, sigma, spin = IDEAL[name]
        zero_point = 0.5 * sum(FREQUENCIES[name]) * units.invcm
        gas[name] = {"mass": float(molecule(name).get_masses().sum()), "energy": JANAF[name][0] * KJ_PER_MOL - zero_point,
                     "ideal_gas": {"geometry": geometry, "symmetry_number": sigma, "spin": spin,
                                   "frequencies": FREQUENCIES[name]}}
    m = Mechanism.from_dict({
        "mechanism": {"name": reaction, "products": [next(g for g, nu in overall.items() if nu > 0)]},
        "gas": gas, "sites": {"s": {"adsorbates": adsorbates}},
        "adsorbates": {a: {"energy": -0.5} for a in adsorbates},
        "steps": [{"equation": equation, "barrier": 1.0} for equation, _ in steps],
    })
    return m, np.array([times for _, times in steps]), overall


@pytest.mark.parametrize("reaction", ["ammonia", "co_oxidation"])
def test_gas_equilibrium_constant_from_the_rate_constants_matches_janaf(reaction):
    """N2 + 3 H2 <=> 2 NH3 and 2 CO + O2 <=> 2 CO2 at 500, 700, 900 K: the product of the step
    equilibrium constants along the cycle against K = exp(-dG/RT) from JANAF.

    The rigid-rotor harmonic oscillator misses the quantum rotation of H2 (theta_rot = 88 K: its
    classical partition function is low by about theta/3T, which raises G(H2) by k theta/3 =
    0.24 kJ/mol, 0.73 kJ/mol for 3 H2) and the anharmonic umbrella mode of NH3; the tolerance,
    1.2 kJ/mol on dG of the reaction as written, is 0.13 decades of K at 500 K. Measured: ammonia
    -0.93 to -0.97 kJ/mol, CO oxidation +0.27 to +0.45 kJ/mol."""
    m, cycle, overall = ideal_gas_mechanism(reaction)
    n = len(JANAF_TEMPERATURES)
    k = rate_constants_at(m, JANAF_TEMPERATURES, {})
    kt = units.kB * JANAF_TEMPERATURES
    delta_g = -kt * (np.log(k.equilibrium) @ cycle) / KJ_PER_MOL  # kJ/mol of the reaction as written
    expected = sum(nu * janaf_gibbs(g) for g, nu in overall.items())
    np.testing.assert_allclose(delta_g, expected, atol=1.2)
    assert np.all(np.abs(delta_g - expected) > 0.1)  # the RRHO model is not the tabulated data in disguise
    # the corrections that entered are ASE's ideal-gas free energies
    g = gas_corrections(m, JANAF_TEMPERATURES, {})
    for j, name in enumerate(m.gas):
        geometry, sigma, spin = IDEAL[name]
        thermo = IdealGasThermo(np.array(FREQUENCIES[name]) * units.invcm, geometry, atoms=molecule(name),
                                symmetrynumber=sigma, spin=spin)
        np.testing.assert_allclose(g[:, j], [thermo.get_gibbs_energy(t, 1e5, verbose=False)
                                             for t in JANAF_TEMPERATURES], atol=1e-12)
    assert n == 3


def thermo_mechanism() -> Mechanism:
    """CO oxidation with harmonic adsorbates, one transition state with frequencies, a named CO stretch."""
    return Mechanism.from_dict({
        "mechanism": {"name": "thermo", "products": ["CO2"], "transition_state": "free_energy"},
        "gas": {"CO": {"mass": 28.0, "energy": 0.0}, "O2": {"mass": 32.0, "energy": 0.0},
                "CO2": {"mass": 44.0, "energy": -3.0}},
        "sites": {"s": {"adsorbates": ["CO*", "O*"]}},
        "adsorbates": {"CO*": {"energy": -1.5, "frequencies": ["nu_CO", 350.0, 200.0]},
                       "O*": {"energy": -1.0, "frequencies": [450.0, 300.0, 300.0]}},
        "steps": [{"equation": "CO + * <=> CO*", "barrier": 0.0},
                  {"equation": "O2 + 2* <=> 2O*", "barrier": 0.0},
                  {"equation": "CO* + O* <=> CO2 + 2*", "barrier": 1.1,
                   "transition_state_frequencies": [1500.0, 400.0, 300.0, 250.0, 200.0]}],
    })


def test_adsorbate_and_transition_state_frequencies_enter_the_rate_constants():
    """CO + * <=> CO* and O2 + 2* <=> 2O* without barrier, CO* + O* <=> CO2 + 2* through a transition
    state: harmonic adsorbate and transition-state corrections from ASE's HarmonicThermo, rate
    constants by hand (CatMAP's free-energy convention)."""
    names = {"nu_CO": np.array([1800.0, 2100.0])}
    m = thermo_mechanism()
    assert m.rate_parameter_names() == ["nu_CO"] and m.parameter_units()["nu_CO"] == "1/cm"
    t = np.array([500.0, 600.0])
    k = rate_constants_at(m, t, names)
    kt = BOLTZMANN * t  # the rate constants' CODATA 2018 (ASE's CODATA 2014 k_B differs by 3e-7)

    def helmholtz(frequencies, temperature):
        return HarmonicThermo(np.array(frequencies) * units.invcm).get_helmholtz_energy(temperature, verbose=False)

    for i in range(2):
        f_co = helmholtz([names["nu_CO"][i], 350.0, 200.0], t[i])
        f_o = helmholtz([450.0, 300.0, 300.0], t[i])
        f_ts = helmholtz([1500.0, 400.0, 300.0, 250.0, 200.0], t[i])
        dg = [-1.5 + f_co, -2.0 + 2 * f_o, -3.0 - (-1.5 + f_co) - (-1.0 + f_o)]
        barrier = max(1.1 + f_ts - f_co - f_o, 0.0, dg[2])  # CatMAP's clipped transition state
        prefactor = BOLTZMANN * t[i] / PLANCK
        expected = [prefactor * np.exp(-max(dg[0], 0.0) / kt[i]), prefactor * np.exp(-max(dg[1], 0.0) / kt[i]),
                    prefactor * np.exp(-barrier / kt[i])]
        np.testing.assert_allclose(k.forward[i], expected, rtol=1e-12)
        np.testing.assert_allclose(k.equilibrium[i], np.exp(-np.array(dg) / kt[i]), rtol=1e-12)
        assert barrier > max(dg[2], 0.0) + 0.5  # not clipped: the transition state's own correction counts
        assert abs(f_ts) > 1e-3


@pytest.mark.parametrize(
    "gas, key, expected",
    [
        ({"geometry": "linear", "symmetry_number": 2, "frequencies": [2330.7, 100.0]}, "gas.N2.ideal_gas.frequencies",
         "has 1 vibrations; got 2"),
        ({"geometry": "linear", "symmetry_number": 2, "frequencies": [-5.0]}, "gas.N2.ideal_gas.frequencies[0]",
         "expected a real frequency > 0"),
        ({"geometry": "linear", "symmetry_number": 2, "frequencies": [2330.7], "molecule": "CO"}, "gas.N2.ideal_gas",
         "are not the formula 'N2'"),
        ({"geometry": "linear", "symmetry_number": 2, "frequencies": [2330.7], "molecule": "XYZ"}, "gas.N2.ideal_gas",
         "ASE knows no molecule 'XYZ'"),
    ],
)
def test_bad_ideal_gas_entries_name_the_key(gas, key, expected):
    data = {"mechanism": {"name": "bad", "products": ["N2"]}, "gas": {"N2": {"mass": 28.0, "ideal_gas": gas}},
            "sites": {"s": {"adsorbates": ["N*"]}},
            "steps": [{"equation": "N2 + 2* <=> 2N*", "reaction_energy": -1.0, "barrier": 1.0}]}
    with pytest.raises(WorkflowError) as error:
        Mechanism.from_dict(data, "m.toml")
    assert error.value.key == key and expected in str(error.value)


def test_ideal_gas_from_given_positions_and_the_shomate_conflict():
    base = {"mechanism": {"name": "co", "products": ["CO"]}, "sites": {"s": {"adsorbates": ["CO*"]}},
            "steps": [{"equation": "CO + * <=> CO*", "reaction_energy": -1.0, "barrier": 0.0}]}
    given = {"geometry": "linear", "symmetry_number": 1, "frequencies": [2143.0], "positions": [[0, 0, 0], [0, 0, 1.128]]}
    m = Mechanism.from_dict({**base, "gas": {"CO": {"mass": 28.0, "ideal_gas": given}}})
    atoms = molecule("CO")
    atoms.positions = [[0, 0, 0], [0, 0, 1.128]]
    expected = IdealGasThermo([2143.0 * units.invcm], "linear", atoms=atoms, symmetrynumber=1, spin=0.0)
    assert gas_corrections(m, np.array([700.0]), {})[0, 0] == pytest.approx(expected.get_gibbs_energy(700.0, 1e5, False))
    with pytest.raises(WorkflowError) as error:
        Mechanism.from_dict({**base, "gas": {"CO": {"mass": 28.0, "ideal_gas": given, "zero_point_energy": 0.13}}},
                            "m.toml")
    assert error.value.key == "gas.CO.zero_point_energy" and "give one" in str(error.value)


def test_a_named_frequency_is_an_input_of_the_steady_state_stage():
    stage = SteadyStateStage(mechanism=thermo_mechanism(), pressures={"CO": 0.1, "O2": 0.2})
    assert "nu_CO" in stage.inputs and stage.input_units["nu_CO"] == "1/cm"
    batch = {"T": np.full(3, 500.0), "nu_CO": np.array([1700.0, 1900.0, 2100.0])}
    batch["reaction_energy"], batch["barrier"] = step_energies(stage.mechanism, batch, 3)
    out = stage(batch)
    assert (out["status"] == 0).all() and len(np.unique(out["tof"][:, 0])) == 3
    for i in range(3):  # the batch equals its samples one by one
        one = stage({key: value[i:i + 1] for key, value in batch.items()})
        np.testing.assert_allclose(one["tof"][0], out["tof"][i], rtol=1e-9)


def test_a_zero_barrier_with_transition_state_frequencies_keeps_its_transition_state():
    """Under CatMAP's convention ``barrier = 0`` alone means no transition state (max(0, dG)); with
    transition-state frequencies the transition state is there, level with the initial state in
    energy, and O2's lost entropy makes it a free-energy barrier."""
    geometry, sigma, spin = IDEAL["O2"]
    o2 = {"mass": 32.0, "energy": 0.0, "ideal_gas": {"geometry": geometry, "symmetry_number": sigma, "spin": spin,
                                                     "frequencies": FREQUENCIES["O2"]}}

    def mechanism(step):
        return Mechanism.from_dict({"mechanism": {"name": "o2", "products": ["O2"], "transition_state": "free_energy"},
                                    "gas": {"O2": o2}, "sites": {"s": {"adsorbates": ["O*"]}},
                                    "steps": [{"equation": "O2 + 2* <=> 2O*", "reaction_energy": -2.0, **step}]})

    t = np.array([600.0])
    g_o2 = gas_corrections(mechanism({"barrier": 0.0}), t, {})[0, 0]
    f_ts = harmonic_free_energy(np.array([[600.0, 400.0, 300.0]]), t)[0]
    plain = rate_constants_at(mechanism({"barrier": 0.0}), t, {}).forward[0, 0]
    with_state = rate_constants_at(mechanism({"barrier": 0.0, "transition_state_frequencies": [600.0, 400.0, 300.0]}),
                                   t, {}).forward[0, 0]
    kt = BOLTZMANN * t[0]
    assert plain == pytest.approx(kt / PLANCK, rel=1e-12)  # dG < 0: no barrier
    assert with_state == pytest.approx(kt / PLANCK * np.exp(-(f_ts - g_o2) / kt), rel=1e-12)
    assert f_ts - g_o2 > 0.5
