"""What a run's report holds, computed with :mod:`uqms.analysis` (one reduction plan, as for
``uqms analyze``), in the order a reader needs it:

1. key results: per target output (:func:`~uqms.analysis.plan.choose_targets`) its median and
   90 % interval, the inputs ranked by the index the plan computed (total index, else Shapley
   effect, else first-order index), the aleatoric/epistemic split where nested, the failed
   samples; then the target against its descriptors (the volcano, a 2-D map for two);
2. predictive distributions of the varying outputs (the constant ones in one line);
3. sensitivity: Sobol bar panels, identical panels drawn once naming every output they stand for;
4. the aleatoric/epistemic split and p-boxes of nested runs;
5. the analysis plan, inputs, statuses and provenance (the workflow file collapsed).
"""

from __future__ import annotations

import datetime
import json
import platform
from importlib import metadata

import numpy as np
import pandas as pd
import xarray as xr

from uqms.analysis.command import index_frame, plan_frame
from uqms.analysis.plots import (
    convergence_figure,
    distinct_panels,
    distribution_figure,
    index_panels,
    map_figure,
    panel_title,
    panels_figure,
    pbox_figure,
    readable,
    versus_figure,
)
from uqms.analysis.predictive import summary_table
from uqms.analysis.reduce import OutputReductions, reduce_run
from uqms.analysis.sobol import index_variables
from uqms.config import AnalysisSection
from uqms.report.document import Code, Plot, Report, Section, Table, Text

KEY_LEVELS = (0.05, 0.5, 0.95)  # the median and 90 % interval of the key results
KEY_ENTRIES = 6  # entries of a target output listed in the key results
REPORT_PACKAGES = ("uqms", "numpy", "scipy", "xarray", "pandas", "matplotlib", "jinja2", "chaospy", "arviz")
INDEX_WORDS = {"total": "total index", "shapley": "Shapley effect", "first": "first-order index"}


def _number(value: float, units: str = "") -> str:
    return f"{value:.3g}" + (f" {units}" if units and units != "1" else "")


def key_quantiles(result: OutputReductions) -> np.ndarray:
    """The 5 %, 50 % and 95 % quantiles of every entry ``(3, m)``: the summary's where it has them,
    else read off the stored ECDF."""
    summary = result.summary
    names = [f"q{q:g}" for q in KEY_LEVELS]
    if set(names) <= set(summary["statistic"].values):
        return summary.sel(statistic=names).values.reshape(len(names), -1)
    shape = result.distribution
    return np.stack([np.interp(KEY_LEVELS, shape["probability"].values, row) for row in shape["cdf_value"].values], axis=1)


def ranking(indices: xr.Dataset, entry: int) -> tuple[str, list[tuple[str, float]]]:
    """The index the plan computed that ranks inputs (total, else Shapley, else first order) and
    the inputs with their value for one entry, largest first."""
    kind = next(k for k in ("total", "shapley", "first") if k in indices)
    data = indices[kind]
    values = data.transpose("input", ...).values.reshape(data.sizes["input"], -1)[:, entry]
    order = np.argsort(-np.nan_to_num(values, nan=-1.0))
    return INDEX_WORDS[kind], [(str(indices["input"].values[i]), float(values[i])) for i in order if np.isfinite(values[i])]


def split_text(run: xr.Dataset, result: OutputReductions, entry: int) -> str:
    """``"epistemic 83 % (functional_member), aleatoric 17 % (sigma_sites, T)"`` for a nested output."""
    share = float(np.ravel(result.split["epistemic_share"].values)[entry])
    by_kind = {kind: [n for n in run.uqms.inputs if run[n].attrs.get("kind") == kind] for kind in ("epistemic", "aleatoric")}
    parts = [(share, "epistemic"), (1 - share, "aleatoric")]
    return ", ".join(f"{kind} {value:.0%} ({', '.join(by_kind[kind]) or '-'})" for value, kind in sorted(parts, reverse=True))


def key_rows(run: xr.Dataset, result: OutputReductions) -> tuple[list[dict], list[str]]:
    """One row per entry of a target output for the key-results table, and one sentence per entry."""
    plan, summary = result.plan, result.summary
    low, median, high = key_quantiles(result)
    labels = [str(e) for e in result.distribution["entry"].values] if result.distribution is not None else [plan.name]
    rows, sentences = [], []
    for k, entry in enumerate(labels[:KEY_ENTRIES]):
        name = plan.name if entry == plan.name else f"{plan.name} ({readable(entry)})"
        row = {"output": name, "median": _number(median[k]), "5 %": _number(low[k]), "95 %": _number(high[k]),
               "unit": plan.units or "1"}
        sentence = (f"{name}: median {_number(median[k], plan.units)}, 90 % of ok samples between "
                    f"{_number(low[k], plan.units)} and {_number(high[k], plan.units)}")
        if result.indices is not None:
            word, ranked = ranking(result.indices, k)
            row[f"inputs ranked ({result.plan.sobol})"] = ", ".join(f"{n} {v:.2f}" for n, v in ranked)
            if ranked:
                sentence += f"; the largest {word} is that of {ranked[0][0]} ({ranked[0][1]:.2f})"
        if result.split is not None:
            row["uncertainty split"] = split_text(run, result, k)
            sentence += f"; variance: {row['uncertainty split']}"
        row["failed"] = f"{summary.attrs['n_failed']} of {summary.attrs['n_ok'] + summary.attrs['n_failed']}"
        rows.append(row)
        sentences.append(sentence + ".")
    return rows, sentences


