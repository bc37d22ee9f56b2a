"""CatMAP energy tables and reaction expressions read into a uqms mechanism: rate constants against
transition-state theory by hand (free energies from ASE's classes), one specific error per mistake."""

from pathlib import Path

import numpy as np
import pytest
from ase import units
from ase.build import molecule
from ase.thermochemistry import HarmonicThermo, IdealGasThermo
from typer.testing import CliRunner

from uqms.chemistry.catmap import read_catmap, read_energy_table, read_rxn_expressions
from uqms.chemistry.mechanism import load_mechanism
from uqms.cli import app
from uqms.errors import WorkflowError
from uqms.models.microkinetics.from_energies import rate_constants_at
from uqms.models.microkinetics.rate_constants import BOLTZMANN, PLANCK
from uqms.models.microkinetics.steady_state import solve_steady_state

# Layout of CatMAP's tutorial tables (SUNCAT-Center/catmap, tutorials/output_variables/energies.txt:
# the same columns, gas rows on surface None, site gas); formation energies of its Pt(111) and Au(111)
# CO-oxidation rows, frequencies and the coverage column written for this test.
ENERGIES = Path(__file__).parent / "data" / "catmap_co_oxidation" / "energies.txt"
EXPRESSIONS = [
    "CO_g + *_s -> CO*_s",
    "O2_g + 2*_s <-> O-O*_s + *_s <-> 2O*_s",
    "CO*_s + O*_s <-> O-CO*_s + *_s <-> CO2_g + 2*_s",
]
GASES = {"CO": ("linear", 1, 0.0, [2170.0], 2.74), "O2": ("linear", 2, 1.0, [1580.0], 5.42),
         "CO2": ("linear", 2, 0.0, [1333.0, 2349.0, 667.0, 667.0], 2.45)}
SURFACE = {"CO": (1.7, [1830, 380, 310, 210, 150, 90]), "O": (1.62, [470, 310, 305]),  # lowest coverage
           "O-CO": (4.04, [1560, 450, 380, 330, 270, 220, 160, 110]), "O-O": (5.35, [610, 420, 330, 210, 150])}


def hand_free_energies(temperature: float) -> dict[str, float]:
    """G of every species (eV): formation energy plus ASE's ideal-gas or harmonic free energy."""
    g = {}
    for name, (geometry, sigma, spin, frequencies, energy) in GASES.items():
        thermo = IdealGasThermo(np.array(frequencies) * units.invcm, geometry, atoms=molecule(name),
                                symmetrynumber=sigma, spin=spin)
        g[name] = energy + thermo.get_gibbs_energy(temperature, 1e5, verbose=False)
    for name, (energy, frequencies) in SURFACE.items():
        g[name + "*"] = energy + HarmonicThermo(np.array(frequencies) * units.invcm).get_helmholtz_energy(
            temperature, verbose=False)
    return g


def test_co_oxidation_rate_constants_equal_transition_state_theory_by_hand():
    m = read_catmap(ENERGIES, EXPRESSIONS, "Pt", pressures={"CO": 0.1, "O2": 0.2})
    assert m.gas == ("CO", "O2", "CO2") and m.adsorbates == ("CO*", "O*") and m.products == ("CO2",)
    assert [s.equation for s in m.steps] == ["CO + * <=> CO*", "O2 + 2* <=> 2O*", "CO* + O* <=> CO2 + 2*"]
    assert m.transition_state == "free_energy"
    t = np.array([450.0, 500.0, 600.0])
    k = rate_constants_at(m, t, {})
    for i, temperature in enumerate(t):
        g = hand_free_energies(temperature)
        kt = BOLTZMANN * temperature
        initial = [g["CO"], g["O2"], g["CO*"] + g["O*"]]
        final = [g["CO*"], 2 * g["O*"], g["CO2"]]
        state = [None, g["O-O*"], g["O-CO*"]]  # + free sites (0)
        forward, equilibrium = [], []
        for a, ts, b in zip(initial, state, final):
            barrier = max(0.0, b - a) if ts is None else max(ts - a, 0.0, b - a)  # CatMAP: max(G_IS, G_TS, G_FS)
            forward.append(kt / PLANCK * np.exp(-barrier / kt))
            equilibrium.append(np.exp(-(b - a) / kt))
        np.testing.assert_allclose(k.forward[i], forward, rtol=1e-10)
        np.testing.assert_allclose(k.equilibrium[i], equilibrium, rtol=1e-10)
        # the O2 transition state lies below O2(g) in electronic energy (5.35 < 5.42 eV) but above it in
        # free energy (the gas loses its entropy): the clipping of the free energy, not of the energy
        assert g["O-O*"] - g["O2"] > 0.3
    state = solve_steady_state(m, k)
    assert (state.status == 0).all() and np.all(state.tof()[:, 0] > 0)


