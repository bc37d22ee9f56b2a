"""Adaptive training of surrogates (uqms.surrogates.adaptive)."""

import numpy as np
import pytest

from uqms._chaospy import chaospy
from uqms.inputs import UncertainInput
from uqms.models.stage import FunctionStage
from uqms.surrogates import fit_surrogate
from uqms.surrogates.adaptive import train_adaptively
from uqms.workflow import Workflow


def bump(a, b):
    """A smooth background and a narrow Gaussian bump (width 0.2 on [-1, 1]^2)."""
    return a + 0.5 * b + 2 * np.exp(-((a - 0.5) ** 2 + (b + 0.3) ** 2) / (2 * 0.2**2))


def bump_workflow(design: str, seed: int) -> Workflow:
    return Workflow([FunctionStage(bump, ["a", "b"], ["y"], {"y": "1"})],
                    [UncertainInput(n, chaospy.Uniform(-1, 1)) for n in ("a", "b")], design=design, n=100, seed=seed)


def test_adaptive_training_beats_random_samples_of_the_same_number():
    """Samples added where the GP is uncertain and has been wrong reach a lower error on new
    points than as many Monte Carlo samples; the LOO error falls to the target on the way."""
    x = np.random.default_rng(5).uniform(-0.9, 0.9, (2000, 2))
    y = bump(*x.T)

    def test_error(model):
        return np.sqrt(np.mean((model.predict(x)[:, 0] - y) ** 2) / y.var())

    trained = train_adaptively(bump_workflow("sobol", 1), ["a", "b"], ["y"], 2e-3, initial=20, step=10,
                               max_samples=100, methods=["gp"])
    n = [row[0] for row in trained.history]
    errors = [row[1] for row in trained.history]
    assert trained.reached and errors[-1] <= 2e-3 and errors[0] > 20 * errors[-1]
    assert n == list(range(20, n[-1] + 1, 10)) and trained.surrogate.provenance["n_train"] == n[-1]
    assert trained.run.sizes["sample"] == n[-1] and (trained.run["status"] == 0).all()
    random = [test_error(fit_surrogate(bump_workflow("mc", seed).run(n=n[-1]), ["a", "b"], ["y"], methods=["gp"]))
              for seed in (1, 2, 3)]
    # measured: 0.026 against 0.036, 0.047, 0.053 at 80 samples
    assert test_error(trained.surrogate) < min(random) and test_error(trained.surrogate) < 0.7 * np.mean(random)


def wide_bump(a, b):
    """The bump of width 0.3: a PCE needs high orders to follow it."""
    return a + 0.5 * b + 2 * np.exp(-((a - 0.5) ** 2 + (b + 0.3) ** 2) / (2 * 0.3**2))


def wide_bump_workflow(design: str, seed: int) -> Workflow:
    return Workflow([FunctionStage(wide_bump, ["a", "b"], ["y"], {"y": "1"})],
                    [UncertainInput(n, chaospy.Uniform(-1, 1)) for n in ("a", "b")], design=design, n=100, seed=seed)


def test_pce_loo_residuals_equal_refits_without_each_sample():
    """The closed-form residuals are those of the same terms refitted without the sample."""
    from uqms._chaospy import chaospy as cp
    from uqms.analysis.pce import design_matrix
    from uqms.surrogates.adaptive import pce_loo_residuals
    from uqms.surrogates.fit import training_data

    run = wide_bump_workflow("sobol", 1).run(n=40)
    model = fit_surrogate(run, ["a", "b"], ["y"], methods=["pce"])
    x, y, _ = training_data(run, ["a", "b"], ["y"])
    residuals = pce_loo_residuals(model, x, y)[:, 0] * y[:, 0].std()
    terms = np.flatnonzero(model.pce_coefficients[:, 0])
    psi = design_matrix(cp.Iid(cp.Uniform(0, 1), 2), model.multi_indices[terms], model.scale(x).T)
    for i in (0, 17, 39):
        keep = np.arange(len(y)) != i
        coefficients = np.linalg.lstsq(psi[keep], y[keep, 0], rcond=None)[0]
        assert residuals[i] == pytest.approx(y[i, 0] - psi[i] @ coefficients, rel=1e-8, abs=1e-12)