def key_results(run: xr.Dataset, results: list[OutputReductions]) -> Section:
    """Target outputs first: the numbers a reader came for, and the targets against their descriptors."""
    targets = [r for r in results if r.plan.target and r.summary is not None]
    section = Section("Key results")
    if not targets:
        return Section("Key results", [Text("No target output varies: see the predictive summary.")])
    section.parts.append(Text(f"Target output{'s' * (len(targets) > 1)}: {', '.join(r.plan.name for r in targets)} "
                              f"({targets[0].plan.target}; [analysis] targets chooses others)."))
    rows = []
    for result in targets:
        if result.plan.constant:
            section.parts.append(Text(f"{result.plan.name} is constant: {_number(result.plan.constant_value, result.plan.units)}.", lead=True))
            continue
        found, sentences = key_rows(run, result)
        rows += found
        section.parts += [Text(s, lead=True) for s in sentences]
    if rows:
        section.parts.append(Table("key results (ok samples; indices of the analysed quantity)", pd.DataFrame(rows).fillna("")))
    failed = run.uqms.failures
    if failed:
        section.parts.append(Text("Failed samples, left out of every number: " + "; ".join(f"{m}: {c}" for m, c in failed.items()) + "."))
    for result in targets:
        for found in result.versus:
            if "bin" in found.dims:
                section.parts.append(Plot(f"{result.plan.name} against {found.attrs['versus'][0]} ({found.attrs['reason']}): median "
                                          "and 5-95 % band of the ok samples per bin", versus_figure(found)))
            else:
                section.parts.append(Plot(f"{result.plan.name} over {' and '.join(found.attrs['versus'])}: median and width of the "
                                          "5-95 % band per cell", map_figure(found)))
    return section


def distributions(results: list[OutputReductions]) -> Section:
    """The predictive summary of every output, the constant ones in one line, a density figure per varying output."""
    summary = xr.Dataset({r.plan.name: r.summary for r in results if r.summary is not None})
    section = Section("Predictive distributions", [Table("predictive summary (ok samples)", summary_table(summary), collapsed=True)])
    constants = [r for r in results if r.plan.constant]
    if constants:
        section.parts.append(Text("Constant over every ok sample (no density, no indices): " + ", ".join(
            f"{r.plan.name} = {_number(r.plan.constant_value, r.plan.units)}" for r in constants) + "."))
    section.parts += [Plot(f"predictive distribution of {r.plan.name}", distribution_figure(r.distribution, r.summary, r.plan.name))
                      for r in results if r.distribution is not None and r.summary is not None]
    return section


def describe_method(indices: xr.Dataset) -> str:
    described = f"{indices.attrs['method']}, {indices.attrs['n_used']} samples"
    if "loo" in indices:
        described += f", order {indices.attrs['order']}, largest relative leave-one-out error {float(indices['loo'].max()):.2g}"
    if "confidence" in indices.attrs:
        described += f", {indices.attrs['confidence']:.0%} bootstrap intervals"
    return described


def sensitivity(results: list[OutputReductions]) -> Section:
    """Sobol bar panels of every output with indices, each distinct panel once (naming every
    output entry it stands for), grouped by the first output it belongs to; tables collapsed."""
    with_indices = [r for r in results if r.indices is not None]
    panels, empty = distinct_panels([p for r in with_indices for p in index_panels(r.indices)])
    section = Section("Sensitivity", [Text("Why each output got its method: " + "; ".join(
        f"{r.plan.label}: {r.plan.sobol_reason}" for r in with_indices) + ".")])
    if empty:
        section.parts.append(Text("Entries that do not vary (no indices): " + panel_title(empty) + "."))
    for result in with_indices:
        own = [p for p in panels if p[0][0][0] == result.indices.attrs.get("quantity", result.indices.attrs["output"])]
        if own:
            stands_for = sorted({name for names, _ in own for name, _ in names})
            caption = f"Sobol indices of {', '.join(stands_for)} ({describe_method(result.indices)})"
            section.parts.append(Plot(caption, panels_figure(own)))
        section.parts.append(Table(f"Sobol indices of {result.plan.label} ({describe_method(result.indices)})",
                                   index_frame(result.indices, index_variables(result.indices)).reset_index(), collapsed=True))
        if result.indices.attrs.get("grouped") and "first" in result.indices:
            grouped = xr.Dataset({"first": result.indices["group_first"], "total": result.indices["group_total"]})
            section.parts.append(Table(f"grouped Sobol indices of {result.plan.label}", grouped.to_dataframe().reset_index()))
        if result.convergence is not None:
            section.parts.append(Plot(f"convergence of the Sobol indices of {result.plan.label}", convergence_figure(result.convergence)))
    return section


