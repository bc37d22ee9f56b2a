"""Samples per second of the bundled ammonia chains, in this process and on 1 and 2 local workers.

Chains: ammonia (scaling -> steady state with degree of rate control), the site-averaged
ammonia ensemble (12 site nodes per sample) and the ammonia PFR. Each is run into a Zarr
store (as ``uqms run`` does) synchronously, on a local cluster of 1 and on one of 2
single-threaded worker processes set up as uqms sets up its own
(``uqms.execution.scheduler.local_cluster``), the three in turn at each repeat, both
clusters started once beforehand (each worker's imports and compiled code loaded before
timing), with the batch layout each run chooses itself. Reported: wall time, best and
median of the repeats, and the CPU time per sample of the driver (this process: in a
synchronous run its main thread, which evaluates, and its other threads, which write the
store; on a cluster, scheduling, the in-process scheduler and nannies, receiving results,
marking batches written by the workers) and of the workers (computing, writing their
batches); samples/s, the speed-up of 2 workers over one process and over 1 worker, and the
ceiling the CPU they need sets on the first (:func:`ceiling`).
(The PFR stage alone, against a solve_ivp loop per sample: benchmarks/reactor.py.)

    python benchmarks/chain.py [--repeats 3] [--ammonia 200000] [--sites 20000] [--pfr 5000] [--only NAME]

Goals (issue 18): site-averaged >= 20k samples/s, PFR >= 5k samples/s; 2-worker speed-up
>= 1.7x on the ammonia chain at 1e6 samples (``--ammonia 1000000``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from uqms.workflow import Workflow

WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"
CHAINS = {"ammonia": "ammonia.toml", "sites": "ammonia_sites_ensemble.toml", "pfr": "ammonia_pfr.toml"}
SYNCHRONOUS = "synchronous"


def timed_run(flow, n, scheduler, store, client=None) -> dict[str, float]:
    """Seconds of a run into a fresh ``store``: wall time, CPU of this process, of its main
    thread, and of the workers of ``client`` (0 without one)."""
    before = client.run(time.process_time) if client else {}
    wall, cpu, main = time.perf_counter(), time.process_time(), time.thread_time()
    flow.run(n=n, scheduler=scheduler, store=store, batch_size=None)
    times = {"wall": time.perf_counter() - wall, "driver": time.process_time() - cpu, "main": time.thread_time() - main}
    after = client.run(time.process_time) if client else {}
    times["workers"] = sum(after[w] - before[w] for w in after.keys() & before.keys())
    shutil.rmtree(store)
    return times


def warm(flow, client) -> None:
    """Imports and compiled code loaded in this process and in every worker."""
    from uqms.execution.runner import evaluate_batch

    if client is None:
        flow.run(n=64, scheduler=SYNCHRONOUS)
    else:
        client.run(evaluate_batch, flow, 0, 64, 64, flow.seed)


def report(name: str, n: int, label: str, times: dict[str, list[float]]) -> None:
    """One line: samples/s best and median, CPU per sample (median) of the driver and workers."""
    per_sample = {key: statistics.median(values) / n * 1e6 for key, values in times.items()}
    split = (f" (main thread {per_sample['main']:5.1f}, other threads {per_sample['driver'] - per_sample['main']:5.1f})"
             if label == SYNCHRONOUS else "")
    print(f"{name:8s} n={n:<8d} {label:12s}: {n / min(times['wall']):9.0f} samples/s best, "
          f"{n / statistics.median(times['wall']):9.0f} median; CPU per sample (median), us: driver "
          f"{per_sample['driver']:5.1f}{split}, workers {per_sample['workers']:5.1f}; "
          f"{statistics.median(times['wall']):6.1f} s wall", flush=True)


def ceiling(synchronous: dict[str, list[float]], parallel: dict[str, list[float]]) -> float:
    """The largest speed-up of 2 workers over a synchronous run that the CPU each needs allows
    (medians): a synchronous run takes at least its main thread's CPU (it evaluates; its store
    writer runs beside it on the other core), 2 workers at least half the CPU of theirs and
    of the driver (on 2 cores)."""
    return 2 * statistics.median(synchronous["main"]) / statistics.median(
        [w + d for w, d in zip(parallel["workers"], parallel["driver"])])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ammonia", type=int, default=200_000)
    parser.add_argument("--sites", type=int, default=20_000)
    parser.add_argument("--pfr", type=int, default=5_000)
    parser.add_argument("--only", choices=sorted(CHAINS))
    args = parser.parse_args()
    from distributed import Client

    from uqms.execution.scheduler import local_cluster

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; wall time, best / median of "
          f"{args.repeats} runs into a Zarr store")
    chains = {name: (Workflow.from_file(WORKFLOWS / file), getattr(args, name))
              for name, file in CHAINS.items() if not args.only or name == args.only}
    walls: dict[str, dict[str, list[float]]] = {name: {} for name in chains}
    ceilings: dict[str, float] = {}
    # Both clusters up at once, and the three ways of running taken in turn at each repeat:
    # on a shared machine whose load drifts, each ratio compares runs made side by side.
    with local_cluster(1) as one, local_cluster(2) as two, Client(one) as client_one, Client(two) as client_two, \
            tempfile.TemporaryDirectory() as folder:
        ways = {SYNCHRONOUS: (SYNCHRONOUS, None), "1 worker": (one.scheduler_address, client_one),
                "2 workers": (two.scheduler_address, client_two)}
        for name, (flow, n) in chains.items():
            for _, client in ways.values():
                warm(flow, client)
            times = {label: {} for label in ways}
            for repeat in range(args.repeats):
                for label, (scheduler, client) in ways.items():
                    store = Path(folder) / f"{name}-{label[0]}-{repeat}.zarr"
                    for key, value in timed_run(flow, n, scheduler, store, client).items():
                        times[label].setdefault(key, []).append(value)
            for label in ways:
                walls[name][label] = times[label]["wall"]
                report(name, n, label, times[label])
            ceilings[name] = ceiling(times[SYNCHRONOUS], times["2 workers"])
    for name, runs in walls.items():
        ratios = [f"{min(runs[base]) / min(runs['2 workers']):.2f}x best, "
                  f"{statistics.median(runs[base]) / statistics.median(runs['2 workers']):.2f}x median over {base}"
                  for base in (SYNCHRONOUS, "1 worker")]
        print(f"{name:8s} speed-up of 2 workers: {'; '.join(ratios)}; ceiling over {SYNCHRONOUS} "
              f"{ceilings[name]:.2f}x")
    print(f"load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
