"""Mechanism files: stoichiometry read from equations, and one specific error per mistake."""

from pathlib import Path

import numpy as np
import pytest

from uqms.chemistry.mechanism import Mechanism, load_mechanism
from uqms.errors import WorkflowError

AMMONIA = Path(__file__).resolve().parents[1] / "workflows" / "ammonia_mechanism.toml"

CO_OXIDATION = '''
[mechanism]
name = "co_oxidation"
products = ["CO2"]

[gas.CO]
mass = 28.01
[gas.O2]
mass = 32.0
[gas.CO2]
mass = 44.01

[sites.s]
adsorbates = ["CO*", "O*"]

[[steps]]
equation = "CO + * <=> CO*"
reaction_energy = -1.0
barrier = 0.0

[[steps]]
equation = "O2 + 2* <=> 2O*"
reaction_energy = -1.0
barrier = 0.0

[[steps]]
equation = "CO* + O* <=> CO2 + 2*"
reaction_energy = -0.5
barrier = 1.0
'''


def test_ammonia_mechanism_stoichiometry():
    m = load_mechanism(AMMONIA)
    assert m.gas == ("N2", "H2", "NH3")
    assert m.surface_species == ("N*", "H*", "NH*", "NH2*", "*")
    assert m.step_names[0] == "N2_dissociation" and m.products == ("NH3",)
    # N2 + 2* <=> 2N*: two free sites in, two N* out, one N2 consumed
    np.testing.assert_array_equal(m.reactant_surface[0], [0, 0, 0, 0, 2])
    np.testing.assert_array_equal(m.product_surface[0], [2, 0, 0, 0, 0])
    np.testing.assert_array_equal(m.reactant_gas[0], [1, 0, 0])
    # every step conserves sites: the net change of all surface species sums to zero
    np.testing.assert_array_equal((m.product_surface - m.reactant_surface).sum(axis=1), 0)
    assert m.energy_parameter_names() == ["E_N", "n2_ts_intercept"]


def test_two_site_types_and_isomer_labels(tmp_path):
    text = '''
[mechanism]
name = "isomerisation"
products = ["C4H8_trans"]
[gas.C4H8_cis]
mass = 56.1
[gas.C4H8_trans]
mass = 56.1
[sites.a]
adsorbates = ["C4H8*a"]
density = 2e-5
[sites.b]
adsorbates = ["C4H8*b"]
site_area = 10.0
[[steps]]
equation = "C4H8_cis + *a <=> C4H8*a"
reaction_energy = -0.5
barrier = 0.0
[[steps]]
equation = "C4H8*a + *b <=> C4H8*b + *a"
reaction_energy = 0.0
barrier = 0.8
[[steps]]
equation = "C4H8*b <=> C4H8_trans + *b"
reaction_energy = 0.4
barrier = 0.4
'''
    path = tmp_path / "m.toml"
    path.write_text(text)
    m = load_mechanism(path)
    assert m.free_sites == ("*a", "*b")
    np.testing.assert_array_equal(m.site_membership, [[1, 0, 1, 0], [0, 1, 0, 1]])
    np.testing.assert_array_equal(m.step_site, [0, 0, 1])
    b = 1 / (6.02214076e23 * 10e-20)  # mol/m^2 of one site per 10 Angstrom^2
    np.testing.assert_allclose(m.site_fractions({}, 1), [[2e-5 / (2e-5 + b), b / (2e-5 + b)]])


@pytest.mark.parametrize(
    "old, new, key, expected",
    [
        ('equation = "CO + * <=> CO*"', 'equation = "CO + 2* <=> CO*"', "steps[0].equation",
         "does not conserve sites: {s: 2} on the left, {s: 1} on the right"),
        ('equation = "O2 + 2* <=> 2O*"', 'equation = "O2 + 2* <=> O*"', "steps[1].equation",
         "is not balanced: atoms {O: 2} on the left, {O: 1} on the right"),
        ('equation = "CO + * <=> CO*"', 'equation = "CH4 + * <=> CO*"', "steps[0].equation",
         "unknown species 'CH4'"),
        ('equation = "O2 + 2* <=> 2O*"', 'equation = "O2 + 2* <=> 2OX*"', "steps[1].equation",
         "'OX*' is on no site"),
        ('equation = "CO + * <=> CO*"', 'equation = "CO + *t <=> CO*"', "steps[0].equation",
         "unknown site '*t'"),
        ('equation = "CO + * <=> CO*"', 'equation = "CO + * -> CO*"', "steps[0].equation",
         "is not an equation 'reactants <=> products'"),
        ('reaction_energy = -0.5\n', '', "steps[2]", "has no energy source: give reaction_energy, or an energy for"),
        ('barrier = 1.0\n', '', "steps[2]", "has no barrier source"),
        ('barrier = 1.0\n', 'barrier = 1.0\nbep = { slope = 0.5, intercept = 1.0 }\n', "steps[2]",
         "several barrier sources ['barrier', 'bep']"),
        ('barrier = 1.0\n', 'barrier = 1.0\nsticking = 0.5\n', "steps[2].sticking",
         "collision theory needs exactly one gas molecule on the left"),
        ('equation = "CO + * <=> CO*"\n', 'equation = "CO + * <=> CO*"\nsticking = 1.0\n', "sites.s.site_area",
         "needs the site area"),
        ('adsorbates = ["CO*", "O*"]', 'adsorbates = ["CO*", "O*", "C*"]', "sites.s.adsorbates",
         "'C*' appears in no step"),
        ('products = ["CO2"]', 'products = ["CO3"]', "mechanism.products[0]", "'CO3' is not a gas species"),
        ('[gas.CO2]\nmass = 44.01', '[gas.CO2]\nmass = -44.01', "gas.CO2.mass", "greater than 0"),
        ('[gas.CO2]', '[gas.co2]', "gas.co2", "is not a gas formula"),
        ('reaction_energy = -0.5', 'reaction_energy = "1bad"', "steps[2].reaction_energy",
         "expected a number or the name of a batch entry such as 'E_N' or a table"),
        ('reaction_energy = -0.5', 'reaction_energy = { descriptor = "E_N" }', "steps[2].reaction_energy.slope",
         "required key is missing"),
        ('barrier = 1.0', 'barier = 1.0', "steps[2].barier", "unknown key"),
    ],
)
def test_bad_mechanism_files_name_file_key_and_expectation(tmp_path, old, new, key, expected):
    assert old in CO_OXIDATION
    path = tmp_path / "bad.toml"
    path.write_text(CO_OXIDATION.replace(old, new, 1))
    with pytest.raises(WorkflowError) as caught:
        load_mechanism(path)
    assert caught.value.source == str(path)
    assert caught.value.key == key
    assert expected in caught.value.message


