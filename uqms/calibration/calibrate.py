"""Calibrate a workflow's inputs to measurements: the whole pipeline in one call."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import arviz as az

from uqms.calibration.data import Measurements, load_measurements
from uqms.calibration.inference_data import to_inference_data
from uqms.calibration.likelihood import Likelihood
from uqms.calibration.problem import CalibrationProblem
from uqms.calibration.sampler import run_sampler


def calibrate(
    workflow,
    data: Measurements | str | Path,
    inputs: Sequence[str] | None = None,
    likelihood: Likelihood | None = None,
    walkers: int = 32,
    steps: int = 2000,
    seed: int | None = None,
    backend: str | Path | None = None,
    scheduler: str = "synchronous",
    quiet: bool = True,
) -> az.InferenceData:
    """Bayesian update of ``inputs`` of ``workflow`` against ``data`` with emcee.

    Args:
        workflow: the :class:`~uqms.workflow.Workflow`.
        data: checked measurements, or the path of a measurement table.
        inputs: calibrated inputs (default: every input the data do not set).
        likelihood: default log10 Gaussian with the measured standard deviations.
        walkers, steps: emcee ensemble size and total steps.
        seed: default the workflow's seed.
        backend: HDF5 file of the chain; an interrupted calibration resumes from it.
        scheduler: ``"synchronous"`` or a Dask scheduler for expensive chains.
        quiet: no progress bar.

    Returns:
        The calibration as InferenceData (see :func:`~uqms.calibration.inference_data.to_inference_data`).
    """
    likelihood = likelihood or Likelihood()
    if not isinstance(data, Measurements):
        data = load_measurements(data, workflow, positive=likelihood.transform == "log10")
    seed = workflow.seed if seed is None else seed
    problem = CalibrationProblem(workflow, data, inputs, likelihood)
    sampler = run_sampler(problem, walkers, steps, seed, backend, scheduler, quiet)
    return to_inference_data(problem, sampler, seed)
