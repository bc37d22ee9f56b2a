"""Numbers that may be uncertain: a value in a file is a number or the name of a batch entry.

Any slope, intercept, energy, prefactor or sticking coefficient of a mechanism may be
written as a name (``slope = "gamma_H"``); the value is then read from the batch, so it
can be an uncertain input or the output of an upstream stage.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated

import numpy as np
from pydantic import Field

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"

#: A number, or the name of a batch entry holding one value per sample.
Value = float | Annotated[str, Field(pattern=NAME_PATTERN)]


def resolve(value: float | str, batch: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    """The per-sample array of ``value``: a number broadcast to ``(n,)`` or ``batch[value]``."""
    if isinstance(value, str):
        array = np.asarray(batch[value], dtype=float)
        if array.shape != (n,):
            raise ValueError(f"batch entry {value!r} has shape {array.shape}, expected ({n},)")
        return array
    return np.full(n, float(value))


def names(values: Iterable[object]) -> list[str]:
    """The batch names among ``values`` (numbers and ``None`` are skipped), in order, once each."""
    found: list[str] = []
    for value in values:
        if isinstance(value, str) and value not in found:
            found.append(value)
    return found


def expected_units(inputs: Iterable[str], declared: Mapping[str, str],
                   options: Iterable[tuple[object, str]] = ()) -> dict[str, str]:
    """A stage's ``input_units``: ``declared`` units plus the unit of each option that names a
    batch entry (``(value, unit)`` pairs; numbers are skipped), restricted to ``inputs``. A name
    given two different units (say one used both as a temperature and as an energy) is left
    out: its values are passed as given."""
    found = dict(declared)
    ambiguous: set[str] = set()
    for value, unit in options:
        if isinstance(value, str):
            if found.get(value, unit) != unit:
                ambiguous.add(value)
            found[value] = unit
    return {name: found[name] for name in inputs if name in found and name not in ambiguous}
