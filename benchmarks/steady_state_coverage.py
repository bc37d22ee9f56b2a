"""Batched steady-state solver vs a per-sample loop of scipy.optimize.root, side by side.

Same mechanism (ammonia on step sites, workflows/ammonia_mechanism.toml), same 10 000
samples (E_N uniform over -2..1 eV, 673 K, 25 bar N2, 75 bar H2), same equations
(net/gross-scaled balances plus site balance, analytic Jacobian), same starting guess,
same acceptance check. Prints solves per second of each and the ratio. scipy's hybr
solves in log-coverages here: in the coverages themselves (uqms's Newton update) it was
slower, about 300 against 240 us per solve.

Then two mechanisms beyond one site type and mass action, where the scipy peer gets a
plain per-sample residual and Jacobian written with numpy as a user would
(:func:`plain_system`): the ammonia mechanism with lateral interactions (N-N 0.3 eV, N-H
0.1 eV per unit coverage, H-H 0.05 eV), and the step + terrace ammonia mechanism of
workflows/ammonia_two_sites_mechanism.toml without its interaction (step sites 5 % of all).

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

from uqms.chemistry.mechanism import Mechanism, load_mechanism
from uqms.config import read_toml
from uqms.models.microkinetics.from_energies import rate_constants_at
from uqms.models.microkinetics.kinetics import (
    RateEquations,
    pressure_array,
    pressure_weighted,
)
from uqms.models.microkinetics.steady_state import solve_steady_state, uniform_guess

MECHANISM = Path(__file__).resolve().parents[1] / "workflows" / "ammonia_mechanism.toml"
TWO_SITES = Path(__file__).resolve().parents[1] / "workflows" / "ammonia_two_sites_mechanism.toml"
CHECK = 1e-10  # accepted |net/gross| of every adsorbate and |site sum - 1|, for both solvers
REPEATS = 3  # timings of each solver; best and median reported
LOOP_SAMPLES = 2000  # samples of the scipy loop per repeat (its rate per solve does not depend on n)


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


def plain_system(mechanism: Mechanism, kf: np.ndarray, kr: np.ndarray, lf: np.ndarray, lr: np.ndarray):
    """Residual and Jacobian of one sample in log-coverages x, as a user would write them:
    r+ = k+ exp(F x + L+ theta), r- likewise; adsorbate balances over their gross flux, site sums.

    Args:
        kf, kr: pressure-weighted rate constants (steps,); lf, lr: linear coverage terms (steps, species).
    """
    equations = RateEquations(mechanism)  # only its constant matrices are read
    forward_exponent, reverse_exponent = equations.forward_exponent, equations.reverse_exponent
    net, gross, sites = equations.net, equations.gross, equations.sites

    def rates(x):
        theta = np.exp(x)
        return (theta, kf * np.exp(forward_exponent @ x + lf @ theta),
                kr * np.exp(reverse_exponent @ x + lr @ theta))

    def residual(x):
        theta, forward, reverse = rates(x)
        return np.concatenate([net @ (forward - reverse) / (gross @ (forward + reverse) + 1e-300), sites @ theta - 1])

    def jacobian(x):
        theta, forward, reverse = rates(x)
        scale = gross @ (forward + reverse) + 1e-300
        rate_derivative = (forward[:, None] * (forward_exponent + lf * theta)
                           - reverse[:, None] * (reverse_exponent + lr * theta))
        return np.vstack([net @ rate_derivative / scale[:, None], sites * theta])

    return residual, jacobian


def plain_scipy_loop(mechanism, forward_k, reverse_k, coverage, guess):
    """Coverages from one ``scipy.optimize.root`` call per sample on :func:`plain_system`."""
    theta = np.full_like(guess, np.nan)
    zero = np.zeros((len(guess), *mechanism.reactant_surface.shape))
    lf, lr = (zero, zero) if coverage is None else (coverage.forward_linear, coverage.reverse_linear)
    for i in range(len(guess)):  # the per-sample loop being compared against
        residual, jacobian = plain_system(mechanism, forward_k[i], reverse_k[i], lf[i], lr[i])
        solution = root(residual, np.log(guess[i]), jac=jacobian, method="hybr", options={"xtol": 1e-13})
        if solution.success:
            theta[i] = np.exp(solution.x)
    return theta


def accepted_tof(mechanism, forward_k, reverse_k, theta, coverage=None):
    """TOF of NH3 and whether the coverages pass the shared check (residual and site balance)."""
    equations = RateEquations(mechanism)
    with np.errstate(invalid="ignore", divide="ignore"):
        x = np.log(theta)
        f, r = equations.rates(forward_k, reverse_k, x, coverage)
        check, _ = equations.residual(f, r, x)
    ok = (np.abs(check) <= CHECK).all(axis=1) & (theta <= 1).all(axis=1)
    tof = (f - r) @ (mechanism.product_gas - mechanism.reactant_gas)[:, mechanism.gas.index("NH3")]
    return tof, ok


def compare(label, mechanism, k, pressures, guess, uqms_guess, plain=False):
    """Time both solvers (:data:`REPEATS` times each; scipy on the first :data:`LOOP_SAMPLES`
    samples per repeat) and print solves per second, the ratio of the best and of the median
    rates, and how far their TOFs differ where both converged."""
    n = len(guess)
    forward_k, reverse_k = pressure_weighted(mechanism, k, pressure_array(mechanism, pressures, n))
    looped = slice(0, min(n, LOOP_SAMPLES))

    def loop(rows):
        if plain:
            return plain_scipy_loop(mechanism, forward_k[rows], reverse_k[rows],
                                    None if k.coverage is None else k.coverage[rows], guess[rows])
        return scipy_loop(mechanism, forward_k[rows], reverse_k[rows], guess[rows])

    few = k[:10]  # first calls (imports, allocations) left out of the timing
    solve_steady_state(mechanism, few, pressures, None if uqms_guess is None else uqms_guess[:10])
    loop(slice(0, 10))
    batched_rates, loop_rates = [], []
    for _ in range(REPEATS):
        start = time.perf_counter()
        batched = solve_steady_state(mechanism, k, pressures, uqms_guess)
        batched_rates.append(n / (time.perf_counter() - start))
        start = time.perf_counter()
        theta = loop(looped)
        loop_rates.append(len(theta) / (time.perf_counter() - start))
    tof, ok = accepted_tof(mechanism, forward_k[looped], reverse_k[looped], theta,
                           None if k.coverage is None else k.coverage[looped])
    batched_ok = batched.status == 0
    both = batched_ok[looped] & ok
    deviation = np.abs(tof[both] / batched.tof()[looped][both, 0] - 1).max() if both.any() else np.nan
    best, median = max(batched_rates) / max(loop_rates), np.median(batched_rates) / np.median(loop_rates)
    share = ok.mean() / batched_ok.mean()
    print(label)
    print(f"  uqms batched solver     : {max(batched_rates):9.0f} solves/s best, {np.median(batched_rates):9.0f} "
          f"median of {REPEATS} ({n} samples), {batched_ok.sum()} converged")
    peer = "plain per-sample residual and Jacobian" if plain else "uqms's equations on one row"
    print(f"  scipy.optimize.root loop: {max(loop_rates):9.0f} solves/s best, {np.median(loop_rates):9.0f} median "
          f"({len(theta)} samples), {ok.sum()} converged (hybr, analytic Jacobian: {peer})")
    print(f"  ratio (all solves)      : {best:9.1f}x best, {median:7.1f}x median")
    if ok.any():
        print(f"  ratio (converged solves): {best / share:9.1f}x best, {median / share:7.1f}x median")
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
    compare("warm start, the scipy peer on a plain per-sample residual and Jacobian", mechanism, k, pressures,
            guess, guess, plain=True)

    data, _ = read_toml(MECHANISM)
    data["interactions"] = {"N*": {"N*": 0.3, "H*": 0.1}, "H*": {"H*": 0.05, "N*": 0.1}}
    lateral = Mechanism.from_dict(data, "ammonia + lateral interactions")
    print(f"\nammonia mechanism with lateral interactions (N-N 0.3, N-H 0.1, H-H 0.05 eV), {n} samples")
    compare_mechanism(lateral, {"E_N": e_n, "n2_ts_intercept": intercept}, pressures, temperature)

    data, _ = read_toml(TWO_SITES)
    data.pop("interactions")
    two_sites = Mechanism.from_dict(data, "ammonia on step + terrace sites")
    print(f"\nammonia on step + terrace sites (H spill-over, steps 5 % of all sites), {n} samples")
    batch = {"E_N": e_n, "n2_ts_intercept": intercept, "step_density": np.full(n, 1.36e-6)}
    compare_mechanism(two_sites, batch, pressures, temperature)


def compare_mechanism(mechanism, batch, pressures, temperature):
    """Cold and warm start (from the steady state at E_N + 0.02 eV) against the plain scipy loop."""
    k = rate_constants_at(mechanism, temperature, batch)
    cold = uniform_guess(mechanism, len(temperature))
    compare("cold start: both from coverages spread evenly over each site type", mechanism, k, pressures, cold,
            None, plain=True)
    near = rate_constants_at(mechanism, temperature, {**batch, "E_N": batch["E_N"] + 0.02})
    warm = solve_steady_state(mechanism, near, pressures)
    guess = np.where(np.isfinite(warm.theta), warm.theta, cold)
    compare("warm start: both from the steady state at E_N + 0.02 eV (reactor-style)", mechanism, k, pressures,
            guess, guess, plain=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
