"""A linear-Gaussian model with a conjugate normal prior: the posterior is known in closed form."""

import chaospy
import numpy as np
import pytest

from uqms import Constant, UncertainInput, Workflow
from uqms.calibration import Likelihood, calibrate, summary
from uqms.calibration.data import Measurements, Observable

PRIOR_MEAN, PRIOR_SD = np.array([1.0, 0.0]), np.array([2.0, 1.0])
NOISE = 0.5
WALKERS, STEPS = 32, 5000
ESS_FLOOR = 2000  # bulk and tail ESS of every parameter on this run
R_HAT_MAX = 1.01


class CountingLine:
    """y = a + b x, recording the size of every batch it is called on."""

    inputs, outputs, units = ("a", "b", "x"), ("y",), {"y": "m"}

    def __init__(self):
        self.batch_sizes = []

    def __call__(self, batch):
        self.batch_sizes.append(len(batch["x"]))
        return {"y": batch["a"] + batch["b"] * batch["x"]}


def _problem(line=None):
    line = line or CountingLine()
    flow = Workflow(
        [line],
        [UncertainInput(name, chaospy.Normal(m, s), unit="m") for name, m, s in zip("ab", PRIOR_MEAN, PRIOR_SD)],
        [Constant("x", 0.0)],
    )
    x = np.linspace(-1, 1, 8)
    y = 0.3 + 1.2 * x + NOISE * np.random.default_rng(0).standard_normal(x.size)
    data = Measurements("<synthetic>", np.array([f"e{i}" for i in range(x.size)]), {"x": x},
                        [Observable("y", (), "y")], y[:, None], np.full((x.size, 1), NOISE), {"x": "1", "y": "m"})
    return flow, data, x, y


def _exact_posterior(x, y):
    """Conjugate update: precision P0 + X'X / s^2, mean cov (P0 m0 + X'y / s^2)."""
    design = np.column_stack([np.ones_like(x), x])
    precision = np.diag(PRIOR_SD**-2.0)
    cov = np.linalg.inv(precision + design.T @ design / NOISE**2)
    return cov @ (precision @ PRIOR_MEAN + design.T @ y / NOISE**2), cov


@pytest.fixture(scope="module")
def linear_run():
    line = CountingLine()
    flow, data, x, y = _problem(line)
    idata = calibrate(flow, data, likelihood=Likelihood("linear"), walkers=WALKERS, steps=STEPS, seed=3)
    return idata, line, data, _exact_posterior(x, y)


def test_posterior_mean_and_covariance_match_the_closed_form(linear_run):
    idata, _, _, (mean, cov) = linear_run
    table = summary(idata)
    draws = np.column_stack([idata.posterior[n].values.ravel() for n in "ab"])
    ess = table.loc[["a", "b"], "ess_bulk"].to_numpy()
    sd = np.sqrt(np.diag(cov))
    # Monte Carlo error of a mean: sd / sqrt(ESS); of a variance or covariance: ~sqrt(2 / ESS) relative.
    assert np.all(np.abs(draws.mean(axis=0) - mean) < 4 * sd / np.sqrt(ess))
    sample_cov = np.cov(draws.T)
    scale = np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    assert np.all(np.abs(sample_cov - cov) < 4 * np.sqrt(2 / ess.min()) * scale)


def test_chain_quality_is_reported_and_good(linear_run):
    idata, *_ = linear_run
    table = summary(idata)
    assert {"mean", "sd", "hdi_3%", "hdi_97%", "r_hat", "ess_bulk", "ess_tail", "tau"} <= set(table.columns)
    assert np.all(table["r_hat"] < R_HAT_MAX)
    assert np.all(table[["ess_bulk", "ess_tail"]] > ESS_FLOOR)
    attrs = idata.posterior.attrs
    assert attrs["converged"] == 1 and attrs["steps"] == STEPS
    assert attrs["burn"] >= 2 * table["tau"].max() - 1 and attrs["thin"] >= 1


def test_walkers_times_experiments_run_as_one_batch(linear_run):
    _, line, data, _ = linear_run
    sizes = set(line.batch_sizes)
    # the initial prior candidates (4 per walker), half the ensemble per stretch move, the prior predictive draws
    assert sizes == {4 * WALKERS * len(data), WALKERS // 2 * len(data), 500 * len(data)}
    assert len(line.batch_sizes) == 1 + 2 * STEPS + 1


def test_inference_data_groups_and_pointwise_log_likelihood(linear_run):
    idata, _, data, _ = linear_run
    groups = set(idata.groups())
    assert {"posterior", "log_likelihood", "posterior_predictive", "sample_stats", "observed_data",
            "prior", "prior_predictive", "constant_data"} <= groups
    assert idata.log_likelihood["y"].dims == ("chain", "draw", "experiment")
    np.testing.assert_array_equal(idata.observed_data["y"].values, data.observed[:, 0])
    # the pointwise values sum, with the log prior, to emcee's log posterior
    from scipy.stats import norm
    prior = sum(norm.logpdf(idata.posterior[n], m, s) for n, m, s in zip("ab", PRIOR_MEAN, PRIOR_SD))
    total = idata.log_likelihood["y"].sum("experiment") + prior
    np.testing.assert_allclose(total, idata.sample_stats["lp"], rtol=1e-10)
    # replicated data scatter around the observations with at least the measurement noise
    replicated = idata.posterior_predictive["y"].values.reshape(-1, len(data))
    assert np.all(replicated.std(axis=0) > NOISE)
    import arviz as az
    assert np.isfinite(az.loo(idata).elpd_loo)
