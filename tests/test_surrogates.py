"""Surrogates: fit, file, stage and command (uqms.surrogates)."""

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from uqms._chaospy import chaospy
from uqms.analysis.sobol import sobol_pce_run
from uqms.cli import app
from uqms.execution import save_run
from uqms.inputs import UncertainInput
from uqms.models.stage import FunctionStage
from uqms.surrogates import Surrogate, SurrogateStage, fit_surrogate
from uqms.test_functions import ishigami
from uqms.workflow import Workflow

REPO = Path(__file__).resolve().parents[1]



ERROR_INPUT = """
[inputs.surrogate_error]
distribution = "normal"
mean = 0.0
std = 1.0
kind = "epistemic"
group = "surrogate"
"""


def uniform_inputs(names, low=-1.0, high=1.0) -> str:
    return "".join(f'\n[inputs.{n}]\ndistribution = "uniform"\nlower = {low}\nupper = {high}\nkind = "aleatoric"\n' for n in names)


def surrogate_workflow(tmp_path, model: Surrogate, inputs_text: str, n: int) -> Workflow:
    """A workflow file whose chain is only the surrogate stage reading ``model``, with the error input."""
    model.save(tmp_path / "model.nc")
    text = (f'[workflow]\nname = "surrogate"\nseed = 5\n{inputs_text}{ERROR_INPUT}\n[[chain]]\nstage = "surrogate"\n'
            f'options = {{ model_file = "model.nc", error_input = "surrogate_error" }}\n'
            f'[design]\nmethod = "sobol"\nn = {n}\n')
    (tmp_path / "surrogate.toml").write_text(text)
    return Workflow.from_file(tmp_path / "surrogate.toml")


@pytest.fixture(scope="module")
def hidden_input():
    """A run of y = x1 + 0.5 x2 (x_i ~ U(-1, 1)) and a PCE surrogate of y seeing x1 only:
    its error is the hidden 0.5 x2, variance 1/12, against 1/3 from x1."""
    linear = FunctionStage(lambda x1, x2: x1 + 0.5 * x2, ["x1", "x2"], ["y"], {"y": "1"}, name="linear")
    inputs = [UncertainInput(n, chaospy.Uniform(-1, 1)) for n in ("x1", "x2")]
    run = Workflow([linear], inputs, design="sobol", n=512).run()
    return run, fit_surrogate(run, ["x1"], ["y"], methods=["pce"])


def test_ishigami_surrogate_reproduces_the_sobol_indices_within_its_error(tmp_path):
    """Trained on 500 samples, the surrogate chain's indices match the analytic ones within the
    surrogate's relative LOO error (the variance share it may misplace) plus the PCE estimate's own
    error on 2048 samples; the error input's index is that relative error."""
    train = Workflow.from_file(REPO / "workflows" / "ishigami.toml").run(n=500)
    model = fit_surrogate(train, ["x1", "x2", "x3"], ["y"], max_order=12, max_gp_samples=120)
    assert model.provenance["n_train"] == 500 and model.relative_error[0] < 1e-3
    flow = surrogate_workflow(tmp_path, model, uniform_inputs(["x1", "x2", "x3"], -np.pi, np.pi), 2048)
    run = flow.run()
    assert (run["status"] == 0).all()
    indices = sobol_pce_run(run, "y", max_order=12, resamples=0)
    first, total = ishigami.sobol_indices()
    tolerance = model.relative_error[0] + 0.01
    np.testing.assert_allclose(indices["first"].sel(input=["x1", "x2", "x3"]), first, atol=tolerance)
    np.testing.assert_allclose(indices["total"].sel(input=["x1", "x2", "x3"]), total, atol=tolerance)
    assert float(indices["total"].sel(input="surrogate_error")) == pytest.approx(model.relative_error[0], abs=0.01)


def test_the_error_input_carries_the_known_share_of_variance(hidden_input, tmp_path):
    """Var(y) = 1/3 + rmse^2 with rmse^2 ~ Var(0.5 x2) = 1/12: the error input's share is 0.2."""
    _, model = hidden_input
    assert model.rmse[0] ** 2 == pytest.approx(1 / 12, rel=0.1)
    run = surrogate_workflow(tmp_path, model, uniform_inputs(["x1"]), 1024).run()
    indices = sobol_pce_run(run, "y", max_order=4, resamples=0)
    assert float(indices["first"].sel(input="surrogate_error")) == pytest.approx(0.2, abs=0.02)
    assert float(indices["group_total"].sel(group="surrogate")) == pytest.approx(0.2, abs=0.02)
    assert run["surrogate_error"].attrs["kind"] == "epistemic"


