"""``run.uqms``: the one reader of a run's metadata (the way xarray accessors add a domain's methods).

A run stores what it is in its attrs (JSON texts, the workflow file as run) and in the
attrs of its variables. Reductions, reports and ``uqms show`` ask this accessor and
never parse attrs themselves::

    run.uqms.inputs, run.uqms.outputs, run.uqms.ok, run.uqms.failures, run.uqms.settings
"""

from __future__ import annotations

import json
import re
import tomllib
from functools import cached_property

import numpy as np
import xarray as xr

POSTERIOR_NOTE = re.compile(r"^# uqms run --posterior: (\[.*?\]) drawn from", re.MULTILINE)
DISCRETE_MARK = "_categorical_cdf"  # in the repr of uqms's categorical and discrete distributions


@xr.register_dataset_accessor("uqms")
class RunAccessor:
    """Metadata of a uqms run: inputs, outputs, statuses, design and analysis settings."""

    def __init__(self, run: xr.Dataset):
        self._run = run

    @cached_property
    def inputs(self) -> list[str]:
        """Names of the uncertain inputs, in design order."""
        return json.loads(self._run.attrs["input_names"])

    @cached_property
    def outputs(self) -> list[str]:
        """Names of the outputs, in chain order."""
        return json.loads(self._run.attrs["output_names"])

    @cached_property
    def status_messages(self) -> dict[int, str]:
        """The ``{code: message}`` table of the run."""
        return {int(k): v for k, v in json.loads(self._run.attrs["status_messages"]).items()}

    @cached_property
    def status(self) -> np.ndarray:
        """Status codes (``sample``, or ``sample`` x ``inner`` when nested), loaded once."""
        return np.asarray(self._run["status"].values)

    @property
    def ok(self) -> xr.DataArray:
        """True where a sample (a nested sample's inner draw) finished with status 0."""
        return xr.DataArray(self.status == 0, dims=self._run["status"].dims)

    @cached_property
    def failures(self) -> dict[str, int]:
        """``{message: count}`` of the evaluations left out of every reduction (status != 0)."""
        codes, counts = np.unique(self.status[self.status != 0], return_counts=True)
        return {self.status_messages.get(int(c), f"status {int(c)}"): int(k) for c, k in zip(codes, counts, strict=True)}

    @property
    def n_failed(self) -> int:
        return int(sum(self.failures.values()))

    @property
    def design(self) -> str:
        return str(self._run.attrs.get("design", "?"))

    @property
    def nested(self) -> bool:
        return "inner" in self._run.dims

    @cached_property
    def saltelli_blocks(self) -> tuple[str, dict[str, list[str]]]:
        """What a Saltelli run swapped: ``("input" or "group", {block: [input names]})``."""
        if "saltelli_blocks" not in self._run.attrs:
            return "input", {name: [name] for name in self.inputs}
        return self._run.attrs["saltelli_by"], json.loads(self._run.attrs["saltelli_blocks"])

    @cached_property
    def groups(self) -> dict[str, list[str]]:
        """``{group: [input names]}`` from the inputs' ``group`` attrs, in design order."""
        groups: dict[str, list[str]] = {}
        for name in self.inputs:
            groups.setdefault(self._run[name].attrs.get("group") or name, []).append(name)
        return groups

    @cached_property
    def workflow(self):
        """The workflow file stored with the run, validated (:class:`~uqms.config.WorkflowFile`), or None."""
        from uqms.config import parse_workflow

        text = self._run.attrs.get("workflow_text")
        return parse_workflow(tomllib.loads(text), self.source) if text else None

    @property
    def source(self) -> str:
        return str(self._run.attrs.get("workflow_file", "<run>"))

    @cached_property
    def settings(self):
        """The run's ``[analysis]`` table (:class:`~uqms.config.AnalysisSection`), or its defaults."""
        from uqms.config import AnalysisSection

        return (self.workflow.analysis if self.workflow else None) or AnalysisSection()

    @property
    def requested_analysis(self) -> bool:
        """Whether the workflow file asked for an analysis (an ``[analysis]`` table)."""
        return bool(self.workflow and self.workflow.analysis)

    @cached_property
    def posterior_inputs(self) -> list[str]:
        """Inputs drawn from a calibration's posterior (``uqms run --posterior``): jointly, not from their priors."""
        if "posterior_inputs" in self._run.attrs:
            return json.loads(self._run.attrs["posterior_inputs"])
        found = POSTERIOR_NOTE.search(self._run.attrs.get("workflow_text", ""))
        return json.loads(found.group(1).replace("'", '"')) if found else []

    @cached_property
    def correlated_inputs(self) -> list[str]:
        """Inputs in a ``[[correlations]]`` block of the workflow file."""
        if self.workflow is None:
            return []
        return [name for block in self.workflow.correlations for name in block.inputs]

    @property
    def dependent_inputs(self) -> list[str]:
        """Inputs that are not independent of the others: posterior draws and correlated inputs."""
        return [name for name in self.inputs if name in {*self.posterior_inputs, *self.correlated_inputs}]

    @cached_property
    def discrete_inputs(self) -> list[str]:
        """Inputs with a finite set of values (ensemble members, categorical and discrete distributions)."""
        return [name for name in self.inputs if self._run[name].attrs.get("discrete")
                or DISCRETE_MARK in self._run[name].attrs.get("distribution", "")]

    def input_set(self):
        """The joint (prior) distribution of the inputs, rebuilt from the stored workflow file."""
        from uqms.errors import WorkflowError
        from uqms.inputs import InputSet
        from uqms.workflow import inputs_from_config

        if self.workflow is None:
            raise WorkflowError(self.source, "", "the run stores no workflow text (made from Python?): pass its InputSet")
        return InputSet(*inputs_from_config(self.workflow, self.source))

    def input_matrix(self, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Input values of the chosen samples, shaped ``(d, n)`` in design order."""
        return np.stack([np.asarray(self._run[name].values)[rows] for name in self.inputs])
