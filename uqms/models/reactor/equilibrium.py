"""Equilibrium extents of a mechanism's overall reactions at a reactor's inlet, temperature and pressure.

The Gibbs energy of the ideal-gas mixture reached after extents ``x`` is, over RT and up
to a constant, ``F(x) = sum_j n_j ln(p n_j / N) - x . ln K`` with ``n = inlet + x nu``;
its gradient is ``ln Q - ln K``. ``F`` is convex, so equilibrium is its unique
minimum: a batched Newton iteration (Hessian ``nu diag(1/n) nu^T - s s^T / N``, ``s``
the net moles of gas each reaction makes), its steps kept inside the flows that stay
positive and shortened until ``F`` falls. scipy's minimisers take one sample per call;
here every sample advances at once.
"""

from __future__ import annotations

import numpy as np

from uqms.models.reactor.reactions import OverallReactions

ITERATIONS = 400  # Newton iterations; a product absent from the inlet grows ~e-fold or more per iteration
LOG_K_LIMIT = 30.0  # |ln K| beyond this (an irreversible step) is treated as this: conversion complete to ~1e-13
REGULARISATION = 1e-15  # times the Hessian's trace, added to its diagonal: a species near zero makes it near singular
BOUNDARY = 0.99  # share of the distance to the nearest vanishing flow a step may cover
HALVINGS = 30  # backtracking halvings of a step that does not lower the Gibbs energy
START = 1e-9  # first extents, times the total inlet flow (:func:`_start`)
SHARED_DIGITS = 9  # decimals of ln K to which samples of one inlet and pressure share a first solution


def equilibrium_extents(reactions: OverallReactions, inlet: np.ndarray, pressure: np.ndarray,
                        log_k: np.ndarray, tolerance: float = 1e-13) -> np.ndarray:
    """Extents (samples, reactions), mol/s, at which every reaction quotient equals its equilibrium constant.

    Samples of one inlet and pressure whose ln K agree to :data:`SHARED_DIGITS` decimals
    (a batch at one temperature: ln K depends on the gas only, up to round-off) are solved
    once; every sample then polishes that solution with its own ln K in a Newton step or two.

    Args:
        inlet: molar flows (samples, gas), mol/s; pressure: total pressure (samples,), bar;
        log_k: ln K of each reaction (samples, reactions), bar to the net moles of gas made.
        tolerance: accepted largest |ln Q - ln K|.
    """
    log_k = np.clip(log_k, -LOG_K_LIMIT, LOG_K_LIMIT)
    x = _start(reactions, inlet, pressure, log_k)
    key = np.concatenate([inlet, pressure[:, None], np.round(log_k, SHARED_DIGITS)], axis=1)
    _, first, shared = np.unique(key, axis=0, return_index=True, return_inverse=True)
    if len(first) < len(x):
        x = _newton(reactions, inlet[first], pressure[first], log_k[first], x[first], tolerance)[shared.ravel()]
    return _newton(reactions, inlet, pressure, log_k, x, tolerance)


def _start(reactions: OverallReactions, inlet, pressure, log_k) -> np.ndarray:
    """Extents to start Newton from: each reaction advanced by :data:`START` times the total
    inlet flow the way its ln Q - ln K at the inlet drives it, where that keeps every flow
    positive (else no extent). From the inlet itself, where a product's flow is zero, each
    Newton step only multiplies that flow by about |ln Q - ln K| (a log barrier): a hundred
    steps from 1e-300 where a dozen suffice from 1e-9."""
    nu = reactions.stoichiometry
    total = inlet.sum(axis=1, keepdims=True)
    n = np.maximum(inlet, 1e-300 * total)
    gradient = (np.log(pressure[:, None] * n / total) @ nu.T) - log_k
    x = -START * total * np.sign(gradient)
    inside = (reactions.flows(inlet, x) > 0).all(axis=1)
    return np.where(inside[:, None], x, 0.0)


def _newton(reactions: OverallReactions, inlet, pressure, log_k, x, tolerance) -> np.ndarray:
    """Damped Newton iteration on the Gibbs energy from the extents ``x`` (see the module docstring)."""
    nu = reactions.stoichiometry
    net = nu.sum(axis=1)
    x = x.copy()
    tiny = 1e-300 * inlet.sum(axis=1, keepdims=True)
    rows = np.arange(len(x))
    for _ in range(ITERATIONS):
        n = np.maximum(reactions.flows(inlet[rows], x[rows]), tiny[rows])
        total = n.sum(axis=1)
        gradient = (np.log(pressure[rows, None] * n / total[:, None]) @ nu.T) - log_k[rows]
        going = np.abs(gradient).max(axis=1) > tolerance
        rows, n, total, gradient = rows[going], n[going], total[going], gradient[going]
        if rows.size == 0:
            break
        hessian = np.einsum("rj,nj,sj->nrs", nu, 1.0 / n, nu) - np.einsum("r,s,n->nrs", net, net, 1.0 / total)
        hessian += REGULARISATION * np.einsum("nii->n", hessian)[:, None, None] * np.eye(len(nu))
        step = -np.linalg.solve(hessian, gradient[:, :, None])[:, :, 0]
        change = step @ nu
        with np.errstate(divide="ignore", invalid="ignore"):
            reach = np.where(change < 0, -n / change, np.inf).min(axis=1)
        fraction = np.minimum(1.0, BOUNDARY * reach)
        start = _gibbs(reactions, inlet[rows], pressure[rows], log_k[rows], x[rows])
        start = start + 1e-13 * (np.abs(start) + total)  # round-off in F near the minimum is no rise
        for _ in range(HALVINGS):
            trial = x[rows] + fraction[:, None] * step
            higher = _gibbs(reactions, inlet[rows], pressure[rows], log_k[rows], trial) > start
            if not higher.any():
                break
            fraction = np.where(higher, 0.5 * fraction, fraction)
        x[rows] += fraction[:, None] * step
    return x


def _gibbs(reactions: OverallReactions, inlet, pressure, log_k, x) -> np.ndarray:
    """Gibbs energy over RT of the mixture after extents ``x``, up to a constant of the sample (samples,)."""
    n = reactions.flows(inlet, x)
    total = n.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(n > 0, n * np.log(pressure[:, None] * n / total), 0.0)
    return np.where((n >= 0).all(axis=1), terms.sum(axis=1) - (x * log_k).sum(axis=1), np.inf)