def _split_frame(result: OutputReductions) -> pd.DataFrame:
    """The variance split of one nested output as rows (one per output entry)."""
    split = result.split
    frame = split.to_dataframe().reset_index() if split.total.ndim else split.expand_dims(entry=[0]).to_dataframe().reset_index(drop=True)
    frame.insert(0, "output", result.plan.name)
    frame.insert(1, "variance unit", split.total.attrs["units"])
    return frame


def nested(results: list[OutputReductions]) -> Section:
    """The aleatoric/epistemic variance split and the p-boxes of a nested run."""
    found = [r for r in results if r.split is not None]
    section = Section("Aleatoric and epistemic uncertainty", [
        Text("Law of total variance over the nested design: epistemic = variance over outer samples of the inner "
             "mean, aleatoric = mean over outer samples of the inner variance."),
        Table("variance split", pd.concat([_split_frame(r) for r in found], ignore_index=True))])
    section.parts += [Plot(f"p-box of {r.plan.name}", pbox_figure(r.pbox, r.plan.units or "1")) for r in found if r.pbox is not None]
    return section


def analysis_plan(results: list[OutputReductions]) -> Section:
    """What was computed for each output, through which transform and method, why, and what failed."""
    parts = [Table("analysis plan", plan_frame(results), collapsed=True)]
    failed = [f"{r.plan.name}: {problem}" for r in results for problem in r.problems]
    if failed:
        parts.insert(0, Text("Reductions that failed (the others are complete): " + " | ".join(failed)))
    return Section("Analysis plan", parts)


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
                                     "every reduction leaves them out."), Table("statuses", frame)])


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def provenance(run: xr.Dataset, command: str = "") -> Section:
    """The run (workflow, design, size, seed; date, host and command where the store records them),
    the report (date, host, command, versions) and the workflow file as run (collapsed)."""
    recorded = "not recorded in the run store"
    facts = {
        "workflow": run.attrs.get("workflow", "?"),
        "workflow file": run.attrs.get("workflow_file", ""),
        "design": run.attrs.get("design", "?"),
        "samples (n)": run.sizes["sample"],
        "inner draws per sample": run.sizes.get("inner", 0),
        "seed": run.attrs.get("seed", "?"),
        "run date": run.attrs.get("created", recorded),
        "run host": run.attrs.get("host", recorded),
        "run command": run.attrs.get("command", recorded),
        "report date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "report host": platform.node(),
        "report command": command or "uqms.report.build_report (Python)",
    }
    run_versions = json.loads(run.attrs.get("versions", "{}"))
    packages = list(dict.fromkeys([*run_versions, *REPORT_PACKAGES]))
    versions = pd.DataFrame({"package": packages, "run": [run_versions.get(p, "") for p in packages],
                             "report": [_version(p) for p in packages]})
    parts = [Table("run", pd.DataFrame({"property": list(facts), "value": [str(v) for v in facts.values()]})),
             Table("package versions", versions)]
    if run.attrs.get("workflow_text"):
        parts.append(Code(run.attrs["workflow_text"], summary="workflow file as run"))
    return Section("Provenance", parts)


def build_report(run: xr.Dataset, settings: AnalysisSection | None = None, command: str = "") -> Report:
    """The report of ``run``: every reduction ``settings`` (default: the run's ``[analysis]``) asks
    for, key results first; ``command``: the command line that asked for it (provenance)."""
    settings = settings or run.uqms.settings
    results = list(reduce_run(run, settings))
    sections = [key_results(run, results), distributions(results)]
    if any(r.indices is not None for r in results):
        sections.append(sensitivity(results))
    if any(r.split is not None for r in results):
        sections.append(nested(results))
    sections += [analysis_plan(results), inputs(run), statuses(run), provenance(run, command)]
    meta = run.uqms
    inner = f" x {run.sizes['inner']} inner draws" if meta.nested else ""
    subtitle = (f"{run.attrs.get('workflow', 'run')}: {run.sizes['sample']} samples{inner}, design {meta.design}, "
                f"{meta.n_failed} failed evaluations")
    return Report(f"uqms report: {run.attrs.get('workflow', 'run')}", sections, subtitle)
