"""glibc's malloc thresholds for the processes that evaluate batches.

A batch's numpy temporaries are megabytes. Where glibc maps such a block afresh (above its
mmap threshold) or gives freed memory back to the system (above its trim threshold),
every later batch faults its pages in again: on the site-averaged chain ~1.5 page faults
a sample in a synchronous run, 20-30 us of system CPU a sample on this kind of machine,
where evaluating the sample takes 30. Dask's nanny even fixes the thresholds low for
its workers (``MALLOC_TRIM_THRESHOLD_`` 64 KiB). The thresholds here are those glibc's
own adaptive threshold can grow to (32 MiB mapped from the heap, twice that kept before
trimming): set by the environment of uqms's local workers (read by glibc at process
start) and by :func:`keep_freed_memory` in a process that evaluates batches itself.
"""

from __future__ import annotations

import ctypes
import functools

MMAP_THRESHOLD = 32 * 2**20  # B
TRIM_THRESHOLD = 64 * 2**20  # B
ENVIRON = {"MALLOC_MMAP_THRESHOLD_": MMAP_THRESHOLD, "MALLOC_TRIM_THRESHOLD_": TRIM_THRESHOLD}
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)


@functools.cache
def keep_freed_memory() -> bool:
    """Set the thresholds in this process through glibc's ``mallopt`` (once); whether it could
    (False where the C library is not glibc)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
