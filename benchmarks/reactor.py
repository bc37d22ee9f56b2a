"""The full ammonia chain energetics -> micro-kinetics -> PFR: samples per second, surrogate speed-up and error.

1. The chain of workflows/ammonia_pfr.toml (scaling relations -> plug-flow reactor with the
   micro-kinetic steady state solved at every point of the bed) on the same Sobol' rows,
   with the surface solved at every point and with the per-sample surrogate of the
   surface rate; samples per second of each, and the error the surrogate adds to the NH3
   outlet mole fraction, besides its own held-out rate error.
2. The peer: scipy's solve_ivp (LSODA), one call per sample (a Python loop), each right-hand
   side one steady-state solve of that sample, on a subset of the same rows; samples per
   second against the batched integration, and the largest difference of the outlets.

Run: python benchmarks/reactor.py [n]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp

from uqms.config import parse_workflow, read_toml
from uqms.models.microkinetics.rate_constants import RateConstants
from uqms.models.reactor.conditions import ReactorConditions
from uqms.workflow import Workflow

WORKFLOW = Path(__file__).resolve().parents[1] / "workflows" / "ammonia_pfr.toml"


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def workflow(surrogate: bool) -> Workflow:
    """The ammonia PFR workflow, its reactor stage asked to use the surrogate or not."""
    data, text = read_toml(WORKFLOW)
    data["chain"][-1]["options"]["surrogate"] = surrogate
    return Workflow.from_config(parse_workflow(data, str(WORKFLOW)), str(WORKFLOW), text)


def chains(n: int):
    flow = workflow(surrogate=False)
    full, full_time = timed(lambda: flow.run(n=n, batch_size=n, quiet=True))
    fast, fast_time = timed(lambda: workflow(surrogate=True).run(n=n, batch_size=n, quiet=True))
    good = (full["status"] == 0) & (fast["status"] == 0)
    exact, approximate = (r["mole_fraction"].sel(gas="NH3").values[good] for r in (full, fast))
    added = np.abs(approximate / exact - 1)
    held_out = fast["surrogate_error"].values[good]
    print(f"ammonia PFR chain, {n} Sobol' samples in one batch ({int(good.sum())} converged in both):")
    print(f"  surface solved at every point {n / full_time:8.1f} samples/s")
    print(f"  per-sample surrogate          {n / fast_time:8.1f} samples/s   speed-up {full_time / fast_time:.2f}x")
    print(f"  surrogate held-out rate error: median {np.median(held_out):.1e}, max {held_out.max():.1e}")
    print(f"  error it adds to the NH3 outlet mole fraction: median {np.median(added):.1e}, max {added.max():.1e}")
    return full, flow.chain.stages[-1]


def peer(full, pfr, count: int) -> None:
    """solve_ivp per sample on the first ``count`` rows, against the batched integration of the same rows."""
    batch = {name: full[name].values[:count] for name in ("reaction_energy", "barrier")}
    batch.update({name: np.broadcast_to(full[name].values, (count,)) for name in ("T", "p", "F_N2", "F_H2", "sites")})
    batched, batched_time = timed(lambda: pfr(batch))
    conditions = pfr.conditions(batch)
    rows = np.arange(1)

    def one(j):
        single = ReactorConditions(pfr.mechanism, RateConstants(conditions.rate_constants.forward[[j]],
                                                                conditions.rate_constants.reverse[[j]]),
                                   conditions.inlet[[j]], conditions.pressure[[j]], conditions.sites[[j]])
        sites = single.sites[0]
        solution = solve_ivp(lambda w, x: single.rate(rows, x)[0], (0.0, sites), [0.0], method="LSODA",
                             rtol=1e-7, atol=1e-20)
        return solution.y[0, -1]

    extents, loop_time = timed(lambda: np.array([one(j) for j in range(count)]))
    nh3 = 2 * extents / (conditions.total_inlet - 2 * extents)
    difference = np.abs(nh3 / batched["mole_fraction"][:, 2] - 1)
    print(f"peer, {count} samples: solve_ivp (LSODA) per sample vs the batched Dormand-Prince integration")
    print(f"  solve_ivp loop   {count / loop_time:8.1f} samples/s")
    print(f"  batched          {count / batched_time:8.1f} samples/s   speed-up {loop_time / batched_time:.1f}x")
    print(f"  largest relative difference of the NH3 outlet mole fraction {difference.max():.1e}")


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    full, pfr = chains(n)
    peer(full, pfr, 32)
