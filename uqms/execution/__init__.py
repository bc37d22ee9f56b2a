"""Running workflows: batches, run Datasets and their stores.

The names below are imported when first used: ``uqms validate`` checks a scheduler
address through :mod:`uqms.execution.scheduler` without paying for Dask, xarray and Zarr.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from uqms._lazy import lazy_attributes

_PUBLIC = {
    "RunDescription": "uqms.execution.protocol",
    "Runnable": "uqms.execution.protocol",
    "batch_bounds": "uqms.execution.runner",
    "build_dataset": "uqms.execution.dataset",
    "evaluate_batch": "uqms.execution.runner",
    "execute": "uqms.execution.runner",
    "input_names": "uqms.execution.dataset",
    "load_run": "uqms.execution.store",
    "open_run": "uqms.execution.store",
    "output_names": "uqms.execution.dataset",
    "save_run": "uqms.execution.store",
    "status_messages": "uqms.execution.dataset",
}

__all__ = [
    "RunDescription", "Runnable", "batch_bounds", "build_dataset", "evaluate_batch", "execute", "input_names", "load_run", "open_run",
    "output_names", "save_run", "status_messages",
]

if TYPE_CHECKING:
    from uqms.execution.dataset import (
        build_dataset,
        input_names,
        output_names,
        status_messages,
    )
    from uqms.execution.protocol import RunDescription, Runnable
    from uqms.execution.runner import batch_bounds, evaluate_batch, execute
    from uqms.execution.store import load_run, open_run, save_run


__getattr__, __dir__ = lazy_attributes(__name__, globals(), _PUBLIC)
