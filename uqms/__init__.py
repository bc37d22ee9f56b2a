"""uqms: uncertainty quantification over multiscale simulation chains.

The public names below are imported when first used, so that ``import uqms`` (and the
``uqms`` command) does not pay for numpy, chaospy, xarray or Dask up front.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from uqms._lazy import lazy_attributes

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


_lazy_getattr, _lazy_dir = lazy_attributes(__name__, globals(), _PUBLIC)


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("uqms")
        except PackageNotFoundError:  # a source tree that is not installed
            return "0.0.0"
    return _lazy_getattr(name)


def __dir__() -> list[str]:
    return [*_lazy_dir(), "__version__"]
