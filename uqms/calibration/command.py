"""Bodies of ``uqms calibrate`` and ``uqms run --posterior``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import arviz as az
import pandas as pd

from uqms.calibration.calibrate import calibrate
from uqms.calibration.inference_data import save, summary
from uqms.calibration.likelihood import Likelihood
from uqms.calibration.plots import write_figures
from uqms.calibration.posterior_inputs import PosteriorWorkflow, posterior_workflow
from uqms.config import CalibrationSection, parse_workflow, read_toml
from uqms.errors import WorkflowError
from uqms.workflow import Workflow, relative_to_workflow


@dataclass
class CalibrationResult:
    """What ``uqms calibrate`` produced: the InferenceData, its summary and the files written."""

    idata: az.InferenceData
    table: pd.DataFrame
    path: Path
    written: list[Path]

    BRIEF = ("mean", "sd", "hdi_3%", "hdi_97%", "ess_bulk", "ess_tail", "r_hat", "tau")

    @property
    def brief(self) -> pd.DataFrame:
        """The summary columns worth a terminal's width."""
        return self.table[list(self.BRIEF)]


def calibration_settings(workflow_path: str | Path) -> CalibrationSection:
    """The ``[calibration]`` table of a workflow file, or its defaults."""
    data, _ = read_toml(Path(workflow_path))
    return parse_workflow(data, str(workflow_path)).calibration or CalibrationSection()


def calibrate_file(
    workflow_path: str | Path,
    data: str | Path | None = None,
    walkers: int | None = None,
    steps: int | None = None,
    out: str | Path | None = None,
    seed: int | None = None,
    scheduler: str = "synchronous",
    quiet: bool = False,
    figures: tuple[str, ...] = ("png",),
) -> CalibrationResult:
    """``uqms calibrate``: calibrate a workflow file to a measurement table.

    Arguments left None come from the file's ``[calibration]`` table. Writes the
    InferenceData to ``out`` (default ``<workflow>_calibration.nc``), the chain to
    ``<out>.h5`` (running again resumes it, or only re-reads it when it has all its
    steps), the summary table to ``<out>_summary.csv`` and the figures to ``<out>_figures/``.
    """
    source = str(workflow_path)
    flow = Workflow.from_file(workflow_path)
    settings = calibration_settings(workflow_path)
    if data is None:
        if not settings.data:
            raise WorkflowError(source, "calibration.data", "no measurement table: give DATA or set calibration.data")
        data = relative_to_workflow(source, settings.data)
    path = Path(out or (relative_to_workflow(source, settings.output) if settings.output else f"{flow.name}_calibration.nc"))
    if path.suffix != ".nc":
        raise WorkflowError(str(path), "", "expected a .nc file for the InferenceData")
    likelihood = Likelihood(settings.likelihood, settings.sigma.build() if settings.sigma else None)
    idata = calibrate(flow, data, settings.inputs or None, likelihood, walkers or settings.walkers,
                      steps or settings.steps, seed, backend=path.with_suffix(".h5"), scheduler=scheduler, quiet=quiet)
    save(idata, path)
    table = summary(idata)
    written = [path, path.with_suffix(".h5"), path.with_name(f"{path.stem}_summary.csv")]
    table.to_csv(written[-1])
    written += write_figures(idata, path.with_name(f"{path.stem}_figures"), figures)
    return CalibrationResult(idata, table, path, written)


def load_workflow(workflow_path: str | Path, posterior: str | Path | None = None) -> Workflow | PosteriorWorkflow:
    """The workflow of ``uqms run``: with its calibrated inputs drawn from ``posterior`` if given
    (stored beside its own output, as ``<output>_posterior``)."""
    flow = Workflow.from_file(workflow_path)
    if posterior is None:
        return flow
    flow = posterior_workflow(flow, posterior)
    if flow.output:
        output = Path(flow.output.rstrip("/"))
        flow.output = str(output.with_stem(f"{output.stem}_posterior"))
    return flow


__all__ = ["CalibrationResult", "PosteriorWorkflow", "calibrate_file",
           "calibration_settings", "load_workflow"]
