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
