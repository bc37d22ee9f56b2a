"""Batched steady-state solver vs a per-sample loop of scipy.optimize.root, side by side.

Same mechanism (ammonia on step sites, workflows/ammonia_mechanism.toml), same 10 000
samples (E_N uniform over -2..1 eV, 673 K, 25 bar N2, 75 bar H2), same equations
(net/gross-scaled balances plus site balance, analytic Jacobian), same starting guess,
same acceptance check. Prints solves per second of each and the ratio. scipy's hybr
solves in log-coverages here: in the coverages themselves (uqms's Newton update) it was
slower, about 300 against 240 us per solve.

    python benchmarks/steady_state.py [n_samples]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core each: the scipy loop cannot use more
os.environ.setdefault("OMP_NUM_THREADS", "1")

import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import root

from uqms.chemistry.mechanism import load_mechanism
from uqms.models.microkinetics.from_energies import rate_constants_at
from uqms.models.microkinetics.kinetics import (
    RateEquations,
    pressure_array,
    pressure_weighted,
)
from uqms.models.microkinetics.rate_constants import RateConstants
from uqms.models.microkinetics.steady_state import solve_steady_state, uniform_guess

MECHANISM = Path(__file__).resolve().parents[1] / "workflows" / "ammonia_mechanism.toml"
CHECK = 1e-10  # accepted |net/gross| of every adsorbate and |site sum - 1|, for both solvers


def scipy_loop(mechanism, forward_k, reverse_k, guess):
    """Coverages from one ``scipy.optimize.root`` call per sample (NaN where it reports failure)."""
    equations = RateEquations(mechanism)
    theta = np.full_like(guess, np.nan)
    for i in range(len(guess)):  # the per-sample loop being compared against
        kf, kr = forward_k[i : i + 1], reverse_k[i : i + 1]

        def residual(x, kf=kf, kr=kr):
            f, r = equations.rates(kf, kr, x[None])
            return equations.residual(f, r, x[None])[0][0]

        def jacobian(x, kf=kf, kr=kr):
            f, r = equations.rates(kf, kr, x[None])
            _, scale = equations.residual(f, r, x[None])
            return equations.jacobian(f, r, x[None], scale)[0]

        solution = root(residual, np.log(guess[i]), jac=jacobian, method="hybr", options={"xtol": 1e-13})
        if solution.success:
            theta[i] = np.exp(solution.x)
    return theta


def accepted_tof(mechanism, forward_k, reverse_k, theta):
    """TOF of NH3 and whether the coverages pass the shared check (residual and site balance)."""
    equations = RateEquations(mechanism)
    with np.errstate(invalid="ignore", divide="ignore"):
        x = np.log(theta)
        f, r = equations.rates(forward_k, reverse_k, x)
        check, _ = equations.residual(f, r, x)
    ok = (np.abs(check) <= CHECK).all(axis=1) & (theta <= 1).all(axis=1)
    tof = (f - r) @ (mechanism.product_gas - mechanism.reactant_gas)[:, mechanism.gas.index("NH3")]
    return tof, ok


def compare(label, mechanism, k, pressures, guess, uqms_guess):
    n = len(guess)
    forward_k, reverse_k = pressure_weighted(mechanism, k, pressure_array(mechanism, pressures, n))
    few = RateConstants(k.forward[:10], k.reverse[:10])  # first calls (imports, allocations) left out of the timing
    solve_steady_state(mechanism, few, pressures, None if uqms_guess is None else uqms_guess[:10])
    scipy_loop(mechanism, forward_k[:10], reverse_k[:10], guess[:10])
    start = time.perf_counter()
    batched = solve_steady_state(mechanism, k, pressures, uqms_guess)
    batched_time = time.perf_counter() - start
    start = time.perf_counter()
    theta = scipy_loop(mechanism, forward_k, reverse_k, guess)
    loop_time = time.perf_counter() - start
    tof, ok = accepted_tof(mechanism, forward_k, reverse_k, theta)
    batched_ok = batched.status == 0
    both = batched_ok & ok
    deviation = np.abs(tof[both] / batched.tof()[both, 0] - 1).max() if both.any() else np.nan
    print(label)
    print(f"  uqms batched solver     : {n / batched_time:9.0f} solves/s ({batched_time:7.3f} s), "
          f"{batched_ok.sum()} converged")
    print(f"  scipy.optimize.root loop: {n / loop_time:9.0f} solves/s ({loop_time:7.3f} s), "
          f"{ok.sum()} converged (hybr, analytic Jacobian)")
    print(f"  ratio (all solves)      : {loop_time / batched_time:9.1f}x")
    if ok.any():
        print(f"  ratio (converged solves): {batched_ok.sum() / batched_time / (ok.sum() / loop_time):9.1f}x")
    print(f"  largest relative TOF difference where both converged ({both.sum()} samples): {deviation:.1e}")


def main(n: int = 10_000) -> None:
    mechanism = load_mechanism(MECHANISM)
    rng = np.random.default_rng(2014)
    e_n = rng.uniform(-2.0, 1.0, n)
    temperature, intercept = np.full(n, 673.0), np.full(n, 1.56)
    k = rate_constants_at(mechanism, temperature, {"E_N": e_n, "n2_ts_intercept": intercept})
    pressures = {"N2": 25.0, "H2": 75.0, "NH3": 0.0}
    print(f"ammonia mechanism, {n} samples, E_N ~ U(-2, 1) eV, 673 K, one process")
    cold = uniform_guess(mechanism, n)
    compare("cold start: both from coverages spread evenly over the site", mechanism, k, pressures, cold, None)
    near = rate_constants_at(mechanism, temperature, {"E_N": e_n + 0.02, "n2_ts_intercept": intercept})
    warm = solve_steady_state(mechanism, near, pressures)
    guess = np.where(np.isfinite(warm.theta), warm.theta, cold)
    compare("warm start: both from the steady state at E_N + 0.02 eV (reactor-style)", mechanism, k, pressures,
            guess, guess)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
