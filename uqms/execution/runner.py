"""Evaluate a workflow's chain on its design, batch by batch, here or on Dask workers."""

from __future__ import annotations

import contextlib
import logging
import shutil
import time
from pathlib import Path

import dask.array
import numpy as np
import xarray as xr

from uqms.errors import UqmsError
from uqms.execution.dataset import BATCH_FAILED, build_dataset
from uqms.execution.progress import sample_progress
from uqms.execution.lock import store_lock
from uqms.execution.run_store import RunStore, fingerprint, is_half_made
from uqms.execution.scheduler import connect, scheduler_address
from uqms.execution.store import open_run

TASK_SECONDS = 0.5  # aim for tasks long against Dask's ~2-3 ms overhead, short for balance
MAX_TASKS = 10_000
BATCH_BYTES = 16 * 2**20  # results of one batch, B; intermediates take a few times more
PROBE_SAMPLES = 64
PROBE_SECONDS = 0.05
RETRIES = 2  # Dask retries of a task that raised
WINDOW_BYTES = 256 * 2**20  # results that may wait in this process for their turn to be written, B
log = logging.getLogger("uqms")


def batch_bounds(n: int, batch_size: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` covering ``range(n)`` in batches of ``batch_size``."""
    return [(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]


def evaluate_batch(workflow, start: int, stop: int, n: int, seed: int) -> dict[str, np.ndarray]:
    """Inputs, outputs and status of samples ``start:stop`` (a pure function of its arguments)."""
    inputs = workflow.sample_inputs(start, stop, n, seed)
    return {**inputs, **workflow.evaluate(inputs)}


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


def execute(
    workflow,
    n: int,
    seed: int,
    batch_size: int | None = None,
    scheduler: str | None = None,
    store: str | Path | None = None,
    quiet: bool = True,
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

    Returns:
        The run; backed lazily by the store when one is given.

    Raises:
        StoreLockedError: another live process is running into ``store``.
        StoreMismatchError: ``store`` holds another run.
    """
    with store_lock(store) if store is not None else contextlib.nullcontext():
        return _execute(workflow, n, seed, batch_size, scheduler, store, quiet)


def _execute(workflow, n, seed, batch_size, scheduler, store, quiet) -> xr.Dataset:
    """The body of :func:`execute`, holding the store's lock."""
    address = scheduler_address(scheduler)
    if store is not None and Path(store).exists() and is_half_made(store):
        log.warning("%s: a store whose creation was interrupted, made again", store)
        shutil.rmtree(store)
    with connect(address) as client:
        if store is not None and Path(store).exists():
            sink = _StoreSink.resume(workflow, n, seed, store)
            batch_size = sink.store.batch_size
        else:
            timed = batch_size is None
            if client is None:
                probe, seconds_per_sample = probe_batch(workflow, n, seed, timed)
            else:  # on a worker, so a model that crashes its process never takes this driver down
                probe, seconds_per_sample = client.submit(probe_batch, workflow, n, seed, timed, pure=False).result()
            workers = 1 if client is None else max(1, sum(client.nthreads().values()))
            bytes_per_sample = sum(a.nbytes for a in probe.values()) / len(probe["status"])
            batch_size = batch_size or auto_batch_size(seconds_per_sample, n, workers, bytes_per_sample)
            template = _template(workflow, probe, n, seed, batch_size)
            sink = (_StoreSink.create(workflow, n, seed, store, template, batch_size) if store
                    else _MemorySink(workflow, n, seed, template))
        bounds = batch_bounds(n, batch_size)
        todo = [i for i in range(len(bounds)) if not sink.is_done(i)]
        with sample_progress(quiet) as progress:
            task = progress.add_task(workflow.name, total=n, completed=n - sum(bounds[i][1] - bounds[i][0] for i in todo))

            def finished(index: int, arrays: dict[str, np.ndarray]) -> None:
                sink.write(index, arrays)
                progress.advance(task, bounds[index][1] - bounds[index][0])

            if client is None:
                for i in todo:
                    finished(i, evaluate_batch(workflow, *bounds[i], n, seed))
            else:
                _run_on_dask(client, workflow, bounds, todo, n, seed, finished, sink)
    return sink.result()


def probe_batch(workflow, n: int, seed: int, timed: bool) -> tuple[dict[str, np.ndarray], float]:
    """Evaluate the leading samples: their arrays (for shapes and dtypes) and the time
    per sample, s. When ``timed``, the batch grows until it takes ``PROBE_SECONDS``.

    Raises:
        UqmsError: every probed sample failed (the chain is broken, not a sample).
    """
    size = min(n, PROBE_SAMPLES)
    while True:
        clock = time.perf_counter()
        arrays = evaluate_batch(workflow, 0, size, n, seed)
        elapsed = time.perf_counter() - clock
        if not timed or elapsed >= PROBE_SECONDS or size == n:
            break
        size = min(n, size * 8)
    if not np.any(arrays["status"] == 0):
        codes = sorted(set(arrays["status"].tolist()))
        raise UqmsError(
            f"every one of the first {size} samples failed: "
            + "; ".join(workflow.chain.status_messages.get(c, str(c)) for c in codes)
            + ". Fix the chain before running"
        )
    return arrays, elapsed / size


def _run_on_dask(client, workflow, bounds, todo, n, seed, finished, sink) -> None:
    """Submit the batches as tasks, a bounded number in flight, and sink each as it completes.

    Every worker gets one copy of the workflow (scattered) rather than one per task; a
    batch that fails, e.g. because its worker died with that copy, is run once more on
    its own with a fresh copy, and flagged only if it fails again."""
    from distributed import as_completed

    threads = max(1, sum(client.nthreads().values()))
    window = tasks_in_flight(threads, bounds[0][1] * _bytes_per_sample(sink.template))
    pending = iter(todo)
    index_of = {}

    def submit(i, shared):
        future = client.submit(evaluate_batch, shared, *bounds[i], n, seed, retries=RETRIES, pure=False)
        index_of[future.key] = i
        return future

    shared = client.scatter(workflow, broadcast=True, hash=False)
    suspects = []
    # with_results: the event loop fetches each result as its task finishes, overlapping
    # the transfers, instead of one blocking round trip per batch from this thread.
    running = as_completed([submit(i, shared) for _, i in zip(range(window), pending)],
                           with_results=True, raise_errors=False)
    for future, arrays in running:
        i = index_of.pop(future.key)
        if future.status == "finished":
            finished(i, arrays)
        elif future.status == "error" and isinstance(arrays[1], UqmsError):  # (type, error, traceback)
            raise arrays[1]  # a contract violation in the chain: a bug to fix, not a sample to flag
        else:  # lost workers, memory errors: try again alone below
            suspects.append(i)
        future.release()
        following = next(pending, None)
        if following is not None:
            running.add(submit(following, shared))
    # A dying worker also fails the innocent tasks queued beside the culprit.
    for i in suspects:
        try:
            arrays = submit(i, client.scatter(workflow, hash=False)).result()
        except UqmsError:
            raise
        except Exception as error:  # noqa: BLE001
            arrays = _failed_batch(workflow, *bounds[i], n, seed, sink.template, error)
        finished(i, arrays)


def tasks_in_flight(threads: int, batch_bytes: int) -> int:
    """Batches submitted at once: 4 per worker thread hide the latency between tasks, but
    their results come to this process as they finish, so fewer when batches are large,
    keeping them under ``WINDOW_BYTES`` (never fewer than one per thread, plus one)."""
    return int(np.clip(WINDOW_BYTES // max(batch_bytes, 1), threads + 1, 4 * threads))


def _bytes_per_sample(template: xr.Dataset) -> int:
    """Bytes of one sample's inputs, outputs and status in a run like ``template``."""
    return sum(v.dtype.itemsize * int(np.prod(v.shape[1:])) for v in template.data_vars.values() if "sample" in v.dims)


def _failed_batch(workflow, start, stop, n, seed, template, error) -> dict[str, np.ndarray]:
    """The rows of a batch whose task never succeeded: inputs, NaN outputs, BATCH_FAILED status."""
    log.warning("batch %d:%d failed: %s: %s", start, stop, type(error).__name__, error)
    arrays = workflow.sample_inputs(start, stop, n, seed)
    for name in workflow.chain.outputs:
        var = template[name]
        arrays[name] = np.full((stop - start,) + var.shape[1:], np.nan, dtype=var.dtype)
    arrays["status"] = np.full((stop - start,) + template["status"].shape[1:], BATCH_FAILED, dtype=np.int32)
    return arrays


def _template(workflow, probe: dict[str, np.ndarray], n: int, seed: int, batch_size: int) -> xr.Dataset:
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

    def write(self, index: int, arrays: dict[str, np.ndarray]) -> None: ...

    def result(self) -> xr.Dataset: ...


class _MemorySink(_Sink):
    """Keeps finished batches in memory and assembles the run at the end."""

    def __init__(self, workflow, n: int, seed: int, template: xr.Dataset):
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
    def create(cls, workflow, n, seed, path, template, batch_size):
        store = RunStore.create(path, template, fingerprint(workflow, n, seed), batch_size)
        return cls(store, template, np.zeros(len(batch_bounds(n, batch_size)), dtype=bool))

    @classmethod
    def resume(cls, workflow, n, seed, path):
        description = f"workflow {workflow.name!r}, n {n}, seed {seed}, design {workflow.design_method!r}"
        store = RunStore.open(path, fingerprint(workflow, n, seed), description, getattr(workflow, "files", {}))
        return cls(store, open_run(path, allow_incomplete=True), store.done())

    def is_done(self, index):
        return bool(self.done[index])

    def write(self, index, arrays):
        self.store.write(arrays, index)

    def result(self):
        return open_run(self.store.path)
