"""Steady-state solves per CPU second: uqms against Cantera and a per-sample scipy loop.

Three mechanisms, each with the same samples for every solver (E_N uniform over -2..1 eV,
N2 transition-state intercept normal(1.56, 0.1) eV, 673 K, 25 bar N2, 75 bar H2):

- ammonia on step sites (workflows/ammonia_mechanism.toml), against Cantera and scipy;
- the same with lateral interactions (N-N 0.3, N-H 0.1, H-H 0.05 eV per unit coverage,
  the linear model), against scipy;
- ammonia on step + terrace sites with H spill-over (workflows/ammonia_two_sites_mechanism.toml
  without its interaction, steps 5 % of all sites), against scipy.

In one process, CPU time per solve (``time.process_time``), best and median of several
repeats of each side:

- uqms cold: no guess; continuation along the batch (each sample's Newton from a solved
  neighbour), and each sample on its own by pseudo-transient continuation from the
  uniform guess (``along_batch=False``); compiled kernel, and the numpy path.
- uqms warm: from the steady state at E_N + 0.02 eV (a reactor step, a degree of rate control).
- Cantera: ``Interface.advance_coverages_to_steady_state`` on the same mechanism, built
  here from the uqms one (every direction an irreversible reaction whose rate multiplier
  is the uqms rate constant, gas concentrations divided out), cold from the uniform
  coverages and warm from the same guess as uqms.
- scipy: ``scipy.optimize.root`` (hybr) per sample on a plain per-sample residual and
  analytic Jacobian in log-coverages (numpy on 1-D vectors), cold and warm.

Every peer's solution is held to uqms's acceptance check (share printed) and compared
with uqms's (largest and median coverage difference printed).

    python benchmarks/steady_state.py [n_samples] [repeats]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core each: the loops cannot use more
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import statistics
import time
from pathlib import Path

import cantera as ct
import numpy as np
from scipy.optimize import root

from uqms.chemistry.mechanism import Mechanism
from uqms.config import read_toml
from uqms.models.microkinetics import kernels
from uqms.models.microkinetics.from_energies import rate_constants_at
from uqms.models.microkinetics.kinetics import (
    RateEquations,
    pressure_array,
    pressure_weighted,
)
from uqms.models.microkinetics.steady_state import solve_steady_state, uniform_guess

WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"
MECHANISM = WORKFLOWS / "ammonia_mechanism.toml"
TWO_SITES = WORKFLOWS / "ammonia_two_sites_mechanism.toml"
T = 673.0
PRESSURES = {"N2": 25.0, "H2": 75.0, "NH3": 0.0}
PEER_SAMPLES = 400  # samples the per-sample peers solve per repeat (they take 100s of us each)


def timed(function, repeats):
    """(best, median) CPU seconds of ``function()`` over ``repeats`` calls, and its last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.process_time()
        result = function()
        times.append(time.process_time() - start)
    return min(times), statistics.median(times), result


# --- Cantera ---------------------------------------------------------------------------

