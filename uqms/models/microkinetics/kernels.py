"""Compiled per-sample steady-state iteration (numba), the fast path of
:func:`uqms.models.microkinetics.steady_state.solve_steady_state`.

The numpy solver in ``steady_state`` works on whole batches; with a handful of species
per sample its time goes to per-call overhead of small array operations (stacked 5x5
``numpy.linalg.solve`` above all). Here the same algorithm (damped Newton in coverages
with the Jacobian in log-coverages, backtracking line search, pseudo-transient
continuation by linearly implicit Euler steps) runs in compiled loops, each sample step
for step as in the numpy path, so both give the same coverages to round-off (the
iteration carries the coverages where the numpy path carries their logarithms: mass-action
rates are then products, with no exp or log inside the loop). The constant operators
(powers of the rates, stoichiometry, the derivatives of the balances) are passed as lists
of their few non-zero entries, and the rates and balances of a line-search trial point
are kept as those of the next iteration. The
small systems are solved by Gaussian elimination with partial pivoting written out:
LAPACK's per-call cost exceeds the work on a 5x5 matrix; a system with an exactly zero
pivot (where LAPACK reports it singular) gets the minimum-norm least-squares solution,
as numpy's path does.

Newton runs on LANES samples side by side (:func:`_solve_lanes`), the rare
continuation on one sample at a time; each sample's result is bitwise the same
whichever samples share its lanes.

Samples may also be solved in a given order, each started by Newton from the last
solved sample (continuation along the batch; each lane walks its own quarter of the
batch): with an order that puts neighbours in descriptor space next to each other
(:func:`~uqms.models.microkinetics.batch_order.batch_order`), most cold samples then cost
a few Newton steps instead of a pseudo-transient run.

numba is optional (the ``fast`` extra): without it, or with the environment variable
``UQMS_NO_NUMBA`` set to anything but ``0`` or empty, :func:`enabled` is false and the
numpy path runs. Functions compile on first use and are cached on disk (``cache=True``).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from functools import lru_cache

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
    _solve,
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
def _rates(k, linear, linear_species, theta, factor_start, factor_species, factor_order, rates):
    """Rates of one sample (coverages ``theta``) into ``rates``, forward directions then reverse:
    k theta^F exp(L theta) with the powers F listed by direction (``factor_*``, row starts,
    species, orders) and L (species with a term, 2 steps) the linear coverage terms of the
    ``linear_species`` (an empty array: none)."""
    for j in range(rates.shape[0]):
        r = k[j]
        for e in range(factor_start[j], factor_start[j + 1]):
            r *= _power(theta[factor_species[e]], factor_order[e])
        if linear.shape[0]:
            u = 0.0
            for m in range(linear.shape[0]):
                u += linear[m, j] * theta[linear_species[m]]
            r *= np.exp(u)
        rates[j] = r


@_jit(inline=True)
def _fluxes(rates, row_start, row_step, row_coefficient, net, gross):
    """Net production sum_j M_aj (r+_j - r-_j) into ``net`` and gross flux sum_j |M_aj| (r+_j + r-_j)
    plus TINY into ``gross`` for every row a of a (rows x steps) matrix M listed by row."""
    steps = rates.shape[0] // 2
    for a in range(gross.shape[0]):
        n = 0.0
        g = 0.0
        for e in range(row_start[a], row_start[a + 1]):
            j = row_step[e]
            c = row_coefficient[e]
            n += c * (rates[j] - rates[steps + j])
            g += abs(c) * (rates[j] + rates[steps + j])
        net[a] = n
        gross[a] = g + TINY


@_jit(inline=True)
def _residual(balance, scale, theta, sites, out):
    """Scaled residual of one sample (adsorbate balances / ``scale``, then site sums - 1) into ``out``;
    returns its largest magnitude (NaN if any entry is NaN) and its squared norm."""
    adsorbates = balance.shape[0]
    for a in range(adsorbates):
        out[a] = balance[a] / scale[a]
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
def _linearisation(rates, theta, linear, linear_species, diagonal, scale, derivative_row, derivative_column,
                   derivative_rate, derivative_coefficient, net_start, net_step, net_coefficient, sites, matrix):
    """The matrix of one linearised step into ``matrix``: adsorbate rows
    (diagonal_k [a == k] - d(net balance_a)/dx_k) / scale_a, then the site rows sites_tk theta_k.

    d(balance_a)/dx_k = sum_q D_akq rates_q, D's non-zero entries listed in order of (a, k)
    (``derivative_*``: row a, column k, rate q, value), plus from the linear coverage terms
    sum_j N_aj (r+_j L+_jk - r-_j L-_jk) theta_k."""
    adsorbates = scale.shape[0]
    species = theta.shape[0]
    steps = rates.shape[0] // 2
    for a in range(adsorbates):
        for k in range(species):
            matrix[a, k] = 0.0
    entries = derivative_rate.shape[0]
    s = 0.0
    for e in range(entries):  # summed in a register while (a, k) stays, stored once
        s += derivative_coefficient[e] * rates[derivative_rate[e]]
        if e + 1 == entries or derivative_row[e + 1] != derivative_row[e] or \
                derivative_column[e + 1] != derivative_column[e]:
            matrix[derivative_row[e], derivative_column[e]] = s
            s = 0.0
    for a in range(adsorbates):
        for m in range(linear.shape[0]):
            k = linear_species[m]
            u = 0.0
            for e in range(net_start[a], net_start[a + 1]):
                j = net_step[e]
                u += net_coefficient[e] * (rates[j] * linear[m, j] - rates[steps + j] * linear[m, steps + j])
            matrix[a, k] += u * theta[k]
        inverse = 1.0 / scale[a]
        for k in range(species):
            matrix[a, k] = -matrix[a, k] * inverse
        matrix[a, a] += diagonal[a] * inverse
    for t in range(sites.shape[0]):
        for k in range(species):
            matrix[adsorbates + t, k] = sites[t, k] * theta[k]


@_jit
def _least_squares(matrix, rhs, out):
    """Minimum-norm least-squares solution of ``matrix @ out = rhs`` (``matrix`` overwritten),
    as numpy's path's ``pinv(nan_to_num(matrix)) @ rhs`` (NaN read as 0, infinities as the
    largest floats; singular values below 1e-15 of the largest dropped), by one-sided Jacobi
    SVD: written out because numba's ``pinv`` (LAPACK's SVD) more than doubles the compile
    time of this module, for a case that almost never occurs."""
    n = rhs.shape[0]
    for r in range(n):
        for k in range(n):
            v = matrix[r, k]
            matrix[r, k] = 0.0 if np.isnan(v) else max(min(v, LARGEST), -LARGEST)
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
def _eliminate(matrix, rhs, out):
    """Solve ``matrix @ out = rhs`` by elimination with partial pivoting, ``matrix`` and ``rhs``
    overwritten (the diagonal by the pivots' reciprocals); False (``out`` untouched) where a
    pivot is exactly zero (where LAPACK reports the matrix singular)."""
    n = rhs.shape[0]
    for c in range(n):
        p = c
        best = abs(matrix[c, c])
        for r in range(c + 1, n):
            v = abs(matrix[r, c])
            if v > best:
                best = v
                p = r
        if matrix[p, c] == 0.0:
            return False
        if p != c:
            for k in range(c, n):
                matrix[c, k], matrix[p, k] = matrix[p, k], matrix[c, k]
            rhs[c], rhs[p] = rhs[p], rhs[c]
        inverse = 1.0 / matrix[c, c]
        matrix[c, c] = inverse
        for r in range(c + 1, n):
            factor = matrix[r, c] * inverse
            if factor != 0.0:
                for k in range(c + 1, n):
                    matrix[r, k] -= factor * matrix[c, k]
                rhs[r] -= factor * rhs[c]
    for r in range(n - 1, -1, -1):
        s = rhs[r]
        for k in range(r + 1, n):
            s -= matrix[r, k] * out[k]
        out[r] = s * matrix[r, r]
    return True


@_jit(inline=True)
def _right_hand_side(residual, adsorbates, rhs):
    """The right-hand side of a linearised step: the adsorbate rows of the residual, the site rows negated."""
    for i in range(residual.shape[0]):
        rhs[i] = residual[i] if i < adsorbates else -residual[i]


@_jit(inline=True)
def _linearised_step(rates, theta, linear, linear_species, diagonal, scale, residual, derivative_row, derivative_column,
                     derivative_rate, derivative_coefficient, net_start, net_step, net_coefficient, sites, matrix, rhs,
                     out, careful):
    """Relative change of the coverages ``out`` in one Newton (``diagonal`` zero) or linearly
    implicit Euler step (``diagonal`` theta / dt): the :func:`_linearisation` matrix times ``out``
    equals the balance rows of ``residual`` and minus its site rows; returns whether solved.
    Where elimination meets an exactly zero pivot: least squares through the pseudo-inverse,
    as numpy's path does, if ``careful`` (the matrix is then built again: elimination
    overwrote it), else False.

    ``careful`` is a constant at every call, so the compiler drops the branch it rules out:
    the iterations call without, then with it on the rare zero pivot (the fallback's code in
    the common path slowed every iteration by a third)."""
    adsorbates = scale.shape[0]
    if not careful:
        _linearisation(rates, theta, linear, linear_species, diagonal, scale, derivative_row, derivative_column,
                       derivative_rate, derivative_coefficient, net_start, net_step, net_coefficient, sites, matrix)
        _right_hand_side(residual, adsorbates, rhs)
        return _eliminate(matrix, rhs, out)
    _linearisation(rates, theta, linear, linear_species, diagonal, scale, derivative_row, derivative_column,
                   derivative_rate, derivative_coefficient, net_start, net_step, net_coefficient, sites, matrix)
    _right_hand_side(residual, adsorbates, rhs)
    if _eliminate(matrix, rhs, out):
        return True
    _linearisation(rates, theta, linear, linear_species, diagonal, scale, derivative_row, derivative_column,
                   derivative_rate, derivative_coefficient, net_start, net_step, net_coefficient, sites, matrix)
    _right_hand_side(residual, adsorbates, rhs)
    _least_squares(matrix, rhs, out)
    return True


@_jit
def _continuation(k, linear, linear_species, theta, max_iterations, factor_start, factor_species, factor_order,
                  net_start, net_step, net_coefficient, derivative_row, derivative_column, derivative_rate, derivative_coefficient, sites,
                  change_start, change_step, change_coefficient, work):
    """Pseudo-transient continuation of one sample's coverages ``theta`` (updated in place),
    as ``steady_state._continuation``; returns (came within HANDOVER, iterations used).
    ``change_*``: the change of every species (species x steps) listed by row."""
    rates, balance, scale, change, change_gross, residual, step, new, total, diagonal, matrix, rhs = work
    species = theta.shape[0]
    dt = np.nan
    for iteration in range(max_iterations):
        _rates(k, linear, linear_species, theta, factor_start, factor_species, factor_order, rates)
        _fluxes(rates, net_start, net_step, net_coefficient, balance, scale)
        norm, _ = _residual(balance, scale, theta, sites, residual)
        if norm <= HANDOVER:
            return True, iteration
        if iteration == 0:
            _fluxes(rates, change_start, change_step, change_coefficient, change, change_gross)
            dt = np.inf
            for q in range(species):
                dt = min(dt, theta[q] / change_gross[q])
            dt *= TRANSIENT_START
        if not np.isfinite(norm):
            return False, iteration
        for q in range(species):
            diagonal[q] = theta[q] / dt
        if not _linearised_step(rates, theta, linear, linear_species, diagonal, scale, residual, derivative_row,
                                derivative_column, derivative_rate, derivative_coefficient, net_start, net_step,
                                net_coefficient, sites, matrix, rhs, step, False):
            _linearised_step(rates, theta, linear, linear_species, diagonal, scale, residual, derivative_row,
                             derivative_column, derivative_rate, derivative_coefficient, net_start, net_step,
                             net_coefficient, sites, matrix, rhs, step, True)
        accept = True
        for q in range(species):
            v = max(theta[q] + theta[q] * step[q], SMALLEST)
            new[q] = v
            if not (np.isfinite(v) and v >= TRANSIENT_FLOOR * theta[q]):
                accept = False
        if accept:
            for q in range(species):
                new[q] = min(new[q], 1.0)
            for q in range(species):  # site sums back to one
                s = 0.0
                for t in range(sites.shape[0]):
                    if sites[t, q] != 0.0:
                        u = 0.0
                        for p in range(species):
                            u += new[p] * sites[t, p]
                        s += u * sites[t, q]
                total[q] = s
            for q in range(species):
                theta[q] = max(new[q] / total[q], SMALLEST)
            dt = min(dt * TRANSIENT_GROWTH, 1e250)
        else:
            dt /= 4
    return False, max_iterations


@_jit(inline=True)
def _largest(values, begin, end):
    """Largest magnitude of ``values[begin:end]`` (0 if empty), NaN where one is NaN."""
    largest = 0.0
    for r in range(begin, end):
        v = abs(values[r])
        if np.isnan(v):
            return np.nan
        largest = max(largest, v)
    return largest


@_jit(inline=True)
def _record(i, rates, residual, adsorbates, forward, reverse, balance_error, site_error):
    """Sample ``i``'s rates into its rows of ``forward`` and ``reverse`` (samples, steps), and the
    largest magnitudes of its ``residual``'s balance rows and site rows into ``balance_error[i]``
    and ``site_error[i]``: what the acceptance check of the solution reads."""
    steps = forward.shape[1]
    for j in range(steps):
        forward[i, j] = rates[j]
        reverse[i, j] = rates[steps + j]
    balance_error[i] = _largest(residual, 0, adsorbates)
    site_error[i] = _largest(residual, adsorbates, residual.shape[0])


@_jit
def _evaluate(k, linear, linear_species, theta, factor_start, factor_species, factor_order,
              net_start, net_step, net_coefficient, sites, rates, balance, scale, residual):
    """Rates, balances, gross fluxes (plus TINY) and scaled residual of one sample at ``theta``
    (into the last four): a function of its own, not inlined, for the rare sample that failed
    (inlined, its code in the loop over the samples slowed the iterations)."""
    _rates(k, linear, linear_species, theta, factor_start, factor_species, factor_order, rates)
    _fluxes(rates, net_start, net_step, net_coefficient, balance, scale)
    _residual(balance, scale, theta, sites, residual)


# --- LANES samples at once ----------------------------------------------------------------
# Newton on LANES samples side by side: every array carries the samples in its last axis
# and every loop over them is innermost, with selects rather than branches where the
# lanes may differ, so that the chains of dependent operations of the lanes (the small
# eliminations above all) overlap in the processor instead of running one after another.
# Each sample takes the same floating-point operations in the same order as it would
# alone. A lane whose sample converged, or failed, takes its next sample, or next attempt,
# before the next step. On the ammonia mechanism, warm: 0.82-0.93 us a solve against
# 1.40-1.50 for the same Newton one sample at a time; 2 lanes gain half as much, 8 no
# more than 4.

LANES = 4


@_jit(inline=True)
def _lane_rates(k, linear, linear_species, theta, factor_start, factor_species, factor_order, rates, first, last):
    """:func:`_rates` of lanes ``first:last`` (arrays ending in the lane axis)."""
    for j in range(rates.shape[0]):
        for lane in range(first, last):
            rates[j, lane] = k[j, lane]
        for e in range(factor_start[j], factor_start[j + 1]):
            s = factor_species[e]
            order = factor_order[e]
            if order == 1.0:
                for lane in range(first, last):
                    rates[j, lane] *= theta[s, lane]
            elif order == 2.0:
                for lane in range(first, last):
                    rates[j, lane] *= theta[s, lane] * theta[s, lane]
            else:
                for lane in range(first, last):
                    rates[j, lane] *= theta[s, lane] ** order
        if linear.shape[0]:
            for lane in range(first, last):
                u = 0.0
                for m in range(linear.shape[0]):
                    u += linear[m, j, lane] * theta[linear_species[m], lane]
                rates[j, lane] *= np.exp(u)


@_jit(inline=True)
def _lane_fluxes(rates, row_start, row_step, row_coefficient, net, gross, first, last):
    """:func:`_fluxes` of lanes ``first:last``."""
    steps = rates.shape[0] // 2
    for a in range(gross.shape[0]):
        for lane in range(first, last):
            net[a, lane] = 0.0
            gross[a, lane] = 0.0
        for e in range(row_start[a], row_start[a + 1]):
            j = row_step[e]
            c = row_coefficient[e]
            for lane in range(first, last):
                net[a, lane] += c * (rates[j, lane] - rates[steps + j, lane])
                gross[a, lane] += abs(c) * (rates[j, lane] + rates[steps + j, lane])
        for lane in range(first, last):
            gross[a, lane] += TINY


@_jit(inline=True)
def _lane_residual(balance, scale, theta, sites, out, largest, merit):
    """:func:`_residual` of every lane; its largest magnitudes and squared norms into ``largest`` and ``merit``."""
    adsorbates = balance.shape[0]
    for a in range(adsorbates):
        for lane in range(LANES):
            out[a, lane] = balance[a, lane] / scale[a, lane]
    for t in range(sites.shape[0]):
        for lane in range(LANES):
            out[adsorbates + t, lane] = 0.0
        for k in range(sites.shape[1]):
            for lane in range(LANES):
                out[adsorbates + t, lane] += sites[t, k] * theta[k, lane]
        for lane in range(LANES):
            out[adsorbates + t, lane] -= 1.0
    for lane in range(LANES):
        largest[lane] = 0.0
        merit[lane] = 0.0
    for i in range(out.shape[0]):
        for lane in range(LANES):  # NaN once a NaN is met (v > NaN is false), as in _residual
            v = abs(out[i, lane])
            largest[lane] = v if v > largest[lane] or np.isnan(v) else largest[lane]
            merit[lane] += out[i, lane] * out[i, lane]


@_jit(inline=True)
def _lane_newton_system(rates, theta, linear, linear_species, scale, residual, derivative_row, derivative_column,
                        derivative_rate, derivative_coefficient, net_start, net_step, net_coefficient, sites, matrix,
                        rhs, column):
    """The Newton step's :func:`_linearisation` matrix (``diagonal`` zero) and right-hand side of every lane."""
    adsorbates = scale.shape[0]
    species = theta.shape[0]
    steps = rates.shape[0] // 2
    for a in range(adsorbates):
        for k in range(species):
            for lane in range(LANES):
                matrix[a, k, lane] = 0.0
    entries = derivative_rate.shape[0]
    for lane in range(LANES):
        column[lane] = 0.0
    for e in range(entries):  # summed while (a, k) stays, stored once
        c = derivative_coefficient[e]
        q = derivative_rate[e]
        for lane in range(LANES):
            column[lane] += c * rates[q, lane]
        if e + 1 == entries or derivative_row[e + 1] != derivative_row[e] or \
                derivative_column[e + 1] != derivative_column[e]:
            for lane in range(LANES):
                matrix[derivative_row[e], derivative_column[e], lane] = column[lane]
                column[lane] = 0.0
    for a in range(adsorbates):
        for m in range(linear.shape[0]):
            k = linear_species[m]
            for lane in range(LANES):
                u = 0.0
                for e in range(net_start[a], net_start[a + 1]):
                    j = net_step[e]
                    u += net_coefficient[e] * (rates[j, lane] * linear[m, j, lane]
                                               - rates[steps + j, lane] * linear[m, steps + j, lane])
                matrix[a, k, lane] += u * theta[k, lane]
        for lane in range(LANES):
            inverse = 1.0 / scale[a, lane]
            for k in range(species):
                matrix[a, k, lane] = -matrix[a, k, lane] * inverse
            matrix[a, a, lane] += 0.0 * inverse
    for t in range(sites.shape[0]):
        for k in range(species):
            for lane in range(LANES):
                matrix[adsorbates + t, k, lane] = sites[t, k] * theta[k, lane]
    for i in range(species):
        for lane in range(LANES):
            rhs[i, lane] = residual[i, lane] if i < adsorbates else -residual[i, lane]


