"""A time limit on code run in this process (the synchronous scheduler's task timeout).

A Dask task out of time is stopped by ending its worker process; in this process the
only way to stop a stage is to interrupt it: ``signal.setitimer`` delivers ``SIGALRM``
to the main thread, whose handler raises :class:`TaskTimeout` in the middle of the
stage. It derives from ``BaseException``, like ``KeyboardInterrupt``, so the chain's
``except Exception`` (which isolates the samples a stage raises on) lets it through to
the runner, which bisects the batch like a task out of time on Dask.

Python drops an exception raised where it cannot propagate (a finaliser, a callback of a
C library: seen in numba's clean-up while it compiled), so one ``SIGALRM`` may be lost:
after the limit the signal repeats every :data:`REPEAT` s until the block ends, and a
block that ends after its limit without the timeout raises it on the way out.

Limits: the signal is handled between Python bytecodes, so a stage stuck inside one
call into C (a solver that never returns to Python) cannot be interrupted this way (run
it on a Dask scheduler); a stage that catches ``BaseException`` every time swallows the timeout. Only
the main thread of a POSIX process receives signals: elsewhere the limit is not applied.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

REPEAT = 0.5  # s between repeats of the signal once the limit has passed


class TaskTimeout(BaseException):
    """Code run under :func:`time_limit` ran out of time."""


def can_limit_time() -> bool:
    """Whether :func:`time_limit` applies here (the main thread of a POSIX process)."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`TaskTimeout` in the block after ``seconds`` s (None or where
    :func:`can_limit_time` is false: no limit). The previous ``SIGALRM`` handler is put back."""
    if seconds is None or not can_limit_time():
        yield
        return

    message = f"still running after {seconds:g} s"
    expired = []

    def expire(signum, frame):
        expired.append(True)
        raise TaskTimeout(message)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds, REPEAT)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if expired:  # the block got past a timeout dropped on the way
        raise TaskTimeout(message)
