"""Preloaded into the worker processes of uqms's local cluster (``distributed.worker.preload``).

Ctrl-C in a terminal reaches every process of its group: the workers would each print
a traceback, while the driver already stops them and says in one line what happened.
"""

import signal


def dask_setup(worker) -> None:
    """Let the driver alone handle Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
