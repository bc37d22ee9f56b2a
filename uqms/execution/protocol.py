"""What the executor needs of a model to run it: sample inputs, evaluate a batch, describe itself.

A :class:`~uqms.workflow.Workflow` is one; so is a workflow whose calibrated inputs are
drawn from a posterior. The runner, the run Dataset and the store's fingerprint see only
this protocol, never the workflow's chain, design or input set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from uqms.models.stage import Batch


@dataclass(frozen=True)
class InputDescription:
    """One uncertain input as stored with a run.

    Args:
        unit: the unit the values are given (and stored) in.
        model_units: the unit the stages read it in, when it is converted (else None).
        distribution: a short text of its distribution (or of where its draws come from).
        discrete: whether the distribution is a finite one (categorical, ensemble member).
    """

    name: str
    unit: str
    kind: str
    group: str
    description: str
    distribution: str
    discrete: bool
    model_units: str | None = None


@dataclass(frozen=True)
class ConstantDescription:
    """One constant as stored with a run (``value`` in ``unit``; ``model_units`` as for inputs)."""

    name: str
    value: float
    unit: str
    description: str
    model_units: str | None = None


@dataclass(frozen=True)
class OutputDescription:
    """One output of the chain.

    Args:
        dims: names of its axes after the sample dims (None: not declared, numbered by the run).
        units: its unit (``""`` if undeclared).
        bounds: ``(low, high)`` of its support, None for an open side.
    """

    name: str
    dims: tuple[str, ...] | None
    units: str
    bounds: tuple[float | None, float | None] = (None, None)


@dataclass(frozen=True)
class RunDescription:
    """Everything a run records about its model, and what decides its values (its fingerprint).

    Args:
        name: label of the run.
        source, source_text: the file the model came from and its text.
        content: what decides the model's values besides design, seed and files: the
            file's text, or a text of inputs, constants and stages for a model built in Python.
        files: ``{path: sha256}`` of the data files it reads.
        design, design_by, design_blocks: the design's method, what a Saltelli design swaps and
            its blocks (``{block: [input names]}``).
        fixed_n: why the design's samples depend on the sample count (None: they do not,
            and a run can be extended).
        inner: aleatoric draws per sample of a nested design (0: flat).
        sample_dims: dims of one value of a scalar output (``("sample",)`` or ``("sample", "inner")``).
        status_messages: ``{code: message}`` of the codes (>0) the model may return.
        output_coords: labels along output dims, by dim.
        posterior_inputs: inputs drawn jointly from a calibration's posterior (none by default).
    """

    name: str
    source: str
    source_text: str
    content: str
    files: dict[str, str]
    design: str
    design_by: str
    design_blocks: dict[str, list[str]]
    fixed_n: str | None
    inner: int
    sample_dims: tuple[str, ...]
    inputs: tuple[InputDescription, ...]
    constants: tuple[ConstantDescription, ...]
    outputs: tuple[OutputDescription, ...]
    status_messages: dict[int, str]
    output_coords: dict[str, list] = field(default_factory=dict)
    posterior_inputs: tuple[str, ...] = ()

    @property
    def input_names(self) -> list[str]:
        return [spec.name for spec in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [spec.name for spec in self.outputs]


@runtime_checkable
class Runnable(Protocol):
    """A model the executor can run: pure functions of (sample indices, seed), and a description.

    It is sent to Dask workers, so it must pickle.
    """

    def sample_inputs(self, start: int, stop: int, n_total: int, seed: int) -> Batch:
        """Input values of samples ``start:stop`` of an ``n_total``-sample design (sample i
        depends on ``seed`` and i, and on ``n_total`` only where ``fixed_n`` says so)."""
        ...

    def evaluate(self, inputs: Batch) -> Batch:
        """Outputs and ``status`` of a batch of input values."""
        ...

    def describe(self) -> RunDescription:
        """What the run records about the model."""
        ...
