"""``uqms analyze``: write the tables and figures of a run's reductions to a folder.

What is written is set by an :class:`~uqms.config.AnalysisSection`: the ``[analysis]``
table of the workflow file stored in the run, or its defaults. Files, for each output:
``predictive.csv|nc`` (all outputs), ``predictive_<output>.png|svg``,
``sobol_<output>.csv|nc|png|svg``, ``sobol_groups_<output>.csv`` (when inputs share a
group), ``convergence_<output>.csv|nc|png|svg``; for nested runs
``variance_split.csv|nc`` and ``pbox_<output>.csv|nc|png|svg``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import xarray as xr

from uqms.analysis.convergence import pce_convergence, saltelli_convergence
from uqms.analysis.groups import has_groups, input_groups
from uqms.analysis.pbox import pbox
from uqms.analysis.plots import convergence_figure, pbox_figure, predictive_figure, sobol_figure
from uqms.analysis.predictive import predictive, summary_table
from uqms.analysis.sobol import index_variables, sobol
from uqms.analysis.variance_split import variance_split
from uqms.config import AnalysisSection, parse_workflow
from uqms.execution import load_run, output_names


def requested(run: xr.Dataset) -> AnalysisSection | None:
    """The ``[analysis]`` table of the workflow file stored in the run, or None when it has none."""
    if not run.attrs.get("workflow_text"):
        return None
    return parse_workflow(tomllib.loads(run.attrs["workflow_text"]), run.attrs.get("workflow_file", "<run>")).analysis


def default_directory(store: str | Path, settings: AnalysisSection, run: xr.Dataset) -> Path:
    """``settings.directory`` (relative to the workflow file), else ``<store>_analysis`` beside the store."""
    from uqms.workflow import relative_to_workflow

    if settings.directory:
        return Path(relative_to_workflow(run.attrs.get("workflow_file", "<run>"), settings.directory))
    store = Path(store)
    return store.with_name(store.name.removesuffix("/").rsplit(".", 1)[0] + "_analysis")


class _Writer:
    """Writes tables and figures in the formats asked for, remembering the paths."""

    def __init__(self, directory: Path, settings: AnalysisSection):
        self.directory, self.settings, self.written = directory, settings, []
        directory.mkdir(parents=True, exist_ok=True)

    def table(self, stem: str, data: xr.Dataset, frame=None) -> None:
        if "csv" in self.settings.tables:
            (frame if frame is not None else data.to_dataframe()).to_csv(self.directory / f"{stem}.csv")
            self.written.append(self.directory / f"{stem}.csv")
        if "netcdf" in self.settings.tables:
            data.to_netcdf(self.directory / f"{stem}.nc", engine="h5netcdf")
            self.written.append(self.directory / f"{stem}.nc")

    def figure(self, stem: str, figure) -> None:
        for suffix in self.settings.figures:
            figure.savefig(self.directory / f"{stem}.{suffix}", dpi=150)
            self.written.append(self.directory / f"{stem}.{suffix}")


def index_frame(indices: xr.Dataset, names: tuple[str, ...]):
    """First/total indices (and interval bounds) as one table, one row per input and entry."""
    columns = {name: indices[name] for name in names}
    for name in names:
        if f"{name}_interval" in indices:
            for bound in ("lower", "upper"):
                columns[f"{name}_{bound}"] = indices[f"{name}_interval"].sel(bound=bound, drop=True)
    return xr.Dataset(columns).to_dataframe()


def sobol_method(run: xr.Dataset, settings: AnalysisSection) -> tuple[str, dict]:
    """The Sobol method ``settings`` ask for on ``run`` (``auto``: Saltelli on a Saltelli
    design, PCE otherwise) and the keyword options of :func:`uqms.analysis.sobol.sobol`."""
    method = settings.sobol
    if method == "auto":
        method = "saltelli" if run.attrs.get("design") == "saltelli" else "pce"
    if method == "saltelli":
        return method, {"resamples": settings.bootstrap, "confidence": settings.confidence}
    return method, {"order": settings.pce_order, "max_order": settings.max_pce_order}


def analyze_run(run: xr.Dataset, directory: str | Path, settings: AnalysisSection | None = None) -> list[Path]:
    """Compute the reductions of ``run`` asked for by ``settings`` and write them to ``directory``.

    Returns the paths written.
    """
    settings = settings or AnalysisSection()
    writer = _Writer(Path(directory), settings)
    outputs = settings.outputs or output_names(run)
    unknown = [name for name in outputs if name not in output_names(run)]
    if unknown:
        raise ValueError(f"analysis.outputs: {unknown} are not outputs of this run; expected some of {output_names(run)}")
    summary = predictive(run, settings.quantiles, outputs)
    writer.table("predictive", summary, summary_table(summary))
    nested = [name for name in outputs if "inner" in run[name].dims]
    if nested:
        writer.table("variance_split", xr.concat([variance_split(run, name) for name in nested], dim="output",
                                                   coords="minimal", compat="override").assign_coords(output=nested))
    for name in outputs:
        writer.figure(f"predictive_{name}", predictive_figure(run, name, summary))
        if name in nested:
            if run[name].ndim == 2:
                box = pbox(run, name, bands=settings.quantiles)
                writer.table(f"pbox_{name}", box)
                writer.figure(f"pbox_{name}", pbox_figure(box, run[name].attrs.get("units", "1")))
            continue
        if settings.sobol == "none":
            continue
        method, options = sobol_method(run, settings)
        indices = sobol(run, name, method, **options)
        writer.table(f"sobol_{name}", indices, index_frame(indices, index_variables(indices)))
        writer.figure(f"sobol_{name}", sobol_figure(indices))
        if method == "pce" and has_groups(input_groups(run)):
            frame = xr.Dataset({"first": indices["group_first"], "total": indices["group_total"]}).to_dataframe()
            frame.to_csv(writer.directory / f"sobol_groups_{name}.csv")
            writer.written.append(writer.directory / f"sobol_groups_{name}.csv")
        if settings.convergence and run[name].ndim == 1:
            history = (saltelli_convergence(run, name, **options) if method == "saltelli"
                       else pce_convergence(run, name, **options))
            writer.table(f"convergence_{name}", history, index_frame(history, index_variables(history)))
            writer.figure(f"convergence_{name}", convergence_figure(history))
    return writer.written


def analyze_store(store: str | Path, directory: str | Path | None = None, settings: AnalysisSection | None = None) -> list[Path]:
    """``uqms analyze``: load a run store, analyse it as its workflow asks (or by ``settings``)."""
    run = load_run(store)
    settings = settings or requested(run) or AnalysisSection()
    return analyze_run(run, directory or default_directory(store, settings, run), settings)


def analyze_if_requested(run: xr.Dataset, store: str | Path) -> list[Path]:
    """After ``uqms run``: perform the ``[analysis]`` the run's workflow file asks for (nothing if absent)."""
    settings = requested(run)
    if settings is None:
        return []
    return analyze_run(run, default_directory(store, settings, run), settings)
