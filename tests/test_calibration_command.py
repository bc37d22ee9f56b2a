"""``uqms calibrate`` on a workflow file and ``uqms run --posterior`` on its result."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from uqms import FunctionStage, load_run
from uqms.calibration import load, summary
from uqms.calibration.command import load_workflow
from uqms.cli import app
from uqms.errors import WorkflowError

runner = CliRunner()
KB = 8.617333262e-5  # eV/K
TRUE = {"Ea": 0.8, "log10_A": 12.0}


def arrhenius(Ea, log10_A, T):
    """Rate constant (1/s) of an activated step."""
    return 10.0**log10_A * np.exp(-Ea / (KB * T))


def scaled(k, efficiency):
    """A rate per site (1/s): the rate constant times a site efficiency."""
    return k * efficiency


RATE = FunctionStage(arrhenius, ["Ea", "log10_A", "T"], ["k"], units={"k": "1/s"})
TOF = FunctionStage(scaled, ["k", "efficiency"], ["tof"], units={"tof": "1/s"})

WORKFLOW = """
[workflow]
name = "arrhenius"
seed = 4

[inputs.Ea]
distribution = "normal"
mean = 0.9
std = 0.15
kind = "epistemic"
unit = "eV"

[inputs.log10_A]
distribution = "uniform"
lower = 10.0
upper = 14.0
kind = "epistemic"

[inputs.efficiency]
distribution = "uniform"
lower = 0.5
upper = 1.0
kind = "aleatoric"

[constants]
T = { value = 600.0, unit = "K" }

[[chain]]
stage = "tests.test_calibration_command:RATE"

[[chain]]
stage = "tests.test_calibration_command:TOF"

[design]
method = "sobol"
n = 256

[execution]
scheduler = "synchronous"

[analysis]
outputs = ["tof"]
tables = ["csv"]
figures = ["png"]

