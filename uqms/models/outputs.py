"""Outputs a stage declares once: name, dims, unit and bounds, a name prefix applied in one place.

A stage lists its outputs as :class:`Output` entries and keeps them as
:class:`DeclaredOutputs`; mixing in :class:`DeclaresOutputs` derives the attributes of
the stage protocol (``outputs``, ``output_dims``, ``units``, ``bounds``, ``output_coords``)
from them, and :meth:`DeclaredOutputs.batch` names the stage's result the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

import numpy as np

from uqms.models.stage import Batch

Bounds = tuple[float | None, float | None]


class Output(NamedTuple):
    """One output of a stage, before any prefix.

    Args:
        name: the output's name.
        dims: names of its axes after the sample axis (``()`` for one number per sample).
        units: its unit (None: not declared).
        bounds: ``(low, high)`` of its support, None for an open side (None: unbounded).
    """

    name: str
    dims: tuple[str, ...] = ()
    units: str | None = "1"
    bounds: Bounds | None = None


class DeclaredOutputs:
    """A stage's outputs, every name and dim prefixed with ``prefix`` (to run several
    mechanisms in one chain), with the labels ``coords`` along their dims.

    Raises:
        ValueError: an output declared twice.
    """

    def __init__(self, outputs: Iterable[Output], prefix: str = "", coords: Mapping[str, Sequence] | None = None):
        self.declared, self.prefix = tuple(outputs), prefix
        names = [spec.name for spec in self.declared]
        if len(set(names)) < len(names):
            raise ValueError(f"outputs declared twice: {sorted({n for n in names if names.count(n) > 1})}")
        self.names = tuple(prefix + name for name in names)
        self.dims = {prefix + spec.name: tuple(prefix + d for d in spec.dims) for spec in self.declared if spec.dims}
        self.units = {prefix + spec.name: spec.units for spec in self.declared if spec.units is not None}
        self.bounds = {prefix + spec.name: spec.bounds for spec in self.declared if spec.bounds is not None}
        self.coords = {prefix + dim: list(labels) for dim, labels in (coords or {}).items()}

    def batch(self, values: Mapping[str, np.ndarray], status: np.ndarray | None = None) -> Batch:
        """A stage's result: ``values`` by unprefixed output name, named as declared (with
        the sample ``status`` if given).

        Raises:
            KeyError: an output missing from ``values``, or one not declared.
        """
        unknown = sorted(set(values) - {spec.name for spec in self.declared})
        if unknown:
            raise KeyError(f"values of outputs never declared: {unknown}")
        result = {self.prefix + spec.name: values[spec.name] for spec in self.declared}
        if status is not None:
            result["status"] = status
        return result


class DeclaresOutputs:
    """Mixin of a stage whose outputs are :class:`DeclaredOutputs` in ``self.declared``:
    the stage protocol's output attributes, derived from them."""

    declared: DeclaredOutputs

    @property
    def outputs(self) -> tuple[str, ...]:
        return self.declared.names

    @property
    def output_dims(self) -> dict[str, tuple[str, ...]]:
        return self.declared.dims

    @property
    def units(self) -> dict[str, str]:
        return self.declared.units

    @property
    def bounds(self) -> dict[str, Bounds]:
        return self.declared.bounds

    @property
    def output_coords(self) -> dict[str, list]:
        return self.declared.coords
