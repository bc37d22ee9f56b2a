"""Outputs against descriptors: the volcano of catalysis papers, with its uncertainty band.

A descriptor (the N binding energy ``E_N`` of an ammonia catalyst, ``E_O`` and ``E_CO`` of
CO oxidation) is binned into equal-width bins over its sampled range; per bin, the
quantiles of an output's ok values are the median and the 5-95 % band of that output for
catalysts of that descriptor value, every other input varying as sampled. Two descriptors
give a 2-D map of the median and of the band's width.

Which descriptors (``[analysis] versus``, see :func:`choose_versus`):

1. the names asked for in ``[analysis] versus``;
2. else the inputs of group ``descriptor`` (how the bundled workflows mark them);
3. else per-sample energies named ``E_*`` in eV (an ensemble's binding energies);
4. else the input with the largest total index (Shapley effect, first-order index: what
   the plan computed) of the output; in a nested run, its first epistemic input.

Quantiles are those of the untransformed values (linear interpolation, as ``numpy.quantile``),
so they do not depend on the plan's transform; only the axis is logarithmic for an output
analysed as log10.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import xarray as xr

from uqms.analysis.predictive import sample_dims
from uqms.analysis.samples import entry_labels, ok_rows

BAND = (0.05, 0.5, 0.95)  # lower edge, median, upper edge of the band drawn
MIN_COUNT = 5  # ok values a bin needs for its quantiles (else NaN)
ENERGY_NAME = re.compile(r"^E_\w+$")


def choose_versus(run: xr.Dataset, asked: list[str], indices: xr.Dataset | None = None) -> tuple[list[str], str]:
    """The variables an output is drawn against, and why (see the module docstring)."""
    if asked:
        unknown = [name for name in asked if name not in run.data_vars or "sample" not in run[name].dims]
        if unknown:
            raise ValueError(f"analysis.versus: {unknown} are not per-sample variables of this run; "
                             f"expected some of {run.uqms.inputs}")
        return list(asked), "asked for in [analysis] versus"
    meta = run.uqms
    grouped = meta.groups.get("descriptor", [])
    if grouped:
        return grouped[:2], "inputs of group 'descriptor'"
    energies = [name for name, var in run.data_vars.items() if ENERGY_NAME.match(str(name)) and var.attrs.get("units") == "eV"
                and set(var.dims) <= {"sample", "inner"} and "sample" in var.dims]
    if energies:
        return energies[:2], "per-sample binding energies (E_*, eV)"
    if indices is not None:
        kind = next(k for k in ("total", "shapley", "first") if k in indices)
        score = indices[kind].max([d for d in indices[kind].dims if d != "input"])
        return [str(score.idxmax("input").item())], f"largest {kind} index of {indices.attrs['output']}"
    epistemic = [name for name in meta.inputs if run[name].attrs.get("kind") == "epistemic"]
    return (epistemic[:1], "first epistemic input") if epistemic else ([], "no descriptor, no indices")


def binned_quantiles(codes: np.ndarray, values: np.ndarray, cells: int, levels=BAND) -> tuple[np.ndarray, np.ndarray]:
    """Per cell ``0..cells-1`` (``codes``, one per row of ``values`` ``(n, m)``): the count of finite
    values ``(cells, m)`` and their quantiles ``(levels, cells, m)``, NaN below :data:`MIN_COUNT`."""
    frame = pd.DataFrame(values)
    grouped = frame.groupby(codes)
    counts = grouped.count().reindex(range(cells), fill_value=0).to_numpy()
    table = grouped.quantile(list(levels))  # index (cell, level), linear interpolation, NaN skipped
    quantiles = np.full((len(levels), cells, values.shape[1]), np.nan)
    cell, level = (np.asarray(table.index.get_level_values(k)) for k in (0, 1))
    quantiles[np.searchsorted(levels, level), cell] = table.to_numpy()
    quantiles[:, counts < MIN_COUNT] = np.nan
    return counts, quantiles


def _edges(x: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Equal-width bin edges over the finite range of ``x`` and each value's bin (-1 where NaN)."""
    finite = x[np.isfinite(x)]
    edges = np.linspace(finite.min(), finite.max(), bins + 1)
    code = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, bins - 1)
    return edges, np.where(np.isfinite(x), code, -1)


