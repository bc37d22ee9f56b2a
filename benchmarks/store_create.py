"""Time to make a run's Zarr store (every run pays it once, before its first batch):
:meth:`RunStore.create` against xarray's ``to_zarr(compute=False)`` of the same template,
the way stores were made before (the same layout; tests/test_run_store.py compares them).

Side by side in one process, alternating, on the bundled ammonia chain (1e6 samples) and
the site-averaged ammonia ensemble (20 000 samples), with the batch size a synchronous run
would choose; wall and CPU time (all threads of this process), best and median of the repeats.

    python benchmarks/store_create.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import dask.array
import numpy as np

from uqms.execution.run_store import (
    BATCH_SIZE,
    CHECKSUM,
    DONE,
    FINGERPRINT,
    SAMPLE_CODEC,
    SAMPLE_SECONDS,
    RunStore,
    fingerprint,
)
from uqms.execution.runner import _template, auto_batch_size, evaluate_batch
from uqms.workflow import Workflow

WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"
CASES = {"ammonia": ("ammonia.toml", 1_000_000), "sites": ("ammonia_sites_ensemble.toml", 20_000)}


def through_xarray(path, template, digest, batch_size, seconds_per_sample) -> None:
    """The store written by xarray: lazy (Dask) batch arrays, metadata only."""
    n_batches = -(-template.sizes["sample"] // batch_size)
    template = template.assign({DONE: ("batch", dask.array.zeros(n_batches, chunks=1, dtype=bool)),
                                CHECKSUM: ("batch", dask.array.zeros(n_batches, chunks=1, dtype=np.uint32))})
    template.attrs.update({FINGERPRINT: digest, BATCH_SIZE: int(batch_size), SAMPLE_SECONDS: float(seconds_per_sample)})
    compressed = {"compressors": (SAMPLE_CODEC,)}
    encoding = {name: compressed for name, var in template.variables.items() if "sample" in var.dims}
    template.to_zarr(path, mode="w-", compute=False, consolidated=False, encoding=encoding)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; best / median of {args.repeats}, alternating")
    with tempfile.TemporaryDirectory() as folder:
        for name, (file, n) in CASES.items():
            flow = Workflow.from_file(WORKFLOWS / file)
            evaluate_batch(flow, 0, 256, n, flow.seed)  # imports and compiled code loaded
            start = time.perf_counter()
            probe = evaluate_batch(flow, 0, 256, n, flow.seed)
            seconds_per_sample = (time.perf_counter() - start) / 256
            bytes_per_sample = sum(a.nbytes for a in probe.values()) / 256
            batch_size = auto_batch_size(seconds_per_sample, n, 1, bytes_per_sample)
            digest = fingerprint(flow, n, flow.seed)
            times = {"xarray to_zarr": [], "RunStore.create": []}
            for repeat in range(args.repeats + 1):  # the first of each warms up
                for label, make in (("xarray to_zarr", through_xarray), ("RunStore.create", RunStore.create)):
                    template = _template(flow, probe, n, flow.seed, batch_size)
                    path = Path(folder) / f"{name}-{repeat}-{label[:6]}.zarr"
                    wall, cpu = time.perf_counter(), time.process_time()
                    make(path, template, digest, batch_size, seconds_per_sample)
                    if repeat:
                        times[label].append((time.perf_counter() - wall, time.process_time() - cpu))
                    shutil.rmtree(path)
            for label, pairs in times.items():
                walls, cpus = zip(*pairs, strict=True)
                print(f"{name:8s} n={n:<8d} batch {batch_size:<6d} {label:16s}: wall {min(walls) * 1e3:6.1f} ms best, "
                      f"{statistics.median(walls) * 1e3:6.1f} median; CPU {min(cpus) * 1e3:6.1f} ms best, "
                      f"{statistics.median(cpus) * 1e3:6.1f} median")
            (old, new) = ([w for w, _ in times[label]] for label in times)
            print(f"{name:8s} RunStore.create is {min(old) / min(new):.1f}x faster best, "
                  f"{statistics.median(old) / statistics.median(new):.1f}x median", flush=True)


if __name__ == "__main__":
    main()
