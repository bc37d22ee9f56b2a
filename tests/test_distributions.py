"""Every distribution family samples with the mean and variance scipy.stats gives it."""

import numpy as np
import pytest
from scipy import stats

from uqms.inputs import (
    Beta,
    Categorical,
    DiscreteUniform,
    LogNormal,
    Normal,
    Triangular,
    TruncatedNormal,
    Uniform,
)
from uqms.sampling.designs import MonteCarlo

N = 200_000

CASES = [
    (Normal(mean=1.5, std=0.3), stats.norm(1.5, 0.3)),
    (LogNormal(mu=-1.0, sigma=0.5), stats.lognorm(s=0.5, scale=np.exp(-1.0))),
    (Uniform(lower=-2.0, upper=5.0), stats.uniform(-2.0, 7.0)),
    (TruncatedNormal(mean=0.5, std=1.0, lower=-1.0, upper=2.0), stats.truncnorm(-1.5, 1.5, loc=0.5, scale=1.0)),
    (Beta(alpha=2.0, beta=5.0, lower=1.0, upper=3.0), stats.beta(2.0, 5.0, loc=1.0, scale=2.0)),
    (Triangular(lower=0.0, mode=1.0, upper=4.0), stats.triang(0.25, loc=0.0, scale=4.0)),
    (DiscreteUniform(lower=2, upper=6), stats.randint(2, 7)),
    (Categorical(values=[4.0, 1.0, 2.5], weights=[0.3, 0.2, 0.5]), stats.rv_discrete(values=([1.0, 2.5, 4.0], [0.2, 0.5, 0.3]))),
]


@pytest.mark.parametrize("spec, reference", CASES, ids=[c[0].distribution for c in CASES])
def test_mean_and_variance_match_scipy(spec, reference):
    u = MonteCarlo().unit_cube(0, N, N, 1, seed=11)[:, 0]
    x = spec.build().inv(u)
    mean, var, kurtosis = (float(v) for v in reference.stats(moments="mvk"))
    # Standard errors of the sample mean and variance; 5 of them is far beyond chance.
    mean_error = np.sqrt(var / N)
    var_error = var * np.sqrt((kurtosis + 2) / N)
    assert abs(x.mean() - mean) < 5 * mean_error
    assert abs(x.var() - var) < 5 * var_error


def test_categorical_hits_only_its_values_with_its_weights():
    x = Categorical(values=[1.0, 2.5, 4.0], weights=[1, 2, 1]).build().inv(np.linspace(0.001, 0.999, 4000))
    values, counts = np.unique(x, return_counts=True)
    assert values.tolist() == [1.0, 2.5, 4.0]
    assert np.allclose(counts / counts.sum(), [0.25, 0.5, 0.25], atol=1e-3)


@pytest.mark.parametrize(
    "spec, message",
    [
        (lambda: Normal(mean=0, std=-1), "greater than 0"),
        (lambda: Uniform(lower=1, upper=0), "must be below upper"),
        (lambda: Triangular(lower=0, mode=5, upper=1), "mode (5.0) must lie"),
        (lambda: Categorical(values=[1, 1]), "distinct"),
        (lambda: Categorical(values=[1, 2], weights=[1]), "weights has 1 entries"),
    ],
)
def test_bad_parameters_are_refused(spec, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        spec()
