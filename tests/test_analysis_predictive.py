"""Predictive distributions: statistics of ok samples only, failures counted, log scale, ECDF/KDE."""

import json

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from uqms.analysis.predictive import ecdf, kde, predictive, spans_decades, summary_table


@pytest.fixture
def run():
    rng = np.random.default_rng(0)
    n = 2000
    status = np.zeros(n, dtype=np.int32)
    status[:30], status[30:35] = 1, 2
    tof = 10.0 ** rng.normal(-2, 2, n)
    coverage = rng.uniform(0, 1, (n, 2))
    tof[status != 0] = np.nan  # what a failed sample leaves behind
    coverage[status != 0] = 1e9
    return xr.Dataset(
        {"tof": ("sample", tof, {"role": "output", "units": "s^-1"}),
         "theta": (("sample", "species"), coverage, {"role": "output", "units": "1"}),
         "status": ("sample", status, {"role": "status"})},
        coords={"species": ["N*", "H*"]},
        attrs={"status_messages": json.dumps({"0": "ok", "1": "no steady state", "2": "NaN energy"}),
               "output_names": json.dumps(["tof", "theta"]), "input_names": json.dumps([])},
    )


def test_statistics_use_ok_samples_only_and_count_failures(run):
    summary = predictive(run, quantiles=(0.1, 0.9))
    ok = run.status.values == 0
    theta = summary["theta"]
    expected = run.theta.values[ok]
    np.testing.assert_allclose(theta.sel(statistic="mean").values, expected.mean(axis=0))
    np.testing.assert_allclose(theta.sel(statistic="std").values, expected.std(axis=0, ddof=1))
    np.testing.assert_allclose(theta.sel(statistic="q0.9").values, np.quantile(expected, 0.9, axis=0))
    assert theta.attrs["n_ok"] == ok.sum() and theta.attrs["n_failed"] == 35
    assert json.loads(theta.attrs["failures"]) == {"no steady state": 30, "NaN energy": 5}


def test_an_output_spanning_decades_is_flagged_for_a_log_scale(run):
    summary = predictive(run)
    assert summary["tof"].attrs["log_scale"] and not summary["theta"].attrs["log_scale"]
    assert not spans_decades(np.array([-1.0, 1e6])) and not spans_decades(np.linspace(1e-6, 1, 100))
    assert spans_decades(np.logspace(-3, 3, 100))


def test_summary_table_has_one_row_per_output_entry(run):
    table = summary_table(predictive(run))
    assert table["output"].tolist() == ["tof", "theta[N*]", "theta[H*]"]
    assert table.loc[0, "units"] == "s^-1" and table.loc[1, "n_failed"] == 35
    assert list(table.columns[-5:]) == ["mean", "std", "q0.05", "q0.5", "q0.95"]


@pytest.mark.parametrize("shape", ["normal", "bimodal", "lognormal"])
def test_binned_kde_equals_scipys_gaussian_kde(shape):
    rng = np.random.default_rng(2)
    x = {"normal": rng.normal(3.0, 2.0, 5000), "lognormal": rng.lognormal(0.0, 1.0, 5000),
         "bimodal": np.concatenate([rng.normal(0.0, 1.0, 2500), rng.normal(6.0, 0.3, 2500)])}[shape]
    grid, density = kde(x)
    reference = stats.gaussian_kde(x)(grid)  # Scott's bandwidth, exact sum over the samples
    assert np.abs(density - reference).max() < 1e-3 * reference.max()


def test_ecdf_and_kde_are_distributions():
    x = np.random.default_rng(1).normal(3.0, 2.0, 4000)
    points, probability = ecdf(np.append(x, np.nan))
    assert len(points) == 4000 and probability[-1] == 1.0 and np.all(np.diff(probability) > 0)
    grid, density = kde(x)
    assert np.trapezoid(density, grid) == pytest.approx(1.0, abs=1e-3)
    assert grid[np.argmax(density)] == pytest.approx(3.0, abs=0.3)
    decades, per_decade = kde(10.0**x, log_scale=True)
    assert np.trapezoid(per_decade, np.log10(decades)) == pytest.approx(1.0, abs=1e-3)