def cantera_interface(mechanism):
    """A Cantera Interface equal to ``mechanism``: species without elements, site density
    1 kmol/m^2 (so rates are per site), every step as two irreversible reactions of rate
    constant 1 whose multipliers carry the rate constants."""
    gas = [f"G{i}" for i in range(len(mechanism.gas))]
    surface = [f"S{i}(S)" for i in range(len(mechanism.surface_species))]

    def side(gas_row, surface_row):
        terms = [f"{int(c)} {name}" if c != 1 else name for name, c in zip(gas, gas_row) if c]
        terms += [f"{int(c)} {name}" if c != 1 else name for name, c in zip(surface, surface_row) if c]
        return " + ".join(terms)

    reactions = []
    for j in range(len(mechanism.step_names)):
        left = side(mechanism.reactant_gas[j], mechanism.reactant_surface[j])
        right = side(mechanism.product_gas[j], mechanism.product_surface[j])
        reactions += [f"- {{equation: {left} => {right}, rate-constant: {{A: 1.0, b: 0, Ea: 0}}}}",
                      f"- {{equation: {right} => {left}, rate-constant: {{A: 1.0, b: 0, Ea: 0}}}}"]
    thermo = "thermo: {model: constant-cp, T0: 298.15, h0: 0, s0: 0, cp0: 0}"
    species = "\n".join(f"- {{name: {name}, composition: {{}}, {thermo}}}" for name in gas + surface)
    text = f"""
units: {{length: m, quantity: kmol, activation-energy: eV}}
phases:
- {{name: gas, thermo: ideal-gas, elements: [H], species: [{", ".join(gas)}], state: {{T: {T}, P: 1e5}}}}
- {{name: surf, thermo: ideal-surface, adjacent-phases: [gas], elements: [H], species: [{", ".join(surface)}],
    kinetics: surface, reactions: all, site-density: 1.0, state: {{T: {T}, P: 1e5}}}}
species:
{species}
reactions:
{chr(10).join(reactions)}
"""
    surf = ct.Interface(yaml=text, name="surf")
    p = pressure_array(mechanism, PRESSURES, 1)[0]
    surf.adjacent["gas"].TPX = T, p.sum() * 1e5, p / p.sum()
    surf.TP = T, p.sum() * 1e5  # the steady-state solver sets every adjacent phase to the surface's T and P
    return surf


def cantera_multipliers(mechanism, surf, k):
    """Rate multipliers (samples, 2 steps): uqms rate constants with the pressures in bar
    weighted in and Cantera's gas concentrations (kmol/m^3) divided out."""
    concentration = surf.adjacent["gas"].concentrations
    p = pressure_array(mechanism, PRESSURES, len(k.forward))
    forward_k, reverse_k = pressure_weighted(mechanism, k, p)
    multipliers = np.empty((len(forward_k), 2 * forward_k.shape[1]))
    for column, constants, stoichiometry in ((0, forward_k, mechanism.reactant_gas),
                                             (1, reverse_k, mechanism.product_gas)):
        with np.errstate(divide="ignore", invalid="ignore"):
            divisor = np.prod(concentration[None] ** stoichiometry[None], axis=2)
            multipliers[:, column::2] = np.where(constants > 0, constants / divisor, 0.0)
    return multipliers


def cantera_loop(surf, multipliers, guesses):
    """Steady coverages from one ``advance_coverages_to_steady_state`` per sample (NaN where it raised)."""
    theta = np.empty_like(guesses)
    for i in range(len(guesses)):  # the per-sample loop being compared against
        for r, value in enumerate(multipliers[i]):
            surf.set_multiplier(value, r)
        surf.coverages = guesses[i]
        try:
            surf.advance_coverages_to_steady_state()
            theta[i] = surf.coverages
        except ct.CanteraError:  # Cantera 3.2's fallback after a failed Newton solve raises; counted as failed
            theta[i] = np.nan
    return theta


# --- scipy -----------------------------------------------------------------------------

