"""Calibrated prediction: a workflow whose calibrated inputs are drawn from a posterior."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import arviz as az
import numpy as np

from uqms.errors import WorkflowError
from uqms.workflow import Workflow

if TYPE_CHECKING:
    from uqms.execution.protocol import RunDescription
    from uqms.models.stage import Batch


def posterior_draws(idata: az.InferenceData) -> dict[str, np.ndarray]:
    """The posterior draws of the calibrated inputs (walkers x draws flattened, walker-major)."""
    names = json.loads(idata.posterior.attrs["calibrated_inputs"])
    return {name: idata.posterior[name].transpose("chain", "draw").values.ravel() for name in names}


class PosteriorWorkflow:
    """A workflow whose calibrated inputs are joint posterior draws, wrapping the workflow.

    Sample i takes the posterior draw ``floor(u * draws)``, ``u`` being the design's
    column of the first calibrated input, and every calibrated input from that same
    draw (their posterior correlations are kept). The columns of the other calibrated
    inputs are unused; the other inputs are sampled from their distributions exactly
    as in the workflow, so a run with the same seed has the same values of them. The
    workflow text stored with the run ends with a comment naming the draws' origin.
    Under a Saltelli design the calibrated inputs therefore act as one group whose
    indices are reported under the first calibrated input (the others get none).

    It runs like the workflow (:meth:`run`) and reads through to the workflow's
    attributes (``n``, ``seed``, ``inputs``, ``chain``, ...), its own being ``name``
    (``<workflow>_posterior``) and ``output`` (the workflow's until set).

    Args:
        workflow: the workflow to wrap (not nested).
        draws: ``{input name: posterior draws}``, every array of the same length.
        origin: where the draws come from (for messages and the workflow's name).
    """

    def __init__(self, workflow: Workflow, draws: dict[str, np.ndarray], origin: str = "<posterior>"):
        if workflow.nested:
            raise WorkflowError(origin, "design.inner", "posterior draws replace inputs of flat designs only")
        unknown = [name for name in draws if name not in workflow.inputs.names]
        if unknown:
            raise WorkflowError(origin, "posterior", f"{unknown} are not uncertain inputs of {workflow.source}; "
                                f"expected some of {list(workflow.inputs.names)}")
        lengths = {len(v) for v in draws.values()}
        if len(lengths) != 1 or 0 in lengths:
            raise WorkflowError(origin, "posterior", "expected the same, non-zero number of draws of every input")
        self.workflow = workflow
        self.posterior = {name: np.asarray(values, dtype=float) for name, values in draws.items()}
        self.posterior_origin = origin
        self.calibrated_column = min(workflow.inputs.names.index(name) for name in draws)
        self.name = f"{workflow.name}_posterior"
        self.output = workflow.output

    def __getattr__(self, name: str) -> Any:
        """The wrapped workflow's attribute (called only for names this object lacks)."""
        if name.startswith("__") or name == "workflow":  # pickle looks for dunders before __dict__ is set
            raise AttributeError(name)
        return getattr(self.workflow, name)

    def sample_inputs(self, start: int, stop: int, n_total: int | None = None, seed: int | None = None) -> Batch:
        """Input values of samples ``start:stop``: calibrated ones from posterior draws."""
        flow = self.workflow
        n_total = flow.n if n_total is None else n_total
        seed = flow.seed if seed is None else seed
        u = flow.design.unit_cube(start, stop, n_total, len(flow.inputs), seed)
        values = flow.inputs.from_unit_cube(u)
        n_draws = len(next(iter(self.posterior.values())))
        index = np.minimum((u[:, self.calibrated_column] * n_draws).astype(np.int64), n_draws - 1)
        values.update({name: draws[index] for name, draws in self.posterior.items()})
        return values

    def evaluate(self, inputs: Batch) -> Batch:
        """The workflow's outputs and ``status`` on a batch of input values."""
        return self.workflow.evaluate(inputs)

    def describe(self) -> RunDescription:
        """The workflow's description, under this name, with the calibrated inputs described as
        posterior draws and the workflow text ending in a comment naming them (stored with the
        run, and part of a resumable store's fingerprint)."""
        about = self.workflow.describe()
        drawn = f"posterior draws from {self.posterior_origin}"
        text = about.source_text
        if text:
            digest = hashlib.sha256(np.stack(list(self.posterior.values())).tobytes()).hexdigest()[:16]
            text = (f"{text.rstrip()}\n\n# uqms run --posterior: {list(self.posterior)} "
                    f"drawn from {self.posterior_origin} (draws sha256 {digest})\n")
        inputs = tuple(replace(spec, distribution=drawn) if spec.name in self.posterior else spec for spec in about.inputs)
        return replace(about, name=self.name, source_text=text, content=text or about.content, inputs=inputs,
                       posterior_inputs=tuple(self.posterior))

    run = Workflow.run  # the workflow's run, on this workflow's draws


def posterior_workflow(workflow: Workflow, calibration: az.InferenceData | str | Path) -> PosteriorWorkflow:
    """``workflow`` with its calibrated inputs drawn from ``calibration`` (InferenceData or its NetCDF)."""
    from uqms.calibration.inference_data import load

    origin = "<InferenceData>"
    if not isinstance(calibration, az.InferenceData):
        origin = str(calibration)
        if not Path(calibration).exists():
            raise WorkflowError(origin, "", "no such calibration file")
        try:
            calibration = load(calibration)
        except (OSError, ValueError) as error:
            raise WorkflowError(origin, "", f"not a calibration NetCDF file: {error}") from None
    if "posterior" not in calibration.groups() or "calibrated_inputs" not in calibration.posterior.attrs:
        raise WorkflowError(origin, "posterior", "no posterior of calibrated inputs; expected a file written by uqms calibrate")
    return PosteriorWorkflow(workflow, posterior_draws(calibration), origin)
