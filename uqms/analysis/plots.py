"""Figures of the reductions (matplotlib, no display needed: figures are built without pyplot).

Every axis is labelled with its quantity and unit (``[1]`` for dimensionless quantities;
axes of categories, such as input names, are labelled without one); an output that
spans decades is drawn on a log axis.
"""

from __future__ import annotations

import textwrap

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from uqms.analysis.predictive import distribution
from uqms.analysis.samples import entry_labels, ok_rows
from uqms.analysis.sobol import index_variables

MAX_PANELS = 12  # Sobol bar panels drawn for an output with several entries
INDEX_NAMES = {"first": "first-order index", "total": "total index", "shapley": "Shapley effect"}
CATEGORICAL = ("input", "input group", "experiment")  # axis labels of categories, which have no unit


def label(quantity: str, units: str) -> str:
    """``"quantity [units]"``, with ``1`` for dimensionless quantities."""
    return f"{quantity} [{units or '1'}]"


def predictive_figure(run: xr.Dataset, output: str, summary: xr.Dataset) -> Figure:
    """Density (KDE) and ECDF of every entry of ``output`` with its quantile band shaded."""
    var = run[output]
    table = summary[output]
    core = tuple(d for d in ("sample", "inner") if d in var.dims)
    values = ok_rows(var, run.uqms.ok, core)
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
        line, = density_axes.plot(shape["value"].values[k], shape["density"].values[k], label=readable(name))
        steps = shape["cdf_value"].values[k]
        cdf_axes.step(steps, shape["probability"].values, where="post", color=line.get_color(), label=readable(name))
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


def readable(entry: str) -> str:
    """A coordinate label as text: ``"N2_dissociation, NH3"`` -> ``"N2 dissociation, NH3"``."""
    return str(entry).replace("_", " ")


def index_panels(indices: xr.Dataset, by: str | None = None) -> list[tuple[tuple[str, str], xr.Dataset]]:
    """One ``((output, entry), indices of that entry)`` per entry of an output's indices, the entry
    named by its coordinate values (``("drc", "N2 dissociation, NH3")``, ``""`` for a scalar
    output); ``by`` as in :func:`sobol_figure`."""
    kinds = index_variables(indices) if by is None else ("first", "total") if by == "input" else ("group_first", "group_total")
    dim = "input" if kinds[0] == "first" else "group"
    names = [k for k in (*kinds, *(f"{k}_interval" for k in kinds)) if k in indices]
    data = indices[names]
    entries = [d for d in data[kinds[0]].dims if d != dim]
    output = indices.attrs.get("quantity", indices.attrs["output"])
    if not entries:
        return [((output, ""), data)]
    stacked = data.stack(entry=entries)
    labels = [", ".join(map(str, e)) if isinstance(e, tuple) else str(e) for e in stacked["entry"].values]
    return [((output, readable(label)), stacked.isel(entry=k).drop_vars([*entries, "entry"]))
            for k, label in enumerate(labels)]


def panel_title(names: list[tuple[str, str]]) -> str:
    """What a panel stands for: ``"log10(rate): N2 dissociation, H2 dissociation; log10(tof): NH3"``."""
    entries: dict[str, list[str]] = {}
    for output, entry in names:
        entries.setdefault(output, []).append(entry)
    return "; ".join(output + (": " + ", ".join(e) if any(e) else "") for output, e in entries.items())


def distinct_panels(panels: list[tuple[tuple[str, str], xr.Dataset]], decimals: int = 4):
    """Panels with the same indices (to ``decimals``) merged into one that names all the
    ``(output, entry)`` it stands for: ``[(names, indices)]``; and the names of panels without
    finite indices (entries that do not vary)."""
    merged: dict[bytes, tuple[list, xr.Dataset]] = {}
    empty = []
    for title, data in panels:
        values = np.concatenate([np.ravel(data[k].values) for k in sorted(data.data_vars)])
        if not np.isfinite(values).any():
            empty.append(title)
            continue
        key = np.round(np.nan_to_num(values, nan=-9.0), decimals).tobytes() + str(sorted(data.data_vars)).encode()
        merged.setdefault(key, ([], data))[0].append(title)
    return list(merged.values()), empty