@_jit(inline=True)
def _lane_eliminate(matrix, rhs, out, solved, inverse, factor):
    """:func:`_eliminate` of every lane; ``solved[lane]`` False where a pivot is exactly zero."""
    n = rhs.shape[0]
    for lane in range(LANES):
        solved[lane] = True
    for c in range(n):
        for lane in range(LANES):
            p = c
            best = abs(matrix[c, c, lane])
            for r in range(c + 1, n):
                v = abs(matrix[r, c, lane])
                if v > best:
                    best = v
                    p = r
            if matrix[p, c, lane] == 0.0:
                solved[lane] = False
            if p != c:
                for k in range(c, n):
                    matrix[c, k, lane], matrix[p, k, lane] = matrix[p, k, lane], matrix[c, k, lane]
                rhs[c, lane], rhs[p, lane] = rhs[p, lane], rhs[c, lane]
        for lane in range(LANES):
            inverse[lane] = 1.0 / matrix[c, c, lane]
            matrix[c, c, lane] = inverse[lane]
        for r in range(c + 1, n):
            for lane in range(LANES):
                factor[lane] = matrix[r, c, lane] * inverse[lane]
            for k in range(c + 1, n):
                for lane in range(LANES):
                    reduced = matrix[r, k, lane] - factor[lane] * matrix[c, k, lane]
                    matrix[r, k, lane] = reduced if factor[lane] != 0.0 else matrix[r, k, lane]
            for lane in range(LANES):
                reduced = rhs[r, lane] - factor[lane] * rhs[c, lane]
                rhs[r, lane] = reduced if factor[lane] != 0.0 else rhs[r, lane]
    for r in range(n - 1, -1, -1):
        for lane in range(LANES):
            s = rhs[r, lane]
            for k in range(r + 1, n):
                s -= matrix[r, k, lane] * out[k, lane]
            out[r, lane] = s * matrix[r, r, lane]


