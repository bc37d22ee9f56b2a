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

from uqms.analysis.command import index_frame, plan_frame
from uqms.analysis.plots import convergence_figure, distribution_figure, pbox_figure, sobol_figure
from uqms.analysis.predictive import summary_table
from uqms.analysis.reduce import OutputReductions, reduce_run
from uqms.analysis.sobol import index_variables
from uqms.config import AnalysisSection
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
    names = run.uqms.inputs
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
    codes = run.uqms.status
    rows = [(code, message, int((codes == code).sum())) for code, message in run.uqms.status_messages.items()
            if code == 0 or (codes == code).any()]
    frame = pd.DataFrame(rows, columns=["status", "message", "samples"])
    frame["share"] = frame["samples"] / codes.size
    return Section("Statuses", [Text(f"{int((codes != 0).sum())} of {codes.size} evaluations failed; "
                                     "every reduction below leaves them out."), Table("statuses", frame)])


def _split_frame(result: OutputReductions) -> pd.DataFrame:
    """The variance split of one nested output as rows (one per output entry)."""
    split = result.split
    frame = split.to_dataframe().reset_index() if split.total.ndim else split.expand_dims(entry=[0]).to_dataframe().reset_index(drop=True)
    frame.insert(0, "output", result.plan.name)
    frame.insert(1, "variance unit", split.total.attrs["units"])
    return frame


def sensitivity(result: OutputReductions) -> list:
    """Sobol indices of one output of a flat run: method and why, table, bars, grouped indices and convergence."""
    indices, plan = result.indices, result.plan
    described = f"{indices.attrs['method']}, {indices.attrs['n_used']} samples"
    if "loo" in indices:
        described += f", order {indices.attrs['order']}, largest relative leave-one-out error {float(indices['loo'].max()):.2g}"
    if "confidence" in indices.attrs:
        described += f", {indices.attrs['confidence']:.0%} bootstrap intervals"
    parts = [Text(f"{plan.label}: {plan.sobol_reason}."),
             Table(f"Sobol indices of {plan.label} ({described})", index_frame(indices, index_variables(indices)).reset_index()),
             Plot(f"Sobol indices of {plan.label}", sobol_figure(indices))]
    if indices.attrs.get("grouped") and "first" in indices:
        grouped = xr.Dataset({"first": indices["group_first"], "total": indices["group_total"]})
        parts.append(Table(f"grouped Sobol indices of {plan.label}", grouped.to_dataframe().reset_index()))
    if result.convergence is not None:
        parts.append(Plot(f"convergence of the Sobol indices of {plan.label}", convergence_figure(result.convergence)))
    return parts


def analysis_plan(results: list[OutputReductions]) -> Section:
    """What was computed for each output, through which transform and method, why, and what failed."""
    parts = [Table("analysis plan", plan_frame(results))]
    failed = [f"{r.plan.name}: {problem}" for r in results for problem in r.problems]
    if failed:
        parts.insert(0, Text("Reductions that failed (the others are complete): " + " | ".join(failed)))
    return Section("Analysis plan", parts)


def build_report(run: xr.Dataset, settings: AnalysisSection | None = None) -> Report:
    """The report of ``run``: every reduction ``settings`` (default: the run's ``[analysis]``) asks for."""
    settings = settings or run.uqms.settings
    results = list(reduce_run(run, settings))
    summary = xr.Dataset({r.plan.name: r.summary for r in results if r.summary is not None})
    constants = [r for r in results if r.plan.constant]
    distributions = Section("Predictive distributions", [Table("predictive summary (ok samples)", summary_table(summary))])
    if constants:
        distributions.parts.append(Text("Constant over every ok sample (no density, no indices): " + ", ".join(
            f"{r.plan.name} = {r.plan.constant_value:.6g} {r.plan.units}".rstrip() for r in constants) + "."))
    distributions.parts += [Plot(f"predictive distribution of {r.plan.name}", distribution_figure(r.distribution, r.summary, r.plan.name))
                            for r in results if r.distribution is not None and r.summary is not None]
    sections = [provenance(run), inputs(run), statuses(run), analysis_plan(results), distributions]
    nested = [r for r in results if r.split is not None]
    if nested:
        part = Section("Aleatoric and epistemic uncertainty", [
            Text("Law of total variance over the nested design: epistemic = variance over outer samples of the inner "
                 "mean, aleatoric = mean over outer samples of the inner variance."),
            Table("variance split", pd.concat([_split_frame(r) for r in nested], ignore_index=True))])
        part.parts += [Plot(f"p-box of {r.plan.name}", pbox_figure(r.pbox, r.plan.units or "1")) for r in nested if r.pbox is not None]
        sections.append(part)
    with_indices = [r for r in results if r.indices is not None]
    if with_indices:
        sections.append(Section("Sensitivity (Sobol indices)", [p for r in with_indices for p in sensitivity(r)]))
    return Report(f"uqms report: {run.attrs.get('workflow', 'run')}", sections)
