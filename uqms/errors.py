"""Errors raised by uqms before any work starts."""

from __future__ import annotations


class UqmsError(Exception):
    """Base class of every error uqms raises on purpose."""


class WiringError(UqmsError):
    """A chain whose stages cannot be connected (missing, duplicate or late names)."""


class WorkflowError(UqmsError):
    """A workflow file (or its Python equivalent) that cannot be used.

    Args:
        source: file the problem is in (or a description such as ``"<dict>"``).
        key: dotted key path inside the file, e.g. ``inputs.x1.std``.
        message: what was found and what was expected.
    """

    def __init__(self, source: str, key: str, message: str):
        self.source, self.key, self.message = str(source), key, message
        where = f"{self.source}: {key}" if key else self.source
        super().__init__(f"{where}: {message}")