def scipy_loop(mechanism, forward_k, reverse_k, coverage, guesses):
    """Coverages from one ``scipy.optimize.root`` (hybr) call per sample on a plain
    residual and analytic Jacobian in log-coverages x, as a user would write them:
    r+ = k+ exp(F x + L+ theta), r- likewise (L: the linear coverage terms, if any);
    adsorbate balances over their gross flux, one balance per site type (NaN where it fails)."""
    reactant, product = mechanism.reactant_surface.astype(float), mechanism.product_surface.astype(float)
    net = (product - reactant).T[: len(mechanism.adsorbates)]
    gross, sites = np.abs(net), mechanism.site_membership.astype(float)
    none = [None] * len(guesses)
    lf, lr = (none, none) if coverage is None else (coverage.forward_linear, coverage.reverse_linear)

    def rates(x, kf, kr, linear_f, linear_r):
        theta, forward, reverse = np.exp(x), reactant @ x, product @ x
        if linear_f is not None:
            forward, reverse = forward + linear_f @ theta, reverse + linear_r @ theta
        return theta, kf * np.exp(forward), kr * np.exp(reverse)

    def residual(x, *args):
        theta, forward, reverse = rates(x, *args)
        return np.concatenate([net @ (forward - reverse) / (gross @ (forward + reverse) + 1e-300), sites @ theta - 1])

    def jacobian(x, *args):
        theta, forward, reverse = rates(x, *args)
        scale = gross @ (forward + reverse) + 1e-300
        d_forward, d_reverse = reactant, product  # d ln r / dx
        if args[2] is not None:
            d_forward, d_reverse = reactant + args[2] * theta, product + args[3] * theta
        balance = (net * forward) @ d_forward - (net * reverse) @ d_reverse  # d(net @ (r+ - r-))/dx
        return np.vstack([balance / scale[:, None], sites * theta[None]])

    theta = np.full_like(guesses, np.nan)
    for i in range(len(guesses)):  # the per-sample loop being compared against
        solution = root(residual, np.log(guesses[i]), args=(forward_k[i], reverse_k[i], lf[i], lr[i]), jac=jacobian,
                        method="hybr", options={"xtol": 1e-13})
        if solution.success:
            theta[i] = np.exp(solution.x)
    return theta


def accepted(mechanism, forward_k, reverse_k, coverage, theta):
    """Whether each sample's coverages pass uqms's own acceptance check: |net / gross| of every
    adsorbate <= 1e-10 (100 x the solver's tolerance), |site sum - 1| <= 1e-10, coverages in (0, 1]."""
    equations = RateEquations(mechanism)
    with np.errstate(invalid="ignore", divide="ignore"):
        x = np.log(theta)
        residual, _ = equations.residual(*equations.rates(forward_k, reverse_k, x, coverage), x)
    return (np.abs(residual) <= 1e-10).all(axis=1) & (theta > 0).all(axis=1) & (theta <= 1).all(axis=1)


# --- the comparison --------------------------------------------------------------------

def compare(label, mechanism, values, n, repeats, cantera=False):
    """Time uqms (compiled and numpy path) and the per-sample peers on ``mechanism`` at
    ``values`` (named inputs, arrays of n samples), cold and warm; print the table and ratios.
    Returns the rows {label: (best s, median s, share accepted)} per solve."""
    k = rate_constants_at(mechanism, np.full(n, T), values)
    near = rate_constants_at(mechanism, np.full(n, T), values | {"E_N": values["E_N"] + 0.02})
    forward_k, reverse_k = pressure_weighted(mechanism, k, pressure_array(mechanism, PRESSURES, n))
    print(f"\n{label} ({len(mechanism.adsorbates)} adsorbates, {len(mechanism.sites)} site types, "
          f"{len(mechanism.step_names)} steps), {n} samples, {T:g} K; CPU time per solve, best / median of "
          f"{repeats} repeats; load average {os.getloadavg()[0]:.1f}")
    clock = time.perf_counter()
    solve_steady_state(mechanism, k[:4], PRESSURES)
    print(f"first call (compiled kernel loaded from numba's cache, or compiled): {time.perf_counter() - clock:.2f} s")
    reference = solve_steady_state(mechanism, near, PRESSURES)
    cold_guess = uniform_guess(mechanism, n)
    warm_guess = np.where(np.isfinite(reference.theta), reference.theta, cold_guess)

    rows = {}

    def uqms(side, **options):
        best, median, state = timed(lambda: solve_steady_state(mechanism, k, PRESSURES, **options), repeats)
        rows[f"uqms {side}"] = (best / n, median / n, (state.status == 0).mean())
        return state

    along = uqms("cold, along the batch")
    uqms("cold, each sample alone", along_batch=False)
    uqms("warm", guess=warm_guess)
    os.environ["UQMS_NO_NUMBA"] = "1"
    uqms("cold, numpy path (each alone)")
    uqms("warm, numpy path", guess=warm_guess)
    del os.environ["UQMS_NO_NUMBA"]
    assert kernels.enabled()

    few = slice(0, PEER_SAMPLES)
    coverage = None if k.coverage is None else k.coverage[few]
    peers = {"scipy root": lambda g: scipy_loop(mechanism, forward_k[few], reverse_k[few], coverage, g[few])}
    if cantera:
        surf = cantera_interface(mechanism)
        multipliers = cantera_multipliers(mechanism, surf, k)
        peers["Cantera"] = lambda g: cantera_loop(surf, multipliers[few], g[few])
    deviations = {}
    for peer, loop in peers.items():
        for side, guess in (("cold", cold_guess), ("warm", warm_guess)):
            best, median, theta = timed(lambda loop=loop, g=guess: loop(g), repeats)
            ok = accepted(mechanism, forward_k[few], reverse_k[few], coverage, theta)
            rows[f"{peer} {side}"] = (best / PEER_SAMPLES, median / PEER_SAMPLES, ok.mean())
            difference = np.abs(theta - along.theta[few]).max(axis=1)
            deviations[f"{peer} {side}"] = np.nanmax(difference), np.nanmedian(difference)

    print("per attempted solve (failed ones included); accepted: share of samples passing uqms's check")
    print(f"{'':34s} {'best us':>9s} {'median us':>9s} {'solves/s':>10s} {'accepted':>9s}")
    for name, (best, median, share) in rows.items():
        print(f"{name:34s} {best * 1e6:9.2f} {median * 1e6:9.2f} {1 / best:10.0f} {share:9.3f}")
    print("|coverage difference| from uqms on the peers' samples, largest / median: "
          + ", ".join(f"{name} {large:.1e} / {median:.1e}" for name, (large, median) in deviations.items()))
    print("ratios (peer time / uqms time per solve, best; median):")
    for peer in peers:
        for side, mine in (("cold", "uqms cold, along the batch"), ("cold", "uqms cold, each sample alone"),
                           ("warm", "uqms warm")):
            theirs = rows[f"{peer} {side}"]
            print(f"  {peer} {side} / {mine:30s}: {theirs[0] / rows[mine][0]:8.1f}x; {theirs[1] / rows[mine][1]:8.1f}x")
    return rows


