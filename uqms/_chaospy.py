"""chaospy, imported with the logging set-up of its import undone.

chaospy's import calls ``logging.basicConfig(level=DEBUG, filename=os.devnull)`` (unless
``CHAOSPY_LOGPATH`` is set): every library's records, warnings included, would go to
/dev/null instead of the terminal, and chaospy's distributions log on every call, which
costs more than a prior density or an inverse transform. uqms imports chaospy only
through this module (``from uqms._chaospy import chaospy``), which undoes exactly that
and keeps chaospy at WARNING unless its debugging is asked for (``CHAOSPY_DEBUG=1``).
"""

import logging
import os

import chaospy


def _undo_chaospy_logging() -> None:
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

__all__ = ["chaospy"]