def test_another_surface_and_rows_without_frequencies():
    m = read_catmap(ENERGIES, EXPRESSIONS, "Au")
    assert m.config.adsorbates["CO*"].energy == 3.04 and m.config.adsorbates["CO*"].frequencies == []
    assert m.steps[2].entry.barrier == pytest.approx(5.74 - 3.04 - 2.61)
    assert m.steps[1].entry.barrier == pytest.approx(7.22 - 5.42) and m.steps[0].entry.barrier == 0.0


def test_the_table_is_read_as_data(tmp_path):
    rows = read_energy_table(ENERGIES)
    assert rows[0]["frequencies"] == [1333.0, 2349.0, 667.0, 667.0] and rows[0]["formation_energy"] == 2.45
    text = ENERGIES.read_text().replace("[2170]", "__import__('os').getcwd()")
    (tmp_path / "energies.txt").write_text(text)
    with pytest.raises(WorkflowError) as error:
        read_energy_table(tmp_path / "energies.txt")
    assert error.value.key == "line 3, frequencies" and "expected a list of numbers" in str(error.value)


@pytest.mark.parametrize(
    "edit, key, expected",
    [
        (lambda t: t.replace("formation_energy", "energy"), "line 1", "missing columns ['formation_energy']"),
        (lambda t: t.replace("5.42", "five"), "line 4, formation_energy", "expected a number"),
        (lambda t: t.replace("[470, 310, 305]", "[470, -310, 305]"), "line 7, frequencies", "real frequencies > 0"),
        (lambda t: t.replace("Pt\t111\tO\t", "Pt\t111\tOx\t"), "species_name", "no row for 'O'"),
        (lambda t: t.replace("\t0.5\n", "\t0.5\textra\n"), "line 6", "10 tab-separated fields, expected 9"),
    ],
)
def test_bad_tables_name_the_line(tmp_path, edit, key, expected):
    (tmp_path / "energies.txt").write_text(edit(ENERGIES.read_text()))
    with pytest.raises(WorkflowError) as error:
        read_catmap(tmp_path / "energies.txt", EXPRESSIONS, "Pt")
    assert error.value.key == key and expected in str(error.value)


@pytest.mark.parametrize(
    "expressions, surface, expected",
    [
        (["CO_g + *_s"], "Pt", "expected 'initial -> final'"),
        (["CO_g + *s -> CO*_s"], "Pt", "cannot read '*s'"),
        (["CO_g + *_s -> CO*_s"], "Cu", "no rows for surface 'Cu'; the table has ['Au', 'Pt']"),
        (["CO_g + 2*_s <-> CO_g + *_s <-> CO*_s + *_s"], "Pt", "the transition state must be one adsorbed species"),
        (["NO_g + *_s -> NO*_s"], "Pt", "no row for 'NO'"),
    ],
)
def test_bad_expressions_are_named(expressions, surface, expected):
    with pytest.raises(WorkflowError) as error:
        read_catmap(ENERGIES, expressions, surface)
    assert expected in str(error.value)


def test_given_gas_thermochemistry_replaces_the_ideal_gas():
    shomate = {"coefficients": [25.56759, 6.096130, 4.054656, -2.671301, 0.131021, -118.0089, 227.3665, -110.5271],
               "temperature_range": [298.0, 1300.0], "enthalpy_298_minus_0": 8.671}  # CO, NIST WebBook
    m = read_catmap(ENERGIES, EXPRESSIONS, "Pt", gas_thermo={"CO": {"shomate": shomate, "zero_point_energy": 0.13}})
    assert m.config.gas["CO"].shomate is not None and m.config.gas["CO"].ideal_gas is None
    assert m.config.gas["O2"].ideal_gas.spin == 1.0 and m.config.gas["O2"].ideal_gas.frequencies == [1580.0]