@_jit(inline=True)
def _lane_column(values, lane, out):
    """Lane ``lane`` of ``values`` (rows, lanes) into ``out`` (rows)."""
    for r in range(out.shape[0]):
        out[r] = values[r, lane]


@_jit(inline=True)
def _lane_matrix(values, lane, out):
    """Lane ``lane`` of ``values`` (rows, columns, lanes) into ``out`` (rows, columns)."""
    for r in range(out.shape[0]):
        for c in range(out.shape[1]):
            out[r, c] = values[r, c, lane]


@_jit
def _lane_least_squares_step(lane, rates, theta, linear, linear_species, scale, residual, derivative_row,
                             derivative_column, derivative_rate, derivative_coefficient, net_start, net_step,
                             net_coefficient, sites, step):
    """The Newton step of lane ``lane`` (where elimination met an exactly zero pivot) into
    ``step``, as :func:`_linearised_step` takes it alone: least squares. A function of its
    own, not inlined: its code in the loop over the lanes would slow every step."""
    species, adsorbates = theta.shape[0], scale.shape[0]
    linear_one = np.empty(linear.shape[:2])
    _lane_matrix(linear, lane, linear_one)
    rates_one, theta_one, scale_one, residual_one = (np.empty(rates.shape[0]), np.empty(species), np.empty(adsorbates),
                                                     np.empty(species))
    _lane_column(rates, lane, rates_one)
    _lane_column(theta, lane, theta_one)
    _lane_column(scale, lane, scale_one)
    _lane_column(residual, lane, residual_one)
    out = np.empty(species)
    _linearised_step(rates_one, theta_one, linear_one, linear_species, np.zeros(species), scale_one, residual_one,
                     derivative_row, derivative_column, derivative_rate, derivative_coefficient, net_start, net_step,
                     net_coefficient, sites, np.empty((species, species)), np.empty(species), out, True)
    for q in range(species):
        step[q, lane] = out[q]


