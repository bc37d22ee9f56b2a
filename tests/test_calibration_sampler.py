"""The emcee driver: an interrupted calibration resumes from its HDF5 file; checks on resuming."""

import chaospy
import emcee
import numpy as np
import pytest

from uqms import Constant, FunctionStage, UncertainInput, Workflow
from uqms.calibration import (
    CalibrationProblem,
    Likelihood,
    Prior,
    ensemble_correction_prior,
    run_sampler,
)
from uqms.calibration.data import Measurements, Observable
from uqms.errors import UqmsError

STEPS, WALKERS = 60, 8


class Interrupting:
    """y = a exp(b x); raises KeyboardInterrupt (a Ctrl-C) on call number ``stop_at``."""

    inputs, outputs = ("a", "b", "x"), ("y",)

    def __init__(self, stop_at=None):
        self.calls, self.stop_at = 0, stop_at

    def __call__(self, batch):
        self.calls += 1
        if self.calls == self.stop_at:
            raise KeyboardInterrupt
        return {"y": batch["a"] * np.exp(batch["b"] * batch["x"])}


def _problem(stage, values=(2.0, 1.5, 3.0)):
    flow = Workflow([stage], [UncertainInput("a", chaospy.Uniform(0.5, 5)), UncertainInput("b", chaospy.Normal(0, 1))],
                    [Constant("x", 0.0)])
    x = np.array([0.0, 0.5, 1.0])
    data = Measurements("<synthetic>", np.array(["0", "1", "2"]), {"x": x}, [Observable("y", (), "y")],
                        np.array(values)[:, None], np.full((3, 1), 0.3), {"x": "1", "y": "1"})
    return CalibrationProblem(flow, data)


def test_interrupted_calibration_resumes_where_it_stopped(tmp_path):
    reference = run_sampler(_problem(Interrupting()), WALKERS, STEPS, seed=5)
    path = tmp_path / "chain.h5"
    with pytest.raises(KeyboardInterrupt):
        run_sampler(_problem(Interrupting(stop_at=40)), WALKERS, STEPS, seed=5, backend=path)
    saved = emcee.backends.HDFBackend(str(path), read_only=True).iteration
    assert 0 < saved < STEPS
    stage = Interrupting()
    resumed = run_sampler(_problem(stage), WALKERS, STEPS, seed=5, backend=path)
    assert resumed.iteration == STEPS
    # only the missing steps were computed (two half-ensemble calls each) ...
    assert stage.calls == 2 * (STEPS - saved)
    # ... and the chain is the one an uninterrupted run gives (emcee's random state is stored per step)
    np.testing.assert_array_equal(resumed.get_chain(), reference.get_chain())
    np.testing.assert_array_equal(resumed.get_blobs(), reference.get_blobs())
    # a finished backend is only read
    again = Interrupting()
    run_sampler(_problem(again), WALKERS, STEPS, seed=5, backend=path)
    assert again.calls == 0


def test_backend_of_another_problem_or_shape_is_refused(tmp_path):
    path = tmp_path / "chain.h5"
    run_sampler(_problem(Interrupting()), WALKERS, 5, seed=1, backend=path)
    with pytest.raises(UqmsError, match="another calibration"):
        run_sampler(_problem(Interrupting(), values=(2.0, 1.5, 3.1)), WALKERS, 10, seed=1, backend=path)
    with pytest.raises(UqmsError, match="resume with 8 walkers"):
        run_sampler(_problem(Interrupting()), 10, 10, seed=1, backend=path)


def test_too_few_walkers_and_impossible_data_are_reported():
    with pytest.raises(UqmsError, match="at least 4"):
        run_sampler(_problem(Interrupting()), 3, 10)
    with pytest.raises(UqmsError, match="finite posterior"):
        # log10 likelihood: negative predictions of a positive observation are impossible
        run_sampler(_problem(FunctionStage(lambda a, b, x: -a - b**2 - x, ["a", "b", "x"], ["y"])), WALKERS, 10)


def test_prior_is_the_workflow_distribution_and_respects_its_support():
    flow = Workflow([FunctionStage(lambda a, b: a + b, ["a", "b"], ["y"])],
                    [UncertainInput("a", chaospy.Uniform(0, 1)), UncertainInput("b", chaospy.Normal(1, 2))])
    prior = Prior(flow.inputs, ["b", "a"], sigma=chaospy.LogNormal(0, 1))
    theta = np.array([[1.0, 0.5, 1.0], [1.0, 1.5, 1.0]])
    expected = chaospy.Normal(1, 2).pdf(1.0) * 1.0 * chaospy.LogNormal(0, 1).pdf(1.0)
    np.testing.assert_allclose(prior.logpdf(theta), [np.log(expected), -np.inf])
    draws = prior.sample(4000, seed=2)
    assert draws[:, 1].min() >= 0 and draws[:, 1].max() <= 1 and abs(draws[:, 0].std() - 2) < 0.1
    np.testing.assert_array_equal(draws, prior.sample(4000, seed=2))


def test_ensemble_spread_becomes_a_zero_mean_correction_prior():
    members = np.random.default_rng(0).normal(-0.4, 0.15, 2000)
    correction = ensemble_correction_prior(members, "dE_N")
    assert correction.unit == "eV" and correction.kind == "epistemic"
    assert float(correction.distribution.mom(1)) == pytest.approx(0.0, abs=1e-12)
    assert float(np.sqrt(correction.distribution.mom(2))) == pytest.approx(members.std(ddof=1))
    with pytest.raises(ValueError, match="all equal"):
        ensemble_correction_prior(np.full(5, 0.1), "dE")


def test_inferred_noise_adds_to_the_measured_one_in_decades():
    likelihood = Likelihood("log10", sigma_prior=chaospy.Uniform(0, 1))
    observed, sd = np.array([[10.0]]), np.array([[np.log(10.0)]])  # sd / (y ln 10) = 0.1 decades
    total = likelihood.total_sd(observed, sd, np.array([0.0, 0.3]))
    np.testing.assert_allclose(total[:, 0, 0], [0.1, np.hypot(0.1, 0.3)])
    value = likelihood.pointwise(np.array([[[100.0]]]), observed, sd, np.array([0.0]))
    np.testing.assert_allclose(value, -0.5 * (1 / 0.1) ** 2 - np.log(0.1 * np.sqrt(2 * np.pi)))


def test_walkers_split_over_dask_workers_give_the_same_chain():
    from distributed import Client

    with Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None) as client:
        spread = run_sampler(_problem(Interrupting()), WALKERS, 20, seed=9, scheduler=client.scheduler.address)
    local = run_sampler(_problem(Interrupting()), WALKERS, 20, seed=9)
    np.testing.assert_array_equal(spread.get_chain(), local.get_chain())
