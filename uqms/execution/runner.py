"""Evaluate a workflow's chain on its design, batch by batch."""

from __future__ import annotations

import numpy as np
import xarray as xr

from uqms.execution.dataset import build_dataset


def batch_bounds(n: int, batch_size: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` covering ``range(n)`` in batches of ``batch_size``."""
    return [(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]


def evaluate_batch(workflow, start: int, stop: int, n: int, seed: int) -> dict[str, np.ndarray]:
    """Inputs, outputs and status of samples ``start:stop`` (a pure function of its arguments)."""
    inputs = workflow.sample_inputs(start, stop, n, seed)
    return {**inputs, **workflow.evaluate(inputs)}


def run_in_process(workflow, n: int, seed: int, batch_size: int) -> xr.Dataset:
    """Evaluate every batch in this process and assemble the run Dataset."""
    parts = [evaluate_batch(workflow, a, b, n, seed) for a, b in batch_bounds(n, batch_size)]
    arrays = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    return build_dataset(workflow, arrays, n, seed)