# A CatMAP model file as its tutorials write them (SUNCAT-Center/catmap,
# tutorials/output_variables/CO_oxidation.mkm): Python assignments, expressions in CatMAP's
# shorthand ('CO*' for 'CO*_s', '*' for '*_s', '<-> ... ->'), with settings uqms does not read.
MODEL_FILE = """#
#Microkinetic model parameters
#
rxn_expressions = [
               '*_s + CO_g -> CO*',
               '2*_s + O2_g <-> O-O* + *_s -> 2O*',
#               '*_s + O2_g -> O2_s',
               'CO* +  O* <-> O-CO* + * -> CO2_g + 2*',
                   ]
surface_names = ['Pt', 'Au']
temperature = 500
species_definitions = {}
species_definitions['CO_g'] = {'pressure':1.}
species_definitions['s'] = {'site_names': ['111'], 'total':1}
"""
runner = CliRunner()


def import_catmap(tmp_path, reactions_file, *options):
    out = tmp_path / "co.toml"
    result = runner.invoke(app, ["mechanism", "import-catmap", str(ENERGIES), "--reactions", str(reactions_file),
                                 "--out", str(out), *options], env={"COLUMNS": "300"})
    return result, out


@pytest.mark.parametrize("kind", ["mkm", "txt"])
def test_cli_import_writes_a_mechanism_with_the_rate_constants_of_read_catmap(tmp_path, kind):
    reactions = tmp_path / f"co.{kind}"
    reactions.write_text(MODEL_FILE if kind == "mkm" else "# CO oxidation\n\n" + "\n".join(EXPRESSIONS) + "\n")
    result, out = import_catmap(tmp_path, reactions, "--surface", "Pt", "--pressure", "CO=0.1,O2=0.2")
    assert result.exit_code == 0, result.output
    written = load_mechanism(out)
    direct = read_catmap(ENERGIES, EXPRESSIONS, "Pt", pressures={"CO": 0.1, "O2": 0.2})
    assert written.products == ("CO2",) and written.transition_state == "free_energy"
    assert written.config.gas["O2"].pressure == 0.2 and written.adsorbates == direct.adsorbates
    t = np.array([450.0, 500.0, 600.0])
    got, expected = rate_constants_at(written, t, {}), rate_constants_at(direct, t, {})
    np.testing.assert_allclose(got.forward, expected.forward, rtol=1e-12)
    np.testing.assert_allclose(got.reverse, expected.reverse, rtol=1e-12)


def test_the_model_file_s_expressions_are_its_literal_list(tmp_path):
    path = tmp_path / "co.mkm"
    path.write_text(MODEL_FILE)
    assert read_rxn_expressions(path) == ["*_s + CO_g -> CO*", "2*_s + O2_g <-> O-O* + *_s -> 2O*",
                                          "CO* +  O* <-> O-CO* + * -> CO2_g + 2*"]


MAKES_MARKER = "import os\nos.system('touch {marker}')\nopen('{marker}', 'w').close()\n"


@pytest.mark.parametrize(
    "code, expected",
    [
        (("def make_list():\n    open('{marker}', 'w').close()\n    return ['CO_g + *_s -> CO*_s']\n"
          "rxn_expressions = make_list()\n"), "expected a literal list of strings"),
        ("rxn_expressions = [__import__('os').system('touch {marker}')]\n", "expected a literal list of strings"),
        ("rxn_expressions = ['CO_g + *_s -> CO*_s']\nrxn_expressions += [open('{marker}', 'w').name]\n",
         "used on lines [1, 2]"),
        ("rxn_expressions = ['CO_g + *_s -> CO*_s']\nrxn_expressions.append(open('{marker}', 'w').name)\n",
         "used on lines [1, 2]"),
        (MAKES_MARKER + "expressions = ['CO_g + *_s -> CO*_s']\n", "no assignment 'rxn_expressions = [...]'"),
        ("rxn_expressions = [\n", "not Python"),
    ],
)
def test_a_model_file_is_never_run_and_code_in_its_expressions_is_refused(tmp_path, code, expected):
    marker = tmp_path / "marker"
    path = tmp_path / "model.mkm"
    path.write_text(code.format(marker=marker))
    with pytest.raises(WorkflowError) as error:
        read_rxn_expressions(path)
    assert error.value.source == str(path) and expected in str(error.value)
    assert expected == "not Python" or "rxn_expressions" in error.value.key
    assert not marker.exists()