def _columns(run: xr.Dataset, output: str, names: list[str]) -> tuple[list[np.ndarray], np.ndarray, list[str]]:
    """The descriptors (each broadcast to the output's sample dims, flattened) and the output's ok
    values ``(n, m)``."""
    var = run[output]
    core = tuple(sample_dims(var))
    ok = run.uqms.ok
    values = ok_rows(var, ok, core)
    xs = [run[name].where(ok).broadcast_like(ok).transpose(*core).values.ravel() for name in names]
    return xs, values, entry_labels(var, core)


def _attrs(run: xr.Dataset, output: str, names: list[str], log_scale: bool, reason: str) -> dict:
    return {"output": output, "units": run[output].attrs.get("units", ""), "versus": names,
            "versus_units": [run[name].attrs.get("units", "") for name in names],
            "log_scale": int(log_scale), "reason": reason, "levels": list(BAND)}


def versus_bands(run: xr.Dataset, output: str, name: str, bins: int = 20, log_scale: bool = False,
                 reason: str = "") -> xr.Dataset:
    """Median and 5-95 % band of ``output`` per bin of ``name``: ``quantile`` (level, bin, entry)
    and ``count`` (bin, entry) of ok values, bin edges ``x_low``/``x_high`` and centres ``x``."""
    (x,), values, labels = _columns(run, output, [name])
    edges, codes = _edges(x, bins)
    keep = codes >= 0
    counts, quantiles = binned_quantiles(codes[keep], values[keep], bins)
    return xr.Dataset(
        {"quantile": (("level", "bin", "entry"), quantiles), "count": (("bin", "entry"), counts)},
        coords={"level": list(BAND), "entry": labels, "x": ("bin", 0.5 * (edges[1:] + edges[:-1])),
                "x_low": ("bin", edges[:-1]), "x_high": ("bin", edges[1:])},
        attrs=_attrs(run, output, [name], log_scale, reason))


def versus_map(run: xr.Dataset, output: str, names: list[str], bins: int = 20, log_scale: bool = False,
               reason: str = "") -> xr.Dataset:
    """Quantiles (``quantile``: level, bin_1, bin_2, entry) and band width (``width``: 95 % minus
    5 % quantile; in decades, log10 of their ratio, for a log-scale output) of ``output`` per cell of a ``bins`` x ``bins`` grid over two descriptors."""
    xs, values, labels = _columns(run, output, names)
    (edges_1, codes_1), (edges_2, codes_2) = (_edges(x, bins) for x in xs)
    keep = (codes_1 >= 0) & (codes_2 >= 0)
    counts, quantiles = binned_quantiles(codes_1[keep] * bins + codes_2[keep], values[keep], bins * bins)
    quantiles = quantiles.reshape(len(BAND), bins, bins, -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        width = np.log10(quantiles[-1] / quantiles[0]) if log_scale else quantiles[-1] - quantiles[0]
    dims = ("bin_1", "bin_2", "entry")
    return xr.Dataset(
        {"quantile": (("level", *dims), quantiles), "width": (dims, width), "count": (dims, counts.reshape(bins, bins, -1))},
        coords={"level": list(BAND), "entry": labels, "x_1": ("bin_1", 0.5 * (edges_1[1:] + edges_1[:-1])),
                "x_2": ("bin_2", 0.5 * (edges_2[1:] + edges_2[:-1]))},
        attrs={**_attrs(run, output, names, log_scale, reason), "width_units": "decades" if log_scale else run[output].attrs.get("units", "")})
