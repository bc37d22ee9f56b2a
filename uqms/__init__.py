"""uqms: uncertainty quantification over multiscale simulation chains.

The public names below are imported when first used, so that ``import uqms`` (and the
``uqms`` command) does not pay for numpy, chaospy, xarray or Dask up front.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_PUBLIC = {
    "Chain": "uqms.models.stage",
    "Constant": "uqms.inputs.parameters",
    "Correlation": "uqms.inputs.parameters",
    "FunctionStage": "uqms.models.stage",
    "InputSet": "uqms.inputs.parameters",
    "Stage": "uqms.models.stage",
    "UncertainInput": "uqms.inputs.parameters",
    "UqmsError": "uqms.errors",
    "WiringError": "uqms.errors",
    "Workflow": "uqms.workflow",
    "WorkflowError": "uqms.errors",
    "load_run": "uqms.execution.store",
    "save_run": "uqms.execution.store",
    "stage": "uqms.models.stage",
}

__all__ = [
    "Chain", "Constant", "Correlation", "FunctionStage", "InputSet", "Stage", "UncertainInput",
    "UqmsError", "WiringError", "Workflow", "WorkflowError", "load_run", "save_run", "stage",
]

if TYPE_CHECKING:
    from uqms.errors import UqmsError, WiringError, WorkflowError
    from uqms.execution.store import load_run, save_run
    from uqms.inputs.parameters import Constant, Correlation, InputSet, UncertainInput
    from uqms.models.stage import Chain, FunctionStage, Stage, stage
    from uqms.workflow import Workflow


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("uqms")
        except PackageNotFoundError:  # a source tree that is not installed
            return "0.0.0"
    if name not in _PUBLIC:
        raise AttributeError(f"module 'uqms' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return [*globals(), *_PUBLIC, "__version__"]
