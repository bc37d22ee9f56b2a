"""Probability boxes of nested runs: envelopes and quantile bands of the inner CDFs.

Every outer (epistemic) sample ``s`` has an empirical CDF ``F_s`` of its ok inner
(aleatoric) draws. The p-box is the pointwise lower and upper envelope of the
``F_s`` on a grid of output values, and the bands are pointwise quantiles over ``s``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

import uqms.analysis.run_accessor  # noqa: F401  (registers run.uqms)
from uqms.analysis.predictive import spans_decades


def inner_cdfs(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """``F[s, g]``: share of the finite entries of row ``s`` of ``values`` that are <= ``grid[g]``.

    Rows are sorted once and shifted apart on a common rank scale, so one
    ``searchsorted`` serves all rows (no loop over samples).
    """
    outer, inner = values.shape
    levels = np.unique(np.concatenate([values[np.isfinite(values)], grid]))
    ranks = np.where(np.isfinite(values), np.searchsorted(levels, values), len(levels))  # failed: above every grid point
    stride = len(levels) + 1
    offsets = stride * np.arange(outer)[:, None]
    flat = np.sort(ranks, axis=1) + offsets
    below = np.searchsorted(flat.ravel(), np.searchsorted(levels, grid)[None, :] + offsets, side="right")
    counts = below - inner * np.arange(outer)[:, None]
    return counts / np.isfinite(values).sum(axis=1, keepdims=True)


def pbox(run: xr.Dataset, output: str, points: int = 200, bands: Sequence[float] = (0.05, 0.5, 0.95)) -> xr.Dataset:
    """Lower/upper envelope and quantile bands of the inner CDFs of a scalar output.

    The grid spans the ok values, log-spaced when they span decades. Returns
    ``lower``, ``upper`` (dim ``value``) and ``band`` (dims ``level``, ``value``).
    """
    var = run[output]
    if set(var.dims) != {"sample", "inner"}:
        raise ValueError(f"{output!r} has dims {var.dims}: the p-box needs a scalar output of a nested run (sample x inner)")
    values = var.where(run.uqms.ok).transpose("sample", "inner").values
    finite = values[np.isfinite(values)]
    log_scale = spans_decades(finite)
    grid = np.geomspace(finite.min(), finite.max(), points) if log_scale else np.linspace(finite.min(), finite.max(), points)
    cdfs = inner_cdfs(values, grid)
    coords = {"value": xr.DataArray(grid, dims="value", attrs={"units": var.attrs.get("units", "")})}
    return xr.Dataset(
        {
            "lower": ("value", cdfs.min(axis=0), {"units": "1", "description": "lowest inner CDF over outer samples"}),
            "upper": ("value", cdfs.max(axis=0), {"units": "1", "description": "highest inner CDF over outer samples"}),
            "band": (("level", "value"), np.quantile(cdfs, bands, axis=0), {"units": "1", "description": "quantiles of the inner CDFs over outer samples"}),
        },
        coords={**coords, "level": list(bands)},
        attrs={"output": output, "log_scale": int(log_scale), "n_outer": values.shape[0], "n_failed": run.uqms.n_failed},
    )
