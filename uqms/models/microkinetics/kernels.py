"""Compiled per-sample steady-state iteration (numba), the fast path of
:func:`uqms.models.microkinetics.steady_state.solve_steady_state`.

The numpy solver in ``steady_state`` works on whole batches; with a handful of species
per sample its time goes to per-call overhead of small array operations (stacked 5x5
``numpy.linalg.solve`` above all). Here the same algorithm (damped Newton in coverages
with the Jacobian in log-coverages, backtracking line search, pseudo-transient
continuation by linearly implicit Euler steps) runs sample by sample in compiled loops,
step for step as the numpy path, so both give the same coverages to round-off (the
iteration carries the coverages where the numpy path carries their logarithms: mass-action
rates are then products, with no exp or log inside the loop). The
small systems are solved by Gaussian elimination with partial pivoting written out:
LAPACK's per-call cost exceeds the work on a 5x5 matrix; a system with an exactly zero
pivot (where LAPACK reports it singular) gets the minimum-norm least-squares solution,
as numpy's path does.

Samples may also be solved in a given order, each started by Newton from the last
solved sample (continuation along the batch): with an order that puts neighbours in
descriptor space next to each other (:func:`batch_order`), most cold samples then cost
a few Newton steps instead of a pseudo-transient run.

numba is optional (the ``fast`` extra): without it, or with the environment variable
``UQMS_NO_NUMBA`` set to anything but ``0`` or empty, :func:`enabled` is false and the
numpy path runs. Functions compile on first use and are cached on disk (``cache=True``).
"""

from __future__ import annotations

import os

import numpy as np

try:
    import numba
except ImportError:  # the numpy path serves
    numba = None

from uqms.models.microkinetics.kinetics import TINY
from uqms.models.microkinetics.steady_state import (
    HALVINGS,
    HANDOVER,
    LOG_FLOOR,
    NEWTON_START,
    NEWTON_STEP,
    STEP_FLOOR,
    TRANSIENT_FLOOR,
    TRANSIENT_GROWTH,
    TRANSIENT_START,
)

LARGEST = float(np.finfo(float).max)
SMALLEST = float(np.exp(LOG_FLOOR))  # the smallest coverage represented


def enabled() -> bool:
    """Whether the compiled path is used: numba importable and ``UQMS_NO_NUMBA`` unset (or 0)."""
    return numba is not None and os.environ.get("UQMS_NO_NUMBA", "") in ("", "0")


def _jit(function=None, *, inline: bool = False):
    """Compile with numba (cached on disk, numpy's floating-point error model) when available;
    ``inline``: into the callers (numba then drops the reference counting of the arrays
    passed, which cost more than the arithmetic of these small helpers)."""
    if function is None:
        return lambda f: _jit(f, inline=inline)
    if numba is None:
        return function
    return numba.njit(cache=True, error_model="numpy", nogil=True, inline="always" if inline else "never")(function)


@_jit(inline=True)
def _power(theta, order):
    """theta ** order for the small whole orders of mass action, by multiplication."""
    if order == 1.0:
        return theta
    if order == 2.0:
        return theta * theta
    return theta ** order


@_jit(inline=True)
def _rates(kf, kr, theta, forward_exponent, reverse_exponent, linear, forward, reverse):
    """Forward and reverse rates of one sample (coverages ``theta``) into ``forward``, ``reverse``:
    k theta^F exp(L theta), ``linear`` holding L of the forward rows then the reverse ones
    (an empty array: no linear coverage terms)."""
    steps = forward_exponent.shape[0]
    for j in range(steps):
        a = kf[j]
        b = kr[j]
        for k in range(forward_exponent.shape[1]):
            if forward_exponent[j, k] != 0.0:
                a *= _power(theta[k], forward_exponent[j, k])
            if reverse_exponent[j, k] != 0.0:
                b *= _power(theta[k], reverse_exponent[j, k])
        if linear.shape[0]:
            u = 0.0
            v = 0.0
            for k in range(forward_exponent.shape[1]):
                u += linear[j, k] * theta[k]
                v += linear[steps + j, k] * theta[k]
            a *= np.exp(u)
            b *= np.exp(v)
        forward[j] = a
        reverse[j] = b


@_jit(inline=True)
def _gross_fluxes(forward, reverse, gross, scale):
    """Gross flux through each row of ``gross`` (rows x steps) plus TINY, into ``scale``."""
    for a in range(gross.shape[0]):
        s = 0.0
        for j in range(gross.shape[1]):
            s += gross[a, j] * (forward[j] + reverse[j])
        scale[a] = s + TINY