@_jit
def _solve_lanes(k_all, linear_all, linear_species, start, valid, newton_first, chain, cursor, end, tolerance, max_newton,
                 max_transient, factor_start, factor_species, factor_order, net_start, net_step, net_coefficient,
                 derivative_row, derivative_column, derivative_rate, derivative_coefficient, sites, change_start,
                 change_step, change_coefficient):
    """Every valid sample, LANES at once: Newton (damped, as ``steady_state._newton``)
    from ``start`` (``newton_first``; coverages, clipped to [exp(LOG_FLOOR), 1]) or, with
    ``chain``, from the last sample its lane solved (continuation along the batch), lane l
    walking the samples ``cursor[l]:end[l]``; where Newton fails or cannot start,
    continuation (from that last solved sample, then from ``start``) for the lane's sample
    alone, each followed by Newton in the lane. ``k_all``: rate constants (samples, forward
    then reverse directions); ``linear_all``: L per sample (samples, species with a term,
    2 steps), or shaped (1, 0, 0): none. The rest: the constant operators listed by row
    (see :func:`solve_rows`).

    Returns coverages, converged mask, iterations, whether continuation ran, and at the
    returned coverages of every sample the forward and reverse rates (samples, steps) and
    the largest |balance / gross flux| of an adsorbate and |site sum - 1| of a site type:
    where it converged, those of its last Newton iteration, so that accepting it needs no
    second evaluation.

    Newton is written out in this loop, not called: binding its two dozen arrays anew at
    every call (a function of its own, even inlined, does) cost numba's reference counting
    more than two Newton iterations."""
    n, species = start.shape
    directions = k_all.shape[1]
    steps = directions // 2
    adsorbates = net_start.shape[0] - 1
    terms = linear_all.shape[1]
    theta = np.empty_like(start)
    for i in range(n):
        for q in range(species):
            theta[i, q] = min(max(start[i, q], SMALLEST), 1.0)
    converged = np.zeros(n, dtype=np.bool_)
    iterations = np.zeros(n, dtype=np.int64)
    transient = np.zeros(n, dtype=np.bool_)
    forward, reverse = np.full((n, steps), np.nan), np.full((n, steps), np.nan)
    balance_error, site_error = np.full(n, np.nan), np.full(n, np.nan)
    cursor = cursor.copy()
    k = np.zeros((directions, LANES))
    linear = np.zeros((terms, directions, LANES))
    current, trial, step, residual, rhs = (np.ones((species, LANES)), np.ones((species, LANES)), np.zeros((species, LANES)),
                                           np.zeros((species, LANES)), np.zeros((species, LANES)))
    rates, trial_rates = np.zeros((directions, LANES)), np.zeros((directions, LANES))
    balance, scale, trial_balance, trial_scale = (np.zeros((adsorbates, LANES)), np.ones((adsorbates, LANES)),
                                                  np.zeros((adsorbates, LANES)), np.ones((adsorbates, LANES)))
    matrix = np.zeros((species, species, LANES))
    norm, merit, trial_norm, trial_merit = np.zeros(LANES), np.zeros(LANES), np.zeros(LANES), np.zeros(LANES)
    alpha, column, inverse, factor = np.ones(LANES), np.zeros(LANES), np.zeros(LANES), np.zeros(LANES)
    solved, searching, failed = (np.zeros(LANES, dtype=np.bool_), np.zeros(LANES, dtype=np.bool_),
                                 np.zeros(LANES, dtype=np.bool_))
    sample = np.full(LANES, -1, dtype=np.int64)  # the sample in each lane, -1: none
    previous = np.full(LANES, -1, dtype=np.int64)  # along the batch: the last sample each lane solved
    used, attempt, limit = np.zeros(LANES, dtype=np.int64), np.zeros(LANES, dtype=np.int64), np.zeros(LANES, dtype=np.int64)
    # one sample's arrays, for what a lane's sample takes alone (continuation, the rates of a failure)
    k_one, linear_one = np.empty(directions), np.empty((terms, directions))
    theta_one, rates_one, scale_one, residual_one = (np.empty(species), np.empty(directions), np.empty(adsorbates),
                                                     np.empty(species))
    balance_one = np.empty(adsorbates)
    work = (np.empty(directions), np.empty(adsorbates), np.empty(adsorbates), np.empty(species), np.empty(species),
            np.empty(species), np.empty(species), np.empty(species), np.empty(species), np.empty(species),
            np.empty((species, species)), np.empty(species))
    first_newton = min(NEWTON_START, max_newton)
    following = 0  # without chain: the next sample to take
    while True:
        for lane in range(LANES):
            # an empty lane takes its next valid sample; a lane whose Newton failed goes on to the next attempt
            while sample[lane] < 0 or failed[lane]:
                if sample[lane] < 0:
                    if chain:
                        if cursor[lane] == end[lane]:
                            break
                        i = cursor[lane]
                        cursor[lane] += 1
                    elif following < n:
                        i = following
                        following += 1
                    else:
                        break
                    sample[lane] = i
                    used[lane] = 0
                    for j in range(directions):
                        k[j, lane] = k_all[i, j]
                        for m in range(terms):
                            linear[m, j, lane] = linear_all[i, m, j]
                    if not valid[i]:  # not solved: its rates at the start recorded, as of a failed sample
                        attempt[lane] = 2
                        for q in range(species):
                            current[q, lane] = theta[i, q]
                        failed[lane] = True
                        continue
                    if newton_first or (chain and previous[lane] >= 0):  # Newton from the guess or the last solved sample
                        attempt[lane] = 0
                        limit[lane] = first_newton
                        for q in range(species):
                            current[q, lane] = theta[i if newton_first else previous[lane], q]
                    else:  # continuation first
                        attempt[lane] = 0
                        failed[lane] = True
                        continue
                else:  # the next attempt: continuation from the last solved sample (along the batch), then from the start
                    i = sample[lane]
                    failed[lane] = False
                    iterations[i] += used[lane]
                    attempt[lane] += 1
                    if attempt[lane] == 1 and (newton_first or not chain or previous[lane] < 0):
                        attempt[lane] = 2
                    _lane_column(k, lane, k_one)
                    _lane_matrix(linear, lane, linear_one)
                    if attempt[lane] > 2:  # failed: the residual of the coverages returned, as of a converged sample
                        _lane_column(current, lane, theta_one)
                        _evaluate(k_one, linear_one, linear_species, theta_one, factor_start, factor_species,
                                  factor_order, net_start, net_step, net_coefficient, sites, rates_one, balance_one,
                                  scale_one, residual_one)
                        for q in range(species):
                            theta[i, q] = theta_one[q]
                        _record(i, rates_one, residual_one, adsorbates, forward, reverse, balance_error, site_error)
                        sample[lane] = -1
                        continue
                    for q in range(species):
                        theta_one[q] = theta[previous[lane], q] if attempt[lane] == 1 else min(max(start[i, q], SMALLEST), 1.0)
                    transient[i] = True
                    close, spent = _continuation(k_one, linear_one, linear_species, theta_one, max_transient,
                                                 factor_start, factor_species, factor_order, net_start, net_step,
                                                 net_coefficient, derivative_row, derivative_column, derivative_rate,
                                                 derivative_coefficient, sites, change_start, change_step,
                                                 change_coefficient, work)
                    iterations[i] += spent
                    for q in range(species):
                        current[q, lane] = theta_one[q]
                    if not close:
                        used[lane] = 0
                        failed[lane] = True
                        continue
                    limit[lane] = max_newton
                used[lane] = 0
                _lane_rates(k, linear, linear_species, current, factor_start, factor_species, factor_order, rates,
                            lane, lane + 1)
                _lane_fluxes(rates, net_start, net_step, net_coefficient, balance, scale, lane, lane + 1)
        busy = False
        for lane in range(LANES):
            busy |= sample[lane] >= 0
        if not busy:
            break
        _lane_residual(balance, scale, current, sites, residual, norm, merit)
        for lane in range(LANES):
            i = sample[lane]
            if i < 0:
                continue
            if norm[lane] <= tolerance:  # converged: recorded as _record does, from the lane's columns
                converged[i] = True  # (copying them out for _record cost 5 % of a warm solve)
                largest_balance = 0.0
                largest_site = 0.0
                for q in range(species):
                    theta[i, q] = current[q, lane]
                    v = abs(residual[q, lane])
                    if q < adsorbates:
                        largest_balance = max(largest_balance, v)  # no NaN: within the tolerance
                    else:
                        largest_site = max(largest_site, v)
                for j in range(steps):
                    forward[i, j] = rates[j, lane]
                    reverse[i, j] = rates[steps + j, lane]
                balance_error[i] = largest_balance
                site_error[i] = largest_site
                iterations[i] += used[lane]
                sample[lane] = -1
                previous[lane] = i
            elif not np.isfinite(norm[lane]) or used[lane] == limit[lane]:
                failed[lane] = True
        emptied = False  # lanes just emptied, or whose Newton failed, go on before the step
        for lane in range(LANES):
            emptied |= failed[lane] or (sample[lane] < 0 and (cursor[lane] < end[lane] if chain else following < n))
        if emptied:
            continue
        _lane_newton_system(rates, current, linear, linear_species, scale, residual, derivative_row, derivative_column,
                            derivative_rate, derivative_coefficient, net_start, net_step, net_coefficient, sites, matrix,
                            rhs, column)
        _lane_eliminate(matrix, rhs, step, solved, inverse, factor)
        for lane in range(LANES):
            i = sample[lane]
            searching[lane] = False
            if i < 0:
                continue
            if not solved[lane]:  # an exactly zero pivot: this lane's step by least squares, as alone
                _lane_least_squares_step(lane, rates, current, linear, linear_species, scale, residual, derivative_row,
                                         derivative_column, derivative_rate, derivative_coefficient, net_start, net_step,
                                         net_coefficient, sites, step)
            largest = 0.0
            for q in range(species):
                v = abs(step[q, lane])
                if np.isnan(v):
                    largest = np.nan
                    break
                largest = max(largest, v)
            cap = min(1.0, NEWTON_STEP / largest) if not np.isnan(largest) else np.nan
            for q in range(species):
                step[q, lane] *= cap
            used[lane] += 1
            alpha[lane] = 1.0
            searching[lane] = True
        for halving in range(HALVINGS):
            left = False
            for lane in range(LANES):
                left |= searching[lane]
            if not left:
                break
            for q in range(species):
                for lane in range(LANES):
                    trial[q, lane] = min(max(current[q, lane] * max(1.0 + alpha[lane] * step[q, lane], STEP_FLOOR),
                                             SMALLEST), 1.0)
            _lane_rates(k, linear, linear_species, trial, factor_start, factor_species, factor_order, trial_rates,
                        0, LANES)
            _lane_fluxes(trial_rates, net_start, net_step, net_coefficient, trial_balance, trial_scale, 0, LANES)
            _lane_residual(trial_balance, scale, trial, sites, residual, trial_norm, trial_merit)  # scaled as at current
            for lane in range(LANES):
                if not searching[lane]:
                    continue
                if trial_merit[lane] <= (1 - 1e-4 * alpha[lane]) * merit[lane]:  # NaN is never better
                    searching[lane] = False
                    for q in range(species):
                        current[q, lane] = trial[q, lane]
                    for q in range(directions):
                        rates[q, lane] = trial_rates[q, lane]
                    for q in range(adsorbates):
                        balance[q, lane] = trial_balance[q, lane]
                        scale[q, lane] = trial_scale[q, lane]
                else:
                    alpha[lane] /= 2
        for lane in range(LANES):
            failed[lane] = searching[lane]  # no step length lowered the residual
    return theta, converged, iterations, transient, forward, reverse, balance_error, site_error


