"""Evaluate a workflow's chain on its design, batch by batch, here or on Dask workers."""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import queue
import shutil
import threading
import time
from collections import deque
from concurrent.futures import CancelledError
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

import dask
import dask.array
import numpy as np
import xarray as xr

from uqms.errors import UqmsError
from uqms.execution import forked
from uqms.execution.blas import one_blas_thread
from uqms.execution.dataset import BATCH_FAILED, TIMED_OUT, build_dataset
from uqms.execution.forked import ChildLost, ForkedProcess
from uqms.execution.lock import store_lock
from uqms.execution.malloc import keep_freed_memory
from uqms.execution.progress import sample_progress
from uqms.execution.protocol import Runnable
from uqms.execution.run_store import RunStore, WorkerWrites, fingerprint, is_half_made
from uqms.execution.scheduler import (
    LOCAL,
    SYNCHRONOUS,
    LostWorkerReplacer,
    connect,
    scheduler_address,
)
from uqms.execution.store import open_run
from uqms.execution.time_limit import TaskTimeout, time_limit

TASK_SECONDS = 0.5  # aim for tasks long against Dask's ~2-3 ms overhead, short for balance
MAX_TASKS = 10_000
BATCH_BYTES = 16 * 2**20  # results of one batch, B; intermediates take a few times more
PROBE_SAMPLES = 64
PROBE_SECONDS = 0.05
RETRIES = 2  # Dask retries of a task that raised
SPLIT = 8  # parts a failed task is split into: each level of the search may cost a worker
WINDOW_BYTES = 256 * 2**20  # results that may wait in this process for their turn to be written, B
WRITES_WAITING = 4  # finished batches that may wait for the store writer beyond the one being written
POLL_SECONDS = 0.005  # wait between looks for finished tasks
WATCH_SECONDS = 1.0  # between checks of the scheduler and its workers
NO_WORKER_SECONDS = 60.0  # without any worker before a run gives up
MIN_TASK_TIMEOUT = 60.0  # s; the default task timeout is the larger of this and
TIMEOUT_FACTOR = 100  # times the probed time of a batch
FIRST_CALL_SECONDS = 600.0  # s more for the first sample alone: one-time costs (imports; numba compiles the
# steady-state kernel from an empty cache in ~40 s of CPU, several times that on a loaded machine)
IN_PROCESS_SECONDS = 3.0  # a run predicted shorter runs in a forked child of this process: a local cluster takes 5-10 s to start
log = logging.getLogger("uqms")

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from distributed import Client, Future
    from distributed.security import Security