@_jit(inline=True)
def _residual(forward, reverse, theta, net, sites, scale, out):
    """Scaled residual of one sample (adsorbate balances / gross flux, then site sums - 1) into ``out``;
    returns its largest magnitude (NaN if any entry is NaN) and its squared norm."""
    adsorbates = net.shape[0]
    for a in range(adsorbates):
        s = 0.0
        for j in range(net.shape[1]):
            s += net[a, j] * (forward[j] - reverse[j])
        out[a] = s / scale[a]
    for t in range(sites.shape[0]):
        s = 0.0
        for k in range(sites.shape[1]):
            s += sites[t, k] * theta[k]
        out[adsorbates + t] = s - 1.0
    largest = 0.0
    merit = 0.0
    for i in range(out.shape[0]):
        v = abs(out[i])
        if np.isnan(v):
            largest = np.nan
        elif v > largest:
            largest = v
        merit += out[i] * out[i]
    return largest, merit


@_jit(inline=True)
def _balance_derivatives(forward, reverse, theta, net, forward_exponent, reverse_exponent, linear, scale, diagonal,
                         matrix):
    """Rows of the adsorbates: (diagonal_k [a == k] - d(net balance_a)/dx_k) / scale_a, into
    ``matrix``; d r+_j / dx_k = r+_j (F_jk + L+_jk theta_k), likewise r-_j."""
    steps = net.shape[1]
    for a in range(net.shape[0]):
        for k in range(forward_exponent.shape[1]):
            s = 0.0
            for j in range(steps):
                if net[a, j] != 0.0:
                    f = forward_exponent[j, k]
                    r = reverse_exponent[j, k]
                    if linear.shape[0]:
                        f += linear[j, k] * theta[k]
                        r += linear[steps + j, k] * theta[k]
                    s += net[a, j] * (forward[j] * f - reverse[j] * r)
            d = diagonal[k] if a == k else 0.0
            matrix[a, k] = (d - s) / scale[a]


@_jit
def _least_squares(matrix, rhs, out):
    """Minimum-norm least-squares solution of ``matrix @ out = rhs`` (``matrix`` overwritten),
    as numpy's ``pinv(matrix) @ rhs`` (singular values below 1e-15 of the largest dropped),
    by one-sided Jacobi SVD: written out because numba's ``pinv`` (LAPACK's SVD) more than
    doubles the compile time of this module, for a case that almost never occurs."""
    n = rhs.shape[0]
    v = np.eye(n)
    for sweep in range(100):
        rotated = False
        for p in range(n - 1):
            for q in range(p + 1, n):
                alpha = 0.0
                beta = 0.0
                gamma = 0.0
                for i in range(n):
                    alpha += matrix[i, p] * matrix[i, p]
                    beta += matrix[i, q] * matrix[i, q]
                    gamma += matrix[i, p] * matrix[i, q]
                if gamma == 0.0 or abs(gamma) <= 1e-16 * np.sqrt(alpha * beta):
                    continue
                rotated = True
                zeta = (beta - alpha) / (2.0 * gamma)
                t = 1.0 / (zeta + np.sqrt(1.0 + zeta * zeta)) if zeta >= 0 else -1.0 / (-zeta + np.sqrt(1.0 + zeta * zeta))
                cosine = 1.0 / np.sqrt(1.0 + t * t)
                sine = cosine * t
                for columns in (matrix, v):
                    for i in range(n):
                        a = columns[i, p]
                        b = columns[i, q]
                        columns[i, p] = cosine * a - sine * b
                        columns[i, q] = sine * a + cosine * b
        if not rotated:
            break
    lengths = np.zeros(n)  # the singular values: lengths of the rotated columns
    for k in range(n):
        for i in range(n):
            lengths[k] += matrix[i, k] * matrix[i, k]
    largest = np.sqrt(lengths.max())
    out[:] = 0.0
    for k in range(n):
        if np.sqrt(lengths[k]) > 1e-15 * largest:
            weight = 0.0
            for i in range(n):
                weight += matrix[i, k] * rhs[i]
            weight /= lengths[k]
            for i in range(n):
                out[i] += v[i, k] * weight


