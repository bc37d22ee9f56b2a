"""Cantera YAML surface mechanisms read into uqms and uqms mechanisms written for Cantera: rates,
coverages and turnover frequencies against Cantera itself, and round trips."""

import sys
from pathlib import Path

import cantera as ct  # the peer, in the test extras
import numpy as np
import pytest
from typer.testing import CliRunner

from tests.conftest import REPO
from uqms.chemistry.cantera_yaml import (
    cantera_yaml_content,
    load_cantera_mechanism,
    read_cantera,
    write_cantera_yaml,
)
from uqms.chemistry.mechanism import Mechanism, load_mechanism
from uqms.cli import app
from uqms.errors import WorkflowError
from uqms.models.microkinetics.from_energies import rate_constants_at
from uqms.models.microkinetics.kinetics import (
    RateEquations,
    directional_rates,
    pressure_array,
    pressure_weighted,
)
from uqms.models.microkinetics.steady_state import solve_steady_state

# CO oxidation written for this test in the units real files use (cm, mol, kJ/mol): sticking
# adsorption (one and two sites, one with a temperature-dependent coefficient), Arrhenius
# desorption, and a reversible surface reaction whose reverse comes from species thermochemistry.
CO_OXIDATION = """
units: {length: cm, quantity: mol, activation-energy: kJ/mol}
phases:
- name: gas
  thermo: ideal-gas
  elements: [O, C, Ar]
  species: [CO, O2, CO2, AR]
  state: {T: 600.0, P: 1 atm, X: {CO: 0.04, O2: 0.1, CO2: 0.01, AR: 0.85}}
- name: Pt_surf
  thermo: ideal-surface
  adjacent-phases: [gas]
  elements: [Pt, O, C]
  species: [PT(S), CO(S), O(S), CO2(S)]
  site-density: 2.7063e-09
  kinetics: surface
  reactions: all
  state: {T: 600.0, coverages: {PT(S): 1.0}}
species:
- {name: CO, composition: {C: 1, O: 1}, thermo: {model: constant-cp, T0: 298.15, h0: -110.5 kJ/mol, s0: 197.7 J/mol/K}}
- {name: O2, composition: {O: 2}, thermo: {model: constant-cp, T0: 298.15, h0: 0, s0: 205.2 J/mol/K}}
- {name: CO2, composition: {C: 1, O: 2}, thermo: {model: constant-cp, T0: 298.15, h0: -393.5 kJ/mol, s0: 213.8 J/mol/K}}
- {name: AR, composition: {Ar: 1}, thermo: {model: constant-cp, T0: 298.15, h0: 0, s0: 154.8 J/mol/K}}
- {name: PT(S), composition: {Pt: 1}, thermo: {model: constant-cp}}
- {name: CO(S), composition: {C: 1, O: 1, Pt: 1}, thermo: {model: constant-cp, h0: -250 kJ/mol, s0: 40 J/mol/K}}
- {name: O(S), composition: {O: 1, Pt: 1}, thermo: {model: constant-cp, h0: -220 kJ/mol, s0: 20 J/mol/K}}
- {name: CO2(S), composition: {C: 1, O: 2, Pt: 1}, thermo: {model: constant-cp, h0: -420 kJ/mol, s0: 60 J/mol/K}}
reactions:
- equation: CO + PT(S) => CO(S)
  sticking-coefficient: {A: 0.84, b: 0, Ea: 0}
- equation: CO(S) => CO + PT(S)
  rate-constant: {A: 1.0e+13, b: 0, Ea: 125.5}
- equation: O2 + 2 PT(S) => 2 O(S)
  sticking-coefficient: {A: 0.07, b: 0.1, Ea: 2.0}
- equation: 2 O(S) => O2 + 2 PT(S)
  rate-constant: {A: 3.7e+21, b: 0, Ea: 213.2}
- equation: CO(S) + O(S) <=> CO2(S) + PT(S)
  rate-constant: {A: 3.7e+21, b: 0, Ea: 105.0}
  coverage-dependencies: {CO(S): {a: 0.3, m: 0.5, E: -20.0}}
- equation: CO2(S) => CO2 + PT(S)
  rate-constant: {A: 1.0e+13, b: 0.2, Ea: 20.5}
- equation: CO2 + PT(S) => CO2(S)
  sticking-coefficient: {A: 0.005, b: 0, Ea: 0}
"""
CANTERA_DATA = Path(ct.__file__).parent / "data"


@pytest.fixture
def co_oxidation(tmp_path) -> Path:
    path = tmp_path / "co_oxidation.yaml"
    path.write_text(CO_OXIDATION)
    return path


def cantera_surface(path: Path, temperature: float, phase: str = "Pt_surf"):
    surface = ct.Interface(str(path), phase)
    gas = surface.adjacent["gas"]
    gas.TP = temperature, gas.P
    surface.TP = temperature, gas.P
    return surface, gas


def cantera_steady_state(surface, newton: bool = True) -> None:
    """Cantera's steady state: its Newton solver after a tiny time step (LIBRARY-NOTES), or, for a
    phase holding two site types (two conserved site totals where that solver enforces one), time
    integration over growing intervals until the coverages change by less than 1e-8 relative (at
    steady state the integrator's renormalisation keeps them moving at ~1e-9 per interval)."""
    surface.advance_coverages(1e-9)
    if newton:
        surface.advance_coverages_to_steady_state()
        return
    for interval in 10.0 ** np.arange(-8, 4):
        before = surface.coverages
        surface.advance_coverages(interval, rtol=1e-12, atol=1e-20, max_steps=100_000)
        if np.max(np.abs(surface.coverages - before) / surface.coverages) < 1e-8:
            return
    raise AssertionError("Cantera's coverages did not settle")


