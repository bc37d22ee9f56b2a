"""The plug-flow reactor stage against a per-sample scipy loop; explicit against stiff integration.

1. The PFR stage of workflows/ammonia_pfr.toml on the inputs its chain (scaling relations ->
   PFR with the micro-kinetic steady state at every point of the bed) gives it for the same
   Sobol' rows: samples per second with the surface solved at every point (in one batch and
   in batches of 256 and 1024: the integrator's costs per stage are shared by a batch) and with
   the per-sample surrogate of the surface rate; the error of the NH3 outlet mole fraction at
   the workflow's rtol against the same integration at rtol 1e-12, and the error the surrogate
   adds. (The whole chain, run into a store in one process and on 2 workers, is timed by
   benchmarks/chain.py.)
2. The peer, made fair: scipy's solve_ivp (LSODA), one call per sample (a Python loop), each
   right-hand side one steady-state solve of that sample warm-started from the coverages of the
   previous right-hand side (as any user would write it; a cold start at every right-hand side
   costs the loop about 6x more), against the batched integration of the same rows.
3. Several overall reactions: the PFR stage of workflows/prox.toml (2 CO + O2 -> 2 CO2 and
   O2 + 2 H2 -> 2 H2O, two extents) alone and against the same warm-started solve_ivp loop.
4. Near equilibrium: the network of tests/test_reactor_stiff.py (a fast reversible reaction at
   equilibrium beside a slow one) with the explicit Dormand-Prince pair, the Rosenbrock method
   and the automatic choice: samples per second and surface solves per sample.

Every timing is repeated; best and median are printed. The machine may be shared: the load
average is printed with the figures.

Run: python benchmarks/reactor.py [n] [repeats]
"""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp
from timing import timed  # benchmarks/timing.py, beside this script

from uqms.config import parse_workflow, read_toml
from uqms.models.microkinetics.rate_constants import RateConstants
from uqms.models.reactor.conditions import ReactorConditions
from uqms.models.reactor.pfr import integrate_pfr
from uqms.workflow import Workflow

ROOT = Path(__file__).resolve().parents[1]
AMMONIA, PROX = ROOT / "workflows" / "ammonia_pfr.toml", ROOT / "workflows" / "prox.toml"


def rate_line(label: str, count: int, times: list[float]) -> str:
    return (f"  {label:34s} best {count / min(times):9.1f} samples/s   median "
            f"{count / statistics.median(times):9.1f} samples/s")


def workflow(path: Path, **reactor_options) -> Workflow:
    """A bundled workflow with options of its reactor stage changed."""
    data, _ = read_toml(path)
    data["chain"][-1]["options"].update(reactor_options)
    return Workflow.from_config(parse_workflow(data, str(path)), str(path), "")


def reactor_inputs(path: Path, n: int) -> tuple[dict, object]:
    """The inputs of a bundled workflow's reactor stage for its first ``n`` Sobol' rows (the chain
    run once, untimed, and read back), and that stage."""
    flow = workflow(path)
    run = flow.run(n=n, batch_size=n, quiet=True)
    stage = flow.chain.stages[-1]
    batch = {name: (run[name].values if run[name].ndim else np.broadcast_to(run[name].values, (n,)))
             for name in stage.inputs}
    return batch, stage


def stage_rate(stage, batch: dict, repeats: int, label: str) -> dict:
    """Samples per second of a stage on one batch; its output."""
    stage({name: value[:16] for name, value in batch.items()})  # first calls out of the timing
    result, times = timed(lambda: stage(batch), repeats)
    print(rate_line(label, len(next(iter(batch.values()))), times))
    return result


def batch_rate(stage, inputs: dict, size: int, repeats: int) -> None:
    """Samples per second of a stage on all of ``inputs`` in batches of ``size``."""
    count = len(next(iter(inputs.values())))

    def batches():
        for start in range(0, count, size):
            stage({name: value[start:start + size] for name, value in inputs.items()})

    _, times = timed(batches, repeats)
    print(rate_line(f"... in batches of {size}", count, times))


def solve_ivp_loop(conditions: ReactorConditions, count: int) -> np.ndarray:
    """Extents (count, reactions) by solve_ivp per sample, each right-hand side warm-started."""
    m, rows = len(conditions.reactions), np.zeros(1, dtype=int)
    out = np.empty((count, m))
    for j in range(count):
        k = RateConstants(conditions.rate_constants.forward[[j]], conditions.rate_constants.reverse[[j]])
        one = ReactorConditions(conditions.mechanism, k, conditions.inlet[[j]], conditions.pressure[[j]],
                                conditions.sites[[j]])

        def rhs(w, x, one=one):
            rates, ok, theta = one.rates(rows, x[None])
            if ok[0]:
                one.theta[0] = theta[0]  # the next right-hand side starts from here
            return rates[0]

        solution = solve_ivp(rhs, (0.0, one.sites[0]), np.zeros(m), method="LSODA", rtol=1e-7,
                             atol=1e-20 * one.total_inlet[0])
        out[j] = solution.y[:, -1]
    return out