def main(n: int = 20_000, repeats: int = 5) -> None:
    rng = np.random.default_rng(2014)
    values = {"E_N": rng.uniform(-2.0, 1.0, n), "n2_ts_intercept": rng.normal(1.56, 0.1, n)}
    data, _ = read_toml(MECHANISM)
    ammonia = compare("ammonia", Mechanism.from_dict(data, "ammonia"), values, n, repeats, cantera=True)
    print(f"goals: cold >= 100x Cantera; warm >= 1e6 solves/s/core (measured {1 / ammonia['uqms warm'][0]:.2e})")

    interactions = {"N*": {"N*": 0.3, "H*": 0.1}, "H*": {"H*": 0.05, "N*": 0.1}}
    lateral = compare("ammonia with lateral interactions (N-N 0.3, N-H 0.1, H-H 0.05 eV per unit coverage)",
                      Mechanism.from_dict(data | {"interactions": interactions}, "ammonia + lateral interactions"),
                      values, n, repeats)
    data, _ = read_toml(TWO_SITES)
    data.pop("interactions")
    two_sites = compare("ammonia on step + terrace sites (H spill-over, steps 5 % of all sites)",
                        Mechanism.from_dict(data, "ammonia on step + terrace sites"),
                        values | {"step_density": np.full(n, 1.36e-6)}, n, repeats)
    for label, rows in (("lateral interactions", lateral), ("two site types", two_sites)):
        print(f"goal: warm >= 50x the scipy loop, {label}: {rows['scipy root warm'][0] / rows['uqms warm'][0]:.1f}x best, "
              f"{rows['scipy root warm'][1] / rows['uqms warm'][1]:.1f}x median")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n_samples", nargs="?", type=int, default=20_000, help="samples uqms solves per repeat")
    parser.add_argument("repeats", nargs="?", type=int, default=5, help="repeats of every timing")
    arguments = parser.parse_args()
    main(arguments.n_samples, arguments.repeats)