@_jit
def _eliminate_stack(matrix, rhs, out, solved):
    """Each member s of ``matrix @ out = rhs`` (stack, size, size) @ (stack, size, columns)
    by elimination with partial pivoting, as :func:`_eliminate` for several right-hand
    sides; ``solved[s]`` False (``out[s]`` unset) where a pivot is exactly zero. Written
    apart from ``_eliminate``: one elimination for any number of columns, ``_eliminate``
    calling it with one, made each sample's continuation 12 % slower (10.4 -> 11.7 us)."""
    size, columns = rhs.shape[1], rhs.shape[2]
    a = np.empty((size, size))
    b = np.empty((size, columns))
    for s in range(matrix.shape[0]):
        for r in range(size):
            for k in range(size):
                a[r, k] = matrix[s, r, k]
            for k in range(columns):
                b[r, k] = rhs[s, r, k]
        solved[s] = True
        for c in range(size):
            p = c
            best = abs(a[c, c])
            for r in range(c + 1, size):
                if abs(a[r, c]) > best:
                    best = abs(a[r, c])
                    p = r
            if a[p, c] == 0.0:
                solved[s] = False
                break
            if p != c:
                for k in range(c, size):
                    a[c, k], a[p, k] = a[p, k], a[c, k]
                for k in range(columns):
                    b[c, k], b[p, k] = b[p, k], b[c, k]
            inverse = 1.0 / a[c, c]
            a[c, c] = inverse
            for r in range(c + 1, size):
                factor = a[r, c] * inverse
                if factor != 0.0:
                    for k in range(c + 1, size):
                        a[r, k] -= factor * a[c, k]
                    for k in range(columns):
                        b[r, k] -= factor * b[c, k]
        if not solved[s]:
            continue
        for r in range(size - 1, -1, -1):
            for j in range(columns):
                v = b[r, j]
                for k in range(r + 1, size):
                    v -= a[r, k] * b[k, j]
                b[r, j] = v * a[r, r]
                out[s, r, j] = b[r, j]