def uqms_rates(m: Mechanism, k, theta: np.ndarray, pressures=None):
    """uqms's forward and reverse rates (samples, steps) at coverages ``theta`` (uqms's columns)."""
    return RateEquations(m).rates(*pressure_weighted(m, k, pressure_array(m, pressures, len(theta))), np.log(theta),
                                  k.coverage)


def test_reading_keeps_species_sites_and_states_what_it_renamed(co_oxidation):
    content = read_cantera(co_oxidation, temperature=600.0, products=["CO2"])
    m = Mechanism.from_dict(content, str(co_oxidation))
    assert m.gas == ("CO", "O2", "CO2") and m.adsorbates == ("CO*", "O*", "CO2*") and m.free_sites == ("*",)
    assert m.steps[2].equation == "O2 + 2 * <=> 2 O*" and not m.steps[2].entry.reversible
    assert m.steps[4].entry.reversible and m.steps[4].entry.reaction_energy is not None
    assert content["gas"]["CO"] == {"mass": pytest.approx(28.01), "pressure": pytest.approx(0.04 * 1.01325)}
    assert content["sites"]["Pt_surf"]["density"] == pytest.approx(2.7063e-5)  # mol/m^2
    assert "CO(S) -> CO*" in m.description and "PT(S) -> *" in m.description


@pytest.mark.parametrize("temperature", [600.0, 750.0])
def test_every_rate_read_from_cantera_yaml_equals_cantera_s_at_any_coverage(co_oxidation, temperature):
    """Forward and reverse rates of every step at arbitrary coverages: uqms per site = Cantera's
    rates of progress per area / site density (sticking, two-site sticking, Arrhenius, a reverse
    from Cantera's thermochemistry with the forward's coverage dependence)."""
    m = load_cantera_mechanism(co_oxidation, temperature=temperature, products=["CO2"])
    k = rate_constants_at(m, np.array([temperature]), {})
    surface, _ = cantera_surface(co_oxidation, temperature)
    theta = {"PT(S)": 0.31, "CO(S)": 0.42, "O(S)": 0.2, "CO2(S)": 0.07}
    surface.coverages = theta
    uqms_theta = np.array([[theta["CO(S)"], theta["O(S)"], theta["CO2(S)"], theta["PT(S)"]]])
    forward, reverse = uqms_rates(m, k, uqms_theta)
    density = surface.site_density
    np.testing.assert_allclose(forward[0], surface.forward_rates_of_progress / density, rtol=1e-12)
    np.testing.assert_allclose(reverse[0], surface.reverse_rates_of_progress / density, rtol=1e-12)


@pytest.mark.parametrize("temperature", [600.0, 750.0])
def test_mechanism_read_from_cantera_yaml_reaches_cantera_s_steady_state(co_oxidation, temperature):
    m = load_cantera_mechanism(co_oxidation, temperature=temperature, products=["CO2"])
    state = solve_steady_state(m, rate_constants_at(m, np.array([temperature]), {}))
    assert state.status[0] == 0
    surface, gas = cantera_surface(co_oxidation, temperature)
    cantera_steady_state(surface)
    coverage = dict(zip(surface.species_names, surface.coverages))
    np.testing.assert_allclose(state.coverages[0], [coverage[s] for s in ("CO(S)", "O(S)", "CO2(S)")], rtol=1e-6)
    np.testing.assert_allclose(state.free_sites[0, 0], coverage["PT(S)"], rtol=1e-6)
    tof = surface.get_net_production_rates(gas)[gas.species_index("CO2")] / surface.site_density
    np.testing.assert_allclose(state.tof()[0, 0], tof, rtol=1e-6)


def test_motz_wise_correction_is_read_where_the_file_asks_for_it(tmp_path):
    """Off by default (the rates above match without it); on, gamma / (1 - gamma / 2)."""
    path = tmp_path / "motz_wise.yaml"
    path.write_text(CO_OXIDATION.replace("site-density: 2.7063e-09", "site-density: 2.7063e-09\n  Motz-Wise: true")
                    .replace("{A: 0.07, b: 0.1, Ea: 2.0}", "{A: 0.07, b: 0, Ea: 0}"))
    m = load_cantera_mechanism(path, products=["CO2"])
    k = rate_constants_at(m, np.array([600.0]), {})
    surface, _ = cantera_surface(path, 600.0)
    assert surface.reaction(0).rate.motz_wise_correction
    surface.coverages = {"PT(S)": 1.0}
    forward, _ = directional_rates(m, k, pressure_array(m, None, 1), np.array([[0.0, 0.0, 0.0, 1.0]]))
    np.testing.assert_allclose(forward[0, [0, 2, 6]], surface.forward_rates_of_progress[[0, 2, 6]]
                               / surface.site_density, rtol=1e-12)
    bad = tmp_path / "motz_wise_t.yaml"
    bad.write_text(path.read_text().replace("{A: 0.005, b: 0, Ea: 0}", "{A: 0.005, b: 0.5, Ea: 0}"))
    with pytest.raises(WorkflowError, match=r"reactions\[6\].*Motz-Wise correction of a temperature-dependent"):
        read_cantera(bad)


