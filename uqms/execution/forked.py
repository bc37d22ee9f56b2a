"""A forked child process that evaluates calls for this one: a crash or a hang of a stage
costs the child, never the driver.

Small runs are not worth a local Dask cluster (5-10 s to start), but a stage that crashes
its process (``os.abort``, a segfault, the kernel's out-of-memory killer) must not take
the run down with it. Forking costs about 10 ms; the child inherits the loaded workflow,
so nothing is pickled on the way in, and its results come back through a pipe. After a
crash or a timeout the child is killed and the next call forks a new one. POSIX only:
:func:`available` says whether this platform can fork.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any, Self


def available() -> bool:
    """Whether processes can be forked here (not on Windows)."""
    return "fork" in multiprocessing.get_all_start_methods()


class ChildLost(Exception):
    """The child died (``timed_out`` False) or ran longer than its limit (True)."""

    def __init__(self, timed_out: bool):
        super().__init__("ran longer than its time limit" if timed_out else "its process died (a crash or its memory)")
        self.timed_out = timed_out


class ForkedProcess:
    """Calls ``function(*bound, *args)`` in a forked child, one call at a time. ``bound``
    (e.g. the workflow) reaches the child by the fork, never pickled; ``function`` (a
    module-level function), ``args`` and the result are. Use as a context manager (the
    child is ended on exit)."""

    def __init__(self, *bound: Any):
        self.bound = bound
        self.child = self.connection = None

    def call(self, function: Callable[..., Any], *args: Any, limit: float) -> Any:
        """``function(*bound, *args)`` computed in the child within ``limit`` s; an exception
        raised there is raised here.

        Raises:
            ChildLost: the child died or ran out of time (it is then killed).
        """
        self.start()
        self.connection.send((function, args))
        try:
            if not self.connection.poll(limit):
                self.close()
                raise ChildLost(timed_out=True)
            ok, value = self.connection.recv()
        except (EOFError, ConnectionError):
            self.close()
            raise ChildLost(timed_out=False) from None
        if not ok:
            raise value
        return value

    def start(self) -> None:
        """Fork the child now, if there is none (the next call does otherwise)."""
        if self.child is not None:
            return
        context = multiprocessing.get_context("fork")
        self.connection, child_end = context.Pipe()
        self.child = context.Process(target=_serve, args=(child_end, self.bound), daemon=True)
        self.child.start()
        child_end.close()

    def close(self) -> None:
        if self.child is not None:
            self.child.kill()
            self.child.join()
            self.connection.close()
        self.child = self.connection = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _serve(connection, bound: tuple) -> None:
    """The child's loop: compute each call sent, send back ``(ok, value or error)``."""
    while True:
        try:
            function, args = connection.recv()
        except EOFError:  # the parent is gone
            return
        try:
            reply = (True, function(*bound, *args))
        except Exception as error:  # noqa: BLE001 - raised again in the parent
            reply = (False, error)
        connection.send(reply)
