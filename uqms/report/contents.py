"""What a run's report holds, computed with :mod:`uqms.analysis`: provenance, inputs,
statuses, predictive distributions, the aleatoric/epistemic split and p-boxes of nested
outputs, and Sobol indices (first/total, grouped, convergence) of the others.

Which outputs and reductions are included follows an :class:`~uqms.config.AnalysisSection`
(the run's own ``[analysis]`` table or its defaults), as for ``uqms analyze``.
"""

from __future__ import annotations

import json

import pandas as pd
import xarray as xr

from uqms.analysis import (
    pbox,
    pce_convergence,
    predictive,
    saltelli_convergence,
    sobol,
    summary_table,
    variance_split,
)
from uqms.analysis.command import index_frame, sobol_method
from uqms.analysis.groups import has_groups, input_groups
from uqms.analysis.plots import (
    convergence_figure,
    pbox_figure,
    predictive_figure,
    sobol_figure,
)
from uqms.analysis.sobol import index_variables
from uqms.config import AnalysisSection
from uqms.execution import input_names, output_names, status_messages
from uqms.report.document import Code, Plot, Report, Section, Table, Text


def provenance(run: xr.Dataset) -> Section:
    """Workflow, design, size, seed, package versions and the workflow file's text."""
    facts = {
        "workflow": run.attrs.get("workflow", "?"),
        "workflow file": run.attrs.get("workflow_file", ""),
        "design": run.attrs.get("design", "?"),
        "samples (n)": run.sizes["sample"],
        "inner draws per sample": run.sizes.get("inner", 0),
        "seed": run.attrs.get("seed", "?"),
    }
    versions = json.loads(run.attrs.get("versions", "{}"))
    parts = [Table("run", pd.DataFrame({"property": list(facts), "value": [str(v) for v in facts.values()]})),
             Table("package versions", pd.DataFrame({"package": list(versions), "version": list(versions.values())}))]
    if run.attrs.get("workflow_text"):
        parts += [Text("Workflow file as run:"), Code(run.attrs["workflow_text"])]
    return Section("Provenance", parts)


def inputs(run: xr.Dataset) -> Section:
    """The uncertain inputs (name, kind, group, unit, distribution) and the constants."""
    names = input_names(run)
    frame = pd.DataFrame({
        "input": names,
        **{column: [run[name].attrs.get(key, "") for name in names]
           for column, key in (("kind", "kind"), ("group", "group"), ("unit", "units"),
                               ("distribution", "distribution"), ("description", "description"))},
    })
    parts = [Table("uncertain inputs", frame)]
    constants = [name for name, var in run.data_vars.items() if var.attrs.get("role") == "constant"]
    if constants:
        parts.append(Table("constants", pd.DataFrame({
            "constant": constants, "value": [float(run[name]) for name in constants],
            "unit": [run[name].attrs.get("units", "") for name in constants],
            "description": [run[name].attrs.get("description", "") for name in constants]})))
    return Section("Inputs", parts)


def statuses(run: xr.Dataset) -> Section:
    """How many samples (draws, in nested runs) ended with each status, with its message."""
    codes = run["status"].values
    rows = [(code, message, int((codes == code).sum())) for code, message in status_messages(run).items()
            if code == 0 or (codes == code).any()]
    frame = pd.DataFrame(rows, columns=["status", "message", "samples"])
    frame["share"] = frame["samples"] / codes.size
    return Section("Statuses", [Text(f"{int((codes != 0).sum())} of {codes.size} evaluations failed; "
                                     "every reduction below leaves them out."), Table("statuses", frame)])


def _split_frame(run: xr.Dataset, output: str) -> pd.DataFrame:
    """The variance split of one nested output as rows (one per output entry)."""
    split = variance_split(run, output)
    frame = split.to_dataframe().reset_index() if split.total.ndim else split.expand_dims(entry=[0]).to_dataframe().reset_index(drop=True)
    frame.insert(0, "output", output)
    frame.insert(1, "variance unit", split.total.attrs["units"])
    return frame


def sensitivity(run: xr.Dataset, output: str, settings: AnalysisSection) -> list:
    """Sobol indices of one output of a flat run: table, bars, grouped indices and convergence."""
    method, options = sobol_method(run, settings)
    indices = sobol(run, output, method, **options)
    described = f"{indices.attrs['method']}, {indices.attrs['n_used']} samples"
    if method == "pce":
        loo = float(indices["loo"].max())
        described += f", order {indices.attrs['order']}, largest relative leave-one-out error {loo:.2g}"
    else:
        described += f", {indices.attrs['confidence']:.0%} bootstrap intervals"
    parts = [Table(f"Sobol indices of {output} ({described})", index_frame(indices, index_variables(indices)).reset_index()),
             Plot(f"first and total Sobol indices of {output}", sobol_figure(indices))]
    if method == "pce" and has_groups(input_groups(run)):
        grouped = xr.Dataset({"first": indices["group_first"], "total": indices["group_total"]})
        parts.append(Table(f"grouped Sobol indices of {output}", grouped.to_dataframe().reset_index()))
    if settings.convergence and run[output].ndim == 1:
        history = saltelli_convergence(run, output, **options) if method == "saltelli" else pce_convergence(run, output, **options)
        parts.append(Plot(f"convergence of the Sobol indices of {output}", convergence_figure(history)))
    return parts


def build_report(run: xr.Dataset, settings: AnalysisSection | None = None) -> Report:
    """The report of ``run``: every reduction ``settings`` asks for (default: all outputs)."""
    settings = settings or AnalysisSection()
    outputs = settings.outputs or output_names(run)
    unknown = [name for name in outputs if name not in output_names(run)]
    if unknown:
        raise ValueError(f"analysis.outputs: {unknown} are not outputs of this run; expected some of {output_names(run)}")
    summary = predictive(run, settings.quantiles, outputs)
    distributions = Section("Predictive distributions", [Table("predictive summary (ok samples)", summary_table(summary))])
    distributions.parts += [Plot(f"predictive distribution of {name}", predictive_figure(run, name, summary)) for name in outputs]
    sections = [provenance(run), inputs(run), statuses(run), distributions]
    nested = [name for name in outputs if "inner" in run[name].dims]
    if nested:
        part = Section("Aleatoric and epistemic uncertainty", [
            Text("Law of total variance over the nested design: epistemic = variance over outer samples of the inner "
                 "mean, aleatoric = mean over outer samples of the inner variance."),
            Table("variance split", pd.concat([_split_frame(run, name) for name in nested], ignore_index=True))])
        for name in nested:
            if run[name].ndim == 2:
                box = pbox(run, name, bands=settings.quantiles)
                part.parts.append(Plot(f"p-box of {name}", pbox_figure(box, run[name].attrs.get("units", "1"))))
        sections.append(part)
    flat = [name for name in outputs if name not in nested]
    if flat and settings.sobol != "none":
        sections.append(Section("Sensitivity (Sobol indices)", [p for name in flat for p in sensitivity(run, name, settings)]))
    return Report(f"uqms report: {run.attrs.get('workflow', 'run')}", sections)
