"""The calibration prior is the workflow's joint distribution of the calibrated inputs (correlations
kept), and a calibration problem refuses what it cannot calibrate, naming the key."""

import chaospy
import numpy as np
import pytest
from scipy import stats

from uqms import Constant, Correlation, FunctionStage, UncertainInput, Workflow
from uqms.calibration import (
    CalibrationProblem,
    Likelihood,
    Prior,
    ensemble_correction_prior,
)
from uqms.calibration.data import Measurements, Observable
from uqms.calibration.priors import SIGMA
from uqms.errors import WorkflowError

RHO = 0.6


def _workflow(correlated=True):
    stage = FunctionStage(lambda a, b, c, x: a + b * x + c, ["a", "b", "c", "x"], ["y"])
    inputs = [UncertainInput("a", chaospy.Normal(0, 1)), UncertainInput("b", chaospy.Normal(1, 2)),
              UncertainInput("c", chaospy.Uniform(-1, 1))]
    blocks = [Correlation(("a", "b"), np.array([[1.0, RHO], [RHO, 1.0]]))] if correlated else []
    return Workflow([stage], inputs, [Constant("x", 2.0)], blocks)


def _data(values=(1.0, 2.0), conditions=None):
    x = np.array([0.0, 1.0])
    return Measurements("data.csv", np.array(["0", "1"]), conditions or {"x": x}, [Observable("y", (), "y")],
                        np.array(values)[:, None], np.full((2, 1), 0.1), {"x": "1", "y": "1"})


def test_correlated_calibrated_inputs_have_their_joint_prior():
    prior = Prior(_workflow().inputs, ["a", "b"])
    theta = np.array([[0.3, 1.5], [-1.0, 2.0], [2.0, -3.0]])
    # normal marginals under a Gaussian copula: exactly the bivariate normal (peer: scipy)
    covariance = [[1.0, RHO * 2.0], [RHO * 2.0, 4.0]]
    np.testing.assert_allclose(prior.logpdf(theta), stats.multivariate_normal([0, 1], covariance).logpdf(theta), rtol=1e-6)  # chaospy transforms numerically
    draws = prior.sample(20000, seed=4)
    assert np.corrcoef(draws.T)[0, 1] == pytest.approx(RHO, abs=0.02)
    assert Prior(_workflow().inputs, ["c"]).inputs.correlations == ()  # an uncorrelated input alone: no block


def test_a_correlation_block_is_calibrated_whole_and_unknown_inputs_are_named():
    with pytest.raises(ValueError, match=r"correlated inputs \['a', 'b'\] must be calibrated together or not at all"):
        Prior(_workflow().inputs, ["a", "c"])
    with pytest.raises(ValueError, match=r"\['d'\] are not uncertain inputs; expected some of \['a', 'b', 'c'\]"):
        Prior(_workflow().inputs, ["d"])
    with pytest.raises(WorkflowError, match="calibration.inputs: correlated inputs"):
        CalibrationProblem(_workflow(), _data(), ["a"])


def test_a_problem_refuses_what_it_cannot_calibrate():
    flow = _workflow(correlated=False)
    with pytest.raises(WorkflowError, match="data.csv: c: is a condition column of the data"):
        CalibrationProblem(flow, _data(conditions={"x": np.zeros(2), "c": np.zeros(2)}), ["a", "c"])
    with pytest.raises(WorkflowError, match=f"{SIGMA}: is reserved for the inferred noise"):
        CalibrationProblem(flow, _data(), ["a", SIGMA])
    with pytest.raises(WorkflowError, match=r"y: observations must be > 0 for a log10 likelihood, got -1"):
        CalibrationProblem(flow, _data(values=(1.0, -1.0)), ["a"])
    linear = CalibrationProblem(flow, _data(values=(1.0, -1.0)), ["a"], Likelihood("linear"))
    assert linear.predict(np.empty((0, 1))).shape == (0, 2, 1)
    assert linear.fixed == {"b": pytest.approx(1.0), "c": pytest.approx(0.0, abs=1e-12)}  # prior medians


def test_an_ensemble_without_two_finite_energies_gives_no_prior():
    for members in (np.array([0.1]), np.array([[0.1, 0.2]]), np.array([0.1, np.nan])):
        with pytest.raises(ValueError, match="dE: expected a finite 1-d array of at least 2 ensemble energies"):
            ensemble_correction_prior(members, "dE")