def batch_bounds(n: int, batch_size: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` covering ``range(n)`` in batches of ``batch_size``."""
    return [(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]


def evaluate_batch(workflow: Runnable, start: int, stop: int, n: int, seed: int) -> dict[str, np.ndarray]:
    """Inputs, outputs and status of samples ``start:stop`` (a pure function of its arguments),
    computed with BLAS on one thread (:mod:`uqms.execution.blas`) and freed memory kept for
    the next batch (:mod:`uqms.execution.malloc`), wherever it runs."""
    keep_freed_memory()
    with one_blas_thread():
        inputs = workflow.sample_inputs(start, stop, n, seed)
        return {**inputs, **workflow.evaluate(inputs)}


def evaluate_and_write(workflow: Runnable, start: int, stop: int, n: int, seed: int, index: int,
                       writes: WorkerWrites) -> dict[str, np.ndarray] | None:
    """:func:`evaluate_batch` of batch ``index`` on a Dask worker, which writes its rows into
    the store itself (None returned) when it sees the store (:class:`WorkerWrites`) and the
    batch took under ``writes.within`` s; else the arrays, for the driver to write. A task
    the driver may have given up for its timeout (and written otherwise) never writes."""
    clock = time.monotonic()
    arrays = evaluate_batch(workflow, start, stop, n, seed)
    if time.monotonic() - clock < writes.within and writes.write_rows(arrays, index):
        return None
    return arrays


def auto_batch_size(seconds_per_sample: float, n: int, workers: int, bytes_per_sample: float = 0.0) -> int:
    """A power of two giving tasks of about ``TASK_SECONDS`` whose results stay under
    ``BATCH_BYTES`` (so memory does not grow with n), at most ``MAX_TASKS`` of them,
    and enough batches to keep every worker busy."""
    size = min(TASK_SECONDS / max(seconds_per_sample, 1e-9), BATCH_BYTES / max(bytes_per_sample, 1.0))
    if n > 2 * workers:
        size = min(size, n / (2 * workers))
    size = 2 ** int(np.floor(np.log2(max(size, 1))))
    fewest = 2 ** int(np.ceil(np.log2(n / MAX_TASKS))) if n > MAX_TASKS else 1
    return max(size, fewest)


def spread_batch_size(n: int, batch_size: int, workers: int) -> int:
    """The size of equal batches of ``n`` samples, at most ``batch_size``, whose count is a
    multiple of ``workers``, so that each worker runs as many and they finish together
    (5000 samples in batches of 2048 on 2 workers: 2048 + 904 samples on one, 2048 on the
    other; in 4 batches of 1250: 2500 on each). ``batch_size`` itself on one worker.

    The values stored for a sample can depend on its batch at the solver's tolerance
    (a steady state warm-started from its neighbours in the batch), so a run on several
    workers may differ from one in this process at that level, not beyond.
    """
    if workers <= 1:
        return batch_size
    count = -(-n // batch_size)
    count = -(-count // workers) * workers
    return max(1, -(-n // count))


def _threads(client: Client | None) -> int:
    """Threads the batches run on: those of ``client``'s workers (at least 1), 1 in this process."""
    return 1 if client is None else max(1, sum(client.nthreads().values()))


def execute(
    workflow: Runnable,
    n: int,
    seed: int,
    batch_size: int | None = None,
    scheduler: str | None = None,
    store: str | Path | None = None,
    quiet: bool = True,
    task_timeout: float | None = None,
    tls: Security | dict[str, str] | None = None,
    seconds_per_sample: float | None = None,
    resources: dict[str, float] | None = None,
) -> xr.Dataset:
    """Run ``workflow`` on ``n`` samples and return the run Dataset.

    Args:
        batch_size: samples per task; chosen from a timing of the first samples if None
            (a resumed store keeps its own).
        scheduler: ``"synchronous"``, ``"local"``, a Dask scheduler address, or None for
            ``DASK_SCHEDULER_ADDRESS`` or else a local cluster.
        store: a ``.zarr`` path written batch by batch as tasks finish; running again on
            it computes only the missing batches. Without a store, results are kept in memory.
        quiet: no progress bar.
        task_timeout: s a task may run on a Dask worker before it is stopped and its
            samples bisected (the culprit flagged); None: the larger of
            ``MIN_TASK_TIMEOUT`` and ``TIMEOUT_FACTOR`` times the probed time of a batch.
            The synchronous scheduler interrupts the stage instead (see
            :mod:`uqms.execution.time_limit` for what cannot be interrupted so).
        tls: TLS settings of a ``tls://`` scheduler: a ``distributed.security.Security``,
            ``{ca_file, cert_file, key_file}``, or None for Dask's configuration.
        seconds_per_sample: the cost of a sample, s, when known: no timed probe; batches are
            sized from it (slow samples: one per task) and the first batch stands in for the
            probe (never computed twice). None: timed on the first samples.
        resources: Dask resources one task (a batch) needs, e.g. ``{"cores": 4}``: every task
            is annotated with them, so a cluster runs it only on a worker started with as much
            (``dask worker --resources "cores=4"``); a local cluster uqms starts gets them.

    Returns:
        The run; backed lazily by the store when one is given.

    Raises:
        StoreLockedError: another live process is running into ``store``.
        StoreMismatchError: ``store`` holds another run.
    """
    with store_lock(store) if store is not None else contextlib.nullcontext() as owner:
        return _execute(workflow, n, seed, batch_size, scheduler, store, quiet, task_timeout, tls,
                        seconds_per_sample, resources, owner)


def _execute(workflow: Runnable, n: int, seed: int, batch_size: int | None, scheduler: str | None,
             store: str | Path | None, quiet: bool, task_timeout: float | None,
             tls: Security | dict[str, str] | None = None, cost: float | None = None,
             resources: dict[str, float] | None = None, owner: str | None = None) -> xr.Dataset:
    """The body of :func:`execute`, holding the store's lock (whose text is ``owner``).

    No local cluster is started for a resumed store with nothing left to compute, nor
    for a run predicted (by the probe, in this process, or the given cost) to take under
    ``IN_PROCESS_SECONDS``.
    """
    address = scheduler_address(scheduler)
    if store is not None and Path(store).exists() and is_half_made(store):
        log.warning("%s: a store whose creation was interrupted, made again", store)
        shutil.rmtree(store)
    sink = _StoreSink.resume(workflow, n, seed, store) if store is not None and Path(store).exists() else None
    if sink is not None and sink.done.all():
        log.info("%s: every batch is computed already; no scheduler started", store)
        return sink.result()
    probe, probed = {}, None
    timed, size = batch_size is None and cost is None, PROBE_SAMPLES
    probe_limit = max(task_timeout or 0.0, MIN_TASK_TIMEOUT)  # s; it also pays the first imports
    child = None  # a forked child of this process that computes a small run's batches
    if sink is None and address in (None, LOCAL) and cost is None and forked.available():
        child = ForkedProcess(workflow)  # is a local cluster worth starting? the probe says
        child.start()  # before this process starts a thread (_imported_meanwhile)
        with _imported_meanwhile():
            probed = _probe_here(lambda limit: _in_child(child, limit), probe_limit, n, seed, timed, size, True)
        if n * probed[1] < IN_PROCESS_SECONDS:
            log.info("%d samples predicted to take %.2g s: run in a child of this process (no local cluster started)",
                     n, n * probed[1])
            address = SYNCHRONOUS
        else:
            child.close()
            child = None
    annotated = dask.annotate(resources=dict(resources)) if resources else contextlib.nullcontext()
    with child or contextlib.nullcontext(), connect(address, tls, resources) as client, \
            _scheduler_watched(client), annotated:
        if sink is not None:
            batch_size, seconds_per_sample = sink.store.batch_size, sink.store.seconds_per_sample
        else:
            if client is not None and resources:
                _check_resources_offered(client, resources)
            if cost is not None:  # no timing: the first batch is the probe
                log.info("batches sized from the given cost, %g s per sample", cost)
                workers = _threads(client)
                batch_size = size = spread_batch_size(n, batch_size or auto_batch_size(cost, n, workers), workers)
            if probed is not None:
                probe, seconds_per_sample = probed
            elif client is None:
                probe, seconds_per_sample = _probe_here(lambda limit: _in_time(workflow, limit), probe_limit, n, seed, timed, size,
                                                        cost is None)
            else:  # on a worker, so a model that crashes its process never takes this driver down
                limit = task_timeout or (cost and max(MIN_TASK_TIMEOUT, TIMEOUT_FACTOR * cost * size))
                probe, seconds_per_sample = _probe_on_worker(client, workflow, n, seed, timed, limit, size, cost is None)
            if cost is None:  # workers counted once the probe found one
                workers = _threads(client)
                bytes_per_sample = sum(a.nbytes for a in probe.values()) / len(probe["status"])
                batch_size = spread_batch_size(
                    n, batch_size or auto_batch_size(seconds_per_sample, n, workers, bytes_per_sample), workers)
            seconds_per_sample = cost or seconds_per_sample
            template = _template(workflow, probe, n, seed, batch_size)
            sink = (_StoreSink.create(workflow, n, seed, store, template, batch_size, seconds_per_sample) if store
                    else _MemorySink(workflow, n, seed, template))
        bounds = batch_bounds(n, batch_size)
        todo = [i for i in range(len(bounds)) if not sink.is_done(i)]
        covered = len(probe["status"]) if probe else 0  # samples the probe computed: never computed again
        with sample_progress(quiet) as progress:
            task = progress.add_task(workflow.describe().name, total=n, completed=n - sum(bounds[i][1] - bounds[i][0] for i in todo))

            def finished(index: int, arrays: dict[str, np.ndarray] | None) -> None:
                sink.write(index, arrays)
                progress.advance(task, bounds[index][1] - bounds[index][0])

            timeout = task_timeout or max(MIN_TASK_TIMEOUT, TIMEOUT_FACTOR * seconds_per_sample * batch_size)
            writer = _Writer(finished)
            try:
                for i in todo:
                    if bounds[i][1] <= covered:
                        writer(i, {name: value[bounds[i][0]:bounds[i][1]] for name, value in probe.items()})
                todo = [i for i in todo if bounds[i][1] > covered]
                if client is None:
                    call = _in_child(child, timeout) if child else _in_time(workflow, timeout)
                    for i in todo:
                        writer(i, _bisected(call, workflow, *bounds[i], n, seed, sink.template))
                else:
                    _run_on_dask(client, workflow, bounds, todo, n, seed, writer, sink, timeout, owner)
            finally:
                writer.close()
    return sink.result()


class _Writer:
    """Hands each finished batch to ``write`` on a thread of its own, in order of arrival,
    so the loop collecting results and submitting tasks never waits for the store (a
    batch's writes into Zarr took longer than its task on 2 workers: they idled). At most
    ``WRITES_WAITING`` batches wait; an error of a write is raised again in the caller at
    its next batch or at :meth:`close`, which writes what is waiting first."""

    def __init__(self, write):
        self.write, self.error = write, None
        self.waiting: queue.Queue = queue.Queue(maxsize=WRITES_WAITING)
        self.thread = threading.Thread(target=self._run, name="uqms-store-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (item := self.waiting.get()) is not None:
            if self.error is None:
                try:
                    self.write(*item)
                except BaseException as error:  # noqa: BLE001 - raised again in the caller
                    self.error = error

    def __call__(self, index: int, arrays: dict[str, np.ndarray]) -> None:
        if self.error is not None:
            raise self.error
        self.waiting.put((index, arrays))

    def close(self) -> None:
        self.waiting.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


def _check_resources_offered(client, resources: dict[str, float]) -> None:
    """Refuse to wait forever: some worker must offer the ``resources`` a task needs.

    Raises:
        SchedulerLostError: no worker for ``NO_WORKER_SECONDS``.
        UqmsError: no worker offers them, naming what to start the workers with.
    """
    try:
        client.wait_for_workers(1, timeout=NO_WORKER_SECONDS)
    except TimeoutError:
        raise SchedulerLostError(f"no Dask worker on {client.scheduler.address} for {NO_WORKER_SECONDS:g} s: "
                                 "start workers") from None
    offered = [worker.get("resources", {}) for worker in client.scheduler_info()["workers"].values()]
    if not any(all(have.get(key, 0.0) >= amount for key, amount in resources.items()) for have in offered):
        wanted = ",".join(f"{key}={amount:g}" for key, amount in resources.items())
        raise UqmsError(f"a task needs the Dask resources {resources}, which no worker of {client.scheduler.address} "
                        f"offers (they offer {offered}): start the workers with --resources \"{wanted}\"")


def _probe_on_worker(client: Client, workflow: Runnable, n: int, seed: int, timed: bool,
                     task_timeout: float | None, size: int = PROBE_SAMPLES,
                     require_ok: bool = True) -> tuple[dict[str, np.ndarray], float]:
    """:func:`probe_batch` as a Dask task, within ``task_timeout`` s (at least ``MIN_TASK_TIMEOUT``:
    it also waits for a worker and its imports).

    Raises:
        UqmsError: the probe took too long or its worker died (a stage hanging or
            crashing on one of the first samples).
    """
    from distributed import TimeoutError as DaskTimeoutError

    address = client.scheduler.address
    try:
        client.wait_for_workers(1, timeout=NO_WORKER_SECONDS)
    except TimeoutError:
        raise SchedulerLostError(f"no Dask worker on {address} for {NO_WORKER_SECONDS:g} s: start workers") from None
    limit = max(task_timeout or 0.0, MIN_TASK_TIMEOUT)
    try:
        seconds = limit + FIRST_CALL_SECONDS
        future = client.submit(evaluate_batch, workflow, 0, 1, n, seed, pure=False)
        first = future.result(timeout=seconds)
        seconds = limit
        future = client.submit(probe_batch, workflow, n, seed, timed, size, require_ok, first, pure=False)
        return future.result(timeout=seconds)
    except UqmsError:
        raise
    except (TimeoutError, DaskTimeoutError):
        future.cancel()
        raise _probe_out_of_time(seconds) from None
    except Exception as error:  # noqa: BLE001 - a worker lost to a crash or its memory limit
        if client.status != "running":
            raise scheduler_lost(address, client.status) from None
        if isinstance(error.__cause__, ImportError):  # the task could not be unpickled there
            raise UqmsError(f"the Dask scheduler {address} or its workers cannot load the workflow's stages "
                            f"({error.__cause__}): install that module where they run, or put its folder on their "
                            "PYTHONPATH") from None
        raise UqmsError(f"the timed probe of the first samples failed on its worker ({type(error).__name__}: "
                        f"{error}): a stage crashes its process on one of them") from None


class _Lost(Exception):
    """An evaluation in a forked child or in this process was lost: its process died
    (``code`` ``BATCH_FAILED``) or it ran out of time (``TIMED_OUT``)."""

    def __init__(self, code: int, error: BaseException):
        super().__init__(str(error))
        self.code, self.error = code, error


def _in_child(child: ForkedProcess, limit: float) -> Callable:
    """``call(function, *args)``: ``function(workflow, *args)`` in the forked ``child`` within
    ``limit`` s, raising :class:`_Lost` if the child dies or runs out of time."""
    def call(function, *args):
        try:
            return child.call(function, *args, limit=limit)
        except ChildLost as error:
            raise _Lost(TIMED_OUT if error.timed_out else BATCH_FAILED, error) from None
    return call


IMPORTED_MEANWHILE = "uqms._chaospy"  # what this process needs next (the inputs' distributions): ~0.5 s cold


@contextlib.contextmanager
def _imported_meanwhile() -> Iterator[None]:
    """Import ``IMPORTED_MEANWHILE`` on a thread while a forked child computes the probe, on
    the core it leaves idle: a small run's cold start is that much shorter. Joined on the way
    out, before anything forks again (a child forked during an import could wait forever
    for the import lock the thread held)."""
    thread = threading.Thread(target=importlib.import_module, args=(IMPORTED_MEANWHILE,), name="uqms-imports",
                              daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()


def _in_time(workflow: Runnable, limit: float) -> Callable:
    """``call(function, *args)``: ``function(workflow, *args)`` in this process, interrupted
    after ``limit`` s (raising :class:`_Lost`)."""
    def call(function, *args):
        try:
            with time_limit(limit):
                return function(workflow, *args)
        except TaskTimeout as error:
            raise _Lost(TIMED_OUT, error) from None
    return call


def _probe_here(calls: Callable[[float], Callable], limit: float, n: int, seed: int, timed: bool, size: int,
                require_ok: bool) -> tuple[dict[str, np.ndarray], float]:
    """:func:`probe_batch` through ``calls(limit)`` (:func:`_in_child` or :func:`_in_time`) within
    ``limit`` s, after the first sample alone within ``FIRST_CALL_SECONDS`` more (its one-time costs).

    Raises:
        UqmsError: the probe crashed its process or took too long (a stage crashing or hanging
            on one of the first samples), or every probed sample failed.
    """
    seconds = limit + FIRST_CALL_SECONDS
    try:
        first = calls(seconds)(evaluate_batch, 0, 1, n, seed)
        seconds = limit
        return calls(seconds)(probe_batch, n, seed, timed, size, require_ok, first)
    except _Lost as lost:
        if lost.code == TIMED_OUT:
            raise _probe_out_of_time(seconds) from None
        raise UqmsError(f"the timed probe of the first samples crashed its process ({lost.error}): a stage crashes "
                        "on one of them") from None


def _probe_out_of_time(limit: float) -> UqmsError:
    return UqmsError(f"the timed probe of the first samples did not finish in {limit:g} s: a stage hangs on one of "
                     "them (or raise execution.task_timeout)")


def _bisected(call: Callable, workflow: Runnable, start: int, stop: int, n: int, seed: int,
              template: xr.Dataset) -> dict[str, np.ndarray]:
    """:func:`evaluate_batch` of ``start:stop`` through ``call`` (:func:`_in_child` or
    :func:`_in_time`); a batch lost is split in ``SPLIT`` parts, each evaluated again, down
    to the samples lost alone, whose rows get the status of the loss (``BATCH_FAILED`` for
    a crash, ``TIMED_OUT`` for a hang), as on Dask."""
    try:
        return call(evaluate_batch, start, stop, n, seed)
    except _Lost as lost:
        if stop - start == 1:
            return _failed_batch(workflow, start, stop, n, seed, template, lost.code, lost.error)
        return _joined([_bisected(call, workflow, a, b, n, seed, template) for a, b in _split(start, stop)])


def _split(start: int, stop: int) -> list[tuple[int, int]]:
    """``start:stop`` cut in ``SPLIT`` parts (fewer for fewer samples), in order."""
    edges = np.unique(np.linspace(start, stop, min(SPLIT, stop - start) + 1).astype(int)).tolist()
    return list(pairwise(edges))


def _joined(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Consecutive parts of a batch, as one."""
    return parts[0] if len(parts) == 1 else {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def probe_batch(workflow: Runnable, n: int, seed: int, timed: bool, size: int, require_ok: bool,
                first: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], float]:
    """The leading ``size`` samples' arrays (for shapes and dtypes) and the time per sample, s,
    of the samples after the first, whose arrays ``first`` were evaluated alone before (paying
    the one-time costs, imports and compiling, outside the timing). When ``timed``, the batch
    grows until it takes ``PROBE_SECONDS``.

    Raises:
        UqmsError: every probed sample failed (the chain is broken, not a sample), when ``require_ok``.
    """
    size = min(n, size)
    while True:
        clock = time.perf_counter()
        rest = [evaluate_batch(workflow, 1, size, n, seed)] if size > 1 else []
        elapsed = time.perf_counter() - clock
        if not timed or elapsed >= PROBE_SECONDS or size == n:
            break
        size = min(n, size * 8)
    arrays = _joined([first, *rest])
    if require_ok and not np.any(arrays["status"] == 0):
        codes = sorted(set(arrays["status"].tolist()))
        raise UqmsError(
            f"every one of the first {size} samples failed: "
            + "; ".join(workflow.describe().status_messages.get(c, str(c)) for c in codes)
            + ". Fix the chain before running"
        )
    return arrays, elapsed / max(size - 1, 1)


def _run_on_dask(client: Client, workflow: Runnable, bounds: list[tuple[int, int]], todo: list[int], n: int, seed: int,
                 finished: Callable[[int, dict[str, np.ndarray] | None], None], sink: _Sink, task_timeout: float,
                 owner: str | None = None) -> None:
    """Submit the batches as tasks, a bounded number in flight, and sink each as it completes.

    Into a store whose lock reads ``owner``, a task of a whole batch writes the batch's rows
    itself where its worker sees the store (:func:`evaluate_and_write`), and is then only
    marked done (``finished(index, None)``): the driver's serial work per batch no longer
    grows with its size. Other results (parts of a split batch) come back here to be written.

    Every worker gets one copy of the workflow (scattered) rather than one per task. A
    task that fails outside the chain (its worker died: a crash, its memory limit) or
    runs longer than ``task_timeout`` s is split in ``SPLIT`` parts run as fresh tasks, down to
    the single samples that cause it, which are flagged. A dying worker also fails the
    tasks queued beside the culprit, and a loaded machine slows them: a single sample
    that failed is tried again alone, with nothing else in flight, and flagged only if
    it fails again.
    The loop never waits blindly: a lost scheduler or no workers left end the run with
    an error, the batches written so far being kept.
    """
    from distributed import as_completed

    threads = _threads(client)
    window = tasks_in_flight(threads, bounds[0][1] * _bytes_per_sample(sink.template))
    waiting = deque((i, *bounds[i]) for i in todo)  # parts (batch, start, stop) to submit
    suspects: deque = deque()  # single-sample parts whose worker died once: each to run alone
    parts: dict[int, dict[int, dict[str, np.ndarray]]] = {}  # batch -> {start: arrays} of its finished parts
    flight: dict[str, list] = {}  # key -> [future, part, time first seen executing, suspect]
    watch = _Watch(client, task_timeout)
    shared = _scatter(client, workflow, watch)
    writes = sink.worker_writes(owner, task_timeout) if owner is not None else None
    # Where results come back, the event loop fetches each as its task finishes, overlapping
    # the transfers, instead of one blocking round trip per batch from this thread; where
    # workers write their batches, only those that did not are fetched (:func:`_outcome`).
    fetched = writes is None
    running = as_completed(with_results=fetched, raise_errors=False)

    def done(part, arrays):
        i, start = part[:2]
        if arrays is None:  # the whole batch, written by its worker
            finished(i, None)
            return
        got = parts.setdefault(i, {})
        got[start] = arrays
        if sum(len(a["status"]) for a in got.values()) == bounds[i][1] - bounds[i][0]:
            finished(i, _joined([got[s] for s in sorted(parts.pop(i))]))

    def failed(part, code, error, suspect):
        i, start, stop = part
        if stop - start > 1:
            waiting.extendleft([(i, a, b) for a, b in reversed(_split(start, stop))])  # next, in order
        elif not suspect:
            suspects.append(part)
        else:
            done(part, _failed_batch(workflow, start, stop, n, seed, sink.template, code, error))

    def submit(part, suspect=False):
        nonlocal shared
        if shared.status != "finished":  # every worker holding it died
            shared = _scatter(client, workflow, watch)
        if writes is not None and part[1:] == bounds[part[0]]:
            future = client.submit(evaluate_and_write, shared, *part[1:], n, seed, part[0], writes, retries=RETRIES,
                                   pure=False)
        else:
            future = client.submit(evaluate_batch, shared, *part[1:], n, seed, retries=RETRIES, pure=False)
        flight[future.key] = [future, part, None, suspect]
        running.add(future)

    while waiting or flight or suspects:
        if suspects:  # let the tasks in flight finish, then try the suspect alone
            if not flight:
                submit(suspects.popleft(), suspect=True)
        elif not any(entry[3] for entry in flight.values()):
            while waiting and len(flight) < window:
                submit(waiting.popleft())
        ready = running.next_batch(block=False)
        if not ready:
            for key in watch(flight):
                _, part, _, suspect = flight.pop(key)
                failed(part, TIMED_OUT, TimeoutError(f"still running after {task_timeout:g} s"), suspect)
            time.sleep(POLL_SECONDS)
            continue
        for future, result in ready if fetched else map(_outcome, ready):
            entry = flight.pop(future.key, None)
            if entry is None:  # stopped by its timeout
                continue
            if future.status == "finished":
                done(entry[1], result)
            elif future.status == "error" and isinstance(result[1], UqmsError):  # (type, error, traceback)
                raise result[1]  # a contract violation in the chain: a bug to fix, not a sample to flag
            elif isinstance(result, CancelledError):  # its copy of the workflow died with every worker holding it
                waiting.appendleft(entry[1])
            else:  # lost workers, memory errors
                failed(entry[1], BATCH_FAILED, result[1] if future.status == "error" else result, entry[3])
            future.release()


def _outcome(future: Future) -> tuple[Future, object]:
    """``future`` and what ``as_completed(with_results=True, raise_errors=False)`` gives with
    it, fetched from its worker only when the scheduler reported a result other than None
    (a batch its worker wrote returns None: fetching it through the scheduler took ~3 ms
    of this process's CPU a task, with 2 local workers busy beside it)."""
    if future.status == "finished" and future.type is type(None):
        return future, None
    try:
        return future, future.result()
    except CancelledError as error:
        return future, error
    except Exception as error:  # noqa: BLE001 - the task's error, as as_completed gives it
        return future, (type(error), error, error.__traceback__)


def _scatter(client: Client, workflow: Runnable, watch: _Watch) -> Future:
    """A copy of ``workflow`` on every worker, once there is one (as workers restart).

    Raises:
        SchedulerLostError: no worker for ``NO_WORKER_SECONDS``, or the scheduler lost.
    """
    while True:
        watch.check_cluster(time.monotonic())
        try:
            client.wait_for_workers(1, timeout=WATCH_SECONDS)
            return client.scatter(workflow, broadcast=True, hash=False)
        except (TimeoutError, OSError):  # no worker yet, or it died meanwhile
            continue


class SchedulerLostError(UqmsError):
    """The Dask scheduler went away, or no worker was left, in the middle of a run."""


def scheduler_lost(address: str, status: str) -> SchedulerLostError:
    """The error of a run whose client (now ``status``) lost its scheduler at ``address``."""
    return SchedulerLostError(
        f"lost the Dask scheduler {address} (client {status}); the batches finished so far are kept in the "
        "store: run the same command again to resume"
    )


@contextlib.contextmanager
def _scheduler_watched(client):
    """Turn the errors of Dask calls made after the scheduler went away into :func:`scheduler_lost`."""
    address = client.scheduler.address if client is not None else None
    try:
        yield
    except UqmsError:
        raise
    except Exception:
        if client is not None and client.status != "running":
            raise scheduler_lost(address, client.status) from None
        raise


class _Watch:
    """Checks made while no task finishes: scheduler alive, workers present (the lost ones
    of uqms's own cluster replaced), no task executing for longer than its timeout (asked
    of the workers every ``WATCH_SECONDS``)."""

    def __init__(self, client, task_timeout: float):
        self.client, self.task_timeout, self.address = client, task_timeout, client.scheduler.address
        self.checked = self.workers_seen = time.monotonic()
        self.replace_lost = LostWorkerReplacer(client)

    def __call__(self, flight: dict[str, list]) -> list[str]:
        """Keys of the tasks out of time, stopped (their workers ended)."""
        now = time.monotonic()
        if now - self.checked < WATCH_SECONDS:
            return []
        self.checked = now
        self.check_cluster(now)
        try:
            executing = {key: worker for worker, keys in self.client.run(_executing).items() for key in keys}
        except (OSError, TimeoutError):  # a worker went away meanwhile: look again next time
            executing = {}
        for key in executing.keys() & flight.keys():
            if flight[key][2] is None:
                flight[key][2] = now
        late = [key for key, (_, _, started, _) in flight.items() if started is not None and now - started > self.task_timeout]
        if late:
            for key in late:
                flight[key][0].cancel()
            self._end({executing[key] for key in late if key in executing})
        return late

    def check_cluster(self, now: float) -> None:
        """Raise :class:`SchedulerLostError` if the scheduler is gone, or no worker was seen
        for ``NO_WORKER_SECONDS``; replace the lost workers of uqms's own cluster."""
        address = self.address
        self.replace_lost()
        try:
            workers = self.client.status == "running" and self.client.nthreads()
        except (OSError, TimeoutError):  # the connection broke before the client noticed
            workers = None
        if workers is None or self.client.status != "running":
            raise scheduler_lost(address, self.client.status)
        if workers:
            self.workers_seen = now
        elif now - self.workers_seen > NO_WORKER_SECONDS:
            raise SchedulerLostError(
                f"no Dask worker left on {address} for {NO_WORKER_SECONDS:g} s; the batches finished so far are "
                "kept in the store: start workers and run the same command again to resume"
            )

    def _end(self, workers: set[str]) -> None:
        """End the processes of ``workers`` (their nannies start new ones): a thread stuck
        in a stage cannot be interrupted, and a graceful restart would wait for it."""
        info = self.client.scheduler_info()["workers"]
        managed = [worker for worker in workers if info.get(worker, {}).get("nanny")]
        if managed:
            self.client.run(_end_process, workers=managed, wait=False)
            deadline = time.monotonic() + WATCH_SECONDS * 10
            # gone before anything else is submitted: a task sent to them meanwhile would die with them
            while set(managed) & set(self.client.scheduler_info()["workers"]) and time.monotonic() < deadline:
                time.sleep(POLL_SECONDS)
        if len(managed) < len(workers):
            log.warning("workers %s have no nanny to restart them after a task timeout: their threads stay busy",
                        sorted(set(workers) - set(managed)))


def _executing(dask_worker) -> list[str]:
    """Keys of the tasks a worker is running now (not those queued on it)."""
    return [ts.key for ts in dask_worker.state.executing]


async def _end_process() -> None:
    """Run on a worker's event loop (not behind its busy thread): end its process now."""
    os._exit(1)


def tasks_in_flight(threads: int, batch_bytes: int) -> int:
    """Batches submitted at once: 4 per worker thread hide the latency between tasks, but
    their results come to this process as they finish, so fewer when batches are large,
    keeping them under ``WINDOW_BYTES`` (never fewer than one per thread, plus one)."""
    return int(np.clip(WINDOW_BYTES // max(batch_bytes, 1), threads + 1, 4 * threads))


def _bytes_per_sample(template: xr.Dataset) -> int:
    """Bytes of one sample's inputs, outputs and status in a run like ``template``."""
    return sum(v.dtype.itemsize * int(np.prod(v.shape[1:])) for v in template.data_vars.values() if "sample" in v.dims)


def _failed_batch(workflow: Runnable, start: int, stop: int, n: int, seed: int, template: xr.Dataset, code: int,
                  error: BaseException) -> dict[str, np.ndarray]:
    """The rows of samples whose task never succeeded: inputs, NaN outputs, status ``code``."""
    log.warning("samples %d:%d failed: %s: %s", start, stop, type(error).__name__, error)
    arrays = workflow.sample_inputs(start, stop, n, seed)
    for name in workflow.describe().output_names:
        var = template[name]
        arrays[name] = np.full((stop - start,) + var.shape[1:], np.nan, dtype=var.dtype)
    arrays["status"] = np.full((stop - start,) + template["status"].shape[1:], code, dtype=np.int32)
    return arrays


def _template(workflow: Runnable, probe: dict[str, np.ndarray], n: int, seed: int, batch_size: int) -> xr.Dataset:
    """The run's variables as lazy arrays (shapes and dtypes from the probe), chunked by batch."""
    arrays = {
        name: dask.array.zeros((n,) + value.shape[1:], dtype=value.dtype, chunks=(batch_size,) + value.shape[1:])
        for name, value in probe.items()
    }
    return build_dataset(workflow, arrays, n, seed)


class _Sink:
    """Where finished batches go."""

    template: xr.Dataset

    def is_done(self, index: int) -> bool: ...

    def write(self, index: int, arrays: dict[str, np.ndarray] | None) -> None:
        """Keep batch ``index``; ``arrays`` None: its rows were written by its worker (:meth:`worker_writes`)."""

    def result(self) -> xr.Dataset: ...

    def worker_writes(self, owner: str, task_timeout: float) -> WorkerWrites | None:
        """What lets Dask workers write batches themselves (None: they cannot, results come back)."""
        return None


class _MemorySink(_Sink):
    """Keeps finished batches in memory and assembles the run at the end."""

    def __init__(self, workflow: Runnable, n: int, seed: int, template: xr.Dataset):
        self.workflow, self.n, self.seed, self.template = workflow, n, seed, template
        self.batches: dict[int, dict[str, np.ndarray]] = {}

    def is_done(self, index):
        return False

    def write(self, index, arrays):
        self.batches[index] = arrays

    def result(self):
        ordered = [self.batches[i] for i in sorted(self.batches)]
        arrays = {name: np.concatenate([b[name] for b in ordered]) for name in ordered[0]}
        return build_dataset(self.workflow, arrays, self.n, self.seed)


class _StoreSink(_Sink):
    """Writes finished batches into a resumable Zarr store."""

    def __init__(self, store: RunStore, template: xr.Dataset, done: np.ndarray):
        self.store, self.template, self.done = store, template, done

    @classmethod
    def create(cls, workflow: Runnable, n: int, seed: int, path: str | Path, template: xr.Dataset, batch_size: int,
               seconds_per_sample: float) -> _StoreSink:
        store = RunStore.create(path, template, fingerprint(workflow, n, seed), batch_size, seconds_per_sample)
        return cls(store, template, np.zeros(len(batch_bounds(n, batch_size)), dtype=bool))

    @classmethod
    def resume(cls, workflow: Runnable, n: int, seed: int, path: str | Path) -> _StoreSink:
        about = workflow.describe()
        description = f"workflow {about.name!r}, n {n}, seed {seed}, design {about.design!r}"
        store = RunStore.open(path, workflow, n, seed, description)
        done = store.done()
        damaged = store.damaged(done)
        if damaged:
            log.warning("%s: %d damaged batches computed again: %s", path, len(damaged), damaged)
            done[damaged] = False
            for index in damaged:  # rows kept from before an extension would be damaged ones
                store.kept.pop(index, None)
        if n > store.n_samples:
            log.info("%s: extended from %d to %d samples", path, store.n_samples, n)
            done = store.extend(n, done)
        return cls(store, open_run(path, allow_incomplete=True), done)

    def is_done(self, index):
        return bool(self.done[index])

    def write(self, index, arrays):
        if arrays is None:
            self.store.mark_done(index)
        else:
            self.store.write(arrays, index)

    def result(self):
        return open_run(self.store.path)

    def worker_writes(self, owner, task_timeout):
        """Workers write batches that took under half the task timeout: the driver gives a task
        up only after the whole of it, so one it gave up (and wrote otherwise) never writes too."""
        store = self.store
        return WorkerWrites(str(store.path.absolute()), store.batch_size, owner, dict(store.kept), task_timeout / 2)