@_jit(inline=True)
def _linear_solve(original, original_rhs, out, matrix, rhs):
    """Solve ``original @ out = original_rhs`` by elimination with partial pivoting (in
    the scratch arrays ``matrix``, ``rhs``); least squares through the pseudo-inverse, as
    numpy's path does, where a pivot is exactly zero (where LAPACK reports it singular)."""
    n = rhs.shape[0]
    matrix[:, :] = original
    rhs[:] = original_rhs
    for c in range(n):
        p = c
        best = abs(matrix[c, c])
        for r in range(c + 1, n):
            v = abs(matrix[r, c])
            if v > best:
                best = v
                p = r
        if matrix[p, c] == 0.0:
            for r in range(n):
                for k in range(n):
                    v = original[r, k]
                    original[r, k] = 0.0 if np.isnan(v) else max(min(v, LARGEST), -LARGEST)
            _least_squares(original, original_rhs, out)
            return
        if p != c:
            for k in range(n):
                matrix[c, k], matrix[p, k] = matrix[p, k], matrix[c, k]
            rhs[c], rhs[p] = rhs[p], rhs[c]
        for r in range(c + 1, n):
            factor = matrix[r, c] / matrix[c, c]
            if factor != 0.0:
                for k in range(c + 1, n):
                    matrix[r, k] -= factor * matrix[c, k]
                rhs[r] -= factor * rhs[c]
    for r in range(n - 1, -1, -1):
        s = rhs[r]
        for k in range(r + 1, n):
            s -= matrix[r, k] * out[k]
        out[r] = s / matrix[r, r]


@_jit(inline=True)
def _advance(theta, step, alpha, out):
    """Coverages after the coverages take ``alpha * step``, shrinking by at most STEP_FLOOR,
    between exp(LOG_FLOOR) and 1."""
    for k in range(theta.shape[0]):
        out[k] = min(max(theta[k] * max(1.0 + alpha * step[k], STEP_FLOOR), SMALLEST), 1.0)


@_jit
def _newton(kf, kr, linear, theta, max_iterations, tolerance, reactant, product, net, gross, sites, work):
    """Damped Newton on one sample's coverages ``theta`` (updated in place), as
    ``steady_state._newton``; returns (converged, iterations used)."""
    forward, reverse, trial_forward, trial_reverse, scale, residual, step, trial, diagonal, matrix, lu, rhs = work
    adsorbates = net.shape[0]
    _rates(kf, kr, theta, reactant, product, linear, forward, reverse)
    used = 0
    for iteration in range(max_iterations + 1):
        _gross_fluxes(forward, reverse, gross, scale)
        norm, merit = _residual(forward, reverse, theta, net, sites, scale, residual)
        if norm <= tolerance:
            return True, used
        if not np.isfinite(norm) or iteration == max_iterations:
            return False, used
        diagonal[:] = 0.0
        _balance_derivatives(forward, reverse, theta, net, reactant, product, linear, scale, diagonal, matrix)
        for t in range(sites.shape[0]):
            for k in range(sites.shape[1]):
                matrix[adsorbates + t, k] = sites[t, k] * theta[k]
        for t in range(sites.shape[0]):  # the balance rows of matrix hold -dF/dx: J step = -residual
            residual[adsorbates + t] = -residual[adsorbates + t]
        _linear_solve(matrix, residual, step, lu, rhs)
        largest = 0.0
        for i in range(step.shape[0]):
            v = abs(step[i])
            if np.isnan(v):
                largest = np.nan
                break
            largest = max(largest, v)
        cap = min(1.0, NEWTON_STEP / largest) if not np.isnan(largest) else np.nan
        for i in range(step.shape[0]):
            step[i] *= cap
        used += 1
        alpha = 1.0
        moved = False
        for halving in range(HALVINGS):
            _advance(theta, step, alpha, trial)
            _rates(kf, kr, trial, reactant, product, linear, trial_forward, trial_reverse)
            _, trial_merit = _residual(trial_forward, trial_reverse, trial, net, sites, scale, residual)
            if trial_merit <= (1 - 1e-4 * alpha) * merit:  # NaN is never better
                moved = True
                break
            alpha /= 2
        if not moved:
            return False, used
        theta[:] = trial
        forward[:] = trial_forward
        reverse[:] = trial_reverse
    return False, used