def test_inputs_outside_the_training_range_are_flagged_not_extrapolated(hidden_input, tmp_path):
    _, model = hidden_input
    model.save(tmp_path / "model.nc")
    stage = SurrogateStage(tmp_path / "model.nc")
    assert stage.inputs == ("x1", "surrogate_error") and stage.units == {"y": "1"}
    out = stage({"x1": np.array([0.0, 1.5, -0.5, -2.0]), "surrogate_error": np.zeros(4)})
    np.testing.assert_array_equal(out["status"], [0, 1, 0, 1])
    assert np.isnan(out["y"][[1, 3]]).all() and np.isfinite(out["y"][[0, 2]]).all()
    flow = surrogate_workflow(tmp_path, model, uniform_inputs(["x1"], -1.5, 1.5), 256)
    run = flow.run()
    assert 0 < int((run["status"] != 0).sum()) < 256
    assert "outside the surrogate's training range" in " ".join(run.uqms.failures)


def test_a_saved_surrogate_reloads_to_identical_predictions(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (80, 2))
    y = np.stack([np.exp(x[:, 0]) * x[:, 1], np.sin(3 * x[:, 0])], axis=1)
    flow = Workflow([FunctionStage(lambda a, b: np.stack([np.exp(a) * b, np.sin(3 * a)], axis=1), ["a", "b"], ["f"],
                                   {"f": "eV"})],
                    [UncertainInput(n, chaospy.Uniform(-1, 1)) for n in ("a", "b")],
                    n=80)
    run = flow.run()
    model = fit_surrogate(run, ["a", "b"], ["f"], max_order=6)
    model.save(tmp_path / "f.nc")
    loaded = Surrogate.load(tmp_path / "f.nc")
    for kind in (0, 1):  # each method's predictions survive the file
        chosen = np.full(2, kind)
        before = Surrogate(**{**model.__dict__, "chosen": chosen}).predict(x)
        after = Surrogate(**{**loaded.__dict__, "chosen": chosen}).predict(x)
        np.testing.assert_array_equal(before, after)
        assert np.sqrt(((before - y) ** 2).mean(axis=0)).max() < 0.1
    np.testing.assert_array_equal(loaded.cv_rmse, model.cv_rmse)
    assert loaded.outputs == model.outputs and loaded.provenance == model.provenance
    assert SurrogateStage(tmp_path / "f.nc", error_input="").output_dims == {"f": ("f_dim_1",)}


def test_the_gp_reproduces_scikit_learn_and_its_loo_error():
    """The GP evaluated in numpy equals scikit-learn's prediction; its closed-form LOO RMSE equals
    refitting without each sample at the same hyperparameters."""
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    from uqms.surrogates.fit import fit_gp

    rng = np.random.default_rng(1)
    u = rng.uniform(0, 1, (40, 2))
    y = (np.sin(4 * u[:, 0]) + u[:, 1] ** 2)[:, None]
    gp, rmse = fit_gp(u, y)
    kernel = ConstantKernel(gp.amplitude[0]) * RBF(gp.length_scale[0]) + WhiteKernel(gp.noise[0])
    test = rng.uniform(0, 1, (7, 2))
    ref = GaussianProcessRegressor(kernel, normalize_y=True, optimizer=None).fit(u, y[:, 0])
    residuals = []
    for i in range(len(u)):
        keep = np.arange(len(u)) != i
        left_out = GaussianProcessRegressor(ref.kernel_, normalize_y=False, optimizer=None)
        centred = (y[keep, 0] - ref._y_train_mean) / ref._y_train_std
        left_out.fit(u[keep], centred)
        residuals.append(y[i, 0] - (ref._y_train_mean + ref._y_train_std * left_out.predict(u[i:i + 1])[0]))
    assert rmse[0] == pytest.approx(np.sqrt(np.mean(np.square(residuals))), rel=1e-3)
    np.testing.assert_allclose(gp(test, np.array([0]))[:, 0], ref.predict(test), rtol=1e-6, atol=1e-8)
    # the variance in numpy is scikit-learn's less the white noise, in normalised units
    _, std = ref.predict(test, return_std=True)
    np.testing.assert_allclose((gp.variance(test, 0) + gp.noise[0]) * gp.scale[0] ** 2, std**2, rtol=1e-5, atol=1e-10)
    np.testing.assert_allclose(gp.loo_residuals(0) * gp.scale[0], residuals, rtol=1e-2, atol=1e-3 * np.abs(residuals).max())