MECHANISM = {
    "mechanism": {"name": "co_ox", "products": ["CO2"]},
    "gas": {"CO": {"mass": 28.01, "pressure": 0.1, "energy": 0.0, "free_energy_correction": -0.6},
            "O2": {"mass": 32.0, "pressure": 0.2}, "CO2": {"mass": 44.01, "pressure": 0.01}},
    "sites": {"s": {"adsorbates": ["CO*", "O*"], "site_area": 6.5}},
    "adsorbates": {"CO*": {"energy": {"descriptor": "E_CO", "slope": 1.0}}},
    "steps": [
        {"name": "co_ads", "equation": "CO + * <=> CO*", "barrier": 0.0},       # energies: TST, reverse from K
        {"name": "o2_ads", "equation": "O2 + 2 * <=> 2 O*", "A": "A_O2", "b": -0.5, "Ea": 0.1,
         "A_reverse": 1e13, "Ea_reverse": 2.0},                                  # Arrhenius both ways
        {"name": "ox", "equation": "CO* + O* <=> CO2 + 2 *", "A": 1e13, "Ea": "Ea_ox", "reaction_energy": -0.3},
    ],
}


def test_round_trip_through_cantera_yaml_gives_the_same_rate_constants(tmp_path):
    """uqms -> Cantera YAML (Cantera's own writer) -> uqms: rate constants equal to 1e-12 at the
    temperature written; steps given as Arrhenius parameters stay equal at other temperatures."""
    m = Mechanism.from_dict(MECHANISM)
    sample = {"E_CO": -1.4, "A_O2": 3e8, "Ea_ox": 0.8}
    batch = {name: np.array([value]) for name, value in sample.items()}
    t = 550.0
    k = rate_constants_at(m, np.array([t]), batch)
    path = write_cantera_yaml(cantera_yaml_content(m, t, k.forward[0], k.reverse[0], sample), tmp_path / "m.yaml")
    back = load_cantera_mechanism(path, products=["CO2"])
    assert back.step_names == m.step_names and back.adsorbates == m.adsorbates
    assert [s.entry.reversible for s in back.steps] == [True] * 3
    k_back = rate_constants_at(back, np.array([t]), {})
    np.testing.assert_allclose(k_back.forward, k.forward, rtol=1e-12)
    np.testing.assert_allclose(k_back.reverse, k.reverse, rtol=1e-12)
    hotter = np.array([t + 150.0])
    k_hot, k_back_hot = rate_constants_at(m, hotter, batch), rate_constants_at(back, hotter, {})
    np.testing.assert_allclose(k_back_hot.forward[:, 1:], k_hot.forward[:, 1:], rtol=1e-12)
    np.testing.assert_allclose(k_back_hot.reverse[:, 1], k_hot.reverse[:, 1], rtol=1e-12)
    # steady states of the original and the round-tripped mechanism agree with Cantera's on the written file
    state, state_back = solve_steady_state(m, k), solve_steady_state(back, k_back)
    np.testing.assert_allclose(state_back.coverages, state.coverages, rtol=1e-10)
    surface, gas = cantera_surface(path, t, phase="s")
    cantera_steady_state(surface)
    coverage = dict(zip(surface.species_names, surface.coverages))
    np.testing.assert_allclose(state.coverages[0], [coverage["CO*"], coverage["O*"]], rtol=1e-6)
    tof = surface.get_net_production_rates(gas)[gas.species_index("CO2")] / surface.site_density
    np.testing.assert_allclose(state.tof()[0, 0], tof, rtol=1e-6)


def test_an_irreversible_step_writes_one_reaction_and_reads_back_irreversible(tmp_path):
    irreversible = {"name": "ox", "equation": "CO* + O* <=> CO2 + 2 *", "k": 5.0, "reversible": False}
    m = Mechanism.from_dict(dict(MECHANISM, steps=[*MECHANISM["steps"][:2], irreversible]))
    sample = {"E_CO": -1.4, "A_O2": 3e8}
    k = rate_constants_at(m, np.array([500.0]), {n: np.array([v]) for n, v in sample.items()})
    content = cantera_yaml_content(m, 500.0, k.forward[0], k.reverse[0], sample)
    assert [r["id"] for r in content["reactions"]] == ["co_ads", "co_ads_reverse", "o2_ads", "o2_ads_reverse", "ox"]
    back = load_cantera_mechanism(write_cantera_yaml(content, tmp_path / "m.yaml"), products=["CO2"])
    assert not back.steps[2].entry.reversible and back.steps[2].entry.A == pytest.approx(5.0)
    np.testing.assert_allclose(rate_constants_at(back, np.array([500.0]), {}).reverse[0, 2], 0.0)


def test_a_missing_sample_value_and_a_gas_without_pressure_are_named():
    m = Mechanism.from_dict(MECHANISM)
    k = np.ones(3)
    with pytest.raises(WorkflowError, match="'A_O2' needs a value"):
        cantera_yaml_content(m, 500.0, k, k, {"E_CO": -1.0, "Ea_ox": 0.8})
    with pytest.raises(WorkflowError, match="positive total pressure"):
        cantera_yaml_content(m, 500.0, k, k, {"A_O2": 1.0, "Ea_ox": 0.8}, {"CO": 0.0, "O2": 0.0, "CO2": 0.0})


def test_a_bundled_cantera_mechanism_beyond_uqms_names_file_phase_and_feature():
    path = CANTERA_DATA / "diamond.yaml"  # CVD on diamond: a bulk phase takes part
    with pytest.raises(WorkflowError) as caught:
        read_cantera(path)
    error = caught.value
    assert error.source == str(path) and error.key == "phases.diamond_100.adjacent-phases"
    assert "other (bulk) phases ['diamond']" in error.message and "not supported" in error.message