def test_code_elsewhere_in_a_model_file_is_not_run(tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "model.mkm"
    path.write_text(MAKES_MARKER.format(marker=marker) + "rxn_expressions = ['CO_g + *_s -> CO*_s']\n")
    assert read_rxn_expressions(path) == ["CO_g + *_s -> CO*_s"]
    assert not marker.exists()


def test_cli_import_names_the_file_and_key_of_a_bad_surface(tmp_path):
    reactions = tmp_path / "co.mkm"
    reactions.write_text(MODEL_FILE)
    result, out = import_catmap(tmp_path, reactions, "--surface", "Pd")
    assert result.exit_code == 2 and not out.exists()
    assert result.output.count("error:") == 1
    assert f"{ENERGIES}: surface_name: no rows for surface 'Pd'; the table has ['Au', 'Pt']" in " ".join(
        result.output.split())


def test_cli_import_names_the_model_file_and_expression_it_cannot_read(tmp_path):
    reactions = tmp_path / "co.mkm"
    reactions.write_text(MODEL_FILE.replace("'CO* +  O* <-> O-CO* + * -> CO2_g + 2*'", "'CO* + O* -> CO2 + 2*'"))
    result, out = import_catmap(tmp_path, reactions, "--surface", "Pt")
    assert result.exit_code == 2 and not out.exists()
    assert f"{reactions}: rxn_expressions[2]: 'CO* + O* -> CO2 + 2*': cannot read 'CO2'" in " ".join(
        result.output.split())


def test_cli_import_picks_the_site_name_given_where_the_surface_has_several(tmp_path):
    energies = tmp_path / "energies.txt"
    energies.write_text(ENERGIES.read_text() + "Pt\t211\tCO\t1.2\tfcc\t[]\t[]\tstep row\t0.25\n")
    reactions = tmp_path / "co.txt"
    reactions.write_text("\n".join(EXPRESSIONS))
    options = ["mechanism", "import-catmap", str(energies), "--reactions", str(reactions), "--surface", "Pt",
               "--out", str(tmp_path / "co.toml")]
    result = runner.invoke(app, options, env={"COLUMNS": "300"})
    assert result.exit_code == 2 and "site names ['111', '211'] on this surface" in result.output
    assert "--site SYMBOL=SITE_NAME" in result.output
    result = runner.invoke(app, [*options, "--site", "s=111"])
    assert result.exit_code == 0, result.output
    t = np.array([500.0])
    np.testing.assert_allclose(rate_constants_at(load_mechanism(tmp_path / "co.toml"), t, {}).forward,
                               rate_constants_at(read_catmap(ENERGIES, EXPRESSIONS, "Pt"), t, {}).forward, rtol=1e-12)
    result = runner.invoke(app, [*options, "--site", "s=211"], env={"COLUMNS": "300"})
    assert result.exit_code == 2 and "no row for 'O' (surface 'Pt', site ['211'])" in result.output
    result = runner.invoke(app, [*options, "--site", "s"])
    assert result.exit_code == 2 and "--site: expected SYMBOL=SITE_NAME, got 's'" in result.output


WORKFLOW = """
[workflow]
name = "catmap_co"

[inputs.T]
distribution = "uniform"
lower = 450.0
upper = 600.0
kind = "aleatoric"
unit = "K"

[[chain]]
stage = "energetics.scaling"
options = { mechanism_file = "co.toml" }

[[chain]]
stage = "microkinetics.steady_state"
options = { mechanism_file = "co.toml", temperature = "T" }
"""


def test_a_workflow_on_the_imported_mechanism_validates_and_runs(tmp_path):
    import xarray as xr

    reactions = tmp_path / "co.mkm"
    reactions.write_text(MODEL_FILE)
    result, _ = import_catmap(tmp_path, reactions, "--surface", "Pt", "--pressure", "CO=0.1,O2=0.2")
    assert result.exit_code == 0, result.output
    flow = tmp_path / "workflow.toml"
    flow.write_text(WORKFLOW)
    result = runner.invoke(app, ["validate", str(flow)])
    assert result.exit_code == 0 and "ok" in result.output, result.output
    store = tmp_path / "run.nc"
    result = runner.invoke(app, ["run", str(flow), "--n", "16", "--scheduler", "synchronous", "--quiet",
                                 "--out", str(store)])
    assert result.exit_code == 0 and "16 samples, 0 failed" in result.output, result.output
    with xr.open_dataset(store) as run:
        assert (run.status.values == 0).all() and (run.tof.values > 0).all()
        np.testing.assert_allclose(run.coverage.sum("adsorbate") + run.free_sites.sum("site"), 1.0, atol=1e-10)