def test_adaptive_training_by_pce_residuals_reaches_the_target_with_fewer_samples():
    """Samples added in the Voronoi cells of the samples the PCE predicts worst reach a LOO error of
    1e-3 on the bump sooner than a Sobol design or Monte Carlo samples, and predict new points better
    at the same count."""
    x = np.random.default_rng(5).uniform(-1, 1, (4000, 2))
    y = wide_bump(*x.T)

    def test_error(model):
        return np.sqrt(np.mean((model.predict(x)[:, 0] - y) ** 2) / y.var())

    trained = train_adaptively(wide_bump_workflow("sobol", 1), ["a", "b"], ["y"], 1e-3, initial=20, step=10,
                               max_samples=300, methods=["pce"], criterion="pce")
    n = trained.history[-1][0]
    assert trained.reached and (trained.surrogate.chosen == 0).all()
    others = {f"{design} {seed}": fit_surrogate(wide_bump_workflow(design, seed).run(n=n), ["a", "b"], ["y"],
                                                methods=["pce"])
              for design, seed in (("sobol", 1), ("mc", 1), ("mc", 2), ("mc", 3))}
    # measured: reached at 140 samples; a Sobol design first reaches 1e-3 at 160, Monte Carlo at
    # 160-210 (seeds 1-3); test errors at 140: 0.014 against 0.071 (Sobol) and 0.03-0.08 (MC)
    assert all(other.relative_error.max() > 1e-3 for other in others.values())
    assert all(test_error(trained.surrogate) < test_error(other) for other in others.values())


def test_training_on_a_local_cluster_equals_training_in_this_process(local_cluster):
    from tests.conftest import REPO

    flow = Workflow.from_file(REPO / "workflows" / "ishigami.toml")
    options = {"initial": 12, "step": 6, "max_samples": 24, "methods": ["gp"]}
    here = train_adaptively(flow, ["x1", "x2", "x3"], ["y"], 1e-6, scheduler="synchronous", **options)
    before = local_cluster.scheduler.transition_counter
    there = train_adaptively(flow, ["x1", "x2", "x3"], ["y"], 1e-6, scheduler=local_cluster.scheduler_address, **options)
    assert local_cluster.scheduler.transition_counter > before  # the rounds ran as tasks there
    assert here.history == there.history and there.history[-1][0] == 24
    for name in ("x1", "x2", "x3", "y", "status"):
        np.testing.assert_array_equal(here.run[name].values, there.run[name].values)


def test_bad_settings_are_refused_naming_them():
    flow = bump_workflow("sobol", 1)
    with pytest.raises(ValueError, match=r"\['c'\] are not uncertain inputs"):
        train_adaptively(flow, ["a", "c"], ["y"], 0.01)
    with pytest.raises(ValueError, match="needs 'gp'"):
        train_adaptively(flow, ["a", "b"], ["y"], 0.01, methods=["pce"])
    with pytest.raises(ValueError, match="criterion 'pce' needs 'pce'"):
        train_adaptively(flow, ["a", "b"], ["y"], 0.01, methods=["gp"], criterion="pce")
    with pytest.raises(ValueError, match=r"criterion 'lolimot': expected one of \['gp', 'pce'\]"):
        train_adaptively(flow, ["a", "b"], ["y"], 0.01, criterion="lolimot")
    with pytest.raises(ValueError, match="initial=30, step=5, max_samples=20"):
        train_adaptively(flow, ["a", "b"], ["y"], 0.01, initial=30, max_samples=20)


def test_train_command_writes_the_surrogate_and_the_run(tmp_path):
    from pathlib import Path

    from typer.testing import CliRunner

    from uqms.cli import app
    from uqms.execution import open_run
    from uqms.surrogates import Surrogate

    workflow = Path(__file__).resolve().parents[1] / "workflows" / "ishigami.toml"
    result = CliRunner().invoke(app, ["surrogate", "train", str(workflow), "--inputs", "x1,x2,x3", "--outputs", "y",
                                      "--target", "1e-6", "--initial", "12", "--step", "6", "--max-samples", "24",
                                      "--method", "gp", "--out", str(tmp_path / "y.nc"), "--criterion", "gp",
                                      "--scheduler", "synchronous",
                                      "--run-out", str(tmp_path / "train.nc")])
    assert result.exit_code == 0, result.output
    assert "adaptive training" in result.output and "budget spent" in result.output
    assert Surrogate.load(tmp_path / "y.nc").provenance["n_train"] == 24
    assert open_run(tmp_path / "train.nc").sizes["sample"] == 24
