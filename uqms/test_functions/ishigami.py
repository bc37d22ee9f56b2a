"""The Ishigami function as a two-stage chain.

Y = sin(x1) + a sin(x2)^2 + b x3^4 sin(x1),  x_i ~ U(-pi, pi).
Analytic moments and Sobol indices: Ishigami & Homma (1990); Sobol' & Levitan (1999).
"""

from __future__ import annotations

import numpy as np

from uqms.models.stage import Batch


def mean(a: float = 7.0) -> float:
    return a / 2


def variance(a: float = 7.0, b: float = 0.1) -> float:
    return a**2 / 8 + b * np.pi**4 / 5 + b**2 * np.pi**8 / 18 + 0.5


def sobol_indices(a: float = 7.0, b: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """First-order and total Sobol indices of (x1, x2, x3)."""
    v = variance(a, b)
    v1 = 0.5 * (1 + b * np.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * np.pi**8 * (1 / 18 - 1 / 50)
    first = np.array([v1, v2, 0.0]) / v
    total = np.array([v1 + v13, v2, v13]) / v
    return first, total


class Sines:
    """Stage 1: the sines of x1 and x2."""

    inputs = ("x1", "x2")
    input_units = {"x1": "rad", "x2": "rad"}
    outputs = ("sin_x1", "sin_x2")
    units = {"sin_x1": "1", "sin_x2": "1"}
    name = "ishigami.sines"

    def __call__(self, batch: Batch) -> Batch:
        return {"sin_x1": np.sin(batch["x1"]), "sin_x2": np.sin(batch["x2"])}


class Combine:
    """Stage 2: y = sin_x1 + a sin_x2^2 + b x3^4 sin_x1 (a, b read from the batch)."""

    inputs = ("sin_x1", "sin_x2", "x3", "a", "b")
    input_units = {"x3": "rad", "a": "1", "b": "1"}
    outputs = ("y",)
    units = {"y": "1"}
    name = "ishigami.combine"

    def __call__(self, batch: Batch) -> Batch:
        s1, s2, x3 = batch["sin_x1"], batch["sin_x2"], batch["x3"]
        return {"y": s1 + batch["a"] * s2**2 + batch["b"] * x3**4 * s1}
