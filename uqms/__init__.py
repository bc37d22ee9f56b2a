"""uqms: uncertainty quantification over multiscale simulation chains."""

from importlib.metadata import PackageNotFoundError, version

from uqms.errors import UqmsError, WiringError, WorkflowError
from uqms.execution import load_run, save_run
from uqms.inputs import Constant, Correlation, InputSet, UncertainInput
from uqms.models import Chain, FunctionStage, Stage, register_stage, stage
from uqms.workflow import Workflow

try:
    __version__ = version("uqms")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = [
    "Chain", "Constant", "Correlation", "FunctionStage", "InputSet", "Stage", "UncertainInput",
    "UqmsError", "WiringError", "Workflow", "WorkflowError", "load_run", "register_stage", "save_run", "stage",
]
