"""Uncertain inputs, constants and their joint distribution."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    import chaospy

Kind = Literal["aleatoric", "epistemic"]
KINDS: tuple[str, ...] = ("aleatoric", "epistemic")


@dataclass(frozen=True, init=False)
class UncertainInput:
    """One uncertain quantity of a workflow.

    Args:
        name: variable name, as the stages see it in their batch.
        distribution: a univariate chaospy distribution, or a specification
            (:mod:`uqms.inputs.distributions`) built into one when first used, so that
            checking a workflow does not import chaospy.
        kind: ``"aleatoric"`` (inherent variability) or ``"epistemic"`` (lack of knowledge).
        group: label used for grouped Sobol indices (defaults to the name).
        unit: physical unit of the values drawn, e.g. ``"eV"`` or ``"degC"`` (a workflow converts
            them to the unit the stage reading them expects); None: not given, taken to be that
            unit (a workflow fills it in).
        description: one line for reports.
    """

    name: str
    specification: Any = field(repr=False)
    kind: Kind = "epistemic"
    group: str = ""
    unit: str | None = None
    description: str = ""

    def __init__(self, name: str, distribution: Any, kind: Kind = "epistemic", group: str = "", unit: str | None = None,
                 description: str = ""):
        fields = {"name": name, "specification": distribution, "kind": kind, "group": group or name, "unit": unit,
                  "description": description}
        for key, value in fields.items():
            object.__setattr__(self, key, value)
        if kind not in KINDS:
            raise ValueError(f"input {name!r}: kind must be one of {KINDS}, got {kind!r}")
        if not hasattr(distribution, "build") and len(distribution) != 1:
            raise ValueError(f"input {name!r}: distribution must be univariate")

    @cached_property
    def distribution(self) -> chaospy.Distribution:
        """The univariate chaospy distribution."""
        spec = self.specification
        return spec.build() if hasattr(spec, "build") else spec


@dataclass(frozen=True)
class Constant:
    """A fixed value handed to the stages like an input (broadcast over samples), in ``unit``
    (None: not given, taken to be the unit the stage reading it expects)."""

    name: str
    value: float
    unit: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Correlation:
    """A correlation matrix between named inputs, applied through a Gaussian (Nataf) copula.

    For normal inputs the matrix is their Pearson correlation exactly; for others it is the
    correlation of their normal scores.
    """

    names: tuple[str, ...]
    matrix: np.ndarray = field(repr=False)

    def __post_init__(self):
        matrix = np.asarray(self.matrix, dtype=float)
        k = len(self.names)
        if matrix.shape != (k, k):
            raise ValueError(f"correlation matrix must be {k}x{k} for {list(self.names)}, got {matrix.shape}")
        if len(set(self.names)) != k:
            raise ValueError("correlation names must be distinct")
        if not np.allclose(matrix, matrix.T) or not np.allclose(np.diag(matrix), 1.0):
            raise ValueError("correlation matrix must be symmetric with a unit diagonal")
        if np.linalg.eigvalsh(matrix).min() <= 0:
            raise ValueError("correlation matrix must be positive definite")
        object.__setattr__(self, "matrix", matrix)


class InputSet:
    """The uncertain inputs of a workflow and their joint chaospy distribution.

    Args:
        inputs: the uncertain inputs, in the order of the design's columns.
        correlations: correlation blocks between some of the inputs (disjoint name sets).
    """

    def __init__(self, inputs: Sequence[UncertainInput], correlations: Sequence[Correlation] = ()):
        self.inputs = tuple(inputs)
        self.correlations = tuple(correlations)
        names = self.names
        if len(set(names)) != len(names):
            raise ValueError(f"input names must be distinct: {names}")
        matrix = np.eye(len(names))
        seen: set[str] = set()
        for block in self.correlations:
            unknown = [n for n in block.names if n not in names]
            if unknown:
                raise ValueError(f"correlation names unknown inputs {unknown}")
            if seen & set(block.names):
                raise ValueError(f"inputs {sorted(seen & set(block.names))} appear in two correlation blocks")
            seen |= set(block.names)
            index = [names.index(n) for n in block.names]
            matrix[np.ix_(index, index)] = block.matrix
        self.correlation_matrix = matrix

    @cached_property
    def joint(self) -> chaospy.Distribution | None:
        """The joint chaospy distribution (built when first used)."""
        from uqms._chaospy import chaospy

        if not self.inputs:
            return None
        independent = chaospy.J(*(i.distribution for i in self.inputs))
        return chaospy.Nataf(independent, self.correlation_matrix) if self.correlations else independent

    def __getstate__(self) -> dict:
        """Pickled with its joint distribution built. chaospy numbers the random variables of a
        process (the smallest number no live distribution holds), so an input given as a built
        chaospy distribution keeps its number when unpickled on a Dask worker while the others,
        built there, are numbered afresh: the same numbers, which chaospy's joint then refuses
        as stochastically dependent inputs. A joint that cannot be built is left out: where the
        inputs are sampled, building it raises that error again, and the run reports it."""
        with contextlib.suppress(Exception):
            self.joint  # noqa: B018 - a cached property: built into __dict__ before it is pickled
        return self.__dict__

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.inputs)

    def __len__(self) -> int:
        return len(self.inputs)

    def __getitem__(self, name: str) -> UncertainInput:
        return self.inputs[self.names.index(name)]

    def means(self) -> dict[str, float]:
        """Each input's mean, in its own unit."""
        from uqms._chaospy import chaospy

        return {i.name: float(chaospy.E(i.distribution)) for i in self.inputs}

    def standard_deviations(self) -> dict[str, float]:
        """Each input's standard deviation, in its own unit."""
        from uqms._chaospy import chaospy

        return {i.name: float(chaospy.Std(i.distribution)) for i in self.inputs}

    def from_unit_cube(self, u: np.ndarray) -> dict[str, np.ndarray]:
        """Map points of the unit hypercube, shape (samples, inputs), to input values."""
        if not self.inputs:
            return {}
        # Keep QMC points such as 0 off the boundary where unbounded inverses are infinite.
        tiny = np.finfo(float).eps
        values = np.atleast_2d(self.joint.inv(np.clip(u, tiny, 1 - tiny).T))
        return {name: values[k] for k, name in enumerate(self.names)}