@_jit
def _continuation(kf, kr, linear, theta, max_iterations, reactant, product, net, gross, sites, change_gross,
                  work):
    """Pseudo-transient continuation of one sample's coverages ``theta`` (updated in place),
    as ``steady_state._continuation``; returns (came within HANDOVER, iterations used)."""
    forward, reverse, total, new, scale, residual, step, all_gross, diagonal, matrix, lu, rhs = work
    adsorbates = net.shape[0]
    species = theta.shape[0]
    dt = np.nan
    for iteration in range(max_iterations):
        _rates(kf, kr, theta, reactant, product, linear, forward, reverse)
        _gross_fluxes(forward, reverse, gross, scale)
        norm, _ = _residual(forward, reverse, theta, net, sites, scale, residual)
        if norm <= HANDOVER:
            return True, iteration
        _gross_fluxes(forward, reverse, change_gross, all_gross)
        if iteration == 0:
            dt = np.inf
            for k in range(species):
                dt = min(dt, theta[k] / all_gross[k])
            dt *= TRANSIENT_START
        if not np.isfinite(norm):
            return False, iteration
        for k in range(species):
            diagonal[k] = theta[k] / dt
        _balance_derivatives(forward, reverse, theta, net, reactant, product, linear, scale, diagonal, matrix)
        for t in range(sites.shape[0]):
            s = 0.0
            for k in range(species):
                matrix[adsorbates + t, k] = sites[t, k] * theta[k]
                s += sites[t, k] * theta[k]
            residual[adsorbates + t] = 1.0 - s  # the balance rows of residual already hold F / gross
        _linear_solve(matrix, residual, step, lu, rhs)
        accept = True
        for k in range(species):
            v = max(theta[k] + theta[k] * step[k], SMALLEST)
            new[k] = v
            if not (np.isfinite(v) and v >= TRANSIENT_FLOOR * theta[k]):
                accept = False
        if accept:
            for k in range(species):
                new[k] = min(new[k], 1.0)
            for k in range(species):  # site sums back to one
                s = 0.0
                for t in range(sites.shape[0]):
                    if sites[t, k] != 0.0:
                        u = 0.0
                        for q in range(species):
                            u += new[q] * sites[t, q]
                        s += u * sites[t, k]
                total[k] = s
            for k in range(species):
                theta[k] = max(new[k] / total[k], SMALLEST)
            dt = min(dt * TRANSIENT_GROWTH, 1e250)
        else:
            dt /= 4
    return False, max_iterations


@_jit
def _solve_rows(kf_all, kr_all, linear_all, start, valid, newton_first, chain, tolerance, max_newton, max_transient,
                reactant, product, net, gross, sites, change_gross):
    """Every valid sample in turn; with ``chain``, each one's Newton from the last solved
    one (continuation along the batch), continuation from it, then from ``start``.
    ``reactant``, ``product``: the exponents of the rates; ``linear_all``: L per sample
    (samples, 2 steps, species), or shaped (1, 0, 0): none."""
    n, species = start.shape
    steps = reactant.shape[0]
    theta = np.empty_like(start)
    for i in range(n):
        for k in range(species):
            theta[i, k] = max(start[i, k], SMALLEST)
    begin = theta.copy()
    converged = np.zeros(n, dtype=np.bool_)
    iterations = np.zeros(n, dtype=np.int64)
    transient = np.zeros(n, dtype=np.bool_)
    newton_work = (np.empty(steps), np.empty(steps), np.empty(steps), np.empty(steps), np.empty(net.shape[0]),
                   np.empty(species), np.empty(species), np.empty(species), np.empty(species),
                   np.empty((species, species)), np.empty((species, species)), np.empty(species))
    transient_work = (np.empty(steps), np.empty(steps), np.empty(species), np.empty(species), np.empty(net.shape[0]),
                      np.empty(species), np.empty(species), np.empty(species), np.empty(species),
                      np.empty((species, species)), np.empty((species, species)), np.empty(species))
    previous = -1
    first_newton = min(NEWTON_START, max_newton)
    for i in range(n):
        if not valid[i]:
            continue
        current = theta[i]
        linear = linear_all[i] if linear_all.shape[1] else linear_all[0]
        done = False
        if newton_first or (chain and previous >= 0):
            if not newton_first:
                current[:] = theta[previous]
            done, used = _newton(kf_all[i], kr_all[i], linear, current, first_newton, tolerance, reactant, product, net, gross,
                                 sites, newton_work)
            iterations[i] += used
        for attempt in range(2):  # continuation from the neighbour's steady state, else from the start
            if done or (attempt == 0 and (newton_first or not chain or previous < 0)):
                continue
            current[:] = theta[previous] if attempt == 0 else begin[i]
            transient[i] = True
            close, used = _continuation(kf_all[i], kr_all[i], linear, current, max_transient, reactant, product, net, gross,
                                        sites, change_gross, transient_work)
            iterations[i] += used
            if close:
                done, used = _newton(kf_all[i], kr_all[i], linear, current, max_newton, tolerance, reactant, product, net,
                                     gross, sites, newton_work)
                iterations[i] += used
        converged[i] = done
        if done:
            previous = i
    return theta, converged, iterations, transient