def test_reaction_orders_beyond_the_stoichiometry_uqms_cannot_express_are_named(tmp_path):
    """Surface orders are read (as coverage dependencies m, see the bundled ptcombust case); a gas
    order is named with the reaction; an order in a reversible reaction Cantera itself refuses."""
    for old, new, index in [("rate-constant: {A: 1.0e+13, b: 0.2, Ea: 20.5}",
                             "rate-constant: {A: 1.0e+13, b: 0.2, Ea: 20.5}\n  orders: {CO2(S): 2}", None),
                            ("sticking-coefficient: {A: 0.84, b: 0, Ea: 0}",
                             "rate-constant: {A: 1e10, b: 0, Ea: 0}\n  orders: {CO: 1.5}", 0),
                            ("rate-constant: {A: 3.7e+21, b: 0, Ea: 105.0}",
                             "rate-constant: {A: 3.7e+21, b: 0, Ea: 105.0}\n  orders: {O(S): 2}", 4)]:
        path = tmp_path / "orders.yaml"
        path.write_text(CO_OXIDATION.replace(old, new))
        if index is None:
            m = load_cantera_mechanism(path, products=["CO2"])
            assert m.steps[5].entry.coverage_dependencies["CO2*"].m == 1.0
            continue
        expected = (r"reactions\[0\].*reaction orders .* differ" if index == 0 else
                    r"phases.Pt_surf: Cantera cannot load.*Reaction orders may only be given for irreversible")
        with pytest.raises(WorkflowError, match=expected):
            read_cantera(path)


def test_bad_files_are_named(tmp_path):
    two = tmp_path / "two.yaml"
    two.write_text(CO_OXIDATION.replace("- name: Pt_surf", "- name: Pt_b\n  thermo: ideal-surface\n  species: [PT(S)]\n"
                                        "  site-density: 1e-9\n- name: Pt_surf"))
    with pytest.raises(WorkflowError, match=r"several phases \['Pt_b', 'Pt_surf'\] could be read; name one"):
        read_cantera(two)
    assert read_cantera(two, phase="Pt_surf")["mechanism"]["name"] == "Pt_surf"
    with pytest.raises(WorkflowError, match="phases.nowhere: Cantera cannot load the phase"):
        read_cantera(two, phase="nowhere")
    broken = tmp_path / "broken.yaml"
    broken.write_text("phases: [{name: s, thermo: ideal-surface\n")
    with pytest.raises(WorkflowError, match="broken.yaml: not valid YAML"):
        read_cantera(broken)


def test_without_cantera_the_error_says_how_to_install_it(monkeypatch, co_oxidation):
    monkeypatch.setitem(sys.modules, "cantera", None)
    with pytest.raises(ImportError, match=r"needs Cantera: pip install"):
        read_cantera(co_oxidation)


runner = CliRunner()


