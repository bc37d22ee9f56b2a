"""Running workflows: batches, run Datasets and their stores."""

from uqms.execution.dataset import (
    build_dataset,
    input_names,
    output_names,
    status_messages,
)
from uqms.execution.runner import batch_bounds, evaluate_batch, execute
from uqms.execution.store import load_run, open_run, save_run

__all__ = ["batch_bounds", "build_dataset", "evaluate_batch", "execute", "input_names", "load_run", "open_run", "output_names", "save_run", "status_messages"]