def solve_stack(matrix: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """:func:`~uqms.models.microkinetics.steady_state._solve` compiled: a stack of small linear
    systems (``matrix``: stack, size, size) for right-hand sides (stack, size) or several at
    once (stack, size, columns). numpy's stacked LAPACK solve costs ~0.5 us a member for 5x5
    systems with 5 right-hand sides, mostly per-call overhead; written out, ~0.2. Members
    with an exactly zero pivot (singular for LAPACK) get ``_solve``'s least-squares solution."""
    columns = rhs if rhs.ndim == matrix.ndim else rhs[..., None]
    out = np.empty(columns.shape)
    solved = np.empty(len(matrix), dtype=np.bool_)
    _eliminate_stack(np.ascontiguousarray(matrix, dtype=float), np.ascontiguousarray(columns, dtype=float), out, solved)
    if not solved.all():
        out[~solved] = _solve(matrix[~solved], columns[~solved])
    return out if rhs.ndim == matrix.ndim else out[..., 0]


def _by_row(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The non-zero entries of a (rows x columns) matrix listed by row: row starts (rows + 1),
    columns, values (the kernel's loops then skip the zeros of these mostly empty operators)."""
    rows, columns = np.nonzero(matrix)
    starts = np.searchsorted(rows, np.arange(matrix.shape[0] + 1))
    return starts.astype(np.int64), columns.astype(np.int64), np.ascontiguousarray(matrix[rows, columns], dtype=float)


@lru_cache(maxsize=64)
def _operators(equations) -> tuple[np.ndarray, ...]:
    """The kernel's constant operators of one :class:`~uqms.models.microkinetics.kinetics.RateEquations`
    object, listed once (a reactor solves the same equations at every integrator stage)."""
    species = equations.forward_exponent.shape[1]
    derivative = equations.balance_operator.T  # (adsorbates x species, directions): d(balance)/dx per rate
    flat, rate = (np.ascontiguousarray(a) for a in np.nonzero(derivative))
    return (*_by_row(np.concatenate([equations.forward_exponent, equations.reverse_exponent])),
            *_by_row(equations.net), flat // species, flat % species, rate,
            np.ascontiguousarray(derivative[flat, rate], dtype=float),
            np.ascontiguousarray(equations.sites, dtype=float), *_by_row(equations.change))


@dataclass(frozen=True)
class Solution:
    """What :func:`solve_rows` returns, per sample: ``theta`` coverages (samples, species),
    ``converged``, ``iterations`` (Newton plus implicit Euler), ``transient`` (whether
    continuation ran); at ``theta``, ``forward`` and ``reverse`` rates (samples, steps),
    ``residual`` (largest |net / gross| production of an adsorbate) and ``site_balance``
    (largest |sum of coverages - 1| of a site type)."""

    theta: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    transient: np.ndarray
    forward: np.ndarray
    reverse: np.ndarray
    residual: np.ndarray
    site_balance: np.ndarray


def solve_rows(equations, forward_k, reverse_k, coverage, start, valid, newton_first, tolerance, max_newton,
               max_transient, order=None) -> Solution:
    """Solve every valid sample with the compiled kernel.

    Args:
        equations: the :class:`~uqms.models.microkinetics.kinetics.RateEquations`.
        forward_k, reverse_k: pressure-weighted rate constants (samples, steps).
        coverage: the rate constants' :class:`~uqms.models.microkinetics.coverage_dependence.CoverageDependence`, or None.
        start: starting coverages (samples, species).
        valid: samples to solve.
        newton_first: Newton from ``start`` first (a given guess), else continuation from it.
        order: sample order for continuation along the batch (each sample's Newton starts
            from the last solved one; continuation from ``start`` where that fails; each of
            the LANES lanes walks its own quarter of the batch, whose first sample starts by
            continuation), or None: each sample on its own.
    """
    k = np.concatenate([forward_k, reverse_k], axis=1)  # (samples, forward then reverse directions)
    linear = np.zeros((1, 0, 0)) if coverage is None else coverage.linear  # (samples, species with a term, 2 steps)
    linear_species = np.zeros(0, dtype=np.int64) if coverage is None else np.asarray(coverage.species, dtype=np.int64)
    chain = order is not None
    if chain:  # the kernel walks the samples in memory order: rearranged once, not fetched at random
        order = np.asarray(order, dtype=np.int64)
        k, start, valid = k[order], start[order], valid[order]
        linear = linear if coverage is None else linear[order]
    k, linear, start = (np.ascontiguousarray(a, dtype=float) for a in (k, linear, start))
    valid = np.ascontiguousarray(valid, dtype=np.bool_)
    operators = _operators(equations)
    bounds = np.linspace(0, len(k), LANES + 1).astype(np.int64)  # along the batch: each lane a quarter
    solved = Solution(*_solve_lanes(k, linear, linear_species, start, valid, bool(newton_first), chain, bounds[:-1],
                                    bounds[1:], float(tolerance), int(max_newton), int(max_transient), *operators))
    if chain:
        solved = Solution(*(_unordered(getattr(solved, f.name), order) for f in dataclasses.fields(Solution)))
    return solved


def _unordered(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """``values`` given in ``order`` back in the original order of the samples."""
    result = np.empty_like(values)
    result[order] = values
    return result
