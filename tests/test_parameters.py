"""Uncertain inputs, correlation blocks and the joint distribution."""

import chaospy
import numpy as np
import pytest

from uqms.inputs import Correlation, InputSet, UncertainInput
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
