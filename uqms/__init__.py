"""uqms: uncertainty quantification over multiscale simulation chains."""

import logging
import os
from importlib.metadata import PackageNotFoundError, version

import chaospy  # noqa: E402, F401 - imported first: its import configures logging, undone below


def _undo_chaospy_logging() -> None:
    """chaospy's import calls ``logging.basicConfig(level=DEBUG, filename=os.devnull)``
    (unless ``CHAOSPY_LOGPATH`` is set): every library's records, warnings included,
    would go to /dev/null instead of the terminal, and chaospy's distributions log on
    every call, which costs more than a prior density or an inverse transform. Undo
    exactly that, and keep chaospy at WARNING unless its debugging is asked for."""
    if os.environ.get("CHAOSPY_LOGPATH"):
        return
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "baseFilename", None) == os.devnull]:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(logging.WARNING)
    if os.environ.get("CHAOSPY_DEBUG") != "1":
        logging.getLogger("chaospy").setLevel(logging.WARNING)


_undo_chaospy_logging()

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
