"""BLAS on one thread while a batch of the chain is evaluated.

The chain's numpy work is on skinny arrays (samples x a few species or nodes), where
OpenBLAS's threads only spin: on the ammonia chain, its default of one thread per core
burnt ~4.7 us of CPU per sample (8.1 us with one thread) for no gain in wall time. Dask's
nanny starts the workers of a local cluster with ``OPENBLAS_NUM_THREADS=1`` and the like
(``distributed.nanny.pre-spawn-environ``); :func:`one_blas_thread` gives the synchronous
path and its forked child the same, for the evaluation only: the analysis (large
matrices) keeps every thread.
"""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager


class _Libraries:
    """A ``threadpoolctl.ThreadpoolController`` of the BLAS libraries loaded, made again only
    when modules were imported since (an import may load another BLAS: scipy's wheels bring
    their own OpenBLAS beside numpy's). Finding the libraries costs ~1 ms; limiting them
    through a controller made before, ~15 us."""

    def __init__(self):
        self.found, self.modules = None, -1

    def controller(self):
        if len(sys.modules) != self.modules:
            from threadpoolctl import ThreadpoolController

            self.found, self.modules = ThreadpoolController(), len(sys.modules)
        return self.found


_loaded = _Libraries()


def one_blas_thread() -> AbstractContextManager:
    """A context in which every BLAS library loaded in this process runs on one thread."""
    return _loaded.controller().limit(limits=1, user_api="blas")
