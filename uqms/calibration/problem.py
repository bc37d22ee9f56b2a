"""The posterior of a calibration: prior x likelihood of the data, the chain evaluated
for every walker at every experiment in one batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from uqms.calibration.data import Measurements
from uqms.calibration.likelihood import Likelihood
from uqms.calibration.priors import SIGMA, Prior
from uqms.errors import WorkflowError

if TYPE_CHECKING:
    from uqms.workflow import Workflow


class CalibrationProblem:
    """Log posterior of calibrated inputs given measurements.

    The conditions of each experiment (constants or inputs named by the data's columns)
    replace the workflow's values; calibrated inputs vary per walker; the workflow's
    other uncertain inputs are held at their prior median (listed in ``fixed``).

    Args:
        workflow: the :class:`~uqms.workflow.Workflow`.
        data: the checked measurements.
        inputs: names of the calibrated inputs (default: every input the data do not set).
        likelihood: the :class:`Likelihood` (default: log10, known noise).

    Raises:
        WorkflowError: unknown or conflicting inputs, or noise neither measured nor inferred.
    """

    def __init__(self, workflow: Workflow, data: Measurements, inputs: Sequence[str] | None = None,
                 likelihood: Likelihood | None = None):
        self.workflow, self.data = workflow, data
        self.likelihood = likelihood or Likelihood()
        names = list(inputs) if inputs else [n for n in workflow.inputs.names if n not in data.conditions]
        clash = sorted(set(names) & set(data.conditions))
        if clash:
            raise WorkflowError(data.source, clash[0], "is a condition column of the data, so it cannot be calibrated")
        if SIGMA in names or SIGMA in data.conditions:
            raise WorkflowError(workflow.source, SIGMA, "is reserved for the inferred noise of the likelihood")
        if not names:
            raise WorkflowError(workflow.source, "calibration.inputs", "no input left to calibrate: the data set them all")
        try:
            self.prior = Prior(workflow.inputs, names, self.likelihood.sigma_prior)
        except ValueError as error:
            raise WorkflowError(workflow.source, "calibration.inputs", str(error)) from None
        self.calibrated = tuple(names)
        self.parameter_names = self.prior.names
        if self.likelihood.transform == "log10":
            for key, values in zip(data.keys, data.observed.T):
                if np.any(values <= 0):
                    raise WorkflowError(data.source, key, f"observations must be > 0 for a log10 likelihood, got {values.min():g}")
        if not self.likelihood.infers_noise:
            missing = [k for k, sd in zip(data.keys, data.sd.T) if np.isnan(sd).any()]
            if missing:
                raise WorkflowError(data.source, f"{missing[0]}_sd",
                                    "missing: give measured standard deviations or infer the noise (calibration.sigma)")
        self.fixed = {
            i.name: float(i.distribution.inv(0.5)) for i in workflow.inputs.inputs
            if i.name not in self.calibrated and i.name not in data.conditions
        }

    @property
    def ndim(self) -> int:
        return len(self.parameter_names)

    @property
    def shape(self) -> tuple[int, int]:
        """``(experiments, observables)``."""
        return self.data.observed.shape

    def batch(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """The chain's batch for walkers x experiments: row ``w * experiments + e`` (converted to
        the stages' units: parameters, constants and conditions are in the units the workflow gives)."""
        walkers, experiments = len(theta), len(self.data)
        rows = walkers * experiments
        batch = {name: np.broadcast_to(np.float64(c.value), (rows,)) for name, c in self.workflow.constants.items()}
        batch.update({name: np.full(rows, value) for name, value in self.fixed.items()})
        batch.update({name: np.tile(values, walkers) for name, values in self.data.conditions.items()})
        for j, name in enumerate(self.calibrated):
            batch[name] = np.repeat(theta[:, j], experiments)
        return self.workflow.to_model_units(batch)

    def predict(self, theta: np.ndarray) -> np.ndarray:
        """Chain outputs at the measured entries, ``(walkers, experiments, observables)``;
        NaN for walkers whose chain failed at an experiment."""
        theta = np.atleast_2d(theta)
        shape = (len(theta), len(self.data))
        if not len(theta):
            return np.empty(shape + (len(self.data.observables),))
        result = self.workflow.chain(self.batch(theta))
        ok = result["status"] == 0
        columns = [np.where(ok, o.select(result[o.output]), np.nan) for o in self.data.observables]
        return np.stack(columns, axis=-1).reshape(*shape, -1)

    def sigma(self, theta: np.ndarray) -> np.ndarray | None:
        return theta[:, self.parameter_names.index(SIGMA)] if self.likelihood.infers_noise else None

    def pointwise(self, theta: np.ndarray, predicted: np.ndarray) -> np.ndarray:
        """Log-likelihood of each datum, ``(walkers, experiments, observables)``."""
        return self.likelihood.pointwise(predicted, self.data.observed, self.data.sd, self.sigma(theta))

    def __call__(self, theta: np.ndarray) -> np.ndarray:
        """emcee's vectorised log probability with blobs: one row per walker holding the log
        posterior, then the pointwise log-likelihood and the predictions (flattened)."""
        theta = np.asarray(theta, dtype=float)
        n_data = int(np.prod(self.shape))
        log_prior = self.prior.logpdf(theta)
        inside = np.isfinite(log_prior)
        predicted = np.full((len(theta),) + self.shape, np.nan)
        predicted[inside] = self.predict(theta[inside])
        pointwise = np.full((len(theta),) + self.shape, -np.inf)
        pointwise[inside] = self.pointwise(theta[inside], predicted[inside])
        log_post = log_prior + pointwise.reshape(len(theta), n_data).sum(axis=1)
        log_post[~inside] = -np.inf
        return np.column_stack([log_post, pointwise.reshape(len(theta), n_data), predicted.reshape(len(theta), n_data)])

    def split_blobs(self, blobs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise log-likelihood and predictions from emcee blobs ``(..., 2 * data)``."""
        n_data = int(np.prod(self.shape))
        blobs = np.asarray(blobs).reshape(*np.shape(blobs)[:2], 2 * n_data)
        lead = blobs.shape[:-1]
        return blobs[..., :n_data].reshape(*lead, *self.shape), blobs[..., n_data:].reshape(*lead, *self.shape)
