"""Predictive distributions of the outputs: moments, quantiles, ECDF and KDE.

Statistics use the samples with status 0 only; the others are counted by status
message in the attrs. Outputs that are positive and span decades (turnover
frequencies) get ``log_scale`` set, and their ECDF/KDE are taken over log10 of the
values.
"""

from __future__ import annotations

import json
from typing import Sequence

import numpy as np
import xarray as xr
from scipy import ndimage, stats

from uqms.analysis.samples import failures, ok_mask
from uqms.execution import output_names

KDE_BINS = 4096  # bins of the binned KDE over the plotted range
DECADES_FOR_LOG = 2.0  # log scale when the central 90 % of a positive output spans more decades than this


def spans_decades(values: np.ndarray, decades: float = DECADES_FOR_LOG) -> bool:
    """True when all finite values are positive and their 5-95 % quantiles lie ``decades`` apart."""
    x = values[np.isfinite(values)]
    if not x.size or x.min() <= 0:
        return False
    low, high = np.quantile(x, [0.05, 0.95])
    return bool(np.log10(high / low) > decades)


def sample_dims(var: xr.DataArray) -> list[str]:
    """The dims a predictive distribution pools over: ``sample`` and, in nested runs, ``inner``."""
    return [d for d in ("sample", "inner") if d in var.dims]


def predictive(run: xr.Dataset, quantiles: Sequence[float] = (0.05, 0.5, 0.95), outputs: Sequence[str] | None = None) -> xr.Dataset:
    """Mean, standard deviation (ddof=1) and quantiles of every output, in the output's units.

    Returns one variable per output with dims ``(statistic, *entry dims)``; statistics are
    ``mean``, ``std`` and ``q<level>``; attrs carry ``units``, ``n_ok``, ``n_failed``,
    ``failures`` (JSON ``{message: count}``) and ``log_scale``.
    """
    ok = ok_mask(run)
    left_out = failures(run)
    labels = ["mean", "std", *(f"q{q:g}" for q in quantiles)]
    result = {}
    for name in outputs or output_names(run):
        var = run[name].where(ok)
        dims = sample_dims(var)
        parts = [var.mean(dims), var.std(dims, ddof=1), *(var.quantile(q, dims).drop_vars("quantile") for q in quantiles)]
        table = xr.concat(parts, dim="statistic").assign_coords(statistic=labels)
        table.attrs = {
            "units": run[name].attrs.get("units", ""),
            "n_ok": int(ok.sum()),
            "n_failed": int(sum(left_out.values())),
            "failures": json.dumps(left_out),
            "log_scale": int(spans_decades(var.values)),
        }
        result[name] = table
    return xr.Dataset(result, attrs={"quantiles": list(quantiles)})


def summary_table(summary: xr.Dataset):
    """The predictive summary as a pandas DataFrame: one row per output entry, one column per statistic."""
    import pandas as pd

    frames = []
    for name, table in summary.data_vars.items():
        series = table.to_series()
        frame = series.to_frame().T if table.ndim == 1 else series.unstack("statistic")
        labels = [name] if table.ndim == 1 else [f"{name}{list(k) if isinstance(k, tuple) else [k]}" for k in frame.index]
        frame = frame[table["statistic"].values.tolist()].reset_index(drop=True)
        frame.columns.name = None
        frame.insert(0, "output", labels)
        for column, key in (("units", "units"), ("n_ok", "n_ok"), ("n_failed", "n_failed")):
            frame.insert(len(frame.columns) - table.sizes["statistic"], column, table.attrs[key])
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def ecdf(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Empirical CDF of the finite values: sorted points and cumulative probabilities."""
    result = stats.ecdf(values[np.isfinite(values)]).cdf
    return result.quantiles, result.probabilities


def kde(values: np.ndarray, log_scale: bool = False, points: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian KDE on a grid: ``(x, density)``; density per unit of x, or per decade on a log scale.

    The bandwidth is Scott's, as in ``scipy.stats.gaussian_kde``, but the sum over samples
    is binned: a histogram on :data:`KDE_BINS` bins smoothed by a Gaussian filter, O(n)
    instead of scipy's O(n x grid) (3.5 s for 10^6 samples on 256 points).
    """
    x = values[np.isfinite(values)]
    x = np.log10(x) if log_scale else x
    if np.ptp(x) == 0:
        return np.power(10.0, x[:1]) if log_scale else x[:1], np.array([np.inf])
    low, high = x.min() - 0.1 * np.ptp(x), x.max() + 0.1 * np.ptp(x)
    counts, edges = np.histogram(x, bins=KDE_BINS, range=(low, high))
    width = edges[1] - edges[0]
    bandwidth = x.std(ddof=1) * len(x) ** -0.2
    density = ndimage.gaussian_filter1d(counts.astype(float), bandwidth / width, mode="constant", truncate=8.0)
    grid = np.linspace(low, high, points)
    density = np.interp(grid, 0.5 * (edges[1:] + edges[:-1]), density / (len(x) * width))
    return (np.power(10.0, grid) if log_scale else grid), density
