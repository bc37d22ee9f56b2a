"""Sobol indices: uqms against chaospy (PCE coefficients) and SALib (Saltelli estimators), side by side.

1. The same 3-input order-8 orthonormal expansion (fitted to the Ishigami function):
   uqms's first and total indices from the coefficients against chaospy's Sens_m + Sens_t.
2. The same Ishigami rows of a Saltelli design with 2^14 base samples: uqms's estimators
   and bootstrap against SALib's sobol.analyze (first and total order, same resample count).

Run: python benchmarks/sobol.py
"""

from __future__ import annotations

import time

import chaospy
import numpy as np
from SALib.analyze import sobol as salib_sobol
from timing import best_time  # benchmarks/timing.py, beside this script

from uqms.analysis import pce, sobol_pce
from uqms.analysis.saltelli import saltelli_indices
from uqms.sampling.saltelli import Saltelli


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[0]) + 7 * np.sin(x[1]) ** 2 + 0.1 * x[2] ** 4 * np.sin(x[0])


def pce_indices() -> None:
    joint = chaospy.J(*(chaospy.Uniform(-np.pi, np.pi) for _ in range(3)))
    x = joint.sample(1000, rule="sobol", seed=1)
    basis, multi_indices = pce.orthonormal_basis(joint, 8)  # chaospy's polynomials and their multi-indices
    coefficients, _ = pce.least_squares(pce.design_matrix(joint, multi_indices, x), ishigami(x)[:, None])

    def ours():
        return sobol_pce.first_order(coefficients, multi_indices), sobol_pce.total_order(coefficients, multi_indices)

    polynomial = chaospy.sum(basis * coefficients[:, 0], axis=0)
    start = time.perf_counter()
    theirs = chaospy.Sens_m(polynomial, joint), chaospy.Sens_t(polynomial, joint)
    chaospy_time = time.perf_counter() - start
    uqms_time = best_time(ours, 200)
    first, total = ours()
    difference = max(np.abs(first[:, 0] - theirs[0]).max(), np.abs(total[:, 0] - theirs[1]).max())
    print(f"PCE indices, 3 inputs, order 8 ({len(coefficients)} terms), first + total:")
    print(f"  chaospy Sens_m + Sens_t {chaospy_time:10.4f} s")
    print(f"  uqms from coefficients  {uqms_time:10.6f} s   speed-up {chaospy_time / uqms_time:,.0f}x   max |diff| {difference:.1e}")


def saltelli(n_base: int = 2**14, resamples: int = 100) -> None:
    n = n_base * 5
    x = -np.pi + 2 * np.pi * Saltelli().unit_cube(0, n, n, 3, seed=7)
    y = ishigami(x.T)
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    theirs = salib_sobol.analyze(problem, y, calc_second_order=False, num_resamples=resamples, seed=1)
    ours = saltelli_indices(y, 3, resamples=resamples)
    salib_time = best_time(lambda: salib_sobol.analyze(problem, y, calc_second_order=False, num_resamples=resamples, seed=1), 3)
    uqms_time = best_time(lambda: saltelli_indices(y, 3, resamples=resamples), 3)
    difference = max(np.abs(ours["first"][:, 0] - theirs["S1"]).max(), np.abs(ours["total"][:, 0] - theirs["ST"]).max())
    print(f"Saltelli estimators, Ishigami, {n_base} base samples ({n} rows), {resamples} bootstrap resamples:")
    print(f"  SALib sobol.analyze     {salib_time:10.4f} s")
    print(f"  uqms saltelli_indices   {uqms_time:10.4f} s   speed-up {salib_time / uqms_time:,.1f}x   max |diff| {difference:.1e}")


if __name__ == "__main__":
    pce_indices()
    saltelli()