def test_mechanism_from_a_python_dict():
    import tomllib

    m = Mechanism.from_dict(tomllib.loads(CO_OXIDATION))
    assert m.adsorbates == ("CO*", "O*") and len(m.steps) == 3
    with pytest.raises(WorkflowError, match="<dict>: sites: required key is missing"):
        Mechanism.from_dict({"mechanism": {"name": "x", "products": ["CO2"]}, "steps": [{"equation": "a"}]})


def _two_sites(**change):
    """Step + terrace sites with a spill-over step; ``change`` overrides top-level sections or step keys."""
    data = {"mechanism": {"name": "spill", "products": ["H2"]}, "gas": {"H2": {"mass": 2.016}},
            "sites": {"step": {"adsorbates": ["H*step"], "density": 1e-6},
                      "terrace": {"adsorbates": ["H*terrace"], "density": 1e-5}},
            "steps": [{"equation": "H2 + 2*step <=> 2H*step", "k": 1.0, "k_reverse": 1.0},
                      {"equation": "H*step + *terrace <=> *step + H*terrace", "k": 1.0, "reaction_energy": 0.0},
                      {"equation": "2H*terrace <=> H2 + 2*terrace", "k": 1.0, "reversible": False}]}
    for key, value in change.items():
        if key.startswith("step1_"):
            data["steps"][1][key.removeprefix("step1_")] = value
        else:
            data[key] = value
    return Mechanism.from_dict(data)


def test_site_types_densities_spill_over_and_coverage_dependence_keys():
    m = _two_sites(interactions={"H*step": {"H*step": 0.2, "H*terrace": "eps"}},
                   step1_coverage_dependencies={"H*terrace": {"E": "E_cov", "m": 1.0}, "*step": {"a": 0.5}},
                   step1_interaction_fraction="alpha")
    np.testing.assert_array_equal(m.step_site, [0, 0, 1])
    np.testing.assert_allclose(m.site_fractions({}, 2), [[1 / 11, 10 / 11]] * 2)
    assert m.has_interactions and m.has_coverage_dependence
    assert m.rate_parameter_names() == ["eps", "alpha", "E_cov"]
    assert {k: m.parameter_units()[k] for k in ("eps", "alpha", "E_cov")} == {"eps": "eV", "alpha": "1", "E_cov": "eV"}
    eps = m.interaction_matrix({"eps": np.array([0.1, 0.3])}, 2)
    np.testing.assert_allclose(eps[:, 0], [[0.2, 0.1], [0.2, 0.3]])
    np.testing.assert_array_equal(eps[:, 1], 0.0)
    assert _two_sites(step1_per_site="terrace").step_site[1] == 1
    assert not _two_sites().has_coverage_dependence


@pytest.mark.parametrize(
    "change, key, expected",
    [
        ({"sites": {"step": {"adsorbates": ["H*step"]}, "terrace": {"adsorbates": ["H*terrace"], "density": 1e-5}}},
         "sites.step.density", "2 site types need the density of each"),
        ({"step1_per_site": "bulk"}, "steps[1].per_site", "not a site type on the left"),
        ({"step1_coverage_dependencies": {"O*": {"E": 0.1}}}, "steps[1].coverage_dependencies.O*",
         "not a surface species"),
        ({"step1_coverage_dependencies_reverse": {"H*step": {"E": 0.1}}}, "steps[1].coverage_dependencies_reverse",
         "carries the forward's"),
        ({"step1_interaction_fraction": 1.5}, "steps[1].interaction_fraction", "from 0 to 1"),
        ({"interactions": {"H*step": {"N*": 0.1}}}, "interactions.H*step.N*", "not an adsorbate"),
    ],
)
def test_bad_site_and_coverage_keys_name_the_key(change, key, expected):
    with pytest.raises(WorkflowError) as caught:
        _two_sites(**change)
    assert caught.value.key == key and expected in caught.value.message
