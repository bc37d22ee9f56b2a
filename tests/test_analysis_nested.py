"""Aleatoric/epistemic split and p-box on synthetic nested runs with known answers."""

import json

import numpy as np
import pytest
import xarray as xr

from uqms.analysis.pbox import inner_cdfs, pbox
from uqms.analysis.variance_split import variance_split


def nested_run(values, status=None):
    status = np.zeros(values.shape, dtype=np.int32) if status is None else status
    return xr.Dataset(
        {"y": (("sample", "inner"), values, {"role": "output", "units": "eV"}),
         "status": (("sample", "inner"), status, {"role": "status"})},
        attrs={"status_messages": json.dumps({"0": "ok", "1": "no steady state"}),
               "output_names": json.dumps(["y"]), "input_names": json.dumps([])},
    )


def test_law_of_total_variance_on_a_known_case():
    # y = e_s + sigma_s a_k: inner draws a_k of mean 0 and variance 1, outer shifts e_s and scales sigma_s
    e = np.array([-1.0, 0.0, 0.5, 2.5])
    sigma = np.array([0.5, 1.0, 1.5, 2.0])
    a = np.array([-1.0, 1.0, -2.0, 2.0, 0.0]) / np.sqrt(2.0)
    split = variance_split(nested_run(e[:, None] + sigma[:, None] * a), "y")
    assert float(split.epistemic) == pytest.approx(e.var(), rel=1e-12)
    assert float(split.aleatoric) == pytest.approx((sigma**2).mean(), rel=1e-12)
    assert float(split.total) == pytest.approx((e[:, None] + sigma[:, None] * a).var(), rel=1e-12)
    assert float(split.epistemic_share) == pytest.approx(e.var() / (e.var() + (sigma**2).mean()))
    assert split.total.attrs["units"] == "(eV)^2"


def test_failed_inner_draws_are_left_out_and_counted():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(6, 50)) + np.arange(6)[:, None]
    status = (rng.random(values.shape) < 0.1).astype(np.int32)
    poisoned = np.where(status == 1, 1e6, values)
    split = variance_split(nested_run(poisoned, status), "y")
    ok = values[status == 0]
    assert float(split.total) == pytest.approx(ok.var(), rel=1e-12)
    assert split.attrs["n_failed"] == int(status.sum()) and int(split.n_ok) == ok.size


def test_inner_cdfs_match_counting_row_by_row():
    rng = np.random.default_rng(1)
    values = rng.normal(size=(7, 30))
    values[2, 3] = np.nan
    grid = np.linspace(-3, 3, 41)
    expected = np.array([[np.mean(row[np.isfinite(row)] <= g) for g in grid] for row in values])
    np.testing.assert_allclose(inner_cdfs(values, grid), expected, atol=1e-15)


def test_pbox_envelopes_are_the_extreme_shifted_cdfs():
    inner = np.linspace(-1, 1, 101)
    shifts = np.array([0.0, 0.3, 1.0, -0.4])
    box = pbox(nested_run(shifts[:, None] + inner), "y", points=64, bands=(0.25, 0.5, 0.75))
    x = box["value"].values
    cdf = lambda t: np.searchsorted(inner, t, side="right") / len(inner)
    np.testing.assert_allclose(box["upper"].values, cdf(x - shifts.min()), atol=1e-12)
    np.testing.assert_allclose(box["lower"].values, cdf(x - shifts.max()), atol=1e-12)
    assert (box["band"].sel(level=0.25).values <= box["band"].sel(level=0.75).values).all()
    assert box["value"].attrs["units"] == "eV" and not box.attrs["log_scale"]


def test_pbox_of_a_rate_spanning_decades_uses_a_log_grid():
    values = 10.0 ** (np.random.default_rng(2).normal(size=(5, 40)) * 3)
    box = pbox(nested_run(values), "y")
    assert box.attrs["log_scale"]
    ratio = box["value"].values[1:] / box["value"].values[:-1]
    np.testing.assert_allclose(ratio, ratio[0])


def test_a_flat_run_is_refused():
    run = xr.Dataset({"y": ("sample", np.zeros(4)), "status": ("sample", np.zeros(4, dtype=np.int32))})
    with pytest.raises(ValueError, match="nested run"):
        variance_split(run, "y")
