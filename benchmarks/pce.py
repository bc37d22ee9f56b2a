"""Sparse polynomial chaos: uqms against OpenTURNS and chaospy on the same samples, side by side.

Each route fits an expansion and reads first and total Sobol indices off it; the error
is the largest deviation from the analytic indices.

- uqms: ``fit_sparse`` (LARS, Chapelle-corrected LOO, orders 1..p tried adaptively)
  + ``sobol_pce.indices``.
- OpenTURNS: ``FunctionalChaosAlgorithm`` with ``LeastSquaresMetaModelSelectionFactory(LARS(),
  CorrectedLeaveOneOut())`` on the hyperbolic basis of degree p + ``FunctionalChaosSobolIndices``.
- chaospy: ``generate_expansion`` (the full basis of degree p, same hyperbolic truncation) +
  ``fit_regression`` (dense least squares); indices from the coefficients of the orthonormal
  basis (``Sens_m``/``Sens_t`` take ~25 s each even for 3 inputs), their ~1e-4 s not timed.

Cases: (a) Ishigami, 3 inputs, degree 8, 500 and 1000 samples; (b) Sobol G-function with 8
and 20 inputs at 2000 samples, q = 0.5 (OpenTURNS takes ~20 s at these sizes and ~2 min for
20 inputs at degree 6). Then the peak memory of uqms's fit with q = 1 for 20 inputs at 2000
samples, orders up to the default 256 MiB budget and up to 512 MiB, each in a subprocess.

Run: python benchmarks/pce.py
"""

from __future__ import annotations

import subprocess
import sys
import time

import chaospy
import numpy as np
import openturns as ot
from timing import best_time  # benchmarks/timing.py, beside this script

from uqms.analysis import pce, sobol_pce
from uqms.test_functions import ishigami


def ishigami_y(x: np.ndarray) -> np.ndarray:
    return np.sin(x[0]) + 7 * np.sin(x[1]) ** 2 + 0.1 * x[2] ** 4 * np.sin(x[0])


def sobol_g(x: np.ndarray, a: np.ndarray) -> np.ndarray:
    return np.prod((np.abs(4 * x - 2) + a[:, None]) / (1 + a[:, None]), axis=0)


