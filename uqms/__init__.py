"""uqms: uncertainty quantification over multiscale simulation chains."""

import logging
import os
from importlib.metadata import PackageNotFoundError, version

# chaospy's import sends the root logger's DEBUG records to os.devnull, and its
# distributions log on every call: formatting those records costs more than a prior
# density or an inverse transform. Keep chaospy at WARNING unless its debugging is asked for.
if not os.environ.get("CHAOSPY_LOGPATH") and os.environ.get("CHAOSPY_DEBUG") != "1":
    logging.getLogger("chaospy").setLevel(logging.WARNING)

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
