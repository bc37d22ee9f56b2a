"""Parallel execution: speed-up on 2 worker processes, per-task overhead, bounded memory.

1. A chain doing about 10 ms of CPU work per batch, 200 batches, then 100 ms, 20 batches
   (uqms's own batch sizing aims at 500 ms): wall time in this process (synchronous), on
   a local cluster of 1 and of 2 worker processes as uqms starts them. Prints the speed-up
   of 2 workers over 1 (goal >= 1.7), the Dask overhead per task, and the cost of writing
   each batch into a Zarr store as it finishes.
2. The Ishigami chain written into a Zarr store: peak resident memory of the driver
   process for 10^5 and 10^6 samples (10^7 with --large), each in a fresh process, beside
   the same runs kept in memory. Goal: the store's peak does not grow with n.

Run: python benchmarks/parallel.py [--large]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import chaospy

from uqms import Constant, FunctionStage, UncertainInput, Workflow

BATCH = 100
ISHIGAMI = Path(__file__).resolve().parents[1] / "workflows" / "ishigami.toml"


def busy(x, seconds):
    """y = x + 1, after ``seconds`` of CPU work per batch (a stand-in for a model)."""
    end = time.perf_counter() + float(seconds[0])
    while time.perf_counter() < end:
        pass
    return x + 1


def timed_run(flow, scheduler, batches, store=None) -> float:
    clock = time.perf_counter()
    flow.run(n=BATCH * batches, batch_size=BATCH, scheduler=scheduler, store=store)
    return time.perf_counter() - clock


def speedup(work_seconds: float, batches: int) -> None:
    from uqms.execution.scheduler import local_cluster

    flow = Workflow([FunctionStage(busy, ["x", "seconds"], ["y"])], inputs=[UncertainInput("x", chaospy.Uniform(0, 1))],
                    constants=[Constant("seconds", work_seconds, "s")])
    serial = timed_run(flow, "synchronous", batches)
    walls = {}
    for workers in (1, 2):
        with local_cluster(workers) as cluster:  # set up as uqms's own
            timed_run(flow, cluster.scheduler_address, batches)  # warm the workers
            walls[workers] = timed_run(flow, cluster.scheduler_address, batches)
            with tempfile.TemporaryDirectory() as folder:
                stored = timed_run(flow, cluster.scheduler_address, batches, Path(folder) / "run.zarr")
    print(f"{batches} batches of ~{work_seconds * 1e3:.0f} ms")
    print(f"  synchronous           {serial:6.2f} s")
    print(f"  LocalCluster 1 worker {walls[1]:6.2f} s   overhead per task {(walls[1] - serial) / batches * 1e3:5.2f} ms")
    print(f"  LocalCluster 2 workers{walls[2]:6.2f} s   speed-up over 1 worker {walls[1] / walls[2]:.2f}x")
    print(f"  2 workers, written to a Zarr store {stored:6.2f} s   ({(stored - walls[2]) / batches * 1e3:.1f} ms more "
          "per batch: each worker writes its batches into the store)")


def peak_memory(n: int, store: bool) -> tuple[float, float]:
    """Peak RSS (MiB) and wall time (s) of a fresh process running Ishigami on n samples."""
    code = (
        "import resource, sys, time, uqms\n"
        f"flow = uqms.Workflow.from_file({str(ISHIGAMI)!r})\n"
        "clock = time.perf_counter()\n"
        f"run = flow.run(n={n}, scheduler='synchronous', store=sys.argv[1] if len(sys.argv) > 1 else None)\n"
        "failed = int((run.status != 0).sum())\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, time.perf_counter() - clock)\n"
    )
    with tempfile.TemporaryDirectory() as folder:
        args = [str(Path(folder) / "run.zarr")] if store else []
        out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    rss, wall = out.stdout.split()
    return float(rss), float(wall)


def memory(sizes) -> None:
    print("peak memory of the driver (Ishigami, synchronous scheduler)")
    print(f"  {'n':>10}  {'Zarr store':>12}  {'in memory':>12}")
    for n in sizes:
        (stored, t_stored), (kept, _) = peak_memory(n, True), peak_memory(n, False)
        print(f"  {n:>10}  {stored:9.0f} MiB  {kept:9.0f} MiB   ({n / t_stored:,.0f} samples/s to the store)")


if __name__ == "__main__":
    speedup(0.010, 200)
    speedup(0.100, 20)
    memory([10**5, 10**6] + ([10**7] if "--large" in sys.argv else []))