def sobol_g_indices(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Analytic first and total indices of the Sobol G-function (Saltelli & Sobol' 1995)."""
    v = 1 / (3 * (1 + a) ** 2)
    total_variance = np.prod(1 + v) - 1
    return v / total_variance, v * np.prod(1 + v) / (1 + v) / total_variance


def index_error(first: np.ndarray, total: np.ndarray, exact: tuple[np.ndarray, np.ndarray]) -> float:
    return float(max(np.abs(first - exact[0]).max(), np.abs(total - exact[1]).max()))


def uqms_route(x, y, joint, degree, q):
    fit = pce.fit_sparse(x, y, joint, max_order=degree, q=q)
    found = sobol_pce.indices(fit)
    return found["first"][:, 0], found["total"][:, 0], len(fit.coefficients)


def openturns_route(x, y, marginals, degree, q):
    d = len(marginals)
    enumerate_function = ot.HyperbolicAnisotropicEnumerateFunction(d, q)
    factory = ot.OrthogonalProductPolynomialFactory(
        [ot.StandardDistributionPolynomialFactory(marginal) for marginal in marginals], enumerate_function)
    size = enumerate_function.getBasisSizeFromTotalDegree(degree)
    selection = ot.LeastSquaresMetaModelSelectionFactory(ot.LARS(), ot.CorrectedLeaveOneOut())
    algorithm = ot.FunctionalChaosAlgorithm(ot.Sample(x.T), ot.Sample(y[:, None]), ot.JointDistribution(marginals),
                                            ot.FixedStrategy(factory, size), ot.LeastSquaresStrategy(selection))
    algorithm.run()
    result = algorithm.getResult()
    indices = ot.FunctionalChaosSobolIndices(result)
    first = np.array([indices.getSobolIndex(i) for i in range(d)])
    total = np.array([indices.getSobolTotalIndex(i) for i in range(d)])
    return first, total, len(result.getIndices())


def chaospy_route(x, y, joint, degree, q):
    basis = chaospy.generate_expansion(degree, joint, normed=True, cross_truncation=q)
    _, coefficients = chaospy.fit_regression(basis, x, y, retall=1)
    return basis, np.asarray(coefficients)


def compare(title, x, y, joint, marginals, degree, q, exact, repeats) -> None:
    print(f"{title}: {x.shape[1]} samples, degree {degree}, q = {q} "
          f"({pce.term_count(len(marginals), degree, q)} candidate terms)")
    first, total, terms = uqms_route(x, y, joint, degree, q)
    uqms_time = best_time(lambda: uqms_route(x, y, joint, degree, q), repeats)
    uqms_error = index_error(first, total, exact)
    start = time.perf_counter()
    first, total, ot_terms = openturns_route(x, y, marginals, degree, q)
    ot_time, ot_error = time.perf_counter() - start, index_error(first, total, exact)
    start = time.perf_counter()
    basis, coefficients = chaospy_route(x, y, joint, degree, q)
    chaospy_time = time.perf_counter() - start
    _, multi_indices = pce.orthonormal_basis(joint, degree, q)  # the same basis, its terms read off
    chaospy_error = index_error(sobol_pce.first_order(coefficients, multi_indices)[:, 0],
                                sobol_pce.total_order(coefficients, multi_indices)[:, 0], exact)
    print(f"  uqms fit_sparse         {uqms_time:8.3f} s   {terms:5d} terms   max index error {uqms_error:.1e}")
    print(f"  OpenTURNS LARS          {ot_time:8.3f} s   {ot_terms:5d} terms   max index error {ot_error:.1e}"
          f"   uqms speed-up {ot_time / uqms_time:6.1f}x")
    print(f"  chaospy full basis OLS  {chaospy_time:8.3f} s   {len(basis):5d} terms   max index error {chaospy_error:.1e}"
          f"   uqms speed-up {chaospy_time / uqms_time:6.1f}x")


def ishigami_cases() -> None:
    marginals = [ot.Uniform(-np.pi, np.pi) for _ in range(3)]
    joint = chaospy.J(*(chaospy.Uniform(-np.pi, np.pi) for _ in range(3)))
    for n in (500, 1000):
        x = joint.sample(n, rule="sobol", seed=1)
        compare("Ishigami", x, ishigami_y(x), joint, marginals, 8, 1.0, ishigami.sobol_indices(), 5)


def g_function_cases() -> None:
    for d, degree in ((8, 8), (20, 4)):
        a = np.array([0.0, 1.0, 4.5, 9.0] + [99.0] * (d - 4))
        marginals = [ot.Uniform(0, 1) for _ in range(d)]
        joint = chaospy.J(*(chaospy.Uniform(0, 1) for _ in range(d)))
        x = joint.sample(2000, rule="sobol", seed=1)
        compare(f"Sobol G-function, {d} inputs", x, sobol_g(x, a), joint, marginals, degree, 0.5, sobol_g_indices(a), 3)


PEAK_MEMORY = """
import resource, sys, time, tracemalloc, numpy as np, chaospy
from uqms.analysis import pce, sobol_pce
d, n, budget = 20, 2000, int(sys.argv[1])
a = np.array([0.0, 1.0, 4.5, 9.0] + [99.0] * (d - 4))
joint = chaospy.J(*(chaospy.Uniform(0, 1) for _ in range(d)))
x = joint.sample(n, rule="sobol", seed=1)
y = np.prod((np.abs(4 * x - 2) + a[:, None]) / (1 + a[:, None]), axis=0)
tracemalloc.start()
start = time.perf_counter()
fit = pce.fit_sparse(x, y, joint, memory_budget=budget)
sobol_pce.indices(fit)
print(tracemalloc.get_traced_memory()[1], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter() - start,
      fit.search.cap, max(fit.search.candidates.values()), len(fit.coefficients), fit.loo[0])
"""


def peak_memory(budget: int) -> None:
    """uqms's sparse fit (q = 1) for 20 inputs at 2000 samples in a fresh process: the peak of numpy's
    allocations during the fit (tracemalloc) and the process's peak resident memory (maxrss, KiB on Linux)."""
    result = subprocess.run([sys.executable, "-c", PEAK_MEMORY, str(budget)], capture_output=True, text=True, check=True)
    traced, resident, seconds, cap, candidates, terms, loo = result.stdout.split()
    print(f"uqms fit_sparse, G-function, 20 inputs, 2000 samples, q = 1, budget {budget / 2**20:.0f} MiB: order cap {cap}, "
          f"{candidates} candidates, {terms} terms kept, LOO {float(loo):.1e}, {float(seconds):.2f} s")
    print(f"  peak allocated during the fit {int(traced) / 2**20:.0f} MiB, "
          f"peak resident memory of the process {int(resident) / 2**10:.0f} MiB")


if __name__ == "__main__":
    ishigami_cases()
    g_function_cases()
    peak_memory(pce.MEMORY_BUDGET)
    peak_memory(512 * 2**20)
