"""Samples per second of the bundled ammonia chains, in this process and on 2 local workers.

Chains: ammonia (scaling -> steady state with degree of rate control), the site-averaged
ammonia ensemble (12 site nodes per sample) and the ammonia PFR. Each is run into a Zarr
store (as ``uqms run`` does) synchronously and on a local cluster of 2 single-threaded
worker processes set up as uqms sets up its own (``uqms.execution.scheduler.local_cluster``),
started once beforehand (each worker's imports and compiled code loaded before timing), with
the batch size each run chooses itself; wall time, best and median of the repeats, and the
CPU time per sample of the driver (this process: scheduling, the in-process scheduler and
nannies, receiving results, writing the store or marking batches written by the workers)
and of the workers (computing, writing their batches). Prints samples/s and the speed-up of
the 2 workers over one process. (The PFR stage alone, against a solve_ivp loop per sample:
benchmarks/reactor.py.)

    python benchmarks/chain.py [--repeats 3] [--ammonia 200000] [--sites 20000] [--pfr 5000] [--only NAME]

Goals (issue 18): site-averaged >= 20k samples/s; 2-worker speed-up >= 1.7x on the
ammonia chain at 1e6 samples (``--ammonia 1000000``).
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


def timed_runs(flow, n, scheduler, repeats, folder, client=None):
    """Wall seconds, driver CPU seconds and workers' CPU seconds (0 without ``client``) of
    each of ``repeats`` runs into a fresh store."""
    walls, cpus, worker_cpus = [], [], []
    for repeat in range(repeats):
        store = Path(folder) / f"{flow.name}-{scheduler[:5]}-{repeat}.zarr"
        before = client.run(time.process_time) if client else {}
        wall, cpu = time.perf_counter(), time.process_time()
        flow.run(n=n, scheduler=scheduler, store=store, batch_size=None)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        after = client.run(time.process_time) if client else {}
        worker_cpus.append(sum(after[w] - before[w] for w in after.keys() & before.keys()))
        shutil.rmtree(store)
    return walls, cpus, worker_cpus


def warm(flow, client) -> None:
    """Imports and compiled code loaded in this process and in every worker."""
    from uqms.execution.runner import evaluate_batch

    flow.run(n=64, scheduler="synchronous")
    client.run(evaluate_batch, flow, 0, 64, 64, flow.seed)


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
    with local_cluster(2) as cluster, Client(cluster) as client, tempfile.TemporaryDirectory() as folder:
        for name, file in CHAINS.items():
            if args.only and name != args.only:
                continue
            flow = Workflow.from_file(WORKFLOWS / file)
            n = getattr(args, name)
            warm(flow, client)
            results = {}
            for label, scheduler in (("synchronous", "synchronous"), ("2 workers", cluster.scheduler_address)):
                walls, cpus, worker_cpus = timed_runs(flow, n, scheduler, args.repeats, folder,
                                                      client if scheduler != "synchronous" else None)
                results[label] = walls
                print(f"{name:8s} n={n:<8d} {label:12s}: {n / min(walls):9.0f} samples/s best, "
                      f"{n / statistics.median(walls):9.0f} median; CPU per sample (median): driver "
                      f"{statistics.median(cpus) / n * 1e6:5.1f} us, workers {statistics.median(worker_cpus) / n * 1e6:5.1f} us; "
                      f"{statistics.median(walls):6.1f} s wall", flush=True)
            print(f"{name:8s} speed-up of 2 workers: {min(results['synchronous']) / min(results['2 workers']):.2f}x "
                  f"best, {statistics.median(results['synchronous']) / statistics.median(results['2 workers']):.2f}x "
                  f"median; load average now {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