def test_fit_command_writes_the_file_and_prints_the_error(hidden_input, tmp_path):
    run, _ = hidden_input
    save_run(run, tmp_path / "train.nc")
    result = CliRunner().invoke(app, ["surrogate", "fit", str(tmp_path / "train.nc"), "--inputs", "x1",
                                      "--outputs", "y", "--method", "pce", "--out", str(tmp_path / "y.nc")])
    assert result.exit_code == 0, result.output
    assert "pce" in result.output and "LOO" in result.output
    assert Surrogate.load(tmp_path / "y.nc").inputs == ("x1",)
    shown = CliRunner().invoke(app, ["surrogate", "show", str(tmp_path / "y.nc")])
    assert shown.exit_code == 0 and "training range" in shown.output


def test_bad_names_and_files_are_refused_naming_them(hidden_input, tmp_path):
    run, _ = hidden_input
    with pytest.raises(ValueError, match=r"train.nc: no variable 'x9'"):
        fit_surrogate(run, ["x9"], ["y"], source="train.nc")
    with pytest.raises(ValueError, match="expected a non-empty subset"):
        fit_surrogate(run, ["x1"], ["y"], methods=["kriging"])
    save_run(run, tmp_path / "run.nc")
    with pytest.raises(ValueError, match=r"run.nc: attribute 'format' is None, expected 'uqms.surrogate/2'"):
        Surrogate.load(tmp_path / "run.nc")


@pytest.fixture(scope="module")
def decades_run():
    """A positive output spanning 6 decades, ``y = 10 ** (3 a + 1.5 b^2 - 1) (1 + a b / 10)``, a, b ~ U(-1, 1)."""
    def tof(a, b):
        return 10.0 ** (3 * a + 1.5 * b**2 - 1) * (1 + a * b / 10)

    flow = Workflow([FunctionStage(tof, ["a", "b"], ["tof"], {"tof": "1/s"})],
                    [UncertainInput(n, chaospy.Uniform(-1, 1)) for n in ("a", "b")], design="sobol", n=64)
    test = np.random.default_rng(11).uniform(-0.95, 0.95, (400, 2))
    return flow.run(), test, tof(test[:, 0], test[:, 1])


def test_an_output_spanning_decades_is_fitted_in_log10_by_default_and_reloads(decades_run, tmp_path):
    """Fitted raw, the small values are lost under the large ones; in log10 the relative error
    is far smaller. The transform is chosen by the analysis' rule when not asked for, and stored."""
    run, x, y = decades_run
    raw = fit_surrogate(run, ["a", "b"], ["tof"], methods=["gp"], transform={"tof": "none"})
    logged = fit_surrogate(run, ["a", "b"], ["tof"], methods=["gp"])
    assert raw.outputs[0].transform == "none" and logged.outputs[0].transform == "log10"
    raw_error = np.median(np.abs(raw.predict(x)[:, 0] / y - 1))
    log_error = np.median(np.abs(logged.predict(x)[:, 0] / y - 1))
    assert log_error < 0.02 and raw_error / log_error > 20, (raw_error, log_error)
    logged.save(tmp_path / "tof.nc")
    loaded = Surrogate.load(tmp_path / "tof.nc")
    assert loaded.outputs == logged.outputs
    np.testing.assert_array_equal(loaded.predict(x), logged.predict(x))
    # the error term is multiplicative: z = 1 multiplies by 10 ** rmse (rmse in decades)
    out = SurrogateStage(tmp_path / "tof.nc")({"a": x[:3, 0], "b": x[:3, 1], "surrogate_error": np.ones(3)})
    np.testing.assert_allclose(out["tof"], logged.predict(x[:3])[:, 0] * 10 ** logged.rmse[0])


def test_a_bad_transform_is_refused_naming_it(decades_run, hidden_input, tmp_path):
    run, _, _ = decades_run
    save_run(run, tmp_path / "tof_run.nc")
    for flag, shown in (("--raw", "values"), ("--log10", "log10")):
        result = CliRunner().invoke(app, ["surrogate", "fit", str(tmp_path / "tof_run.nc"), "--inputs", "a,b",
                                          "--outputs", "tof", "--method", "gp", flag, "tof", "--out", str(tmp_path / "t.nc")],
                                    terminal_width=200)
        assert result.exit_code == 0 and shown in result.output, result.output
    with pytest.raises(ValueError, match="'rate', which is not among the outputs"):
        fit_surrogate(run, ["a", "b"], ["tof"], transform={"rate": "log10"})
    with pytest.raises(ValueError, match="transform 'ln' of 'tof'"):
        fit_surrogate(run, ["a", "b"], ["tof"], transform={"tof": "ln"})
    with pytest.raises(ValueError, match="'y': log10 asked for, but .* values are not positive"):
        fit_surrogate(hidden_input[0], ["x1"], ["y"], transform={"y": "log10"})
