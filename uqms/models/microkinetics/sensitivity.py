"""Local sensitivities of a steady state: degree of rate control, reaction orders, apparent barrier.

Derivatives of the turnover frequency come from the implicit-function theorem on the
steady-state equations G(x, lambda) = 0 (x: log-coverages): dx/dlambda = -J^-1 dG/dlambda,
solved for all samples and parameters at once with the analytic Jacobian; no re-solve
(:func:`steady_derivatives`, which the reactors use too, for the surface along the bed).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from uqms.models.microkinetics import kernels
from uqms.models.microkinetics.coverage_dependence import CoverageDependence
from uqms.models.microkinetics.kinetics import TINY, RateEquations, equations_of
from uqms.models.microkinetics.rate_constants import BOLTZMANN
from uqms.models.microkinetics.steady_state import SteadyState, _solve


def steady_derivatives(equations: RateEquations, forward: np.ndarray, reverse: np.ndarray, x: np.ndarray,
                       coverage: CoverageDependence | None, direct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How a steady state moves with parameters lambda, by the implicit-function theorem.

    The scaled balances G(x, lambda) = 0 of :class:`RateEquations` (x: log-coverages) give
    dx/dlambda = -G_x^-1 G_lambda, G_x being the Jacobian Newton uses (one factorisation per
    sample for all parameters); the net rates then move through the coverages and directly.

    Args:
        forward, reverse: rates of the steps at the steady state (samples, steps), 1/s per site.
        x: its log-coverages (samples, surface species); coverage: its linear coverage terms or None.
        direct: d(net rate_j)/d(lambda_q) at fixed coverages (samples, steps, parameters),
            1/s per site and unit of lambda_q.

    Returns:
        d ln(theta)/d lambda (samples, surface species, parameters), per unit of lambda, and
        d(net rates)/d lambda (samples, steps, parameters), 1/s per site and unit of lambda;
        NaN in the rows whose Jacobian or right-hand side is not finite (solved as the identity,
        the others unharmed).
    """
    scale = (forward + reverse) @ equations.gross.T + TINY
    matrix = equations.jacobian(forward, reverse, x, scale, coverage)
    drive = (equations.net @ direct) / scale[:, :, None]  # matmul: 3x einsum's speed on these stacks
    drive = np.concatenate([drive, np.zeros((len(x), len(equations.mechanism.sites), direct.shape[2]))], axis=1)
    blank = np.zeros(len(x), dtype=bool)
    if not (np.isfinite(matrix).all() and np.isfinite(drive).all()):  # whole arrays first: 7x cheaper than by rows
        blank = ~(np.isfinite(matrix).all(axis=(1, 2)) & np.isfinite(drive).all(axis=(1, 2)))
        matrix[blank], drive[blank] = np.eye(matrix.shape[1]), 0.0
    log_theta = -(kernels.solve_stack if kernels.enabled() else _solve)(matrix, drive)
    net = direct + equations.rate_derivatives(forward, reverse, x, coverage) @ log_theta
    log_theta[blank], net[blank] = np.nan, np.nan
    return log_theta, net


def _tof_sensitivities(state: SteadyState, direct: np.ndarray, products) -> np.ndarray:
    """d TOF / d lambda for parameters whose direct effect on the net rates is ``direct``.

    Args:
        direct: d(net rate_j)/d(lambda_q) at fixed coverages, shaped (samples, steps, parameters).

    Returns:
        (samples, products, parameters).
    """
    mechanism = state.mechanism
    equations = equations_of(mechanism)
    x = np.log(np.where(np.isfinite(state.theta), state.theta, 1.0))
    _, total = steady_derivatives(equations, np.nan_to_num(state.forward), np.nan_to_num(state.reverse), x,
                                  state.coverage, direct)
    columns = [mechanism.gas.index(p) for p in products]
    stoichiometry = (mechanism.product_gas - mechanism.reactant_gas)[:, columns]  # steps x products
    return np.einsum("jp,njq->npq", stoichiometry, total)


def degree_of_rate_control(state: SteadyState, products: tuple[str, ...] | None = None) -> np.ndarray:
    """Campbell's degree of rate control, d ln TOF / d ln k_j at fixed K_j (samples, steps, products).

    For a mechanism with a single product the degrees of all steps sum to one.
    """
    products = state.mechanism.products if products is None else products
    net = np.nan_to_num(state.net_rates)
    direct = net[:, :, None] * np.eye(net.shape[1])[None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return _tof_sensitivities(state, direct, products).transpose(0, 2, 1) / state.tof(products)[:, None, :]


def reaction_orders(state: SteadyState, products: tuple[str, ...] | None = None) -> np.ndarray:
    """Reaction orders d ln TOF / d ln p_g of every product in every gas species (samples, products, gas)."""
    mechanism = state.mechanism
    products = mechanism.products if products is None else products
    forward, reverse = np.nan_to_num(state.forward), np.nan_to_num(state.reverse)
    direct = (forward[:, :, None] * mechanism.reactant_gas[None] - reverse[:, :, None] * mechanism.product_gas[None])
    with np.errstate(invalid="ignore", divide="ignore"):
        return _tof_sensitivities(state, direct, products) / state.tof(products)[:, :, None]


def apparent_activation_energy(
    tof_at: Callable[[np.ndarray], np.ndarray], temperature: np.ndarray, delta: float = 1.0
) -> np.ndarray:
    """Apparent activation energy -k_B d ln TOF / d(1/T) (eV) by a central difference.

    Args:
        tof_at: returns the TOF (samples, products) at a temperature array (samples,).
        temperature: K, shaped (samples,).
        delta: half-width of the difference, K.

    Returns:
        (samples, products).
    """
    temperature = np.asarray(temperature, dtype=float)
    high, low = temperature + delta, temperature - delta
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = (np.log(tof_at(high)) - np.log(tof_at(low))) / (1 / high - 1 / low)[:, None]
    return -BOLTZMANN * slope