[calibration]
inputs = ["Ea", "log10_A"]
likelihood = "log10"
sigma = { distribution = "lognormal", mu = -3.0, sigma = 1.0 }
walkers = 16
steps = 1000
data = "rates.csv"
output = "cal.nc"
"""


@pytest.fixture(scope="module", autouse=True)
def trust_this_module():
    """The workflow names stages of this test module (``tests.…``): trusted explicitly, as a user would."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("UQMS_ALLOW_IMPORT", "tests")
        yield


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("calibration")
    (folder / "flow.toml").write_text(WORKFLOW)
    T = np.linspace(500.0, 700.0, 6)
    # efficiency is held at its prior median (0.75) during the calibration
    rates = arrhenius(TRUE["Ea"], TRUE["log10_A"], T) * 0.75 * 10 ** (0.05 * np.random.default_rng(1).standard_normal(6))
    lines = ["T [K], tof [1/s]"] + [f"{t}, {r:.6g}" for t, r in zip(T, rates)]
    (folder / "rates.csv").write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["calibrate", str(folder / "flow.toml"), "--quiet"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return folder, result.output


def test_calibrate_writes_inference_data_chain_summary_and_figures(calibrated):
    folder, output = calibrated
    assert "r_hat" in output and "tau" in output
    for name in ("cal.nc", "cal.h5", "cal_summary.csv"):
        assert (folder / name).exists()
    assert {p.name for p in (folder / "cal_figures").iterdir()} == {"trace.png", "posterior.png", "prior_posterior.png", "pair.png", "ppc.png"}
    idata = load(folder / "cal.nc")
    attrs = idata.posterior.attrs
    assert json.loads(attrs["calibrated_inputs"]) == ["Ea", "log10_A"]
    assert json.loads(attrs["fixed_inputs"]) == {"efficiency": pytest.approx(0.75)}
    assert attrs["noise"] == "inferred" and attrs["walkers"] == 16 and attrs["steps"] == 1000
    table = summary(idata)
    assert list(table.index) == ["Ea", "log10_A", "sigma"]
    for name, value in TRUE.items():
        assert table.loc[name, "hdi_3%"] < value < table.loc[name, "hdi_97%"], table
    assert idata.constant_data["T"].attrs["units"] == "K"


def test_calibrate_again_only_rereads_a_finished_chain(calibrated):
    folder, _ = calibrated
    before = load(folder / "cal.nc").posterior["Ea"].values
    result = runner.invoke(app, ["calibrate", str(folder / "flow.toml"), "--quiet"])
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(load(folder / "cal.nc").posterior["Ea"].values, before)


def test_run_with_posterior_draws_the_calibrated_inputs_jointly(calibrated):
    folder, _ = calibrated
    idata = load(folder / "cal.nc")
    result = runner.invoke(app, ["run", str(folder / "flow.toml"), "--posterior", str(folder / "cal.nc"),
                                 "--out", str(folder / "posterior.nc"), "--n", "512", "--quiet"])
    assert result.exit_code == 0, result.output
    run = load_run(folder / "posterior.nc")
    draws = np.column_stack([idata.posterior[n].values.ravel() for n in ("Ea", "log10_A")])
    pairs = {tuple(row) for row in draws}
    # every sample is one joint posterior draw (their strong correlation kept) ...
    assert all((a, b) in pairs for a, b in zip(run["Ea"].values, run["log10_A"].values))
    assert np.corrcoef(run["Ea"], run["log10_A"])[0, 1] > 0.9
    # 512 Sobol points pick the draws stratified: within the Monte Carlo 3-sigma of 512 picks
    assert abs(run["Ea"].mean() - draws[:, 0].mean()) < 3 * draws[:, 0].std() / np.sqrt(512)
    assert abs(run["Ea"].std() / draws[:, 0].std() - 1) < 0.1
    # ... and the other inputs are sampled exactly as in the uncalibrated run
    prior_run = load_workflow(folder / "flow.toml").run(n=512)
    np.testing.assert_array_equal(run["efficiency"].values, prior_run["efficiency"].values)
    assert run.attrs["workflow"] == "arrhenius_posterior"
    assert f"['Ea', 'log10_A'] drawn from {folder / 'cal.nc'}" in run.attrs["workflow_text"]
    # the [analysis] follows with given-data indices and Shapley effects: posterior draws are neither
    # independent nor of a known law, so no polynomial chaos
    analysis = {p.name for p in (folder / "posterior_analysis").iterdir()}
    assert "predictive.csv" in analysis
    plan = pd.read_csv(folder / "posterior_analysis" / "plan.csv", index_col="output")
    assert plan.loc["tof", "sobol_method"] == "given_data" and "dependent" in plan.loc["tof", "sobol_reason"]
    indices = pd.read_csv(folder / "posterior_analysis" / "sobol_tof.csv")
    assert indices["shapley"].sum() == pytest.approx(1.0) and indices["shapley"].between(-0.05, 1.05).all()
    # the calibrated prediction is far narrower than the prior one
    assert np.log10(run["tof"]).std() < 0.5 * np.log10(prior_run["tof"]).std()


def test_posterior_of_unknown_inputs_or_missing_file_is_refused(calibrated, tmp_path):
    folder, _ = calibrated
    with pytest.raises(WorkflowError, match="no such calibration file"):
        load_workflow(folder / "flow.toml", tmp_path / "absent.nc")
    other = tmp_path / "other.toml"
    other.write_text(WORKFLOW.replace("inputs.Ea]", "inputs.Eb]").replace('"Ea"', '"Eb"')
                     .replace("stage = \"tests.test_calibration_command:RATE\"",
                              "stage = \"tests.test_calibration_command:RATE_B\""))
    with pytest.raises(WorkflowError, match=r"\['Ea'\] are not uncertain inputs"):
        load_workflow(other, folder / "cal.nc")


RATE_B = FunctionStage(lambda Eb, log10_A, T: arrhenius(Eb, log10_A, T), ["Eb", "log10_A", "T"], ["k"])


def test_calibrate_without_data_names_the_missing_key(tmp_path):
    path = tmp_path / "flow.toml"
    path.write_text(WORKFLOW.replace('data = "rates.csv"\n', ""))
    result = runner.invoke(app, ["calibrate", str(path)])
    assert result.exit_code == 2 and "calibration.data" in result.output


def test_calibration_figures_carry_units_and_show_prior_against_posterior(calibrated):
    from uqms.calibration import plots

    idata = load(calibrated[0] / "cal.nc")
    overlay = plots.prior_posterior_figure(idata)
    assert [a.get_xlabel() for a in overlay.axes] == [f"{n} [{idata.posterior[n].attrs.get('units') or '1'}]" for n in idata.posterior.data_vars]
    assert all(a.get_ylabel().startswith("density [1/") for a in overlay.axes)
    assert [t.get_text() for t in overlay.axes[0].get_legend().get_texts()] == ["prior", "posterior"]
    ppc = plots.ppc_figure(idata)
    axes = ppc.axes[0]
    assert axes.get_ylabel() == "tof [1/s]" and axes.get_xlabel() == "experiment"
    bars = [p for p in axes.patches if p.get_height() > 0]
    assert len(bars) == 2 * idata.observed_data.sizes["experiment"]  # prior and posterior predictive intervals, drawn
    trace = plots.trace_figure(idata)
    assert all("[" in a.get_xlabel() and "[" in a.get_ylabel() for a in trace.axes)
