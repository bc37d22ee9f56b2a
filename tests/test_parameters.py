"""Uncertain inputs, correlation blocks and the joint distribution."""

import pickle
import subprocess
import sys

import chaospy
import numpy as np
import pytest

from tests.conftest import REPO
from uqms.inputs import Correlation, InputSet, UncertainInput
from uqms.inputs.distributions import Normal
from uqms.sampling.designs import MonteCarlo


def test_correlated_normals_have_the_requested_correlation_and_marginals():
    inputs = InputSet(
        [UncertainInput("a", chaospy.Normal(1, 2)), UncertainInput("b", chaospy.Normal(-1, 0.5)),
         UncertainInput("c", chaospy.Uniform(0, 1))],
        [Correlation(("a", "b"), [[1.0, 0.8], [0.8, 1.0]])],
    )
    n = 100_000
    x = inputs.from_unit_cube(MonteCarlo().unit_cube(0, n, n, 3, seed=5))
    r = np.corrcoef(np.vstack([x["a"], x["b"], x["c"]]))
    # Standard error of a sample correlation near rho is (1 - rho^2)/sqrt(n).
    assert abs(r[0, 1] - 0.8) < 5 * (1 - 0.64) / np.sqrt(n)
    assert abs(r[0, 2]) < 5 / np.sqrt(n)
    assert abs(x["a"].mean() - 1) < 5 * 2 / np.sqrt(n)
    assert abs(x["b"].std() - 0.5) < 0.01


def test_correlation_must_be_positive_definite_and_known():
    with pytest.raises(ValueError, match="positive definite"):
        Correlation(("a", "b"), [[1.0, 1.2], [1.2, 1.0]])
    with pytest.raises(ValueError, match="unknown inputs"):
        InputSet([UncertainInput("a", chaospy.Normal(0, 1))], [Correlation(("a", "z"), np.eye(2))])


def test_input_metadata_is_checked():
    with pytest.raises(ValueError, match="kind must be one of"):
        UncertainInput("a", chaospy.Normal(0, 1), kind="random")
    assert UncertainInput("a", chaospy.Normal(0, 1)).group == "a"
    with pytest.raises(ValueError, match="distinct"):
        InputSet([UncertainInput("a", chaospy.Normal(0, 1)), UncertainInput("a", chaospy.Normal(0, 1))])


def test_means_and_standard_deviations_are_those_of_each_marginal():
    inputs = InputSet([UncertainInput("a", chaospy.Normal(1.5, 0.2)), UncertainInput("b", chaospy.Uniform(-1, 2))])
    assert inputs.means() == pytest.approx({"a": 1.5, "b": 0.5}, rel=1e-12)
    assert inputs.standard_deviations() == pytest.approx({"a": 0.2, "b": 3 / np.sqrt(12)}, rel=1e-12)  # (b - a)/sqrt(12)



UNIT_POINTS = np.linspace(0.05, 0.95, 10)[:, None].repeat(2, axis=1)
UNPICKLE_AND_SAMPLE = """
import pickle, sys
import numpy as np
from tests.test_parameters import UNIT_POINTS
inputs = pickle.loads(sys.stdin.buffer.read())
sys.stdout.buffer.write(pickle.dumps(inputs.from_unit_cube(UNIT_POINTS)))
"""


def test_inputs_sample_alike_when_unpickled_in_a_fresh_process():
    """As on a Dask worker: an input given as a built chaospy distribution keeps chaospy's number
    for it through pickling, and one built in the new process must not get the same number
    (chaospy would refuse their joint as stochastically dependent)."""
    inputs = InputSet([UncertainInput("member", chaospy.Uniform(0.0, 4.0)),  # numbered by chaospy in this process
                       UncertainInput("width", Normal(mean=1.0, std=0.1))])  # a specification, built where used
    done = subprocess.run([sys.executable, "-c", UNPICKLE_AND_SAMPLE], input=pickle.dumps(inputs), cwd=REPO,
                          capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    there, here = pickle.loads(done.stdout), inputs.from_unit_cube(UNIT_POINTS)
    for name in ("member", "width"):
        np.testing.assert_array_equal(there[name], here[name])


def test_the_site_averaged_workflow_samples_alike_unpickled_in_a_fresh_process():
    """Its functional member is a categorical chaospy distribution built when the file is read:
    before its inputs were pickled with their joint, sampling it on any Dask scheduler's worker failed."""
    from uqms.workflow import Workflow

    flow = Workflow.from_file(REPO / "workflows" / "ammonia_sites_ensemble.toml")
    script = ("import pickle, sys\nflow = pickle.loads(sys.stdin.buffer.read())\n"
              "sys.stdout.buffer.write(pickle.dumps(flow.sample_inputs(0, 32, 32, 5)))")
    done = subprocess.run([sys.executable, "-c", script], input=pickle.dumps(flow), cwd=REPO, capture_output=True,
                          check=False)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    there, here = pickle.loads(done.stdout), flow.sample_inputs(0, 32, 32, 5)
    assert sorted(there) == sorted(here)
    for name in here:
        np.testing.assert_array_equal(there[name], here[name])


def test_inputs_whose_joint_cannot_be_built_still_pickle_and_fail_where_sampled():
    """The same chaospy variable given for two inputs: pickling (to a Dask worker) does not
    fail on the joint; sampling there raises chaospy's error, which the run reports."""
    shared = chaospy.Normal(0.0, 1.0)
    inputs = pickle.loads(pickle.dumps(InputSet([UncertainInput("a", shared), UncertainInput("b", shared)])))
    with pytest.raises(chaospy.StochasticallyDependentError):
        inputs.from_unit_cube(UNIT_POINTS)