def solve_rows(equations, forward_k, reverse_k, coverage, start, valid, newton_first, tolerance, max_newton,
               max_transient, order=None):
    """Solve every valid sample with the compiled kernel.

    Args:
        equations: the :class:`~uqms.models.microkinetics.kinetics.RateEquations`.
        forward_k, reverse_k: pressure-weighted rate constants (samples, steps).
        coverage: the rate constants' :class:`~uqms.models.microkinetics.coverage_dependence.CoverageDependence`, or None.
        start: starting log-coverages (samples, species).
        valid: samples to solve.
        newton_first: Newton from ``start`` first (a given guess), else continuation from it.
        order: sample order for continuation along the batch (each sample's Newton starts
            from the last solved one; continuation from ``start`` where that fails), or
            None: each sample on its own.

    Returns:
        Log-coverages, converged mask, iterations per sample, whether continuation ran.
    """
    linear = np.zeros((1, 0, 0)) if coverage is None else np.concatenate(
        [coverage.forward_linear, coverage.reverse_linear], axis=1)  # (samples, 2 steps, species)
    chain = order is not None
    if chain:  # the kernel walks the samples in memory order: rearranged once, not fetched at random
        order = np.asarray(order, dtype=np.int64)
        forward_k, reverse_k, start, valid = forward_k[order], reverse_k[order], start[order], valid[order]
        linear = linear if coverage is None else linear[order]
    as_float = [np.ascontiguousarray(a, dtype=float) for a in (forward_k, reverse_k, linear, np.exp(start))]
    operators = [np.ascontiguousarray(a, dtype=float) for a in
                 (equations.forward_exponent, equations.reverse_exponent, equations.net, equations.gross,
                  equations.sites, np.abs(equations.change))]
    solved = _solve_rows(*as_float, np.ascontiguousarray(valid, dtype=np.bool_), bool(newton_first), chain,
                         float(tolerance), int(max_newton), int(max_transient), *operators)
    theta, converged, iterations, transient = solved
    if chain:
        theta, converged, iterations, transient = (_unordered(a, order) for a in solved)
    return np.log(theta), converged, iterations, transient


def descriptors(forward_k: np.ndarray, reverse_k: np.ndarray, coverage) -> np.ndarray:
    """What :func:`batch_order` orders the samples by (samples, few): the logs of the
    rate constants and, if any, the linear coverage terms L (the change of a log rate
    constant per unit coverage: on the scale of the logs)."""
    with np.errstate(divide="ignore"):
        columns = [np.log(forward_k), np.log(reverse_k)]
    if coverage is not None:
        columns.append(coverage.linear.reshape(len(forward_k), -1))
    return np.concatenate(columns, axis=1)


def _unordered(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """``values`` given in ``order`` back in the original order of the samples."""
    result = np.empty_like(values)
    result[order] = values
    return result


def batch_order(features: np.ndarray, dimensions: int = 4, bits: int = 16) -> np.ndarray:
    """An order of the samples in which neighbours are close in ``features`` (samples, few):
    a Morton (Z-order) curve through the leading principal components.

    All components share one grid, that of the widest (between its 0.1 and 99.9 %
    quantiles, outliers clipped to its edges), so a component of little spread takes few
    of the curve's bits and round-off spread none.
    """
    n = len(features)
    if n < 3:
        return np.arange(n)
    finite = np.where(np.isfinite(features), features, 0.0)
    centred = finite - finite.mean(axis=0)
    _, axes = np.linalg.eigh(centred.T @ centred)  # principal axes from the small covariance matrix
    components = centred @ axes[:, ::-1][:, :dimensions]
    low, high = np.quantile(components, [0.001, 0.999], axis=0)
    width = (high - low).max()
    if not width > 0:
        return np.arange(n)
    cells = np.uint64(1) << np.uint64(bits)
    levels = np.clip((components - low) / width * float(cells), 0, float(cells) - 1).astype(np.uint64)
    key = np.zeros(n, dtype=np.uint64)
    for bit in range(bits - 1, -1, -1):  # interleave from the most significant bit down
        for level in levels.T:
            key = (key << np.uint64(1)) | ((level >> np.uint64(bit)) & np.uint64(1))
    return np.argsort(key, kind="stable")