def test_cli_imports_and_exports_mechanisms(tmp_path, co_oxidation):
    toml = tmp_path / "co.toml"
    result = runner.invoke(app, ["mechanism", "import", str(co_oxidation), "--out", str(toml), "--temperature", "600",
                                 "--products", "CO2"])
    assert result.exit_code == 0, result.output
    m = load_mechanism(toml)
    assert m.products == ("CO2",) and len(m.steps) == 7
    yaml = tmp_path / "back.yaml"
    result = runner.invoke(app, ["mechanism", "export", str(toml), "--out", str(yaml), "--temperature", "600",
                                 "--pressure", "CO=0.05"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert "8 Cantera reactions" in result.output
    back = load_cantera_mechanism(yaml, products=["CO2"])
    assert back.config.gas["CO"].pressure == pytest.approx(0.05)
    t = np.array([600.0])
    np.testing.assert_allclose(rate_constants_at(back, t, {}).forward, rate_constants_at(m, t, {}).forward, rtol=1e-12)


def test_cli_import_names_the_file_and_phase_it_cannot_read_and_writes_nothing(tmp_path, co_oxidation):
    toml = tmp_path / "co.toml"
    result = runner.invoke(app, ["mechanism", "import", str(co_oxidation), "--out", str(toml), "--phase", "Au_surf"],
                           env={"COLUMNS": "300"})
    assert result.exit_code == 2 and not toml.exists()
    assert f"error: {co_oxidation}: phases.Au_surf: Cantera cannot load the phase" in " ".join(result.output.split())


def test_cli_export_names_what_the_sample_lacks(tmp_path):
    import tomli_w

    path = tmp_path / "m.toml"
    path.write_text(tomli_w.dumps(MECHANISM))
    result = runner.invoke(app, ["mechanism", "export", str(path), "--out", str(tmp_path / "m.yaml"), "--temperature",
                                 "500", "--sample", "E_CO=-1.2"], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "A_O2" in result.output and "Ea_ox" in result.output
    result = runner.invoke(app, ["mechanism", "export", str(path), "--out", str(tmp_path / "m.yaml"), "--temperature",
                                 "500", "--sample", "E_CO=-1.2,A_O2=1e8,Ea_ox=0.8"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["mechanism", "export", str(path), "--out", str(tmp_path / "m.yaml"), "--temperature",
                                 "500", "--sample", "E_CO"])
    assert result.exit_code == 2 and "NAME=NUMBER" in result.output


TWO_SITES = {
    "mechanism": {"name": "two_sites", "products": ["CO_b"]},
    "gas": {"CO_a": {"mass": 28.0, "pressure": 0.5}, "CO_b": {"mass": 28.0, "pressure": 0.01}},
    "sites": {"t": {"adsorbates": ["CO*t"], "density": 1.35e-5}, "s": {"adsorbates": ["CO*s"], "density": "rho_s"}},
    "interactions": {"CO*s": {"CO*s": 0.3, "CO*t": "eps"}},
    "steps": [
        {"name": "ads", "equation": "CO_a + *t <=> CO*t", "k": 50.0, "k_reverse": 20.0,
         "coverage_dependencies": {"CO*t": {"a": 0.2, "E": 0.1}}},
        {"name": "spill", "equation": "CO*t + *s <=> *t + CO*s", "k": 1e3, "reaction_energy": -0.1},
        {"name": "des", "equation": "CO*s <=> CO_b + *s", "A": 1e13, "Ea": 1.0, "reversible": False,
         "interaction_fraction": 0.8},
        {"name": "ads_s", "equation": "CO_a + *s <=> CO*s", "reaction_energy": -1.3, "barrier": 0.6},
    ],
}
TWO_SITES_SAMPLE = {"rho_s": 0.15e-5, "eps": 0.05}


def two_sites_in_cantera(tmp_path, temperature=600.0):
    m = Mechanism.from_dict(TWO_SITES)
    batch = {n: np.array([v]) for n, v in TWO_SITES_SAMPLE.items()}
    k = rate_constants_at(m, np.array([temperature]), batch)
    content = cantera_yaml_content(m, temperature, k.forward[0], k.reverse[0], TWO_SITES_SAMPLE)
    return m, k, write_cantera_yaml(content, tmp_path / "two_sites.yaml")


def test_two_site_types_and_their_coverage_dependence_survive_the_round_trip(tmp_path):
    """Site types, densities, per-site counting and coverage dependencies (given ones, and the ones
    lateral interactions imply) come back; rate constants at zero coverage equal to 1e-12."""
    m, k, path = two_sites_in_cantera(tmp_path)
    back = load_cantera_mechanism(path, products=["CO_b"])
    assert back.sites == ("t", "s") and back.free_sites == ("*t", "*s") and back.adsorbates == ("CO*t", "CO*s")
    assert [s.site for s in back.steps] == [s.site for s in m.steps] == ["t", "t", "s", "s"]
    assert back.config.sites["s"].density == pytest.approx(0.15e-5, rel=1e-14)
    k_back = rate_constants_at(back, np.array([600.0]), {})
    np.testing.assert_allclose(k_back.forward, k.forward, rtol=1e-12)
    np.testing.assert_allclose(k_back.reverse[:, [0, 1, 3]], k.reverse[:, [0, 1, 3]], rtol=1e-12)
    theta = np.array([[0.3, 0.6, 0.7, 0.4]])  # rates at coverages: interactions come back as coverage dependencies
    for got, want in zip(uqms_rates(back, k_back, theta), uqms_rates(m, k, theta), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    ads, spill, des, _ = (s.entry for s in back.steps)
    assert ads.coverage_dependencies["CO*t"].a == pytest.approx(0.2) and ads.coverage_dependencies["CO*t"].E == \
        pytest.approx(0.1)
    assert not ads.coverage_dependencies_reverse  # the given reverse has none
    # des: dE(theta) = -(eps_s,s theta_s + eps_s,t theta_t); forward barrier moves by 0.8 dE
    assert des.coverage_dependencies["CO*s"].E == pytest.approx(-0.8 * 0.3)
    assert des.coverage_dependencies["CO*t"].E == pytest.approx(-0.8 * 0.05)
    # spill: dE = +(0.3 theta_s + 0.05 theta_t), alpha 0.5 both ways; its reverse from equilibrium is given now
    assert spill.coverage_dependencies["CO*s"].E == pytest.approx(0.5 * 0.3)
    assert spill.coverage_dependencies_reverse["CO*s"].E == pytest.approx(-0.5 * 0.3)
    # in Cantera each dependency is on the coverage of all sites, f theta: E / f (J/kmol)
    surface = ct.Interface(str(path), "two_sites")
    ev = 96485332.12331  # J/kmol of 1 eV per molecule
    np.testing.assert_allclose(surface.reaction(4).rate.coverage_dependencies["CO*s"]["E"], -0.8 * 0.3 / 0.1 * ev,
                               rtol=1e-12)
    np.testing.assert_allclose(surface.reaction(0).rate.coverage_dependencies["CO*t"]["a"], 0.2 / 0.9, rtol=1e-12)


def test_a_bundled_cantera_mechanism_uqms_can_express_is_read_whole():
    """Cantera's Ru-Ba/YSZ ammonia mechanism (example_data): sticking and Arrhenius reactions with
    coverage-dependent activation energies."""
    path = CANTERA_DATA / "example_data" / "ammonia-Ru-Ba-YSZ-CSM-2019.yaml"
    m = load_cantera_mechanism(path, products=["NH3"])
    assert m.gas == ("H2", "NH3", "N2") and m.adsorbates == ("N*", "H*", "NH*", "NH2*", "NH3*")
    assert len(m.steps) == 12 and not any(s.entry.reversible for s in m.steps)
    dependency = m.steps[1].entry.coverage_dependencies["N*"]
    assert dependency.E == pytest.approx(-14.0 / 96.48533212331)  # kJ/mol -> eV


def test_two_site_types_with_coverage_dependence_reach_cantera_s_steady_state(tmp_path):
    """The written file in Cantera (one phase holding both site types) and the mechanism in uqms's
    solver: coverages and TOF equal to 1e-6; each type's coverages sum to its share in Cantera."""
    m, k, path = two_sites_in_cantera(tmp_path)
    state = solve_steady_state(m, k)
    assert state.status[0] == 0
    surface = ct.Interface(str(path), "two_sites")
    gas = surface.adjacent["gas"]
    # every rate at arbitrary coverages (uqms's per type, Cantera's of all sites: times the share)
    theta = np.array([[0.3, 0.6, 0.7, 0.4]])  # CO*t, CO*s, *t, *s
    surface.coverages = {"CO*t": 0.27, "CO*s": 0.06, "*t": 0.63, "*s": 0.04}
    forward, reverse = uqms_rates(m, k, theta)
    cantera = surface.forward_rates_of_progress / surface.site_density  # reactions: steps, each reverse after it
    np.testing.assert_allclose(forward[0], cantera[[0, 2, 4, 5]], rtol=1e-12)
    np.testing.assert_allclose(reverse[0, [0, 1, 3]], cantera[[1, 3, 6]], rtol=1e-12)
    cantera_steady_state(surface, newton=False)
    coverage = dict(zip(surface.species_names, surface.coverages))
    share = {"t": 0.9, "s": 0.1}
    np.testing.assert_allclose(coverage["*t"] + coverage["CO*t"], share["t"], rtol=1e-9)
    np.testing.assert_allclose(state.coverages[0], [coverage["CO*t"] / share["t"], coverage["CO*s"] / share["s"]],
                               rtol=1e-6)
    np.testing.assert_allclose(state.free_sites[0], [coverage["*t"] / share["t"], coverage["*s"] / share["s"]],
                               rtol=1e-6)
    tof = surface.get_net_production_rates(gas)[gas.species_index("CO_b")] / surface.site_density
    np.testing.assert_allclose(state.tof()[0, 0], tof, rtol=1e-6)


BUNDLED = {  # file: surface phase, gas (bar; None: the file's state), products, temperatures (K)
    "example_data/ammonia-Ru-Ba-YSZ-CSM-2019.yaml": ("Ru_surface", {"H2": 0.6, "N2": 0.2, "NH3": 0.02}, ["NH3"],
                                                     (650.0, 750.0)),
    "methane_pox_on_pt.yaml": ("Pt_surf", None, ["CO", "H2", "CO2", "H2O"], (800.0, 900.0)),
    "ptcombust.yaml": ("Pt_surf", None, ["CO2", "H2O", "CO"], (900.0, 1200.0)),
}


@pytest.mark.parametrize("file, temperature", [(f, t) for f, case in BUNDLED.items() for t in case[3]])
def test_bundled_cantera_mechanisms_reach_cantera_s_steady_state(file, temperature):
    """Mechanisms shipped with Cantera (Ru-Ba/YSZ ammonia synthesis; CH4 partial oxidation on Pt, 36
    reactions; CH4 combustion on Pt with reaction orders and reversible reactions) read by uqms and
    solved by its batched solver, against Cantera's own steady state on the same file: coverages and
    turnover frequencies to 1e-6, and every rate at arbitrary coverages (sticking,
    coverage-dependent activation energies and orders) to 1e-12."""
    phase, pressures, products, _ = BUNDLED[file]
    path = CANTERA_DATA / file
    m = load_cantera_mechanism(path, temperature=temperature, products=products)
    if file == "ptcombust.yaml":  # its gas phase carries GRI-Mech 3.0's reactions
        assert "reactions of gas phase 'gas' are not read" in m.description
    surface = ct.Interface(str(path), phase)
    gas = surface.adjacent["gas"]
    if pressures is not None:
        total = sum(pressures.values())
        gas.TPX = temperature, total * 1e5, {g: p / total for g, p in pressures.items()}
    gas.TP = temperature, gas.P
    surface.TP = temperature, gas.P
    renamed = {name: cantera_name for cantera_name, name in _renaming(m.description).items()}
    names = {s: renamed.get(s, s) for s in (*m.gas, *m.surface_species)}
    k = rate_constants_at(m, np.array([temperature]), {})
    rng = np.random.default_rng(5)
    theta = rng.uniform(0.05, 1.0, (1, len(m.surface_species)))
    theta /= theta.sum()
    surface.coverages = {names[s]: v for s, v in zip(m.surface_species, theta[0])}
    forward, reverse = uqms_rates(m, k, theta, pressures)
    np.testing.assert_allclose(forward[0], surface.forward_rates_of_progress / surface.site_density, rtol=1e-12)
    np.testing.assert_allclose(reverse[0], surface.reverse_rates_of_progress / surface.site_density, rtol=1e-12)
    state = solve_steady_state(m, k, pressures)
    assert state.status[0] == 0
    cantera_steady_state(surface)
    coverage = dict(zip(surface.species_names, surface.coverages))
    np.testing.assert_allclose(state.theta[0], [coverage[names[s]] for s in m.surface_species], rtol=1e-6)
    production = surface.get_net_production_rates(gas) / surface.site_density
    np.testing.assert_allclose(state.tof()[0], [production[gas.species_index(names[p])] for p in m.products],
                               rtol=1e-6)


def _renaming(description: str) -> dict[str, str]:
    """``{Cantera name: uqms name}`` from the description :func:`read_cantera` writes."""
    listed = description.split("species renamed: ")[1].split(";")[0]
    return dict(pair.split(" -> ") for pair in listed.split(", "))


# Steps and terraces as Cantera writes them: two surface phases joined by an edge, whose rates
# count per metre of edge.
STEPS_AND_TERRACES = """
units: {length: cm, quantity: mol, activation-energy: kJ/mol}
phases:
- {name: gas, thermo: ideal-gas, elements: [C, O], species: [CO, O2, CO2],
   state: {T: 550.0, P: 1 atm, X: {CO: 0.3, O2: 0.6, CO2: 0.1}}}
- {name: step, thermo: ideal-surface, adjacent-phases: [gas], elements: [C, O, Pt], species: [Pt(s), CO(s)],
   kinetics: surface, reactions: [step-reactions], site-density: 0.6e-9}
- {name: terrace, thermo: ideal-surface, adjacent-phases: [gas], elements: [C, O, Pt],
   species: [Pt(t), CO(t), O(t)], kinetics: surface, reactions: [terrace-reactions], site-density: 2.4e-9}
- {name: edge, thermo: edge, adjacent-phases: [step, terrace], elements: [C, O], species: [E(e)],
   kinetics: edge, reactions: [edge-reactions], site-density: 1.0e-9}
species:
- {name: CO, composition: {C: 1, O: 1}, thermo: {model: constant-cp}}
- {name: O2, composition: {O: 2}, thermo: {model: constant-cp}}
- {name: CO2, composition: {C: 1, O: 2}, thermo: {model: constant-cp}}
- {name: Pt(s), composition: {Pt: 1}, thermo: {model: constant-cp}}
- {name: CO(s), composition: {C: 1, O: 1, Pt: 1}, thermo: {model: constant-cp}}
- {name: Pt(t), composition: {Pt: 1}, thermo: {model: constant-cp}}
- {name: CO(t), composition: {C: 1, O: 1, Pt: 1}, thermo: {model: constant-cp}}
- {name: O(t), composition: {O: 1, Pt: 1}, thermo: {model: constant-cp}}
- {name: E(e), composition: {}, thermo: {model: constant-cp}}
step-reactions:
- equation: CO + Pt(s) => CO(s)
  sticking-coefficient: {A: 0.8, b: 0, Ea: 0}
- equation: CO(s) => CO + Pt(s)
  rate-constant: {A: 1.0e+13, b: 0, Ea: 95.0}
  coverage-dependencies: {CO(s): {a: 0, m: 0, E: -15.0}}
terrace-reactions:
- equation: CO + Pt(t) => CO(t)
  sticking-coefficient: {A: 0.5, b: 0, Ea: 0}
- equation: CO(t) => CO + Pt(t)
  rate-constant: {A: 1.0e+13, b: 0, Ea: 85.0}
- equation: O2 + 2 Pt(t) => 2 O(t)
  sticking-coefficient: {A: 0.05, b: 0, Ea: 0}
- equation: CO(t) + O(t) => CO2 + 2 Pt(t)
  rate-constant: {A: 3.7e+20, b: 0, Ea: 95.0}
  coverage-dependencies: {O(t): {a: 0.5, m: 0, E: 10.0}}
edge-reactions:
- equation: CO(s) + Pt(t) => Pt(s) + CO(t)
  rate-constant: {A: 1.0e+14, b: 0, Ea: 60.0}
- equation: Pt(s) + CO(t) => CO(s) + Pt(t)
  rate-constant: {A: 2.0e+14, b: 0, Ea: 75.0}
"""
EDGE_LENGTH = 3.0e7  # m of edge per m^2 of surface (steps 3 nm apart)


def test_surfaces_joined_by_an_edge_read_as_site_types_with_cantera_s_rates_and_steady_state(tmp_path):
    """Every rate at arbitrary coverages equals Cantera's (surface rates per area, the edge's per metre
    times the edge length), per site of the whole surface, to 1e-12; at uqms's steady state
    Cantera's net production of every surface species vanishes and its CO2 production is the TOF.
    (Cantera has no steady-state solver for coupled surfaces, so the check runs that way round.)"""
    path = tmp_path / "steps.yaml"
    path.write_text(STEPS_AND_TERRACES)
    with pytest.raises(WorkflowError, match="phases.edge: an edge's rates count per metre of edge: give edge_length"):
        read_cantera(path)
    m = load_cantera_mechanism(path, products=["CO2"], edge_length=EDGE_LENGTH)
    assert m.sites == ("step", "terrace") and m.free_sites == ("*step", "*terrace")
    assert m.adsorbates == ("CO*step", "CO*terrace", "O*terrace")
    assert [s.site for s in m.steps] == ["step", "step", "terrace", "terrace", "terrace", "terrace", "step", "terrace"]
    edge = ct.Interface(str(path), "edge")
    step, terrace = edge.adjacent["step"], edge.adjacent["terrace"]
    gas = step.adjacent["gas"]
    gas.TP = 550.0, gas.P
    for phase in (step, terrace, edge):
        phase.TP = 550.0, gas.P
    total = step.site_density + terrace.site_density
    k = rate_constants_at(m, np.array([550.0]), {})

    def cantera_at(theta):  # uqms's columns: CO*step, CO*terrace, O*terrace, *step, *terrace
        step.coverages = {"CO(s)": theta[0], "Pt(s)": theta[3]}
        terrace.coverages = {"CO(t)": theta[1], "O(t)": theta[2], "Pt(t)": theta[4]}

    theta = np.array([0.35, 0.2, 0.5, 0.65, 0.3])
    cantera_at(theta)
    forward, _ = uqms_rates(m, k, theta[None])
    cantera = np.concatenate([step.forward_rates_of_progress, terrace.forward_rates_of_progress,
                              edge.forward_rates_of_progress * EDGE_LENGTH]) / total
    np.testing.assert_allclose(forward[0], cantera, rtol=1e-12)
    state = solve_steady_state(m, k)
    assert state.status[0] == 0
    cantera_at(state.theta[0])

    for phase in (step, terrace):
        net = phase.get_net_production_rates(phase) + EDGE_LENGTH * edge.get_net_production_rates(phase)
        gross = (phase.get_creation_rates(phase) + phase.get_destruction_rates(phase)
                 + EDGE_LENGTH * (edge.get_creation_rates(phase) + edge.get_destruction_rates(phase)))
        assert np.all(np.abs(net) <= 1e-9 * gross), phase.name
    co2 = (terrace.get_net_production_rates(gas)[gas.species_index("CO2")]) / total
    np.testing.assert_allclose(state.tof()[0, 0], co2, rtol=1e-9)


@pytest.mark.parametrize("text", ["password=hunter2\n", "phases: [{name: hunter2, thermo: ideal-surface\n",
                                  "phases:\n- {name: s, thermo: ideal-surface}\npassword: hunter2\n"])
def test_errors_about_a_file_do_not_echo_its_content(tmp_path, text):
    """The file given may be any file: errors name it and the problem, never quote it."""
    secret = tmp_path / "secret.txt"
    secret.write_text(text)
    for phase in (None, "s"):
        with pytest.raises(WorkflowError) as caught:
            read_cantera(secret, phase=phase)
        assert "secret.txt" in str(caught.value) and "hunter2" not in str(caught.value)


@pytest.mark.parametrize("e_n", [-0.9, -0.5])
def test_the_ammonia_mechanism_exported_at_one_sample_reaches_the_same_steady_state_in_cantera(tmp_path, e_n):
    """workflows/ammonia_mechanism.toml (scaling relations, collision theory, Shomate gas terms) at
    one sample through `uqms mechanism export`: Cantera's steady state on the file equals uqms's on
    the mechanism (coverages and NH3 turnover to 1e-6, away from equilibrium, where Cantera's net
    rate is not a small difference of converged gross rates), and reading the file back gives the
    same rate constants."""
    source, out, t = REPO / "workflows" / "ammonia_mechanism.toml", tmp_path / "ammonia.yaml", 673.0
    result = runner.invoke(app, ["mechanism", "export", str(source), "--out", str(out), "--temperature", str(t),
                                 "--sample", f"E_N={e_n},n2_ts_intercept=1.56", "--pressure", "NH3=1.0"])
    assert result.exit_code == 0, result.output
    m = load_mechanism(source)
    k = rate_constants_at(m, np.array([t]), {"E_N": np.array([e_n]), "n2_ts_intercept": np.array([1.56])})
    state = solve_steady_state(m, k, {"NH3": 1.0})
    assert state.status[0] == 0
    surface = ct.Interface(str(out), "step")
    gas = surface.adjacent["gas"]
    cantera_steady_state(surface)
    coverage = dict(zip(surface.species_names, surface.coverages))
    np.testing.assert_allclose(state.theta[0], [coverage[s] for s in m.surface_species], rtol=1e-6)
    tof = surface.get_net_production_rates(gas)[gas.species_index("NH3")] / surface.site_density
    np.testing.assert_allclose(state.tof()[0, 0], tof, rtol=1e-6)
    back = load_cantera_mechanism(out, products=["NH3"])
    k_back = rate_constants_at(back, np.array([t]), {})
    np.testing.assert_allclose(k_back.forward, k.forward, rtol=1e-12)
    np.testing.assert_allclose(k_back.reverse, k.reverse, rtol=1e-12)


def test_a_catmap_model_written_for_cantera_reaches_the_same_steady_state(tmp_path):
    """A CatMAP energy table (formation energies, frequencies: harmonic adsorbates, ideal gases,
    the free-energy transition-state convention) read by uqms and written as Cantera YAML: the
    same rate constants read back, and Cantera's steady state on the file equals uqms's."""
    from tests.test_chemistry_catmap import ENERGIES, EXPRESSIONS
    from uqms.chemistry.catmap import read_catmap

    pressures, t = {"CO": 0.1, "O2": 0.2, "CO2": 0.01}, 500.0
    m = read_catmap(ENERGIES, EXPRESSIONS, "Pt", pressures=pressures)
    k = rate_constants_at(m, np.array([t]), {})
    path = write_cantera_yaml(cantera_yaml_content(m, t, k.forward[0], k.reverse[0]), tmp_path / "catmap.yaml")
    back = load_cantera_mechanism(path, products=list(m.products))
    k_back = rate_constants_at(back, np.array([t]), {})
    np.testing.assert_allclose(k_back.forward, k.forward, rtol=1e-12)
    np.testing.assert_allclose(k_back.reverse, k.reverse, rtol=1e-12)
    state = solve_steady_state(m, k)
    assert state.status[0] == 0
    surface = ct.Interface(str(path), m.sites[0])
    gas = surface.adjacent["gas"]
    cantera_steady_state(surface)
    coverage = dict(zip(surface.species_names, surface.coverages))
    np.testing.assert_allclose(state.theta[0], [coverage[s] for s in m.surface_species], rtol=1e-6)
    tof = surface.get_net_production_rates(gas)[gas.species_index("CO2")] / surface.site_density
    np.testing.assert_allclose(state.tof()[0, 0], tof, rtol=1e-6)
