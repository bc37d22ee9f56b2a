"""Figures of the reductions (matplotlib, no display needed: figures are built without pyplot).

Every axis is labelled with its quantity and unit; an output that spans decades is
drawn on a log axis.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from uqms.analysis.predictive import distribution
from uqms.analysis.samples import entry_labels, flat, ok_mask
from uqms.analysis.sobol import index_variables

MAX_PANELS = 12  # Sobol bar panels drawn for an output with several entries
INDEX_NAMES = {"first": "first order", "total": "total", "shapley": "Shapley effect"}


def label(quantity: str, units: str) -> str:
    """``"quantity [units]"``, with ``1`` for dimensionless quantities."""
    return f"{quantity} [{units or '1'}]"


def predictive_figure(run: xr.Dataset, output: str, summary: xr.Dataset) -> Figure:
    """Density (KDE) and ECDF of every entry of ``output`` with its quantile band shaded."""
    var = run[output]
    table = summary[output]
    core = tuple(d for d in ("sample", "inner") if d in var.dims)
    values = flat(var.where(ok_mask(run)), core).reshape(-1, flat(var, core).shape[-1])
    shape = distribution(values, entry_labels(var, core), bool(table.attrs["log_scale"]))
    return distribution_figure(shape, table, output)


def distribution_figure(shape: xr.Dataset, table: xr.DataArray, output: str) -> Figure:
    """Density and ECDF (from :func:`~uqms.analysis.predictive.distribution`) of every entry of
    an output, its quantile band shaded (``table``: its :func:`~uqms.analysis.predictive.predictive_table`)."""
    log_scale = bool(shape.attrs["log_scale"])
    quantiles = [s for s in table["statistic"].values if s.startswith("q")]
    levels = table.sel(statistic=quantiles).values.reshape(len(quantiles), -1)
    units = table.attrs.get("units") or "1"
    figure = Figure(figsize=(10, 4), layout="constrained")
    density_axes, cdf_axes = figure.subplots(1, 2)
    for k, name in enumerate(shape["entry"].values):
        line, = density_axes.plot(shape["value"].values[k], shape["density"].values[k], label=name)
        steps = shape["cdf_value"].values[k]
        cdf_axes.step(steps, shape["probability"].values, where="post", color=line.get_color(), label=name)
        for axes in (density_axes, cdf_axes):
            if quantiles:
                axes.axvspan(levels[0, k], levels[-1, k], color=line.get_color(), alpha=0.12)
            for value in levels[:, k]:
                axes.axvline(value, color=line.get_color(), lw=0.8, ls=":")
    band_text = f" (dotted: {', '.join(q[1:] for q in quantiles)} quantiles)" if quantiles else ""
    density_axes.set_ylabel(label("density", "1/decade" if log_scale else f"1/({units})" if units != "1" else "1"))
    cdf_axes.set_ylabel(label("cumulative probability", "1"))
    for axes in (density_axes, cdf_axes):
        axes.set_xlabel(label(output, units) + (" (log scale)" if log_scale else ""))
        if log_scale:
            axes.set_xscale("log")
    if shape.sizes["entry"] > 1:
        density_axes.legend(fontsize="small")
    figure.suptitle(f"predictive distribution of {output}: {table.attrs['n_ok']} ok, {table.attrs['n_failed']} failed{band_text}")
    return figure


def pbox_figure(box: xr.Dataset, units: str) -> Figure:
    """The p-box of an output: envelope of the inner CDFs, filled, and their quantile bands."""
    figure = Figure(figsize=(6, 4), layout="constrained")
    axes = figure.subplots()
    x = box["value"].values
    axes.fill_between(x, box["lower"].values, box["upper"].values, step="post", alpha=0.25, label="envelope (p-box)")
    for level in box["level"].values:
        axes.step(x, box["band"].sel(level=level).values, where="post", lw=1, label=f"{level:g} quantile of inner CDFs")
    axes.set_xlabel(label(box.attrs["output"], units))
    axes.set_ylabel(label("cumulative probability", "1"))
    if box.attrs["log_scale"]:
        axes.set_xscale("log")
    axes.legend(fontsize="small")
    axes.set_title(f"p-box of {box.attrs['output']} over {box.attrs['n_outer']} epistemic samples")
    return figure


def sobol_figure(indices: xr.Dataset, by: str | None = None) -> Figure:
    """First and total Sobol indices as bars, with interval whiskers where known, per
    input (``by="input"``) or per input group (``by="group"``: a PCE's grouped indices,
    or a grouped Saltelli design's); by default per input where the result has them."""
    kinds = index_variables(indices) if by is None else ("first", "total") if by == "input" else ("group_first", "group_total")
    by = "input" if kinds[0] == "first" else "group"
    first = indices[kinds[0]]
    entries = [d for d in first.dims if d != by]
    stacked = first.stack(entry=entries) if entries else first.expand_dims(entry=[indices.attrs["output"]])
    count = min(stacked.sizes["entry"], MAX_PANELS)
    figure = Figure(figsize=(max(5, 0.8 * first.sizes[by] + 2), 3.2 * count), layout="constrained")
    axes_list = np.atleast_1d(figure.subplots(count, 1, squeeze=False)[:, 0])
    names = first[by].values.tolist()
    position = np.arange(len(names))
    for k, axes in enumerate(axes_list):
        width = 0.8 / len(kinds)
        for shift, kind in zip(width * (np.arange(len(kinds)) - (len(kinds) - 1) / 2), kinds, strict=True):
            data = indices[kind]
            data = (data.stack(entry=entries) if entries else data.expand_dims(entry=[0])).isel(entry=k).values
            errors = None
            if f"{kind}_interval" in indices:
                interval = indices[f"{kind}_interval"]
                interval = (interval.stack(entry=entries) if entries else interval.expand_dims(entry=[0])).isel(entry=k).values
                errors = np.abs(interval - data)
            axes.bar(position + shift, data, width=width, yerr=errors, capsize=3, label=INDEX_NAMES[kind.removeprefix("group_")])
        axes.set_xticks(position, names)
        axes.set_xlabel(label(f"input {by}" if by == "group" else "input", "-"))
        axes.set_ylabel(label("Sobol index", "1"))
        entry = stacked["entry"].values[k]
        title = ", ".join(map(str, entry)) if isinstance(entry, tuple) else str(entry)
        quantity = indices.attrs.get("quantity", indices.attrs["output"])
        axes.set_title(f"{quantity}{': ' + title if entries else ''} ({indices.attrs['method']}, {indices.attrs['n_used']} samples)")
        axes.legend(fontsize="small")
    return figure


def convergence_figure(history: xr.Dataset) -> Figure:
    """Indices (and intervals, or the PCE's LOO error) against sample size, scalar outputs."""
    size = "n_base" if "n_base" in history.dims else "n"
    n = history[size].values
    with_loo = "loo" in history
    figure = Figure(figsize=(10 if with_loo else 6, 4), layout="constrained")
    axes_list = np.atleast_1d(figure.subplots(1, 2 if with_loo else 1))
    axes = axes_list[0]
    kinds = index_variables(history)
    by = "input" if kinds[0] == "first" else "group"
    for k, name in enumerate(history[by].values):
        for kind, style in zip(kinds, ("-", "--", ":")):
            axes.plot(n, history[kind].sel({by: name}).values.reshape(len(n), -1)[:, 0], style, marker="o", ms=3,
                      color=f"C{k}", label=f"{kind.removeprefix('group_')} {name}")
            if f"{kind}_interval" in history:
                bounds = history[f"{kind}_interval"].sel({by: name}).transpose(size, "bound", ...).values.reshape(len(n), 2, -1)[:, :, 0]
                axes.fill_between(n, bounds[:, 0], bounds[:, 1], color=f"C{k}", alpha=0.12)
    axes.set_xscale("log", base=2)
    axes.set_xlabel(label("base samples N" if size == "n_base" else "ok samples", "1"))
    axes.set_ylabel(label("Sobol index", "1"))
    axes.legend(fontsize="x-small", ncol=2)
    axes.set_title(f"convergence of the indices of {history.attrs['output']} ({history.attrs['method']})")
    if with_loo:
        loo_axes = axes_list[1]
        loo_axes.loglog(n, history["loo"].values.reshape(len(n), -1), marker="o", ms=3)
        for x, y, order in zip(n, history["loo"].values.reshape(len(n), -1)[:, 0], history["order"].values):
            loo_axes.annotate(f"p={order}", (x, y), fontsize="x-small")
        loo_axes.set_xscale("log", base=2)
        loo_axes.set_xlabel(label("ok samples", "1"))
        loo_axes.set_ylabel(label("relative leave-one-out error", "1"))
    return figure