def peer(inputs: dict, stage, count: int, repeats: int, label: str) -> None:
    """The batched reactor stage against the warm-started solve_ivp loop on the first ``count`` rows."""
    batch = {name: value[:count] for name, value in inputs.items()}
    batched, batched_times = timed(lambda: stage(batch), repeats)
    extents, loop_times = timed(lambda: solve_ivp_loop(stage.conditions(batch), count), repeats)
    conditions = stage.conditions(batch)
    flows = conditions.reactions.flows(conditions.inlet, extents)
    fractions = flows / flows.sum(axis=1, keepdims=True)
    big = batched["mole_fraction"] > 1e-6
    difference = np.abs(fractions[big] / batched["mole_fraction"][big] - 1)
    print(f"{label}: {count} samples, batched stage vs solve_ivp (LSODA) per sample, warm-started")
    print(rate_line("solve_ivp loop", count, loop_times))
    print(rate_line("batched", count, batched_times))
    print(f"  speed-up: best {min(loop_times) / min(batched_times):.1f}x, median "
          f"{statistics.median(loop_times) / statistics.median(batched_times):.1f}x; largest relative "
          f"difference of an outlet mole fraction above 1e-6: {difference.max():.1e}")


def near_equilibrium(n: int, repeats: int) -> None:
    """Explicit, stiff and automatic integration of the fast-and-slow network of tests/test_reactor_stiff.py."""
    sys.path.insert(0, str(ROOT))
    from tests.test_reactor_stiff import DG, MECHANISM, SITES, T
    from uqms.models.microkinetics.from_energies import rate_constants_at

    dg = np.resize(DG, n)
    k = rate_constants_at(MECHANISM, np.full(n, T), {"dG": dg, "k1": np.full(n, 1e3), "k2": np.ones(n)})
    inlet = np.tile([0.99, 0.0, 0.0, 0.01], (n, 1))
    print(f"near equilibrium: {n} samples of tests/test_reactor_stiff.py's network, rtol 1e-6")
    outlets = {}
    for method in ("explicit", "stiff", "auto"):
        solves = []

        def integrate(method=method, solves=solves):
            c = ReactorConditions(MECHANISM, k, inlet, 1.0, SITES)
            rates = c.rates

            def counted(rows, extents, guess=None):
                solves.append(len(rows))
                return rates(rows, extents, guess)

            c.rates = counted
            return integrate_pfr(c, rtol=1e-6, method=method, max_steps=20000)

        outlets[method], times = timed(integrate, repeats)
        print(rate_line(method, n, times) + f"   {sum(solves) / repeats / n:7.0f} surface solves per sample")
    gap = np.abs(outlets["stiff"].mole_fractions - outlets["explicit"].mole_fractions).max()
    print(f"  largest difference of an outlet mole fraction, stiff vs explicit: {gap:.1e}")


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; one process")
    print(f"ammonia PFR stage, {n} Sobol' samples in one batch:")
    inputs, pfr = reactor_inputs(AMMONIA, n)
    full = stage_rate(pfr, inputs, repeats, "surface solved at every point")
    for size in (256, 1024):  # the per-stage costs of the batched integrator are shared by a batch
        if size < n:
            batch_rate(pfr, inputs, size, repeats)
    fast = stage_rate(workflow(AMMONIA, surrogate=True).chain.stages[-1], inputs, repeats, "per-sample surrogate")
    good = (full["status"] == 0) & (fast["status"] == 0)
    nh3 = list(pfr.output_coords["gas"]).index("NH3")
    tight = workflow(AMMONIA, rtol=1e-12).chain.stages[-1](inputs)["mole_fraction"][:, nh3]
    error = np.abs(full["mole_fraction"][:, nh3] / tight - 1)[good & (tight > 1e-6)]
    print(f"  rtol {pfr.rtol:g}: error of the NH3 mole fraction (above 1e-6) against rtol 1e-12 median "
          f"{np.median(error):.1e}, max {error.max():.1e}")
    exact, approximate = (r["mole_fraction"][good, nh3] for r in (full, fast))
    print(f"  surrogate: error added to the NH3 mole fraction median {np.median(np.abs(approximate / exact - 1)):.1e}, "
          f"max {np.abs(approximate / exact - 1).max():.1e}")
    peer(inputs, pfr, 16, repeats, "ammonia PFR")
    print(f"PROX PFR stage (two overall reactions), {n} Sobol' samples in one batch:")
    prox_inputs, prox_pfr = reactor_inputs(PROX, n)
    stage_rate(prox_pfr, prox_inputs, repeats, "surface solved at every point")
    peer(prox_inputs, prox_pfr, 16, repeats, "PROX PFR")
    near_equilibrium(64, repeats)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
