"""``uqms analyze``: write the tables and figures of a run's reductions to a folder.

What is written follows the reduction plan (:mod:`uqms.analysis.plan`) under an
:class:`~uqms.config.AnalysisSection`: the ``[analysis]`` table of the workflow file
stored in the run, or its defaults. Files: ``plan.csv`` (one line per output: constant or
not, transform, Sobol method and why, and every reduction that failed),
``predictive.csv|nc`` (all outputs) and for each output ``predictive_<output>.png|svg``,
``sobol_<output>.csv|nc|png|svg``, ``sobol_groups_<output>.csv`` (when inputs share a
group), ``convergence_<output>.csv|nc|png|svg``; for nested runs
``variance_split.csv|nc`` and ``pbox_<output>.csv|nc|png|svg``; for each target output
(:func:`~uqms.analysis.plan.choose_targets`) against each descriptor (``[analysis] versus``,
``uqms analyze --versus``: :mod:`uqms.analysis.descriptor`)
``versus_<output>_<descriptor>.csv|nc|png|svg`` (median and 5-95 % band per bin), and
``map_<output>.csv|nc|png|svg`` over two descriptors.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import xarray as xr

from uqms.analysis.plots import (
    convergence_figure,
    distribution_figure,
    map_figure,
    pbox_figure,
    sobol_figure,
    versus_figure,
)
from uqms.analysis.predictive import summary_table
from uqms.analysis.reduce import OutputReductions, reduce_run
from uqms.analysis.sobol import index_variables
from uqms.config import AnalysisSection
from uqms.execution import open_run


def default_directory(store: str | Path, settings: AnalysisSection, run: xr.Dataset) -> Path:
    """``settings.directory`` (relative to the workflow file), else ``<store>_analysis`` beside the store."""
    from uqms.workflow import relative_to_workflow

    if settings.directory:
        return Path(relative_to_workflow(run.uqms.source, settings.directory))
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
    """Index variables (and interval bounds) as one table, one row per input and entry."""
    columns = {name: indices[name] for name in names}
    for name in names:
        if f"{name}_interval" in indices:
            for bound in ("lower", "upper"):
                columns[f"{name}_{bound}"] = indices[f"{name}_interval"].sel(bound=bound, drop=True)
    return xr.Dataset(columns).to_dataframe()


def plan_frame(reductions: list[OutputReductions]) -> pd.DataFrame:
    """One line per output: what was computed, through which transform and method, and why; what failed."""
    return pd.DataFrame([{
        "output": r.plan.name, "units": r.plan.units,
        "constant": r.plan.constant, "value": r.plan.constant_value if r.plan.constant else None,
        "analysed_as": r.plan.label, "transform_reason": r.plan.transform_reason, "target": r.plan.target,
        "sobol_method": r.plan.sobol, "sobol_reason": r.plan.sobol_reason, "problems": "; ".join(r.problems),
    } for r in reductions])


def analyze_run(run: xr.Dataset, directory: str | Path, settings: AnalysisSection | None = None) -> list[Path]:
    """Compute the reductions of ``run`` asked for by ``settings`` and write them to ``directory``.

    Returns the paths written.
    """
    settings = settings or run.uqms.settings
    results = reduce_run(run, settings)  # refuses unknown names before the folder is made
    writer = _Writer(Path(directory), settings)
    done = []
    for result in results:
        write_output(writer, result)
        done.append(result)
    plan_frame(done).to_csv(writer.directory / "plan.csv", index=False)
    writer.written.append(writer.directory / "plan.csv")
    summary = xr.Dataset({r.plan.name: r.summary for r in done if r.summary is not None},
                         attrs={"quantiles": list(settings.quantiles)})
    writer.table("predictive", summary, summary_table(summary))
    splits = [r for r in done if r.split is not None]
    if splits:
        writer.table("variance_split", xr.concat([r.split for r in splits], dim="output", coords="minimal",
                                                 compat="override").assign_coords(output=[r.plan.name for r in splits]))
    return writer.written


def write_output(writer: _Writer, result: OutputReductions) -> None:
    """The figures and tables of one output."""
    name = result.plan.name
    if result.distribution is not None and result.summary is not None:
        writer.figure(f"predictive_{name}", distribution_figure(result.distribution, result.summary, name))
    for found in result.versus:
        if "bin" in found.dims:
            stem = f"versus_{name}_{found.attrs['versus'][0]}"
            writer.table(stem, found, found.to_dataframe().unstack("level"))
            writer.figure(stem, versus_figure(found))
        else:
            writer.table(f"map_{name}", found)
            writer.figure(f"map_{name}", map_figure(found))
    if result.pbox is not None:
        writer.table(f"pbox_{name}", result.pbox)
        writer.figure(f"pbox_{name}", pbox_figure(result.pbox, result.plan.units or "1"))
    indices = result.indices
    if indices is None:
        return
    writer.table(f"sobol_{name}", indices, index_frame(indices, index_variables(indices)))
    writer.figure(f"sobol_{name}", sobol_figure(indices))
    if indices.attrs.get("grouped") and "first" in indices:  # a PCE's grouped indices beside the per-input ones
        frame = xr.Dataset({"first": indices["group_first"], "total": indices["group_total"]}).to_dataframe()
        frame.to_csv(writer.directory / f"sobol_groups_{name}.csv")
        writer.written.append(writer.directory / f"sobol_groups_{name}.csv")
    if result.convergence is not None:
        history = result.convergence
        writer.table(f"convergence_{name}", history, index_frame(history, index_variables(history)))
        writer.figure(f"convergence_{name}", convergence_figure(history))


def with_options(settings: AnalysisSection, **options) -> AnalysisSection:
    """``settings`` with the command-line options given (``targets``, ``versus``: lists, None when not given)."""
    given = {key: list(value) for key, value in options.items() if value}
    return AnalysisSection.model_validate({**settings.model_dump(), **given}) if given else settings


def analyze_store(store: str | Path, directory: str | Path | None = None, settings: AnalysisSection | None = None,
                  **options) -> list[Path]:
    """``uqms analyze``: open a run store (lazily: outputs are read one at a time) and analyse it
    as its workflow asks (or by ``settings``), with ``options`` (:func:`with_options`) on top."""
    run = open_run(store)
    settings = with_options(settings or run.uqms.settings, **options)
    return analyze_run(run, directory or default_directory(store, settings, run), settings)


def analyze_if_requested(run: xr.Dataset, store: str | Path) -> list[Path]:
    """After ``uqms run``: perform the ``[analysis]`` the run's workflow file asks for (nothing if absent)."""
    if not run.uqms.requested_analysis:
        return []
    return analyze_run(run, default_directory(store, run.uqms.settings, run), run.uqms.settings)