def panels_figure(panels: list[tuple[list[tuple[str, str]], xr.Dataset]], subtitle: str = "") -> Figure:
    """Horizontal bars of first-order and total indices (or Shapley effects) per input (or input
    group), whiskers for intervals where known; one panel per item of ``panels`` (titles: what
    each panel stands for), at most :data:`MAX_PANELS`."""
    panels = panels[:MAX_PANELS]
    dim = "input" if "input" in panels[0][1].dims else "group"
    names = panels[0][1][dim].values.tolist()
    columns = min(3, len(panels))
    rows = -(-len(panels) // columns)
    figure = Figure(figsize=(4.4 * columns, (0.45 * len(names) + 1.6) * rows), layout="constrained")
    axes_grid = figure.subplots(rows, columns, squeeze=False)
    position = np.arange(len(names))
    for axes, (names_of, data) in zip(axes_grid.ravel(), panels):
        kinds = [k for k in ("first", "total", "shapley", "group_first", "group_total") if k in data]
        height = 0.8 / len(kinds)
        for shift, kind in zip(height * (np.arange(len(kinds)) - (len(kinds) - 1) / 2), kinds, strict=True):
            values = data[kind].values
            errors = np.abs(data[f"{kind}_interval"].transpose("bound", dim).values - values) if f"{kind}_interval" in data else None
            axes.barh(position - shift, values, height=height, xerr=errors, capsize=2, label=INDEX_NAMES[kind.removeprefix("group_")])
        axes.set_yticks(position, names)
        axes.invert_yaxis()
        axes.set_xlim(0, max(1.0, float(np.nanmax([data[k].values for k in kinds])) * 1.05))
        axes.set_xlabel(label("index", "1"))
        axes.set_ylabel("input group" if dim == "group" else "input")
        axes.set_title(textwrap.fill(panel_title(names_of), 48), fontsize="small")
        axes.legend(fontsize="x-small", loc="lower right")
    for axes in axes_grid.ravel()[len(panels):]:
        axes.set_visible(False)
    if subtitle:
        figure.suptitle(subtitle, fontsize="medium")
    return figure


def sobol_figure(indices: xr.Dataset, by: str | None = None) -> Figure:
    """First-order and total Sobol indices (or Shapley effects) of an output as horizontal bars,
    per input (``by="input"``) or per input group (``by="group"``: a PCE's grouped indices, or a
    grouped Saltelli design's); by default per input where the result has them. Entries with
    the same indices share one panel; entries that do not vary get none."""
    panels, _ = distinct_panels(index_panels(indices, by))
    return panels_figure(panels, f"{indices.attrs['method']}, {indices.attrs['n_used']} samples")


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


MAX_VERSUS_ENTRIES = 6  # entries of an output drawn against a descriptor (one band each)


def versus_figure(bands: xr.Dataset) -> Figure:
    """An output against a descriptor (:func:`~uqms.analysis.descriptor.versus_bands`): per bin
    the median (line) and the 5-95 % band (shaded) of every entry; a log axis for an output
    analysed as log10 (a volcano)."""
    name, units = bands.attrs["versus"][0], bands.attrs["versus_units"][0]
    n_ok = int(bands["count"].sum("bin").max())
    return band_figure(bands["x"].values, bands["quantile"].values, [readable(e) for e in bands["entry"].values],
                       (label(name, units), label(bands.attrs["output"], bands.attrs["units"] or "1")),
                       f"{bands.attrs['output']} against {name}: {bands.sizes['bin']} bins, {n_ok} ok values",
                       bool(bands.attrs["log_scale"]))


def band_figure(x: np.ndarray, band: np.ndarray, entries: list[str], labels: tuple[str, str], title: str,
                log_scale: bool = False, band_label: str = "5-95 % band") -> Figure:
    """Median (line) and band (shaded) of each entry of an output against a descriptor ``x``.

    Args:
        band: ``(3, len(x), entries)``: the lower edge, median and upper edge at each ``x``.
        entries: the entries' names (their legend prefix where there are several).
        labels: the x and y labels, each with its unit.
        log_scale: a log y axis (a volcano of rates).
    """
    figure = Figure(figsize=(6.4, 4.2), layout="constrained")
    axes = figure.subplots()
    low, median, high = band
    for k, entry in enumerate(entries[:MAX_VERSUS_ENTRIES]):
        prefix = f"{entry}: " if len(entries) > 1 else ""
        axes.fill_between(x, low[:, k], high[:, k], color=f"C{k}", alpha=0.25, lw=0, label=f"{prefix}{band_label}")
        axes.plot(x, median[:, k], color=f"C{k}", marker="o", ms=3, label=f"{prefix}median")
    axes.set_xlabel(labels[0])
    axes.set_ylabel(labels[1])
    if log_scale:
        axes.set_yscale("log")
    axes.legend(fontsize="small")
    axes.set_title(title, fontsize="medium")
    return figure


def plane_figure(x: np.ndarray, y: np.ndarray, values: np.ndarray, levels: np.ndarray,
                 labels: tuple[str, str, str], title: str, line_every: int = 0,
                 catalyst: tuple[tuple[float, float], tuple[float, float]] | None = None,
                 points: np.ndarray | None = None, points_label: str = "") -> Figure:
    """Filled contours of ``values`` (``(len(y), len(x))``, NaN where a point failed) over two
    descriptors, such as a volcano with every other input at its mean.

    Args:
        levels: the colour levels; values beyond them take the extended end colours.
        labels: the x, y and colour bar labels, each with its unit.
        line_every: draw a contour line at every so many levels (0: none).
        catalyst: ``((x mean, x sd), (y mean, y sd))`` of the catalyst of a study: a cross at
            its mean and an ellipse at 2 sd.
        points: ``(n, 2)`` further points drawn as white dots, with ``points_label``.
    """
    figure = Figure(figsize=(6.5, 5), layout="constrained")
    axes = figure.subplots()
    below, above = np.nanmin(values) < levels[0], np.nanmax(values) > levels[-1]
    extend = {(False, False): "neither", (True, False): "min", (False, True): "max", (True, True): "both"}[below, above]
    filled = axes.contourf(x, y, values, levels=levels, cmap="viridis", extend=extend)
    if line_every:
        axes.contour(x, y, values, levels=levels[::line_every], colors="k", linewidths=0.4, linestyles="solid")
    figure.colorbar(filled, ax=axes, label=labels[2])
    if points is not None:
        axes.scatter(*np.asarray(points).T, s=14, c="w", edgecolors="k", linewidths=0.5, label=points_label)
    if catalyst is not None:
        (x_mean, x_sd), (y_mean, y_sd) = catalyst
        angle = np.linspace(0, 2 * np.pi, 100)
        axes.plot(x_mean, y_mean, "kx", ms=9, label="catalyst of this study")
        axes.plot(x_mean + 2 * x_sd * np.cos(angle), y_mean + 2 * y_sd * np.sin(angle), "k-", lw=0.8)
    axes.set_xlabel(labels[0])
    axes.set_ylabel(labels[1])
    axes.set_title(title)
    if points is not None or catalyst is not None:
        axes.legend(loc="lower right", fontsize="small")
    return figure


def map_figure(grid: xr.Dataset, entry: int = 0) -> Figure:
    """An output over two descriptors (:func:`~uqms.analysis.descriptor.versus_map`): the median
    (log colours for a log-scale output) and the width of the 5-95 % band, one entry."""
    from matplotlib.colors import LogNorm

    (name_1, name_2), (units_1, units_2) = grid.attrs["versus"], grid.attrs["versus_units"]
    output, units = grid.attrs["output"], grid.attrs["units"] or "1"
    figure = Figure(figsize=(11, 4.4), layout="constrained")
    median_axes, width_axes = figure.subplots(1, 2)
    x_1, x_2 = grid["x_1"].values, grid["x_2"].values
    median = grid["quantile"].sel(level=0.5).values[..., entry].T
    positive = median[np.isfinite(median) & (median > 0)]
    norm = LogNorm(positive.min(), positive.max()) if grid.attrs["log_scale"] and positive.size else None
    shown = median_axes.pcolormesh(x_1, x_2, median, norm=norm, shading="nearest", cmap="viridis")
    figure.colorbar(shown, ax=median_axes).set_label(label(f"median {output}", units))
    spread = width_axes.pcolormesh(x_1, x_2, grid["width"].values[..., entry].T, shading="nearest", cmap="magma")
    figure.colorbar(spread, ax=width_axes).set_label(label("5-95 % band width", grid.attrs["width_units"] or "1"))
    entry_text = f" ({readable(grid['entry'].values[entry])})" if grid.sizes["entry"] > 1 else ""
    for axes, what in ((median_axes, "median"), (width_axes, "5-95 % band width")):
        axes.set_xlabel(label(name_1, units_1))
        axes.set_ylabel(label(name_2, units_2))
        axes.set_title(f"{what} of {output}{entry_text}", fontsize="medium")
    return figure
